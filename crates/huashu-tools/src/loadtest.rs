//! `huashu loadtest`: many concurrent WebSocket sessions against a running daemon (loopback), each a whole
//! conversation; measures throughput, hint latency (utterance sent → its `ack`, all its findings and hints
//! having arrived before) and the daemon's memory per held session (from `/metrics`). Bounded in count and
//! time: every session sends a fixed number of utterances and the whole run has a deadline. `--via chatwoot`
//! runs the sessions as text conversations through the Chatwoot webhook instead (`loadtest/chatwoot.rs`),
//! `--via freeswitch` and `--via twilio` as live two-party calls through those adapters (`loadtest/freeswitch.rs`,
//! `loadtest/twilio.rs`).

mod call;
mod chatwoot;
mod freeswitch;
mod twilio;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The daemon (loopback only).
    pub addr: SocketAddr,
    pub sessions: usize,
    /// Final utterances per session.
    pub utterances: usize,
    /// Pause between one utterance's ack and the next utterance (0 = as fast as the server answers).
    pub interval: Duration,
    pub token: Option<String>,
    /// Connections opened at once while ramping up.
    pub ramp_batch: usize,
    /// The whole run stops after this.
    pub deadline: Duration,
    /// How sessions reach the daemon.
    pub via: Via,
    /// When the sessions send, once all are held.
    pub arrivals: Arrivals,
}

/// When the held sessions send their utterances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Arrivals {
    /// Session `i` starts `interval × i ÷ sessions` after the others are held, so utterances arrive spread
    /// over each interval as a floor of agents' turns do: the latency is the daemon's, not a queue's.
    #[default]
    Spread,
    /// Every session sends at the same instant after the ramp (and, since each waits for its answer, keeps
    /// roughly in step): the worst case, whose latency is mostly the burst's queue.
    Burst,
}

/// How the load's sessions reach the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Via {
    /// `/v1/stream`: a partial and a final per utterance; latency to the final's `ack`.
    #[default]
    WebSocket,
    /// `POST /v1/integrations/chatwoot` (text finals only; the daemon needs `[integrations.chatwoot]
    /// enabled = true` and no secret); latency to the webhook's answer.
    Chatwoot,
    /// `/v1/integrations/freeswitch`: synthesised two-party calls in real time, one line per utterance;
    /// latency is how late each 20 ms frame left, `hints` counts final transcripts (with a model).
    #[serde(rename = "freeswitch")]
    FreeSwitch,
    /// `/v1/integrations/twilio`: the same calls as Twilio Media Streams (base64 μ-law 8 kHz, an `inbound`
    /// and an `outbound` track, unsigned on loopback).
    Twilio,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            sessions: 1000,
            utterances: 20,
            interval: Duration::from_millis(200),
            token: None,
            ramp_batch: 100,
            deadline: Duration::from_secs(120),
            via: Via::WebSocket,
            arrivals: Arrivals::Spread,
        }
    }
}

/// What was measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub via: Via,
    pub arrivals: Arrivals,
    pub sessions: usize,
    /// Sessions connected and started, all held open at once before the utterances began.
    pub sessions_held: usize,
    /// Sessions whose final score counted every utterance they sent.
    pub sessions_complete: usize,
    pub utterances: usize,
    pub findings: usize,
    pub hints: usize,
    pub errors: usize,
    pub seconds: f64,
    pub utterances_per_s: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    /// Live calls: final transcripts received (with a Whisper model; the FreeSWITCH adapter sends them back).
    pub finals: usize,
    /// ... how long after the end of its line (`end_ms` on the call's clock) each arrived: the VAD's end
    /// silence, the queue for a recogniser and the recognition. `None` without finals.
    pub final_late_ms_p50: Option<f64>,
    pub final_late_ms_p99: Option<f64>,
    pub final_late_ms_max: Option<f64>,
    pub rss_before_bytes: Option<f64>,
    pub rss_held_bytes: Option<f64>,
    pub rss_peak_bytes: Option<f64>,
    /// (peak − before) / sessions.
    pub bytes_per_session: Option<f64>,
}

/// The conversation every session sends, in order (also the soak's).
pub(crate) const SCRIPT: &[(&str, &str)] = &[
    ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
    ("customer", "我的快递三天了还没到，你们怎么回事，太慢了！"),
    ("agent", "这不是我的问题，你自己去问快递公司吧。"),
    ("customer", "你这是什么态度？我要投诉！"),
    (
        "agent",
        "非常抱歉给您带来不便，我理解您的心情，我马上为您联系快递核实。",
    ),
    ("agent", "我们保证收益100%，绝对没有风险。"),
    ("customer", "好的，那什么时候能有结果？"),
    (
        "agent",
        "我会全程跟进，今天下午五点前给您回电，请问还有其他可以帮您的吗？",
    ),
];

#[derive(Default)]
struct SessionResult {
    held: bool,
    complete: bool,
    sent: usize,
    findings: usize,
    hints: usize,
    errors: usize,
    latencies: Vec<Duration>,
    /// Live calls with a Whisper model: how long after its line's end (the call's clock) each final
    /// transcript arrived.
    finals_late: Vec<Duration>,
}

/// Why a load test could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("load test: {0}")]
    NotLoopback(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the load test.
///
/// # Errors
/// A non-loopback address; a runtime that cannot start.
pub async fn run(opts: LoadOptions) -> Result<LoadReport, LoadError> {
    if !opts.addr.ip().is_loopback() {
        return Err(LoadError::NotLoopback(format!(
            "refusing to load-test {}: loopback addresses only",
            opts.addr
        )));
    }
    let rss_before = rss(opts.addr, opts.token.as_deref()).await;
    let n = opts.sessions.max(1);
    let held = Arc::new(Barrier::new(n + 1));
    let done_utt = Arc::new(Barrier::new(n + 1));
    let opts = Arc::new(opts);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    let batch = opts.ramp_batch.max(1);
    for i in 0..n {
        let (held, done_utt, opts) = (Arc::clone(&held), Arc::clone(&done_utt), Arc::clone(&opts));
        tasks.push(tokio::spawn(async move {
            let mut s = Slot::new(i, &opts, &held, &done_utt);
            let res = tokio::time::timeout(opts.deadline, session(&mut s)).await;
            if !matches!(res, Ok(Ok(()))) {
                s.r.errors += 1;
            }
            s.r
        }));
        if (i + 1) % batch == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Every session waits at both barriers exactly once, even on failure (see `session`).
    held.wait().await;
    let rss_held = rss(opts.addr, opts.token.as_deref()).await;
    let t0 = Instant::now();
    done_utt.wait().await;
    let utter_secs = t0.elapsed().as_secs_f64();
    let rss_peak = rss(opts.addr, opts.token.as_deref()).await;
    let mut results = Vec::with_capacity(n);
    for t in tasks {
        if let Ok(r) = t.await {
            results.push(r);
        }
    }
    let sorted = |each: fn(&SessionResult) -> &[Duration]| {
        let mut all: Vec<Duration> = results
            .iter()
            .flat_map(|r| each(r).iter().copied())
            .collect();
        all.sort();
        all
    };
    let (lat, finals) = (sorted(|r| &r.latencies), sorted(|r| &r.finals_late));
    let pct = |p: f64| percentile_ms(&lat, p);
    let finals_pct = |p: f64| (!finals.is_empty()).then(|| percentile_ms(&finals, p));
    let utterances: usize = results.iter().map(|r| r.sent).sum();
    Ok(LoadReport {
        via: opts.via,
        arrivals: opts.arrivals,
        sessions: n,
        sessions_held: results.iter().filter(|r| r.held).count(),
        sessions_complete: results.iter().filter(|r| r.complete).count(),
        utterances,
        findings: results.iter().map(|r| r.findings).sum(),
        hints: results.iter().map(|r| r.hints).sum(),
        errors: results.iter().map(|r| r.errors).sum(),
        seconds: started.elapsed().as_secs_f64(),
        utterances_per_s: if utter_secs > 0.0 {
            utterances as f64 / utter_secs
        } else {
            0.0
        },
        latency_ms_p50: pct(0.5),
        latency_ms_p99: pct(0.99),
        latency_ms_max: pct(1.0),
        finals: finals.len(),
        final_late_ms_p50: finals_pct(0.5),
        final_late_ms_p99: finals_pct(0.99),
        final_late_ms_max: finals_pct(1.0),
        bytes_per_session: match (rss_before, rss_peak) {
            (Some(a), Some(b)) => Some((b - a) / n as f64),
            _ => None,
        },
        rss_before_bytes: rss_before,
        rss_held_bytes: rss_held,
        rss_peak_bytes: rss_peak,
    })
}

/// The `p` quantile of sorted durations, in ms (0 when there are none).
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// One session of the run, as every kind of connection (`Via`) sees it: its number, the options, the two
/// barriers every session meets exactly once (all held; all utterances sent) and what it measured.
struct Slot<'a> {
    i: usize,
    opts: &'a LoadOptions,
    held: &'a Barrier,
    done: &'a Barrier,
    r: SessionResult,
    at_held: bool,
    at_done: bool,
}

impl<'a> Slot<'a> {
    fn new(i: usize, opts: &'a LoadOptions, held: &'a Barrier, done: &'a Barrier) -> Self {
        Slot {
            i,
            opts,
            held,
            done,
            r: SessionResult::default(),
            at_held: false,
            at_done: false,
        }
    }

    /// The session is connected and started: wait until every other one is.
    async fn all_held(&mut self) {
        self.r.held = true;
        self.at_held = true;
        self.held.wait().await;
        if self.opts.arrivals == Arrivals::Spread && self.opts.sessions > 0 {
            let offset = self
                .opts
                .interval
                .mul_f64(self.i as f64 / self.opts.sessions as f64);
            if !offset.is_zero() {
                tokio::time::sleep(offset).await;
            }
        }
    }

    /// The session has sent its utterances: wait until every other one has.
    async fn all_sent(&mut self) {
        self.at_done = true;
        self.done.wait().await;
    }
}

async fn session(s: &mut Slot<'_>) -> Result<(), String> {
    let result = match s.opts.via {
        Via::WebSocket => session_inner(s).await,
        Via::Chatwoot => chatwoot::conversation(s).await,
        Via::FreeSwitch => freeswitch::call(s).await,
        Via::Twilio => twilio::call(s).await,
    };
    // Keep the barriers whole when a session fails early.
    if !s.at_held {
        s.held.wait().await;
    }
    if !s.at_done {
        s.done.wait().await;
    }
    result
}

async fn session_inner(s: &mut Slot<'_>) -> Result<(), String> {
    let (i, opts) = (s.i, s.opts);
    let mut req = format!("ws://{}/v1/stream", opts.addr)
        .into_client_request()
        .map_err(|e| e.to_string())?;
    if let Some(t) = &opts.token {
        let v = format!("Bearer {t}")
            .parse()
            .map_err(|_| "bad token".to_string())?;
        req.headers_mut().insert("authorization", v);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| e.to_string())?;
    let id = format!("load-{i}");
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(
        json!({"type": "session.start", "conversation_id": id}),
    ))
    .await
    .map_err(|e| e.to_string())?;
    match next_json(&mut ws).await {
        Some(v) if v["type"] == "session.started" => {}
        other => return Err(format!("no session.started: {other:?}")),
    }
    s.all_held().await;
    let r = &mut s.r;
    for k in 0..opts.utterances {
        let (role, text) = SCRIPT[k % SCRIPT.len()];
        // A partial before each final, as ASR would send.
        let partial: String = text.chars().take(text.chars().count() / 2).collect();
        ws.send(send(
            json!({"type": "utterance", "role": role, "text": partial, "final": false}),
        ))
        .await
        .map_err(|e| e.to_string())?;
        let t = Instant::now();
        ws.send(send(
            json!({"type": "utterance", "role": role, "text": text, "final": true, "ref": k}),
        ))
        .await
        .map_err(|e| e.to_string())?;
        r.sent += 1;
        loop {
            let Some(v) = next_json(&mut ws).await else {
                return Err("connection closed".into());
            };
            let is_final = v["final"] == true;
            match v["type"].as_str() {
                Some("finding") if is_final => r.findings += 1,
                Some("hint") if is_final => r.hints += 1,
                Some("error") => r.errors += 1,
                Some("ack") if is_final && v["ref"] == k => {
                    r.latencies.push(t.elapsed());
                    break;
                }
                _ => {}
            }
        }
        if !opts.interval.is_zero() {
            tokio::time::sleep(opts.interval).await;
        }
    }
    s.all_sent().await;
    let r = &mut s.r;
    ws.send(send(json!({"type": "session.end"})))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let Some(v) = next_json(&mut ws).await else {
            return Err("closed before the final score".into());
        };
        if v["type"] == "score" && v["final"] == true {
            // Nothing lost: the scorecard counts every final finding this client received.
            r.complete = v["findings_total"].as_u64() == Some(r.findings as u64);
            break;
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

/// The daemon's resident memory from `/metrics`.
pub async fn rss(addr: SocketAddr, token: Option<&str>) -> Option<f64> {
    memory(addr, token).await.map(|m| m.rss)
}

/// The daemon's memory gauges from one `/metrics` scrape, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: f64,
    /// The malloc heap held and free inside its arenas (glibc builds only).
    pub heap: Option<(f64, f64)>,
}

/// As [`rss`], with the heap gauges of the same scrape.
pub async fn memory(addr: SocketAddr, token: Option<&str>) -> Option<Memory> {
    let body = http_get(addr, "/metrics", token).await?;
    let gauge = |name: &str| {
        body.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Some(Memory {
        rss: gauge("huashu_process_resident_bytes")?,
        heap: gauge("huashu_heap_in_use_bytes").zip(gauge("huashu_heap_free_bytes")),
    })
}

/// A minimal HTTP/1.1 GET (loopback tooling; no client library needed).
pub async fn http_get(addr: SocketAddr, path: &str, token: Option<&str>) -> Option<String> {
    http_get_status(addr, path, token)
        .await
        .map(|(_, body)| body)
}

/// As [`http_get`], with the status code.
pub async fn http_get_status(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
) -> Option<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    text.split_once("\r\n\r\n")
        .map(|(_, b)| (status, b.to_string()))
}

/// Runs the load test on its own runtime.
///
/// # Errors
/// As [`run`].
pub fn run_blocking(opts: LoadOptions) -> Result<LoadReport, LoadError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(opts))
}
