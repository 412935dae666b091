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

use std::sync::Mutex;

use huashu_audio::bench::{LiveFigures, Summary, transcript_text};
use huashu_audio::live::{
    LIVE_RATE, LiveJob, LiveOptions, LiveSegmenter, LiveTranscript, transcript_of,
};
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

/// A simulated live stream: a recording fed through the [`LiveSegmenter`] in real-time-sized chunks, its
/// jobs run by [`transcribe_loop`] on `pool` exactly as the daemon runs a connection's audio stream, and
/// when each transcript came back. `speed` > 1 feeds faster than real time (tests); times are stream time.
pub async fn simulate_live(
    pcm: &[f32],
    recognizer: Box<dyn LiveRecognizer>,
    pool: Arc<Semaphore>,
    opts: LiveOptions,
    chunk_ms: u32,
    speed: f64,
) -> LiveRun {
    let speed = if speed > 0.0 { speed } else { 1.0 };
    let start = tokio::time::Instant::now();
    let stream_ms = move || start.elapsed().as_secs_f64() * 1000.0 * speed;
    let stats = Arc::new(Mutex::new(RunStats::default()));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel(JOB_QUEUE);
    let task = tokio::spawn(transcribe_loop(
        rx,
        Box::new(Counting {
            inner: recognizer,
            stats: Arc::clone(&stats),
        }),
        pool,
        Collect {
            at: Box::new(stream_ms),
            heard: Arc::clone(&heard),
        },
    ));
    let mut seg = LiveSegmenter::new(opts);
    let mut cut: Vec<(u64, bool, u64, u64)> = Vec::new();
    let chunk = (LIVE_RATE as usize * chunk_ms.max(1) as usize / 1000).max(1);
    let mut fed = 0usize;
    let note = |jobs: &[LiveJob], cut: &mut Vec<(u64, bool, u64, u64)>| {
        cut.extend(
            jobs.iter()
                .map(|j| (j.utterance, j.is_final, j.speech_start_ms, j.speech_end_ms)),
        );
    };
    for c in pcm.chunks(chunk) {
        fed += c.len();
        // This chunk has fully arrived at stream time `fed`.
        let due = fed as f64 / f64::from(LIVE_RATE) / speed;
        tokio::time::sleep_until(start + std::time::Duration::from_secs_f64(due)).await;
        let jobs = seg.push(c);
        note(&jobs, &mut cut);
        dispatch(&tx, jobs).await;
    }
    let jobs = seg.finish();
    note(&jobs, &mut cut);
    dispatch(&tx, jobs).await;
    drop(tx);
    let _ = task.await;
    let stats = *stats.lock().unwrap_or_else(|p| p.into_inner());
    let heard = std::mem::take(&mut *heard.lock().unwrap_or_else(|p| p.into_inner()));
    LiveRun::of(
        &cut,
        &heard,
        stats,
        pcm.len() as f64 * 1000.0 / f64::from(LIVE_RATE),
    )
}

/// Streams (one per channel of a call, each its own recogniser, as the daemon would serve two
/// connections) simulated at once on one pool of `pool` recognitions, on a runtime of their own.
///
/// # Errors
/// When the runtime cannot start.
pub fn simulate_live_blocking(
    streams: Vec<(Vec<f32>, Box<dyn LiveRecognizer>)>,
    pool: usize,
    opts: LiveOptions,
    chunk_ms: u32,
    speed: f64,
) -> std::io::Result<LiveFigures> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()?;
    let pool = Arc::new(Semaphore::new(pool.max(1)));
    let run = rt.block_on(async move {
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|(pcm, rec)| {
                let pool = Arc::clone(&pool);
                tokio::spawn(
                    async move { simulate_live(&pcm, rec, pool, opts, chunk_ms, speed).await },
                )
            })
            .collect();
        let mut all = LiveRun::default();
        for t in tasks {
            if let Ok(run) = t.await {
                all.merge(run);
            }
        }
        all
    });
    Ok(run.figures())
}

/// Raw figures of simulated streams (ms of stream time).
#[derive(Debug, Clone, Default)]
pub struct LiveRun {
    first_partial: Vec<f64>,
    first_result: Vec<f64>,
    finals: Vec<f64>,
    /// (utterance start, text) of every final.
    texts: Vec<(u64, String)>,
    partials_cut: usize,
    stats: RunStats,
    stream_ms: f64,
}

impl LiveRun {
    fn of(
        cut: &[(u64, bool, u64, u64)],
        heard: &[(f64, LiveTranscript)],
        stats: RunStats,
        stream_ms: f64,
    ) -> LiveRun {
        let mut run = LiveRun {
            stats,
            stream_ms,
            partials_cut: cut.iter().filter(|c| !c.1).count(),
            ..LiveRun::default()
        };
        let utterances: std::collections::BTreeSet<u64> = cut.iter().map(|c| c.0).collect();
        for u in utterances {
            let Some(&(_, _, onset, _)) = cut.iter().find(|c| c.0 == u) else {
                continue;
            };
            let mine: Vec<&(f64, LiveTranscript)> =
                heard.iter().filter(|(_, t)| t.utterance == u).collect();
            if let Some((at, _)) = mine.iter().find(|(_, t)| !t.is_final) {
                run.first_partial.push(at - onset as f64);
            }
            if let Some((at, _)) = mine.first() {
                run.first_result.push(at - onset as f64);
            }
            let speech_end = cut.iter().find(|c| c.0 == u && c.1).map(|c| c.3);
            if let (Some((at, t)), Some(end)) = (mine.iter().find(|(_, t)| t.is_final), speech_end)
            {
                run.finals.push(at - end as f64);
                run.texts.push((t.start_ms, t.text.clone()));
            }
        }
        run
    }

    /// Adds another stream's figures.
    pub fn merge(&mut self, o: LiveRun) {
        self.first_partial.extend(o.first_partial);
        self.first_result.extend(o.first_result);
        self.finals.extend(o.finals);
        self.texts.extend(o.texts);
        self.partials_cut += o.partials_cut;
        self.stats.partials += o.stats.partials;
        self.stats.finals += o.stats.finals;
        self.stats.busy_ms += o.stats.busy_ms;
        self.stream_ms = self.stream_ms.max(o.stream_ms);
    }

    /// The summary: latencies, partial counts, the finals' text in time order.
    pub fn figures(mut self) -> LiveFigures {
        self.texts.sort_by_key(|t| t.0);
        LiveFigures {
            utterances: self.finals.len(),
            first_partial_ms: Summary::of(&self.first_partial),
            first_result_ms: Summary::of(&self.first_result),
            final_ms: Summary::of(&self.finals),
            partials_cut: self.partials_cut,
            partials_run: self.stats.partials,
            partials_skipped: self.partials_cut.saturating_sub(self.stats.partials),
            busy_rtf: self.stats.busy_ms / self.stream_ms.max(1.0),
            text: transcript_text(self.texts.iter().map(|t| t.1.as_str())),
            error_rate: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct RunStats {
    partials: usize,
    finals: usize,
    busy_ms: f64,
}

/// Counts what the recogniser ran and for how long.
struct Counting {
    inner: Box<dyn LiveRecognizer>,
    stats: Arc<Mutex<RunStats>>,
}

impl LiveRecognizer for Counting {
    fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
        let t = std::time::Instant::now();
        let out = self.inner.recognize(pcm, partial);
        let took = t.elapsed().as_secs_f64() * 1000.0;
        let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        if partial {
            s.partials += 1;
        } else {
            s.finals += 1;
        }
        s.busy_ms += took;
        out
    }
}

/// Collects transcripts with the stream time they came back at.
struct Collect {
    at: Box<dyn Fn() -> f64 + Send>,
    heard: Arc<Mutex<Vec<(f64, LiveTranscript)>>>,
}

impl AsyncReport for Collect {
    async fn report(&mut self, r: Report) -> bool {
        if let Report::Heard(t) = r {
            let at = (self.at)();
            self.heard
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((at, t));
        }
        true
    }
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
                    ..WhisperOptions::default()
                },
            )?;
            Ok(WhisperFactory::from_whisper(w))
        }

        /// Streams over an already loaded model (its options are every stream's defaults).
        pub fn from_whisper(w: Whisper) -> Self {
            WhisperFactory {
                template: Mutex::new(w),
            }
        }
    }

    /// One stream's recogniser: partials and finals alike fit the encoder window to their audio, with
    /// the model's floor (the encoder is most of the cost: a 30 s window for a 2 s utterance was 10× the
    /// work).
    struct Stream {
        w: Whisper,
        /// The floor of finals (the model's, chosen by error rate).
        floor: i32,
    }

    /// Floor of partials' encoder window (2.56 s): a partial is superseded by its final, so speed first.
    const PARTIAL_MIN_CTX: i32 = 128;

    impl LiveRecognizer for Stream {
        fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
            self.w.options.min_audio_ctx = if partial {
                PARTIAL_MIN_CTX.min(self.floor)
            } else {
                self.floor
            };
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
            let floor = w.options.min_audio_ctx;
            Ok(Box::new(Stream { w, floor }))
        }
    }
}

#[cfg(feature = "audio")]
pub use whisper::WhisperFactory;

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers "n ms" after sleeping `delay_ms` of wall time per call, and checks no two calls overlap.
    struct Fake {
        delay_ms: u64,
        busy: Arc<std::sync::atomic::AtomicBool>,
    }

    impl LiveRecognizer for Fake {
        fn recognize(&mut self, pcm: &[f32], _partial: bool) -> Result<Vec<Segment>, AudioError> {
            use std::sync::atomic::Ordering;
            assert!(
                !self.busy.swap(true, Ordering::SeqCst),
                "two recognitions of one stream at once"
            );
            std::thread::sleep(std::time::Duration::from_millis(self.delay_ms));
            self.busy.store(false, Ordering::SeqCst);
            Ok(vec![Segment {
                text: format!("{} ms", pcm.len() / 16),
                start_ms: 0,
                end_ms: 1,
                confidence: 0.9,
                no_speech: 0.0,
            }])
        }
    }

    fn tone(ms: u32) -> Vec<f32> {
        (0..16 * ms)
            .map(|i| 0.3 * (i as f32 * 0.07).sin())
            .collect()
    }

    // A paused clock: stream time moves only when every task waits on a timer (a recognition on the
    // blocking pool holds it), so the figures are the segmenter's and the loop's, not how long a busy
    // machine took to schedule the feeder — at 10× real time, 40 ms of wall-clock delay was 400 ms here.
    #[tokio::test(start_paused = true)]
    async fn simulated_stream_reports_latencies_in_stream_time() {
        // 0.5 s silence, 2.5 s speech, 1 s silence, 0.4 s speech, 1 s silence; fed 10× real time.
        let mut pcm = vec![0.0; 8_000];
        pcm.extend(tone(2500));
        pcm.extend(vec![0.0; 16_000]);
        pcm.extend(tone(400));
        pcm.extend(vec![0.0; 16_000]);
        let fake = Fake {
            delay_ms: 5,
            busy: Arc::default(),
        };
        let f = simulate_live(
            &pcm,
            Box::new(fake),
            Arc::new(Semaphore::new(2)),
            LiveOptions::default(),
            20,
            10.0,
        )
        .await
        .figures();
        assert_eq!(f.utterances, 2, "{f:?}");
        // Partials 400 ms into each utterance's speech, then a second apart: utterance 0 at onset + 0.4,
        // 1.4 and 2.4 s, utterance 1 (0.4 s of speech) at onset + 0.4 s.
        assert_eq!(f.partials_cut, 4, "{f:?}");
        assert_eq!(f.partials_run + f.partials_skipped, 4);
        assert_eq!(f.first_partial_ms.n, 2);
        // 400 ms of speech before the first cut; recognition takes no stream time on the paused clock.
        assert!(
            f.first_partial_ms.p50 >= 400.0 && f.first_partial_ms.p50 < 800.0,
            "{f:?}"
        );
        assert_eq!(f.first_result_ms.n, 2);
        // A final comes after end_silence_ms (600) of silence at the earliest.
        assert!(f.final_ms.p50 >= 600.0 && f.final_ms.max < 1500.0, "{f:?}");
        assert!(f.busy_rtf > 0.0);
        assert_eq!(f.text, "2900 ms 800 ms");
    }
}
