//! Live audio on a connection: `audio.start`, binary frames cut by the `LiveSegmenter`, jobs handed to the
//! stream's transcription task, and what was heard coming back through the inbox (the worker turns it into
//! a `transcript` and an utterance). This module knows nothing of the worker: it returns events and errors.

use std::sync::Arc;

use huashu_audio::live::{Encoding, FrameDecoder, LiveJob, LiveOptions, LiveSegmenter};
use serde_json::Value;
use tokio::sync::mpsc;

use super::inbox::{Inbox, Item};
use crate::app::App;
use crate::audio::{AsyncReport, JOB_QUEUE, Report, transcribe_loop};
use crate::conv::{Conversation, Event};
use crate::metrics as m;
use crate::protocol::{
    self, AudioEndedMsg, AudioStart, ProtoError, ServerMsg, TranscriptMsg, Utterance, code,
};

/// The open (or draining) audio stream of a connection.
pub(super) struct AudioStream {
    pub(super) id: u64,
    pub(super) role: Arc<str>,
    decoder: FrameDecoder,
    segmenter: LiveSegmenter,
    /// None after `audio.end`: the task drains and reports `Done`.
    jobs: Option<mpsc::Sender<LiveJob>>,
    task: tokio::task::JoinHandle<()>,
    /// Held while the stream is open or draining (`audio.max_streams`).
    _permit: tokio::sync::OwnedSemaphorePermit,
    pub(super) finals: u64,
    reference: Option<Value>,
    buf: Vec<f32>,
}

impl Drop for AudioStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Delivers a stream's transcripts into the connection's inbox.
struct InboxReport {
    inbox: Arc<Inbox>,
    stream: u64,
    role: Arc<str>,
}

impl AsyncReport for InboxReport {
    async fn report(&mut self, report: Report) -> bool {
        self.inbox
            .push(Item::Heard {
                stream: self.stream,
                role: Arc::clone(&self.role),
                report,
            })
            .await
            .is_ok()
    }
}

/// Opens a stream for `audio.start` (checks in this order: a recogniser, no stream open, the role, the
/// encoding, a free stream slot, the language) and returns it with its `audio.started` event.
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
    let role = protocol::role(&a.role)?;
    let encoding: Encoding = a
        .encoding
        .parse()
        .map_err(|msg: String| ProtoError::new(code::BAD_MESSAGE, msg))?;
    let Ok(permit) = Arc::clone(&speech.streams).try_acquire_owned() else {
        m::rejected("audio_capacity");
        return Err(ProtoError::new(
            code::CAPACITY,
            "too many live audio streams (audio.max_streams); try again later",
        ));
    };
    let recognizer = speech
        .factory
        .recognizer(a.language.as_deref())
        .map_err(|e| ProtoError::new(code::BAD_MESSAGE, format!("audio.start: {e}")))?;
    let role: Arc<str> = Arc::from(role.as_str());
    let (tx, rx) = mpsc::channel(JOB_QUEUE);
    let task = tokio::spawn(transcribe_loop(
        rx,
        recognizer,
        Arc::clone(&speech.pool),
        InboxReport {
            inbox: Arc::clone(inbox),
            stream: id,
            role: Arc::clone(&role),
        },
    ));
    let stream = AudioStream {
        id,
        role: Arc::clone(&role),
        decoder: FrameDecoder::new(encoding),
        segmenter: LiveSegmenter::new(LiveOptions::default()),
        jobs: Some(tx),
        task,
        _permit: permit,
        finals: 0,
        reference: a.reference.clone(),
        buf: Vec::new(),
    };
    let msg = serde_json::json!({
        "type": "audio.started",
        "role": &*role,
        "encoding": a.encoding,
        "sample_rate": 16_000,
        "ref": a.reference,
    });
    Ok((stream, Event::new("audio.started", msg.to_string(), false)))
}

impl AudioStream {
    /// Open for frames (not yet ended by `audio.end`).
    pub(super) fn is_open(&self) -> bool {
        self.jobs.is_some()
    }

    /// Decodes one binary frame and hands the utterances it completes to the task.
    ///
    /// # Errors
    /// `bad_audio` (the frame is dropped).
    pub(super) async fn frame(&mut self, bytes: &[u8]) -> Result<(), ProtoError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        if let Err(e) = self.decoder.decode(bytes, &mut buf) {
            self.buf = buf;
            return Err(ProtoError::new(
                code::BAD_AUDIO,
                format!("{e}; the frame was dropped"),
            ));
        }
        let jobs = self.segmenter.push(&buf);
        self.buf = buf;
        self.dispatch(jobs).await;
        Ok(())
    }

    /// Hands jobs to the stream's task: partials only if there is room, finals always (waiting).
    async fn dispatch(&mut self, jobs: Vec<LiveJob>) {
        if let Some(tx) = self.jobs.clone() {
            crate::audio::dispatch(&tx, jobs).await;
        }
    }

    /// `audio.end`: the last utterance goes to the task, then the channel closes so the task drains and
    /// reports `Done`.
    pub(super) async fn end(&mut self, reference: Option<&Value>) {
        if reference.is_some() {
            self.reference = reference.cloned();
        }
        let jobs = self.segmenter.finish();
        self.dispatch(jobs).await;
        self.jobs = None;
    }

    /// The `audio.ended` event (every final transcript has been sent).
    pub(super) fn ended(&self) -> Event {
        Event::msg(
            ServerMsg::AudioEnded(AudioEndedMsg {
                role: &self.role,
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
    };
    (event, u)
}
