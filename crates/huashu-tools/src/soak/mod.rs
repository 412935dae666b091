//! `huashu soak`: a long mixed load against a running daemon (loopback), checking that nothing is lost and
//! nothing leaks (issue 18). Many clients run sessions back to back for a fixed time, each of one kind
//! (`clients.rs`): normal clients, slow readers, connection churn and bad frames. Beside them (`ops.rs`)
//! `/readyz` is polled, the daemon's RSS sampled and the ruleset directory reloaded (an edit in place and a
//! directory swap in turn). The run passes when every well-behaved session's findings and final score equal
//! those of a calibration session, every bad frame got its documented answer, `/readyz` never failed, every
//! reload was served, RSS stayed flat after the warm-up and no session was left held at the end.

mod clients;
mod ops;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use clients::{Kind, Tally};

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// The daemon (loopback only).
    pub addr: SocketAddr,
    /// Clients running at once, each one session after another.
    pub clients: usize,
    /// How long clients start new sessions (sessions in progress then finish).
    pub duration: Duration,
    /// Final utterances per session.
    pub utterances: usize,
    /// A normal client's pause between one utterance's ack and its next utterance.
    pub interval: Duration,
    pub token: Option<String>,
    /// The daemon's ruleset directory: reloaded every `reload_every` (edit in place, then a directory swap,
    /// in turn). None: no reloads.
    pub ruleset_dir: Option<PathBuf>,
    pub reload_every: Duration,
    pub rss_every: Duration,
    pub readyz_every: Duration,
    /// RSS samples before this are the warm-up; after it the RSS must stay flat.
    pub warmup: Duration,
    /// The warm-up also lasts until this many reloads have been served: RSS steps up at the first two (the old
    /// and the new engine alive at once for the first time), and a short run cannot know when they land.
    pub warmup_reloads: usize,
    /// Flat: no sample after the warm-up above the first one after it by more than this fraction.
    pub rss_growth_limit: f64,
}

impl Default for SoakOptions {
    fn default() -> Self {
        SoakOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            clients: 1000,
            duration: Duration::from_secs(600),
            utterances: 16,
            interval: Duration::from_millis(1000),
            token: None,
            ruleset_dir: None,
            reload_every: Duration::from_secs(60),
            rss_every: Duration::from_secs(10),
            readyz_every: Duration::from_secs(1),
            warmup: Duration::from_secs(60),
            warmup_reloads: 0,
            rss_growth_limit: 0.10,
        }
    }
}

/// What was seen. `problems` is empty when the run passed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SoakReport {
    pub seconds: f64,
    pub clients: usize,
    /// Sessions started, by client kind.
    pub sessions: BTreeMap<&'static str, usize>,
    /// Well-behaved sessions (normal, slow reader, bad frames that end normally) checked in full.
    pub sessions_checked: usize,
    /// ... whose findings, acks and final score equalled the calibration's.
    pub sessions_complete: usize,
    pub utterances: usize,
    /// Final findings received and counted against the final scores.
    pub findings_checked: usize,
    /// Error codes the daemon sent, by code (bad frames cause some of them on purpose).
    pub errors_by_code: BTreeMap<String, usize>,
    /// What went wrong, by kind (empty: nothing).
    pub problems: BTreeMap<String, usize>,
    /// A few examples of the problems.
    pub problem_examples: Vec<String>,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    /// (seconds since the start, RSS in MiB).
    pub rss_mib: Vec<(f64, f64)>,
    /// (seconds since the start, malloc heap held, free inside its arenas, MiB) of the same scrapes: a leak
    /// raises the first, fragmentation the second. Empty when the daemon does not count its heap.
    pub heap_mib: Vec<(f64, f64, f64)>,
    pub rss_flat: bool,
    /// When the warm-up ended (seconds since the start).
    pub rss_warmup_s: f64,
    pub readyz_polls: usize,
    pub readyz_failures: usize,
    /// (seconds since the start, kind, new version, seconds until /readyz served it).
    pub reloads: Vec<(f64, &'static str, String, f64)>,
    /// Sessions the daemon still held after every client had finished.
    pub sessions_left: Option<u64>,
}

impl SoakReport {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Why a soak could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SoakError {
    #[error("soak: refusing to load {0}: loopback addresses only")]
    NotLoopback(SocketAddr),
    #[error("soak: calibration session failed: {0}")]
    Calibration(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the soak.
///
/// # Errors
/// A non-loopback address; a daemon that does not answer a first normal session.
pub async fn run(opts: SoakOptions) -> Result<SoakReport, SoakError> {
    if !opts.addr.ip().is_loopback() {
        return Err(SoakError::NotLoopback(opts.addr));
    }
    let opts = Arc::new(opts);
    let expected = Arc::new(
        clients::calibrate(&opts)
            .await
            .map_err(SoakError::Calibration)?,
    );
    let t0 = Instant::now();
    let stop_at = t0 + opts.duration;
    let (ops_stop, ops_stop_rx) = tokio::sync::watch::channel(false);
    let readyz = tokio::spawn(ops::poll_readyz(Arc::clone(&opts), ops_stop_rx.clone()));
    let rss = tokio::spawn(ops::sample_rss(Arc::clone(&opts), t0, ops_stop_rx.clone()));
    let reloads = tokio::spawn(ops::reload_loop(Arc::clone(&opts), t0, ops_stop_rx));
    let mut tasks = Vec::with_capacity(opts.clients);
    for i in 0..opts.clients {
        let (opts, expected) = (Arc::clone(&opts), Arc::clone(&expected));
        // Start spread over the first seconds: no thundering herd of handshakes.
        let delay = Duration::from_millis(5 * i as u64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            clients::client(i, Kind::of(i), &opts, &expected, stop_at).await
        }));
    }
    let mut tally = Tally::default();
    for t in tasks {
        match t.await {
            Ok(t) => tally.merge(t),
            Err(e) => tally.problem("client task panicked", e.to_string()),
        }
    }
    let sessions_left = ops::sessions_left(&opts).await;
    let _ = ops_stop.send(true);
    let readyz = readyz.await.unwrap_or_default();
    let rss = rss.await.unwrap_or_default();
    let reloads = reloads.await.unwrap_or_default();
    Ok(judge(&opts, t0, tally, readyz, rss, reloads, sessions_left))
}

fn judge(
    opts: &SoakOptions,
    t0: Instant,
    mut tally: Tally,
    readyz: ops::Readyz,
    memory: ops::MemorySamples,
    reloads: ops::Reloads,
    sessions_left: Option<u64>,
) -> SoakReport {
    for e in &readyz.examples {
        tally.problem("readyz not ready", e.clone());
    }
    for e in &reloads.failures {
        tally.problem("reload not served", e.clone());
    }
    let served = |r: &(f64, &'static str, String, f64)| r.0 + r.3;
    let warm = match opts.warmup_reloads {
        0 => opts.warmup.as_secs_f64(),
        n => match reloads.done.get(n - 1) {
            Some(r) => opts.warmup.as_secs_f64().max(served(r)),
            None => {
                tally.problem(
                    "fewer reloads served than the warm-up needs",
                    format!("{} of {n}", reloads.done.len()),
                );
                f64::INFINITY
            }
        },
    };
    let ops::MemorySamples { rss, heap } = memory;
    let after: Vec<f64> = rss
        .iter()
        .filter(|(t, _)| *t >= warm)
        .map(|(_, m)| *m)
        .collect();
    let rss_flat = match after.first() {
        Some(first) => after
            .iter()
            .all(|m| *m <= first * (1.0 + opts.rss_growth_limit)),
        None => {
            tally.problem(
                "no RSS sample after the warm-up",
                format!("warm-up {warm} s"),
            );
            false
        }
    };
    if !rss_flat && !after.is_empty() {
        tally.problem("RSS grew after the warm-up", format!("{after:?} MiB"));
    }
    if sessions_left != Some(0) {
        tally.problem(
            "sessions held after the end",
            format!("/readyz sessions: {sessions_left:?}"),
        );
    }
    if tally.sessions_complete < tally.sessions_checked {
        // Each incomplete session is already a problem of its own kind; this is the headline.
        tally
            .problems
            .entry("incomplete sessions".into())
            .or_insert(0);
    }
    let mut lat = std::mem::take(&mut tally.latencies);
    lat.sort();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[i.min(lat.len() - 1)].as_secs_f64() * 1000.0
    };
    SoakReport {
        seconds: t0.elapsed().as_secs_f64(),
        clients: opts.clients,
        sessions: tally.sessions,
        sessions_checked: tally.sessions_checked,
        sessions_complete: tally.sessions_complete,
        utterances: tally.utterances,
        findings_checked: tally.findings,
        errors_by_code: tally.errors,
        problems: tally.problems,
        problem_examples: tally.examples,
        latency_ms_p50: pct(0.5),
        latency_ms_p99: pct(0.99),
        latency_ms_max: pct(1.0),
        rss_mib: rss,
        heap_mib: heap,
        rss_flat,
        rss_warmup_s: warm,
        readyz_polls: readyz.polls,
        readyz_failures: readyz.failures,
        reloads: reloads.done,
        sessions_left,
    }
}

/// Runs the soak on its own runtime.
///
/// # Errors
/// As [`run`].
pub fn run_blocking(opts: SoakOptions) -> Result<SoakReport, SoakError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(opts))
}
