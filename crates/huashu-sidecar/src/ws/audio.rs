//! Live audio on a connection: `audio.start`, binary frames (one party, or both interleaved) cut per
//! party by `crate::call::Parties`, jobs handed to each party's transcription task, and what was heard
//! coming back through the inbox in spoken order (the worker turns it into a `transcript` and an utterance). This module knows nothing of the worker: it returns events and errors.

use std::sync::Arc;

use huashu_audio::live::Encoding;
use serde_json::Value;

use super::inbox::{Inbox, Item};
use crate::app::App;
use crate::audio::{AsyncReport, Report};
use crate::call::Parties;
use crate::conv::{Conversation, Event};
use crate::protocol::{
    self, AudioEndedMsg, AudioStart, ProtoError, ServerMsg, TranscriptMsg, Utterance, code,
};

/// The open (or draining) audio stream of a connection: one party, or both interleaved (`roles`).
pub(super) struct AudioStream {
    pub(super) id: u64,
    pub(super) parties: Parties,
    /// False after `audio.end`: the parties drain and report `Done`.
    open: bool,
    pub(super) finals: u64,
    reference: Option<Value>,
}

/// Delivers one party's transcripts into the connection's inbox.
struct InboxReport {
    inbox: Arc<Inbox>,
    stream: u64,
    party: usize,
    role: Arc<str>,
}

impl AsyncReport for InboxReport {
    async fn report(&mut self, report: Report) -> bool {
        self.inbox
            .push(Item::Heard {
                stream: self.stream,
                party: self.party,
                role: Arc::clone(&self.role),
                report,
            })
            .await
            .is_ok()
    }
}

/// Opens a stream for `audio.start` (checks in this order: a recogniser, no stream open, the roles, the
/// encoding, free stream slots, the language) and returns it with its `audio.started` event.
///
/// # Errors
/// `audio_unavailable`, `audio_active`, `bad_message` or `capacity`.
pub(super) fn open(
    app: &App,
    a: &AudioStart,
    active: bool,
    inbox: &Arc<Inbox>,
    id: u64,
) -> Result<(AudioStream, Event), ProtoError> {
    let Some(speech) = app.speech.get().cloned() else {
        return Err(ProtoError::new(
            code::AUDIO_UNAVAILABLE,
            "live audio is not available: the daemon has no Whisper model (huashu serve --model, \
             HUASHU_WHISPER_MODEL, and a build with the `audio` feature)",
        ));
    };
    if active {
        return Err(ProtoError::new(
            code::AUDIO_ACTIVE,
            "an audio stream is open on this connection: send audio.end and wait for audio.ended",
        ));
    }
    let names: Vec<&str> = match (a.role.is_empty(), a.roles.len()) {
        (false, 0) => vec![a.role.as_str()],
        (true, 1 | 2) => a.roles.iter().map(String::as_str).collect(),
        _ => {
            return Err(ProtoError::new(
                code::BAD_MESSAGE,
                "audio.start: give `role` (one party) or `roles` (one or two parties, one channel each), not both",
            ));
        }
    };
    let mut roles: Vec<Arc<str>> = Vec::new();
    for n in &names {
        let r: Arc<str> = Arc::from(protocol::role(n)?.as_str());
        if roles.contains(&r) {
            return Err(ProtoError::new(
                code::BAD_MESSAGE,
                format!("audio.start: role {r:?} is given twice in `roles`"),
            ));
        }
        roles.push(r);
    }
    let encoding: Encoding = a
        .encoding
        .parse()
        .map_err(|msg: String| ProtoError::new(code::BAD_MESSAGE, msg))?;
    let parties = Parties::open(
        Some(&speech),
        &roles,
        encoding,
        a.language.as_deref(),
        |party| InboxReport {
            inbox: Arc::clone(inbox),
            stream: id,
            party,
            role: Arc::clone(&roles[party]),
        },
    )?;
    let stream = AudioStream {
        id,
        parties,
        open: true,
        finals: 0,
        reference: a.reference.clone(),
    };
    let mut msg = serde_json::json!({
        "type": "audio.started",
        "role": &*roles[0],
        "encoding": a.encoding,
        "sample_rate": 16_000,
        "ref": a.reference,
    });
    if !a.roles.is_empty() {
        msg["roles"] = serde_json::json!(roles.iter().map(|r| &**r).collect::<Vec<_>>());
    }
    Ok((stream, Event::new("audio.started", msg.to_string(), false)))
}

impl AudioStream {
    /// Open for frames (not yet ended by `audio.end`).
    pub(super) fn is_open(&self) -> bool {
        self.open
    }

    /// Decodes one binary frame (interleaved channels for two parties) and hands the utterances it
    /// completes to the parties' tasks.
    ///
    /// # Errors
    /// `bad_audio` (the frame is dropped).
    pub(super) async fn frame(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
        self.parties
            .interleaved(bytes)
            .await
            .map_err(|e| ProtoError::new(code::BAD_AUDIO, e))
    }

    /// `audio.end`: the last utterance of each party goes to its task, then the tasks drain and report
    /// `Done`.
    pub(super) async fn end(&mut self, reference: Option<&Value>) {
        if reference.is_some() {
            self.reference = reference.cloned();
        }
        self.parties.end_all().await;
        self.open = false;
    }

    /// The `audio.ended` event (every final transcript has been sent).
    pub(super) fn ended(&self) -> Event {
        let roles: Vec<&str> = self.parties.roles().collect();
        Event::msg(
            ServerMsg::AudioEnded(AudioEndedMsg {
                role: roles.first().copied().unwrap_or(""),
                roles: (roles.len() > 1).then(|| roles.clone()),
                utterances: self.finals,
                reference: self.reference.as_ref(),
            }),
            false,
        )
    }
}

/// What was heard, as a `transcript` event of `conv` and as the utterance to check.
pub(super) fn transcript(
    conv: &Conversation,
    role: &Arc<str>,
    t: huashu_audio::live::LiveTranscript,
) -> (Event, Utterance) {
    let event = Event::msg(
        ServerMsg::Transcript(TranscriptMsg {
            conversation_id: &conv.id,
            role,
            text: &t.text,
            is_final: t.is_final,
            start_ms: t.start_ms,
            end_ms: t.end_ms,
            utterance: t.utterance,
            confidence: t.confidence,
        }),
        !t.is_final,
    );
    let u = Utterance {
        role: role.to_string(),
        text: t.text,
        is_final: t.is_final,
        start_ms: Some(t.start_ms),
        end_ms: Some(t.end_ms),
        reference: None,
        confidence: Some(t.confidence),
    };
    (event, u)
}
