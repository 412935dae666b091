//! Live audio on a connection: `audio.start`, binary frames cut by the `LiveSegmenter`, jobs handed to the
//! stream's transcription task, and what was `heard` coming back through the inbox as utterances.

use std::sync::Arc;

use huashu_audio::live::{Encoding, FrameDecoder, LiveJob, LiveOptions, LiveSegmenter};
use serde_json::Value;
use tokio::sync::mpsc;

use super::inbox::{Inbox, Item};
use super::worker::{Worker, no_session};
use crate::audio::{AsyncReport, JOB_QUEUE, Report, transcribe_loop};
use crate::conv::Event;
use crate::metrics as m;
use crate::protocol::{
    self, AudioEndedMsg, AudioStart, ProtoError, ServerMsg, TranscriptMsg, Utterance, code,
};

/// The open (or draining) audio stream of a connection.
pub(super) struct AudioStream {
    id: u64,
    role: Arc<str>,
    decoder: FrameDecoder,
    segmenter: LiveSegmenter,
    /// None after `audio.end`: the task drains and reports `Done`.
    jobs: Option<mpsc::Sender<LiveJob>>,
    task: tokio::task::JoinHandle<()>,
    /// Held while the stream is open or draining (`audio.max_streams`).
    _permit: tokio::sync::OwnedSemaphorePermit,
    finals: u64,
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

impl Worker {
    pub(super) async fn audio_start(&mut self, a: AudioStart) -> bool {
        let reference = a.reference.as_ref();
        if self.conv.is_none() {
            return self.error(&no_session(), reference).await;
        }
        let Some(speech) = self.app.speech.get().cloned() else {
            return self
                .error(
                    &ProtoError::new(
                        code::AUDIO_UNAVAILABLE,
                        "live audio is not available: the daemon has no Whisper model (huashu serve --model, \
                         HUASHU_WHISPER_MODEL, and a build with the `audio` feature)",
                    ),
                    reference,
                )
                .await;
        };
        if self.audio.is_some() {
            return self
                .error(
                    &ProtoError::new(
                        code::AUDIO_ACTIVE,
                        "an audio stream is open on this connection: send audio.end and wait for audio.ended",
                    ),
                    reference,
                )
                .await;
        }
        let role = match protocol::role(&a.role) {
            Ok(r) => r,
            Err(e) => return self.error(&e, reference).await,
        };
        let encoding: Encoding = match a.encoding.parse() {
            Ok(e) => e,
            Err(msg) => {
                return self
                    .error(&ProtoError::new(code::BAD_MESSAGE, msg), reference)
                    .await;
            }
        };
        let Ok(permit) = Arc::clone(&speech.streams).try_acquire_owned() else {
            m::rejected("audio_capacity");
            return self
                .error(
                    &ProtoError::new(
                        code::CAPACITY,
                        "too many live audio streams (audio.max_streams); try again later",
                    ),
                    reference,
                )
                .await;
        };
        let recognizer = match speech.factory.recognizer(a.language.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                return self
                    .error(
                        &ProtoError::new(code::BAD_MESSAGE, format!("audio.start: {e}")),
                        reference,
                    )
                    .await;
            }
        };
        self.streams += 1;
        let role: Arc<str> = Arc::from(role.as_str());
        let (tx, rx) = mpsc::channel(JOB_QUEUE);
        let task = tokio::spawn(transcribe_loop(
            rx,
            recognizer,
            Arc::clone(&speech.pool),
            InboxReport {
                inbox: Arc::clone(&self.inbox),
                stream: self.streams,
                role: Arc::clone(&role),
            },
        ));
        self.audio = Some(AudioStream {
            id: self.streams,
            role: Arc::clone(&role),
            decoder: FrameDecoder::new(encoding),
            segmenter: LiveSegmenter::new(LiveOptions::default()),
            jobs: Some(tx),
            task,
            _permit: permit,
            finals: 0,
            reference: a.reference.clone(),
            buf: Vec::new(),
        });
        let msg = serde_json::json!({
            "type": "audio.started",
            "role": &*role,
            "encoding": a.encoding,
            "sample_rate": 16_000,
            "ref": a.reference,
        });
        self.emit(&Event::new("audio.started", msg.to_string(), false))
            .await
    }

    pub(super) async fn audio_frame(&mut self, bytes: &[u8]) -> bool {
        let Some(stream) = self.audio.as_mut().filter(|s| s.jobs.is_some()) else {
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
        let mut buf = std::mem::take(&mut stream.buf);
        buf.clear();
        if let Err(e) = stream.decoder.decode(bytes, &mut buf) {
            stream.buf = buf;
            return self
                .error(
                    &ProtoError::new(code::BAD_AUDIO, format!("{e}; the frame was dropped")),
                    None,
                )
                .await;
        }
        let jobs = stream.segmenter.push(&buf);
        stream.buf = buf;
        self.dispatch(jobs).await
    }

    /// Hands jobs to the stream's task: partials only if there is room, finals always (waiting).
    async fn dispatch(&mut self, jobs: Vec<LiveJob>) -> bool {
        let Some(tx) = self.audio.as_ref().and_then(|s| s.jobs.clone()) else {
            return true;
        };
        for job in jobs {
            if job.is_final {
                if tx.send(job).await.is_err() {
                    return true;
                }
            } else if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(job) {
                m::superseded();
            }
        }
        true
    }

    pub(super) async fn audio_end(&mut self, reference: Option<&Value>) -> bool {
        let Some(stream) = self.audio.as_mut().filter(|s| s.jobs.is_some()) else {
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
        if reference.is_some() {
            stream.reference = reference.cloned();
        }
        let jobs = stream.segmenter.finish();
        let go_on = self.dispatch(jobs).await;
        if let Some(s) = self.audio.as_mut() {
            // Closing the channel lets the task drain and report Done.
            s.jobs = None;
        }
        go_on
    }

    pub(super) async fn heard(&mut self, stream: u64, report: Report) -> bool {
        if self.audio.as_ref().is_none_or(|s| s.id != stream) {
            return true;
        }
        match report {
            Report::Heard(t) => {
                let Some(conv) = self.conv.clone() else {
                    return true;
                };
                let role = self
                    .audio
                    .as_ref()
                    .map_or_else(|| Arc::from("agent"), |s| Arc::clone(&s.role));
                let event = Event::msg(
                    ServerMsg::Transcript(TranscriptMsg {
                        conversation_id: &conv.id,
                        role: &role,
                        text: &t.text,
                        is_final: t.is_final,
                        start_ms: t.start_ms,
                        end_ms: t.end_ms,
                        utterance: t.utterance,
                        confidence: t.confidence,
                    }),
                    !t.is_final,
                );
                conv.publish(std::slice::from_ref(&event));
                if !self.emit(&event).await {
                    return false;
                }
                if t.is_final {
                    if let Some(s) = self.audio.as_mut() {
                        s.finals += 1;
                    }
                }
                let u = Utterance {
                    role: role.to_string(),
                    text: t.text,
                    is_final: t.is_final,
                    start_ms: Some(t.start_ms),
                    end_ms: Some(t.end_ms),
                    reference: None,
                };
                match conv.utterance(&self.app.engines, &u) {
                    Ok(out) => {
                        for e in &out.events {
                            if !self.emit(e).await {
                                return false;
                            }
                        }
                        true
                    }
                    Err(e) => self.error(&e, None).await,
                }
            }
            Report::Failed(msg) => {
                self.error(
                    &ProtoError::new(
                        code::AUDIO_FAILED,
                        format!("speech recognition failed: {msg}"),
                    ),
                    None,
                )
                .await
            }
            Report::Done => {
                let Some(s) = self.audio.take() else {
                    return true;
                };
                let msg = Event::msg(
                    ServerMsg::AudioEnded(AudioEndedMsg {
                        role: &s.role,
                        utterances: s.finals,
                        reference: s.reference.as_ref(),
                    }),
                    false,
                );
                self.emit(&msg).await
            }
        }
    }
}
