//! The live simulation of `huashu bench --audio`: a recording fed in real-time-sized chunks through the
//! [`LiveSegmenter`] and the daemon's own [`transcribe_loop`], with the stream time each transcript came
//! back at.

use std::sync::{Arc, Mutex};

use huashu_audio::bench::{
    FinalLatency, LiveFigures, Recognition, SlowestFinal, Summary, transcript_text,
};
use huashu_audio::live::{LIVE_RATE, LiveJob, LiveOptions, LiveSegmenter, LiveTranscript};
use huashu_audio::{AudioError, Segment};
use tokio::sync::{Semaphore, mpsc};

use super::{AsyncReport, JOB_QUEUE, LiveRecognizer, Report, dispatch, transcribe_loop};

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
    let log = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel(JOB_QUEUE);
    let task = tokio::spawn(transcribe_loop(
        rx,
        Box::new(Counting {
            inner: recognizer,
            stats: Arc::clone(&stats),
            at: Box::new(stream_ms),
            log: Arc::clone(&log),
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
    let mut candidates = 0;
    // Candidate finals are counted apart: they are recognised as finals, not as partials.
    let mut note = |jobs: &[LiveJob], cut: &mut Vec<(u64, bool, u64, u64)>| {
        candidates += jobs.iter().filter(|j| j.is_candidate()).count();
        cut.extend(
            jobs.iter()
                .filter(|j| !j.is_candidate())
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
    let mut run = LiveRun::of(
        &cut,
        &heard,
        stats,
        pcm.len() as f64 * 1000.0 / f64::from(LIVE_RATE),
    );
    run.candidates_cut = candidates;
    run.log = std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()));
    run
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
            .enumerate()
            .map(|(i, (pcm, rec))| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move {
                    let mut run = simulate_live(&pcm, rec, pool, opts, chunk_ms, speed).await;
                    run.tag(i);
                    run
                })
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
    candidates_cut: usize,
    stats: RunStats,
    stream_ms: f64,
    /// Every final: (stream, utterance, end of its speech, latency).
    final_at: Vec<(usize, u64, f64, f64)>,
    /// Every first partial: (stream, utterance, speech onset, latency).
    partial_at: Vec<(usize, u64, f64, f64)>,
    /// Every recognition, in the order they ended.
    log: Vec<Recognition>,
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
                run.partial_at.push((0, u, onset as f64, at - onset as f64));
            }
            if let Some((at, _)) = mine.first() {
                run.first_result.push(at - onset as f64);
            }
            let speech_end = cut.iter().find(|c| c.0 == u && c.1).map(|c| c.3);
            if let (Some((at, t)), Some(end)) = (mine.iter().find(|(_, t)| t.is_final), speech_end)
            {
                run.finals.push(at - end as f64);
                run.final_at.push((0, u, end as f64, at - end as f64));
                run.texts.push((t.start_ms, t.text.clone()));
            }
        }
        run
    }

    /// Names the stream these figures are of (streams of one simulation share the pool).
    pub fn tag(&mut self, stream: usize) {
        for f in self.final_at.iter_mut().chain(&mut self.partial_at) {
            f.0 = stream;
        }
        for r in &mut self.log {
            r.stream = stream;
        }
    }

    /// Adds another stream's figures.
    pub fn merge(&mut self, o: LiveRun) {
        self.final_at.extend(o.final_at);
        self.partial_at.extend(o.partial_at);
        self.log.extend(o.log);
        self.first_partial.extend(o.first_partial);
        self.first_result.extend(o.first_result);
        self.finals.extend(o.finals);
        self.texts.extend(o.texts);
        self.partials_cut += o.partials_cut;
        self.candidates_cut += o.candidates_cut;
        self.stats.partials += o.stats.partials;
        self.stats.finals += o.stats.finals;
        self.stats.busy_ms += o.stats.busy_ms;
        self.stream_ms = self.stream_ms.max(o.stream_ms);
    }

    /// The summary: latencies, partial counts, the finals' text in time order.
    pub fn figures(mut self) -> LiveFigures {
        self.texts.sort_by_key(|t| t.0);
        let finals = latencies(&mut self.final_at);
        let slowest_final = slowest(&self.final_at, &self.log);
        let first_partials = latencies(&mut self.partial_at);
        let slowest_first_partial = slowest(&self.partial_at, &self.log);
        LiveFigures {
            utterances: self.finals.len(),
            first_partial_ms: Summary::of(&self.first_partial),
            first_result_ms: Summary::of(&self.first_result),
            final_ms: Summary::of(&self.finals),
            partials_cut: self.partials_cut,
            candidates_cut: self.candidates_cut,
            partials_run: self.stats.partials,
            partials_skipped: self.partials_cut.saturating_sub(self.stats.partials),
            busy_rtf: self.stats.busy_ms / self.stream_ms.max(1.0),
            text: transcript_text(self.texts.iter().map(|t| t.1.as_str())),
            error_rate: None,
            slowest_final,
            finals,
            first_partials,
            slowest_first_partial,
        }
    }
}

/// (stream, utterance, from, latency) in stream order.
fn latencies(at: &mut [(usize, u64, f64, f64)]) -> Vec<FinalLatency> {
    at.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.total_cmp(&b.2)));
    at.iter()
        .map(
            |&(stream, utterance, speech_end_ms, latency_ms)| FinalLatency {
                stream,
                utterance,
                speech_end_ms,
                latency_ms,
            },
        )
        .collect()
}

/// The latest of `at`, with every recognition of any stream that ran between its `from` and its delivery.
fn slowest(at: &[(usize, u64, f64, f64)], log: &[Recognition]) -> Option<SlowestFinal> {
    at.iter()
        .max_by(|a, b| a.3.total_cmp(&b.3))
        .map(|&(stream, utterance, from, latency)| SlowestFinal {
            stream,
            utterance,
            speech_end_ms: from,
            latency_ms: latency,
            recognitions: log
                .iter()
                .filter(|r| r.end_ms >= from && r.start_ms <= from + latency)
                .cloned()
                .collect(),
        })
}

#[derive(Debug, Clone, Copy, Default)]
struct RunStats {
    partials: usize,
    finals: usize,
    busy_ms: f64,
}

/// Counts what the recogniser ran and for how long, and logs when (stream time).
struct Counting {
    inner: Box<dyn LiveRecognizer>,
    stats: Arc<Mutex<RunStats>>,
    at: Box<dyn Fn() -> f64 + Send>,
    log: Arc<Mutex<Vec<Recognition>>>,
}

impl LiveRecognizer for Counting {
    fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
        let t = std::time::Instant::now();
        let start_ms = (self.at)();
        let out = self.inner.recognize(pcm, partial);
        let took = t.elapsed().as_secs_f64() * 1000.0;
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Recognition {
                stream: 0,
                partial,
                start_ms,
                end_ms: (self.at)(),
                audio_ms: pcm.len() as f64 * 1000.0 / f64::from(LIVE_RATE),
            });
        let mut s = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        if partial {
            s.partials += 1;
        } else {
            s.finals += 1;
        }
        s.busy_ms += took;
        out
    }

    fn cancel_flag(&self) -> Option<Arc<std::sync::atomic::AtomicBool>> {
        self.inner.cancel_flag()
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
        // Each utterance's first partial, from its onset (0.5 s and 4.0 s of stream time); the slowest
        // names its own partial among what ran before it came.
        let onsets: Vec<(u64, f64)> = f
            .first_partials
            .iter()
            .map(|x| (x.utterance, x.speech_end_ms))
            .collect();
        assert_eq!(onsets, [(0, 500.0), (1, 4000.0)], "{f:?}");
        let slow = f.slowest_first_partial.as_ref().expect("a slowest partial");
        assert_eq!(slow.latency_ms, f.first_partial_ms.max);
        assert!(slow.recognitions.iter().any(|r| r.partial), "{slow:?}");
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
        // The slowest final names its utterance and the recognitions that ran before it came, its own
        // (a final or its candidate: not a partial) among them.
        // Every final, in stream order, the slowest among them.
        let ends: Vec<(usize, u64)> = f.finals.iter().map(|x| (x.stream, x.utterance)).collect();
        assert_eq!(ends, [(0, 0), (0, 1)], "{f:?}");
        assert!(f.finals.iter().any(|x| x.latency_ms == f.final_ms.max));
        let slow = f.slowest_final.expect("a slowest final");
        assert_eq!((slow.stream, slow.latency_ms), (0, f.final_ms.max));
        assert!(
            slow.recognitions
                .iter()
                .any(|r| !r.partial && r.stream == 0),
            "{slow:?}"
        );
    }
}
