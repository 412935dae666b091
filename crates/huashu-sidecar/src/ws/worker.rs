//! The connection's worker: inbox → conversation (engine) → messages for the writer, one item at a time.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::Value;
use tokio::sync::mpsc;

use super::audio::{self, AudioStream};
use super::inbox::{Inbox, Item};
use super::writer::Out;
use crate::app::App;
use crate::audio::Report;
use crate::conv::{Conversation, Event};
use crate::metrics as m;
use crate::protocol::{AudioStart, In, ProtoError, close, code, error_json};

pub(super) struct Worker {
    pub(super) app: Arc<App>,
    pub(super) out: mpsc::Sender<Out>,
    pub(super) conv: Option<Arc<Conversation>>,
    pub(super) inbox: Arc<Inbox>,
    pub(super) audio: Option<AudioStream>,
    pub(super) streams: u64,
}

impl Worker {
    /// Sends one event; events from partials are dropped when the output queue is full.
    pub(super) async fn emit(&self, e: &Event) -> bool {
        let out = Out::Text(Arc::clone(&e.data));
        if e.partial {
            match self.out.try_send(out) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    m::superseded();
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        } else {
            self.out.send(out).await.is_ok()
        }
    }

    pub(super) async fn error(&self, e: &ProtoError, reference: Option<&Value>) -> bool {
        m::error(e.code);
        self.out
            .send(Out::Text(error_json(e, reference).into()))
            .await
            .is_ok()
    }

    /// Ends the session in progress: the final score (to listeners, and to the client when `send`).
    async fn finish(&mut self, send: bool) -> bool {
        // An audio stream still open is abandoned (its task is aborted; late results are ignored).
        self.audio = None;
        let Some(conv) = self.conv.take() else {
            return true;
        };
        self.inbox.in_session.store(false, Ordering::SeqCst);
        self.inbox.session_ended.notify_one();
        let result = self.app.registry.end(&conv, None);
        self.app.registry.release(&conv);
        match result {
            Ok(e) if send => self.emit(&e).await,
            // Every request gets an answer, even when the conversation was ended under it.
            Err(e) if send => self.error(&e, None).await,
            _ => true,
        }
    }

    async fn handle(&mut self, msg: In, received: Instant) -> bool {
        let app = Arc::clone(&self.app);
        match msg {
            In::Start(s) => {
                if self.conv.is_some() {
                    return self
                        .error(
                            &ProtoError::new(
                                code::SESSION_ACTIVE,
                                "a conversation is in progress on this connection: send session.end first",
                            ),
                            None,
                        )
                        .await;
                }
                if app.shutting_down() {
                    return self
                        .error(
                            &ProtoError::new(code::SHUTTING_DOWN, "the server is shutting down"),
                            None,
                        )
                        .await;
                }
                match app.registry.start(
                    &app.engines,
                    &s.conversation_id,
                    s.ruleset.as_deref(),
                    &s.disable,
                    true,
                ) {
                    Ok((conv, started)) => {
                        self.conv = Some(conv);
                        self.inbox.in_session.store(true, Ordering::SeqCst);
                        self.emit(&started).await
                    }
                    Err(e) if e.code == code::CAPACITY => {
                        m::rejected("capacity");
                        self.error(&e, None).await;
                        let _ = self
                            .out
                            .send(Out::Close(close::TRY_AGAIN, "at capacity"))
                            .await;
                        false
                    }
                    Err(e) => self.error(&e, None).await,
                }
            }
            In::Utterance(u) => {
                let Some(conv) = self.conv.clone() else {
                    return self.error(&no_session(), u.reference.as_ref()).await;
                };
                let (is_final, reference) = (u.is_final, u.reference.clone());
                let a = Arc::clone(&app);
                let bytes = u.text.len();
                match app
                    .check_input(bytes, move || conv.utterance(&a.engines, &u))
                    .await
                {
                    Ok(out) => {
                        for e in &out.events {
                            if !self.emit(e).await {
                                return false;
                            }
                        }
                        if is_final {
                            m::hint_latency(received.elapsed());
                        }
                        true
                    }
                    Err(e) => self.error(&e, reference.as_ref()).await,
                }
            }
            In::Draft(d) => {
                let Some(conv) = self.conv.clone() else {
                    return self.error(&no_session(), d.reference.as_ref()).await;
                };
                let reference = d.reference.clone();
                let a = Arc::clone(&app);
                let bytes = d.text.len();
                let checked = app
                    .check_input(bytes, move || conv.draft(&a.engines, &d))
                    .await;
                match checked {
                    Ok(out) => {
                        for e in &out.events {
                            if !self.emit(e).await {
                                return false;
                            }
                        }
                        true
                    }
                    Err(e) => self.error(&e, reference.as_ref()).await,
                }
            }
            In::Score(r) => match self
                .conv
                .as_ref()
                .map(|c| c.score(false, r.reference.as_ref()))
            {
                Some(Ok(e)) => self.emit(&e).await,
                Some(Err(e)) => self.error(&e, r.reference.as_ref()).await,
                None => self.error(&no_session(), r.reference.as_ref()).await,
            },
            In::End(r) => {
                if self.conv.is_none() {
                    return self.error(&no_session(), r.reference.as_ref()).await;
                }
                self.finish(true).await
            }
            In::AudioStart(a) => self.audio_start(a).await,
            In::AudioEnd(r) => self.audio_end(r.reference.as_ref()).await,
        }
    }

    async fn audio_start(&mut self, a: AudioStart) -> bool {
        let reference = a.reference.as_ref();
        if self.conv.is_none() {
            return self.error(&no_session(), reference).await;
        }
        let id = self.streams + 1;
        match audio::open(&self.app, &a, self.audio.is_some(), &self.inbox, id) {
            Ok((stream, started)) => {
                self.streams = id;
                self.audio = Some(stream);
                self.emit(&started).await
            }
            Err(e) => self.error(&e, reference).await,
        }
    }

    async fn audio_frame(&mut self, bytes: &[u8]) -> bool {
        let Some(stream) = self.audio.as_mut().filter(|s| s.is_open()) else {
            return self
                .error(
                    &ProtoError::new(
                        code::BINARY,
                        "binary frames are live audio: send audio.start first (the frame was dropped)",
                    ),
                    None,
                )
                .await;
        };
        let framed = stream.frame(bytes).await;
        // A final that waited too long for the other party goes in now.
        let late = stream.parties.expire();
        if let Err(e) = framed {
            if !self.error(&e, None).await {
                return false;
            }
        }
        self.deliver(late).await
    }

    async fn audio_end(&mut self, reference: Option<&Value>) -> bool {
        let Some(stream) = self.audio.as_mut().filter(|s| s.is_open()) else {
            return self
                .error(
                    &ProtoError::new(
                        code::NO_AUDIO,
                        "no audio stream is open: send audio.start first",
                    ),
                    reference,
                )
                .await;
        };
        stream.end(reference).await;
        true
    }

    /// A result of a party's transcription task: a transcript (then, in spoken order across the parties,
    /// checked as an utterance), a failure, or the end of that party's stream. Results of an abandoned
    /// stream are ignored.
    async fn heard(&mut self, stream: u64, party: usize, report: Report) -> bool {
        let Some(s) = self.audio.as_mut().filter(|s| s.id == stream) else {
            return true;
        };
        let outcome = s.parties.report(party, report);
        if let Some(msg) = outcome.failed {
            let e = ProtoError::new(
                code::AUDIO_FAILED,
                format!("speech recognition failed: {msg}"),
            );
            if !self.error(&e, None).await {
                return false;
            }
        }
        if !self.deliver(outcome.released).await {
            return false;
        }
        if outcome.all_done {
            let Some(s) = self.audio.take() else {
                return true;
            };
            return self.emit(&s.ended()).await;
        }
        true
    }

    /// Transcripts let through, in order: each a `transcript` message, then checked as an utterance.
    async fn deliver(
        &mut self,
        released: Vec<(usize, huashu_audio::live::LiveTranscript)>,
    ) -> bool {
        for (party, t) in released {
            let Some(conv) = self.conv.clone() else {
                return true;
            };
            let Some(s) = self.audio.as_mut() else {
                return true;
            };
            let Some(role) = s.parties.role(party).cloned() else {
                continue;
            };
            // A final with no text clears the utterance's partial: no turn, nothing to check.
            let cleared = t.is_final && t.text.is_empty();
            if t.is_final && !cleared {
                s.finals += 1;
            }
            let (event, u) = audio::transcript(&conv, &role, t);
            conv.publish(std::slice::from_ref(&event));
            if !self.emit(&event).await {
                return false;
            }
            if cleared {
                continue;
            }
            let a = Arc::clone(&self.app);
            let out = self.app.check(move || conv.utterance(&a.engines, &u)).await;
            if !self.checked(out, None).await {
                return false;
            }
        }
        true
    }

    /// Sends the events of a checked utterance or draft (or its error).
    async fn checked(
        &self,
        out: Result<crate::conv::TurnOutput, ProtoError>,
        reference: Option<&Value>,
    ) -> bool {
        match out {
            Ok(out) => {
                for e in &out.events {
                    if !self.emit(e).await {
                        return false;
                    }
                }
                true
            }
            Err(e) => self.error(&e, reference).await,
        }
    }
}

pub(super) fn no_session() -> ProtoError {
    ProtoError::new(
        code::NO_SESSION,
        "no conversation in progress: send session.start first",
    )
}

pub(super) async fn work_loop(app: Arc<App>, inbox: Arc<Inbox>, out: mpsc::Sender<Out>) {
    let mut w = Worker {
        app,
        out,
        conv: None,
        inbox: Arc::clone(&inbox),
        audio: None,
        streams: 0,
    };
    while let Some(item) = inbox.pop().await {
        let go_on = match item {
            Item::Msg(msg, received) => w.handle(msg, received).await,
            Item::Audio(bytes) => w.audio_frame(&bytes).await,
            Item::Heard {
                stream,
                party,
                report,
                ..
            } => w.heard(stream, party, report).await,
            Item::Error(e) => w.error(&e, None).await,
            Item::Fatal {
                error,
                close,
                reason,
                score,
            } => {
                w.error(&error, None).await;
                w.finish(score).await;
                let _ = w.out.send(Out::Close(close, reason)).await;
                false
            }
            Item::Disconnected => false,
            Item::Shutdown => {
                w.finish(true).await;
                let _ = w
                    .out
                    .send(Out::Close(close::GOING_AWAY, "server shutting down"))
                    .await;
                false
            }
        };
        if !go_on {
            break;
        }
    }
    inbox.close();
    // Disconnected, slow consumer or the writer gone: the session still ends and is scored for listeners.
    w.finish(false).await;
}
