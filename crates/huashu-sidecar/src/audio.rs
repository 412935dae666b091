//! Live audio on `/v1/stream`: `audio.start`, binary frames, `audio.end` (docs/protocol.md).
//!
//! The connection's worker decodes frames and cuts utterances ([`huashu_audio::live::LiveSegmenter`]); the
//! jobs (a rolling-window partial every ~1 s of speech, a final at the end of each utterance) go through a
//! small bounded channel to one transcription task per audio stream, which runs them one at a time on the
//! blocking pool — a semaphore sized to the cores bounds concurrent recognitions across all connections, and
//! each stream owns one recogniser state. Results come back into the connection's inbox as `Heard` items:
//! a partial in the role's partial slot (a newer one supersedes it), a final in order. A partial that is
//! already stale (another job is queued behind it) is skipped rather than recognised.
//!
//! Everything here but the Whisper loader builds without whisper.cpp, so it is tested with a fake
//! recogniser in the default suite.

use std::sync::Arc;

use huashu_audio::live::{LiveJob, LiveTranscript, transcript_of};
use huashu_audio::{AudioError, Segment};
use tokio::sync::{Semaphore, mpsc};

/// One recognition state (one per audio stream: never shared between concurrent jobs).
pub trait LiveRecognizer: Send {
    /// Recognises 16 kHz mono samples; `partial` asks for speed over accuracy (a fitted encoder window).
    ///
    /// # Errors
    /// Whatever the recogniser reports.
    fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError>;
}

/// Makes recognisers over one loaded model.
pub trait RecognizerFactory: Send + Sync + std::fmt::Debug {
    /// A recogniser for one stream in `language` (`zh`, `en`, `auto`; `None`: the configured default).
    ///
    /// # Errors
    /// An unknown language, or the model cannot allocate a state.
    fn recognizer(&self, language: Option<&str>) -> Result<Box<dyn LiveRecognizer>, AudioError>;
}

/// The speech side of the daemon: a recogniser factory and the bounded blocking pool.
#[derive(Debug, Clone)]
pub struct Speech {
    pub factory: Arc<dyn RecognizerFactory>,
    pub pool: Arc<Semaphore>,
    /// One permit per open audio stream.
    pub streams: Arc<Semaphore>,
}

impl Speech {
    /// `threads` recognitions at once (0: the number of cores), `max_streams` open streams.
    pub fn new(factory: Arc<dyn RecognizerFactory>, threads: usize, max_streams: usize) -> Speech {
        let n = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        Speech {
            factory,
            pool: Arc::new(Semaphore::new(n.max(1))),
            streams: Arc::new(Semaphore::new(max_streams.max(1))),
        }
    }
}

/// What a transcription task reports back.
#[derive(Debug)]
pub enum Report {
    Heard(LiveTranscript),
    Failed(String),
    /// The stream's jobs are all done (after `audio.end`).
    Done,
}

/// Jobs queued per stream before the worker waits (finals) or skips (partials).
pub const JOB_QUEUE: usize = 4;

/// Runs a stream's jobs in order; `report` delivers results (false: the connection is gone).
pub async fn transcribe_loop<F>(
    mut jobs: mpsc::Receiver<LiveJob>,
    recognizer: Box<dyn LiveRecognizer>,
    pool: Arc<Semaphore>,
    mut report: F,
) where
    F: AsyncReport,
{
    let mut rec = Some(recognizer);
    while let Some(job) = jobs.recv().await {
        if !job.is_final && !jobs.is_empty() {
            // Something newer is waiting: this partial would be stale by the time it is recognised.
            continue;
        }
        let Ok(permit) = Arc::clone(&pool).acquire_owned().await else {
            break;
        };
        let Some(mut r) = rec.take() else {
            break;
        };
        let done = tokio::task::spawn_blocking(move || {
            let out = r.recognize(&job.pcm, !job.is_final);
            drop(permit);
            (r, job, out)
        })
        .await;
        let ok = match done {
            Ok((r, job, Ok(segs))) => {
                rec = Some(r);
                match transcript_of(&job, &segs) {
                    Some(t) => report.report(Report::Heard(t)).await,
                    None => true,
                }
            }
            Ok((r, _, Err(e))) => {
                rec = Some(r);
                report.report(Report::Failed(e.to_string())).await
            }
            Err(e) => {
                // The recogniser is gone (it panicked): the stream ends here, reported as done.
                if !report
                    .report(Report::Failed(format!("the recogniser stopped: {e}")))
                    .await
                {
                    return;
                }
                break;
            }
        };
        if !ok {
            return;
        }
    }
    report.report(Report::Done).await;
}

/// Where a transcription task sends its results.
pub trait AsyncReport: Send {
    /// Delivers one report; false when nobody listens any more.
    fn report(&mut self, r: Report) -> impl std::future::Future<Output = bool> + Send;
}

#[cfg(feature = "audio")]
mod whisper {
    use std::path::Path;
    use std::sync::Mutex;

    use huashu_audio::{AudioError, Language, Segment, Whisper, WhisperOptions};

    use super::{LiveRecognizer, RecognizerFactory};
    use huashu_audio::Recognize;

    /// A loaded ggml Whisper model (the weights are shared; each stream gets its own state).
    pub struct WhisperFactory {
        template: Mutex<Whisper>,
    }

    impl std::fmt::Debug for WhisperFactory {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("WhisperFactory")
        }
    }

    impl WhisperFactory {
        /// Loads the model once.
        ///
        /// # Errors
        /// A missing or unusable model file, an unknown language.
        pub fn load(path: &Path, language: &str, threads: usize) -> Result<Self, AudioError> {
            let language: Language = language.parse().map_err(AudioError::Unsupported)?;
            let w = Whisper::load(
                path,
                WhisperOptions {
                    language,
                    threads: threads.max(1),
                    fit_audio_ctx: false,
                    min_audio_ctx: 384,
                    prompt: None,
                },
            )?;
            Ok(WhisperFactory {
                template: Mutex::new(w),
            })
        }
    }

    /// Smallest encoder window for partials (2.56 s).
    const PARTIAL_MIN_CTX: i32 = 128;

    struct Stream {
        w: Whisper,
        /// Fit the encoder window on finals too (English: same text, 5–10× faster; Mandarin suffers).
        fit_finals: bool,
    }

    impl LiveRecognizer for Stream {
        fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
            self.w.options.fit_audio_ctx = partial || self.fit_finals;
            // Partials: the window fitted tightly (a 1 s window → 2.5 s of encoder instead of 30 s); finals
            // keep the floor that preserves accuracy.
            self.w.options.min_audio_ctx = if partial { PARTIAL_MIN_CTX } else { 384 };
            self.w.recognize(pcm)
        }
    }

    impl RecognizerFactory for WhisperFactory {
        fn recognizer(
            &self,
            language: Option<&str>,
        ) -> Result<Box<dyn LiveRecognizer>, AudioError> {
            let mut w = self
                .template
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .share()?;
            if let Some(l) = language {
                w.options.language = l.parse().map_err(AudioError::Unsupported)?;
            }
            let fit_finals = w.options.language == Language::En || !w.is_multilingual();
            Ok(Box::new(Stream { w, fit_finals }))
        }
    }
}

#[cfg(feature = "audio")]
pub use whisper::WhisperFactory;
