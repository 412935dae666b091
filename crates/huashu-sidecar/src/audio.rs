//! Live audio on `/v1/stream`: `audio.start`, binary frames, `audio.end` (docs/protocol.md).
//!
//! The connection's worker decodes frames and cuts utterances ([`huashu_audio::live::LiveSegmenter`]); the
//! jobs (a rolling-window partial every ~1 s of speech, a final at the end of each utterance) go through a
//! small bounded channel to one transcription task per audio stream, which runs them one at a time on the
//! blocking pool — a semaphore sized to the cores (over each recognition's threads) bounds concurrent recognitions across all connections, and
//! each stream owns one recogniser state. Results come back into the connection's inbox as `Heard` items:
//! a partial in the role's partial slot (a newer one supersedes it), a final in order. A partial is
//! superseded by any later job of its stream: dropped while queued or waiting for the pool, and cancelled
//! while being recognised when a final comes (when the recogniser can be cancelled), so a final never
//! waits behind partials of audio it already holds.
//!
//! Everything here but the Whisper loader builds without whisper.cpp, so it is tested with a fake
//! recogniser in the default suite.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use huashu_audio::live::{LiveJob, LiveTranscript, transcript_of};
use huashu_audio::{AudioError, Segment};
use tokio::sync::{Semaphore, mpsc};

mod simulate;

pub use simulate::{LiveRun, simulate_live, simulate_live_blocking};

/// One recognition state (one per audio stream: never shared between concurrent jobs).
pub trait LiveRecognizer: Send {
    /// Recognises 16 kHz mono samples; `partial` asks for speed over accuracy (a fitted encoder window).
    ///
    /// # Errors
    /// Whatever the recogniser reports.
    fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError>;

    /// A flag that, once set, makes the running recognition give up early (its result is then thrown
    /// away); cleared before each job. `None`: recognitions run to the end.
    fn cancel_flag(&self) -> Option<Arc<AtomicBool>> {
        None
    }
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
    /// `pool` recognitions at once (0: as many as the cores hold, [`recognitions_at_once`]), each with
    /// `whisper_threads` threads; `max_streams` open streams.
    pub fn new(
        factory: Arc<dyn RecognizerFactory>,
        pool: usize,
        whisper_threads: usize,
        max_streams: usize,
    ) -> Speech {
        let n = if pool == 0 {
            recognitions_at_once(cores(), whisper_threads)
        } else {
            pool
        };
        Speech {
            factory,
            pool: Arc::new(Semaphore::new(n.max(1))),
            streams: Arc::new(Semaphore::new(max_streams.max(1))),
        }
    }
}

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How many recognitions of `whisper_threads` threads each the cores hold at once (at least one).
///
/// ggml's threads spin-wait for each other: two recognitions of two threads on two cores made one live final
/// take seconds (benches/RESULTS.md, "Speech, session 4", section 5), so the pool never gives a recognition's
/// threads fewer cores than it asked for.
pub fn recognitions_at_once(cores: usize, whisper_threads: usize) -> usize {
    (cores / whisper_threads.max(1)).max(1)
}

/// What a transcription task reports back.
#[derive(Debug)]
pub enum Report {
    Heard(LiveTranscript),
    /// A job recognised as nothing (no speech): said so that a two-party call knows this utterance
    /// will not come and can let the other party's finals through (`crate::call`).
    Silent {
        utterance: u64,
        is_final: bool,
    },
    Failed(String),
    /// The stream's jobs are all done (after `audio.end`).
    Done,
}

/// Jobs queued per stream before the worker waits (finals) or skips (partials).
pub const JOB_QUEUE: usize = 4;

/// Runs a stream's jobs in order; `report` delivers results (false: the connection is gone).
///
/// A partial is superseded by any job of the stream that comes after it (a later partial hears more of the
/// utterance, the final hears all of it): a partial still queued, or waiting for the pool, when a later job
/// arrives is dropped, and a partial being recognised when a final or a candidate final arrives is cancelled
/// ([`LiveRecognizer::cancel_flag`]). So a final (or its candidate) starts as soon as the pool has room, never
/// behind partials.
/// A candidate final ([`LiveJob::is_candidate`], cut in the silence after speech) is recognised as a final;
/// when the utterance closes on the same audio, that result is the final (no second pass), and meanwhile it
/// is reported as a partial.
pub async fn transcribe_loop<F>(
    mut jobs: mpsc::Receiver<LiveJob>,
    recognizer: Box<dyn LiveRecognizer>,
    pool: Arc<Semaphore>,
    mut report: F,
) where
    F: AsyncReport,
{
    let mut rec = Some(recognizer);
    let mut queue = Pending::default();
    let mut open = true;
    // The last candidate final recognised, with what it heard: the final of the same audio reuses it.
    let mut candidate: Option<(LiveJob, Vec<Segment>)> = None;
    loop {
        if open {
            open = queue.take_ready(&mut jobs);
        }
        let Some(job) = queue.jobs.pop_front() else {
            if !open {
                break;
            }
            match jobs.recv().await {
                Some(j) => queue.push(j),
                None => open = false,
            }
            continue;
        };
        if let Some((c, segs)) = candidate.take() {
            if job.is_final && c.same_audio(&job) {
                if !deliver(&mut report, &job, &segs).await {
                    return;
                }
                continue;
            }
        }
        let permit = if job.is_final || !open {
            Arc::clone(&pool).acquire_owned().await
        } else {
            // Waiting for the pool: any job arriving meanwhile supersedes this partial.
            tokio::select! {
                biased;
                next = jobs.recv() => {
                    match next {
                        Some(j) => queue.push(j),
                        None => {
                            open = false;
                            queue.jobs.push_front(job);
                        }
                    }
                    continue;
                }
                p = Arc::clone(&pool).acquire_owned() => p,
            }
        };
        let Ok(permit) = permit else {
            break;
        };
        let Some(mut r) = rec.take() else {
            break;
        };
        let cancel = r.cancel_flag();
        if let Some(c) = &cancel {
            c.store(false, Ordering::SeqCst);
        }
        let is_partial = !job.is_final;
        let is_candidate = job.is_candidate();
        let shape = (job.utterance, job.start_ms, job.end_ms, job.pcm.len());
        let mut running = tokio::task::spawn_blocking(move || {
            // A candidate is recognised as its final would be.
            let out = r.recognize(&job.pcm, !(job.is_final || job.is_candidate()));
            drop(permit);
            (r, job, out)
        });
        // While a partial runs, a final of the stream cancels it (a later partial does not: under load every
        // partial would be cancelled by the next and none would ever be heard), unless the partial is the
        // candidate of that very final.
        let mut cancelled = false;
        let done = loop {
            tokio::select! {
                done = &mut running => break done,
                next = jobs.recv(), if open && is_partial && !cancelled && queue.has_room() => {
                    match next {
                        Some(j) => {
                            let own = is_candidate
                                && (j.utterance, j.start_ms, j.end_ms, j.pcm.len()) == shape;
                            // A candidate supersedes a plain partial too: it is recognised as the final
                            // will be, and waiting behind the partial made the slowest finals.
                            let supersedes =
                                j.is_final || (j.is_candidate() && !is_candidate);
                            if supersedes && !own {
                                if let Some(c) = &cancel {
                                    c.store(true, Ordering::SeqCst);
                                    cancelled = true;
                                }
                            }
                            queue.push(j);
                        }
                        None => open = false,
                    }
                }
            }
        };
        let ok = match done {
            Ok((r, _, _)) if cancelled => {
                rec = Some(r);
                true
            }
            Ok((r, job, Ok(segs))) if job.is_candidate() => {
                rec = Some(r);
                // Its final is already waiting: that final is reported (next round), not a partial.
                if open {
                    open = queue.take_ready(&mut jobs);
                }
                let final_waits = queue.jobs.front().is_some_and(|f| job.same_audio(f));
                let ok = final_waits || deliver(&mut report, &job, &segs).await;
                candidate = Some((job, segs));
                ok
            }
            Ok((r, job, Ok(segs))) => {
                rec = Some(r);
                deliver(&mut report, &job, &segs).await
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

/// Reports what a job heard: a transcript, or that it heard nothing.
async fn deliver<F: AsyncReport>(report: &mut F, job: &LiveJob, segs: &[Segment]) -> bool {
    match transcript_of(job, segs) {
        Some(t) => report.report(Report::Heard(t)).await,
        None => {
            report
                .report(Report::Silent {
                    utterance: job.utterance,
                    is_final: job.is_final,
                })
                .await
        }
    }
}

/// A stream's jobs taken off its channel and not yet run: finals in order, and at most one partial, the
/// last (a job pushed behind a partial supersedes it).
#[derive(Debug, Default)]
struct Pending {
    jobs: VecDeque<LiveJob>,
}

impl Pending {
    /// Room for another job: finals wait in the channel beyond this, so the worker feels backpressure.
    fn has_room(&self) -> bool {
        self.jobs.len() < JOB_QUEUE
    }

    fn push(&mut self, job: LiveJob) {
        if self.jobs.back().is_some_and(|j| !j.is_final) {
            self.jobs.pop_back();
        }
        self.jobs.push_back(job);
    }

    /// Takes what the channel already holds (while there is room); false when the channel is closed.
    fn take_ready(&mut self, jobs: &mut mpsc::Receiver<LiveJob>) -> bool {
        while self.has_room() {
            match jobs.try_recv() {
                Ok(j) => self.push(j),
                Err(mpsc::error::TryRecvError::Empty) => return true,
                Err(mpsc::error::TryRecvError::Disconnected) => return false,
            }
        }
        true
    }
}

/// Where a transcription task sends its results.
pub trait AsyncReport: Send {
    /// Delivers one report; false when nobody listens any more.
    fn report(&mut self, r: Report) -> impl std::future::Future<Output = bool> + Send;
}

/// Hands a stream's jobs to its task as the connection worker does: finals always (waiting for room),
/// partials only if there is room (else they are counted as superseded). Returns the partials dropped, or
/// `None` when the task is gone.
pub async fn dispatch(tx: &mpsc::Sender<LiveJob>, jobs: Vec<LiveJob>) -> Option<usize> {
    let mut dropped = 0;
    for job in jobs {
        if job.is_final {
            if tx.send(job).await.is_err() {
                return None;
            }
        } else if let Err(e) = tx.try_send(job) {
            match e {
                mpsc::error::TrySendError::Full(_) => {
                    crate::metrics::superseded();
                    dropped += 1;
                }
                mpsc::error::TrySendError::Closed(_) => return None,
            }
        }
    }
    Some(dropped)
}

#[cfg(feature = "audio")]
mod whisper {
    use std::path::Path;
    use std::sync::Mutex;

    use huashu_audio::vad::VadOptions;
    use huashu_audio::{AudioError, Language, Segment, Whisper, WhisperOptions};

    use super::{LiveRecognizer, RecognizerFactory};
    use huashu_audio::Recognize;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    /// A loaded ggml Whisper model (the weights are shared; each stream gets its own state).
    pub struct WhisperFactory {
        template: Mutex<Whisper>,
        partial: PartialWindow,
    }

    /// Partials of up to this many samples (1 s at 16 kHz) run on one thread ([`PartialWindow::threads`]).
    const ONE_THREAD_PARTIAL_SAMPLES: usize = 16_000;
    /// A partial of up to this many samples (1 s at 16 kHz: an utterance's first) is recognised even when
    /// Silero finds no speech in it ([`Stream::recognize`]).
    const UNGATED_PARTIAL_SAMPLES: usize = 16_000;

    /// The encoder window of partials: a partial is superseded by its final, so speed first.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct PartialWindow {
        /// The floor, in encoder positions (50 per second).
        pub floor: i32,
        /// Room left after the audio, in ms.
        pub margin_ms: u32,
        /// Whisper threads of a partial. None (the default): one thread for a partial of up to 1 s of audio
        /// (an utterance's first: its two threads spin-wait for each other, session 11: first partial max
        /// 517–530 ms at one thread against 572–607 at two), the stream's threads for longer ones (at one
        /// thread they ran into the candidate final after them: slowest final 839 ms).
        pub threads: Option<usize>,
    }

    impl Default for PartialWindow {
        /// 128 positions (2.56 s), the audio + 1.5 s, threads by the partial's length.
        fn default() -> Self {
            PartialWindow {
                floor: 128,
                margin_ms: 1500,
                threads: None,
            }
        }
    }

    impl std::fmt::Debug for WhisperFactory {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("WhisperFactory")
        }
    }

    impl WhisperFactory {
        /// Loads the model once; with `silero_vad`, every stream gates its pieces by speech
        /// ([`Stream::recognize`]).
        ///
        /// # Errors
        /// A missing or unusable model file (Whisper's or Silero's), an unknown language.
        pub fn load(
            path: &Path,
            language: &str,
            threads: usize,
            silero_vad: Option<std::path::PathBuf>,
        ) -> Result<Self, AudioError> {
            let language: Language = language.parse().map_err(AudioError::Unsupported)?;
            let w = Whisper::load(
                path,
                WhisperOptions {
                    language,
                    threads: threads.max(1),
                    silero_vad,
                    ..WhisperOptions::default()
                },
            )?;
            Ok(WhisperFactory::from_whisper(w))
        }

        /// Streams over an already loaded model (its options are every stream's defaults).
        pub fn from_whisper(w: Whisper) -> Self {
            WhisperFactory {
                template: Mutex::new(w),
                partial: PartialWindow::default(),
            }
        }

        /// Partials' encoder window (`huashu bench --audio` compares settings).
        #[must_use]
        pub fn with_partial_window(mut self, partial: PartialWindow) -> Self {
            self.partial = partial;
            self
        }
    }

    /// One stream's recogniser: partials and finals alike fit the encoder window to their audio, with
    /// the model's floor (the encoder is most of the cost: a 30 s window for a 2 s utterance was 10× the
    /// work).
    struct Stream {
        w: Whisper,
        /// The floor, margin and threads of finals (the model's, the floor chosen by error rate).
        floor: i32,
        margin_ms: u32,
        threads: usize,
        partial: PartialWindow,
    }

    impl Stream {
        /// Recognises `pcm` with the window and threads of a partial or a final.
        fn run(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
            let o = &mut self.w.options;
            if partial {
                o.min_audio_ctx = self.partial.floor.min(self.floor);
                o.fit_margin_ms = self.partial.margin_ms;
                // A short partial (an utterance's first, 0.6 s) is a few small graphs whose threads spin-wait
                // for each other: one thread is faster. Longer partials keep the stream's threads, so that
                // they end before the candidate final that follows them.
                let short = pcm.len() <= ONE_THREAD_PARTIAL_SAMPLES;
                o.threads = self
                    .partial
                    .threads
                    .unwrap_or(if short { 1 } else { self.threads });
            } else {
                o.min_audio_ctx = self.floor;
                o.fit_margin_ms = self.margin_ms;
                o.threads = self.threads;
            }
            self.w.recognize(pcm)
        }
    }

    impl LiveRecognizer for Stream {
        /// With a Silero model, only the stretch from Silero's first speech to its last is recognised, and a
        /// piece with none is not recognised at all (it heard nothing). The energy segmenter takes loud
        /// noise and music on hold for speech and joins them to the speech next to them; Whisper "hears"
        /// words in them, or repeats the real sentence to fill the window. Except an utterance's first
        /// partial (up to [`UNGATED_PARTIAL_SAMPLES`]): its 0.6 s can be too little for Silero (jfk.wav's
        /// first partial came 1.5-1.6 s after speech onset instead of 0.49 s when it was dropped), so it is
        /// recognised whole, and the pieces after it decide. The check costs a few ms a piece on one thread.
        fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
            let Some(Ok(speech)) = self.w.utterances(pcm, &VadOptions::default()) else {
                return self.run(pcm, partial);
            };
            let (Some(first), Some(last)) = (speech.first(), speech.last()) else {
                return if partial && pcm.len() <= UNGATED_PARTIAL_SAMPLES {
                    self.run(pcm, partial)
                } else {
                    Ok(Vec::new())
                };
            };
            let (from, to) = (first.start.min(pcm.len()), last.end.min(pcm.len()));
            let shift = (from / 16) as u64;
            let mut heard = self.run(&pcm[from..to.max(from)], partial)?;
            for s in &mut heard {
                s.start_ms += shift;
                s.end_ms += shift;
            }
            Ok(heard)
        }

        fn cancel_flag(&self) -> Option<Arc<AtomicBool>> {
            Some(self.w.abort_flag())
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
            Ok(Box::new(Stream {
                floor: w.options.min_audio_ctx,
                margin_ms: w.options.fit_margin_ms,
                threads: w.options.threads,
                partial: self.partial,
                w,
            }))
        }
    }
}

#[cfg(feature = "audio")]
pub use whisper::{PartialWindow, WhisperFactory};

#[cfg(test)]
mod loop_tests;
