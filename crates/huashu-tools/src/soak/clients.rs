//! The soak's clients, one kind each, running sessions back to back until the stop time, and what they saw
//! (`Tally`). Well-behaved sessions are checked message by message against a calibration session: the same
//! script gives the same findings per turn and the same final score whatever ruleset generation (the
//! reloads change only the version).

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use super::SoakOptions;
use crate::loadtest::SCRIPT;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// No answer within this long is a problem (the daemon's own timeouts are shorter).
const WAIT: Duration = Duration::from_secs(30);
/// Larger than the daemon's default `max_frame_bytes` (64 KiB).
const OVERSIZED: usize = 70_000;

/// A client's kind, by its index: 70 % normal, 10 % each of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A partial then a final per turn, waits for each ack, pauses `interval`.
    Normal,
    /// Sends the whole script at once, reads nothing for 3 s, then one message per 30 ms.
    SlowReader,
    /// Connects and drops the connection: mid-session, or before starting one.
    Churn,
    /// Bad JSON, then invalid UTF-8, an oversized frame or a stray binary frame, in turn.
    BadFrames,
}

impl Kind {
    pub(super) fn of(i: usize) -> Kind {
        match i % 10 {
            0 => Kind::SlowReader,
            1 => Kind::Churn,
            2 => Kind::BadFrames,
            _ => Kind::Normal,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Normal => "normal",
            Kind::SlowReader => "slow_reader",
            Kind::Churn => "churn",
            Kind::BadFrames => "bad_frames",
        }
    }
}

/// What the calibration session got: findings per turn, the final score and its findings total.
#[derive(Debug)]
pub(super) struct Expected {
    per_turn: Vec<usize>,
    score: u64,
    findings_total: u64,
}

/// What the clients saw, merged.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub sessions: BTreeMap<&'static str, usize>,
    pub sessions_checked: usize,
    pub sessions_complete: usize,
    pub utterances: usize,
    pub findings: usize,
    pub errors: BTreeMap<String, usize>,
    pub problems: BTreeMap<String, usize>,
    pub examples: Vec<String>,
    pub latencies: Vec<Duration>,
}

impl Tally {
    pub(super) fn problem(&mut self, kind: &str, example: String) {
        *self.problems.entry(kind.to_string()).or_insert(0) += 1;
        if self.examples.len() < 20 {
            self.examples.push(format!("{kind}: {example}"));
        }
    }

    pub(super) fn merge(&mut self, o: Tally) {
        for (k, v) in o.sessions {
            *self.sessions.entry(k).or_insert(0) += v;
        }
        self.sessions_checked += o.sessions_checked;
        self.sessions_complete += o.sessions_complete;
        self.utterances += o.utterances;
        self.findings += o.findings;
        for (k, v) in o.errors {
            *self.errors.entry(k).or_insert(0) += v;
        }
        for (k, v) in o.problems {
            *self.problems.entry(k).or_insert(0) += v;
        }
        for e in o.examples {
            if self.examples.len() < 20 {
                self.examples.push(e);
            }
        }
        self.latencies.extend(o.latencies);
    }
}

/// One received message, or how the wait ended.
enum Next {
    Json(Value),
    Closed(Option<u16>),
    Timeout,
}

async fn next(ws: &mut Ws) -> Next {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Err(_) => return Next::Timeout,
            Ok(None | Some(Err(_))) => return Next::Closed(None),
            Ok(Some(Ok(Message::Close(f)))) => return Next::Closed(f.map(|f| u16::from(f.code))),
            Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str(t.as_str()) {
                Ok(v) => return Next::Json(v),
                Err(_) => return Next::Closed(None),
            },
            Ok(Some(Ok(_))) => continue,
        }
    }
}

async fn connect(opts: &SoakOptions) -> Result<Ws, String> {
    let mut req = format!("ws://{}/v1/stream", opts.addr)
        .into_client_request()
        .map_err(|e| e.to_string())?;
    if let Some(t) = &opts.token {
        let v = format!("Bearer {t}")
            .parse()
            .map_err(|_| "bad token".to_string())?;
        req.headers_mut().insert("authorization", v);
    }
    tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

fn utterance(k: usize, is_final: bool) -> Message {
    let (role, t) = SCRIPT[k % SCRIPT.len()];
    let t: String = if is_final {
        t.to_string()
    } else {
        t.chars().take(t.chars().count() / 2).collect()
    };
    let mut v = json!({"type": "utterance", "role": role, "text": t, "final": is_final});
    if is_final {
        v["ref"] = json!(k);
    }
    text(v)
}

/// A session as the client saw it: findings of final turns, acks (their findings count by ref), the final
/// score, and any error codes.
#[derive(Debug, Default)]
struct Seen {
    findings: usize,
    acks: BTreeMap<u64, usize>,
    errors: Vec<String>,
    score: Option<Value>,
    close: Option<Option<u16>>,
}

impl Seen {
    /// Takes one message; true when it was the final score.
    fn take(&mut self, v: &Value) -> bool {
        let is_final = v["final"] == true;
        match v["type"].as_str() {
            Some("finding") if is_final => self.findings += 1,
            Some("ack") if is_final => {
                if let Some(r) = v["ref"].as_u64() {
                    self.acks
                        .insert(r, v["findings"].as_u64().unwrap_or(0) as usize);
                }
            }
            Some("error") => self
                .errors
                .push(v["code"].as_str().unwrap_or("?").to_string()),
            Some("score") if is_final => {
                self.score = Some(v.clone());
                return true;
            }
            _ => {}
        }
        false
    }

    /// Reads until the final score or the close.
    async fn until_score(&mut self, ws: &mut Ws) -> Result<(), String> {
        loop {
            match next(ws).await {
                Next::Json(v) => {
                    if self.take(&v) {
                        return Ok(());
                    }
                }
                Next::Closed(c) => {
                    self.close = Some(c);
                    return Err(format!("closed ({c:?}) before the final score"));
                }
                Next::Timeout => return Err("no final score within 30 s".into()),
            }
        }
    }

    /// Reads until the close frame (or the end of the connection).
    async fn until_close(&mut self, ws: &mut Ws) -> Result<(), String> {
        loop {
            match next(ws).await {
                Next::Json(v) => {
                    self.take(&v);
                }
                Next::Closed(c) => {
                    self.close = Some(c);
                    return Ok(());
                }
                Next::Timeout => return Err("no close within 30 s".into()),
            }
        }
    }
}

async fn start(ws: &mut Ws, id: &str) -> Result<(), String> {
    ws.send(text(
        json!({"type": "session.start", "conversation_id": id}),
    ))
    .await
    .map_err(|e| e.to_string())?;
    match next(ws).await {
        Next::Json(v) if v["type"] == "session.started" => Ok(()),
        Next::Json(v) => Err(format!("no session.started: {v}")),
        Next::Closed(c) => Err(format!("closed ({c:?}) at session.start")),
        Next::Timeout => Err("no session.started within 30 s".into()),
    }
}

/// Sends final `k` (after its partial when `partial`) and reads up to its ack; the latency to the ack.
async fn turn(ws: &mut Ws, seen: &mut Seen, k: usize, partial: bool) -> Result<Duration, String> {
    if partial {
        ws.send(utterance(k, false))
            .await
            .map_err(|e| e.to_string())?;
    }
    let t = Instant::now();
    ws.send(utterance(k, true))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match next(ws).await {
            Next::Json(v) => {
                seen.take(&v);
                if v["type"] == "ack" && v["final"] == true && v["ref"] == k {
                    return Ok(t.elapsed());
                }
            }
            Next::Closed(c) => return Err(format!("closed ({c:?}) before the ack of turn {k}")),
            Next::Timeout => return Err(format!("no ack of turn {k} within 30 s")),
        }
    }
}

async fn end(ws: &mut Ws, seen: &mut Seen) -> Result<(), String> {
    ws.send(text(json!({"type": "session.end"})))
        .await
        .map_err(|e| e.to_string())?;
    seen.until_score(ws).await?;
    let _ = ws.close(None).await;
    Ok(())
}

/// A normal session: a partial and a final per turn, `interval` between them.
async fn normal(
    opts: &SoakOptions,
    id: &str,
    seen: &mut Seen,
    lat: &mut Vec<Duration>,
) -> Result<(), String> {
    let mut ws = connect(opts).await?;
    start(&mut ws, id).await?;
    for k in 0..opts.utterances {
        lat.push(turn(&mut ws, seen, k, true).await?);
        if !opts.interval.is_zero() && k + 1 < opts.utterances {
            tokio::time::sleep(opts.interval).await;
        }
    }
    end(&mut ws, seen).await
}

/// The first session, alone: what every well-behaved session must get.
pub(super) async fn calibrate(opts: &SoakOptions) -> Result<Expected, String> {
    let mut seen = Seen::default();
    let quick = SoakOptions {
        interval: Duration::ZERO,
        ..opts.clone()
    };
    normal(&quick, "soak-calibration", &mut seen, &mut Vec::new()).await?;
    let score = seen.score.ok_or("no final score")?;
    let per_turn: Vec<usize> = (0..opts.utterances as u64)
        .map(|k| seen.acks.get(&k).copied().ok_or(format!("no ack {k}")))
        .collect::<Result<_, _>>()?;
    if !seen.errors.is_empty() {
        return Err(format!("errors: {:?}", seen.errors));
    }
    if per_turn.iter().sum::<usize>() != seen.findings {
        return Err(format!(
            "acks count {per_turn:?} findings, {} received",
            seen.findings
        ));
    }
    Ok(Expected {
        per_turn,
        score: score["score"].as_u64().ok_or("score without a score")?,
        findings_total: score["findings_total"]
            .as_u64()
            .ok_or("score without findings_total")?,
    })
}

/// Checks a well-behaved session that sent `sent` finals (all of them, or the first `sent` for a session
/// cut short on purpose) against the calibration.
fn check(seen: &Seen, sent: usize, whole: bool, exp: &Expected) -> Result<(), String> {
    let score = seen.score.as_ref().ok_or("no final score")?;
    let want: Vec<usize> = exp.per_turn[..sent].to_vec();
    let got: Vec<usize> = (0..sent as u64)
        .map(|k| seen.acks.get(&k).copied().unwrap_or(usize::MAX))
        .collect();
    if got != want {
        return Err(format!("acks' findings {got:?}, expected {want:?}"));
    }
    let total = want.iter().sum::<usize>();
    if seen.findings != total {
        return Err(format!(
            "{} findings received, acks count {total}",
            seen.findings
        ));
    }
    if score["findings_total"].as_u64() != Some(total as u64) {
        return Err(format!(
            "final score counts {} findings, {total} were sent",
            score["findings_total"]
        ));
    }
    if whole
        && (score["score"].as_u64() != Some(exp.score)
            || score["findings_total"].as_u64() != Some(exp.findings_total))
    {
        return Err(format!(
            "final score {} ({} findings), calibration {} ({})",
            score["score"], score["findings_total"], exp.score, exp.findings_total
        ));
    }
    Ok(())
}

/// A session that went as it should: finals sent, and whether its findings and score were checked.
struct Outcome {
    sent: usize,
    checked: bool,
}

impl Outcome {
    fn checked(sent: usize) -> Outcome {
        Outcome {
            sent,
            checked: true,
        }
    }
}

/// One client: sessions of its kind until `stop_at`.
pub(super) async fn client(
    i: usize,
    kind: Kind,
    opts: &SoakOptions,
    exp: &Expected,
    stop_at: Instant,
) -> Tally {
    let mut t = Tally::default();
    let mut n = 0usize;
    while Instant::now() < stop_at {
        n += 1;
        *t.sessions.entry(kind.name()).or_insert(0) += 1;
        let id = format!("soak-{i}-{n}");
        let mut seen = Seen::default();
        let result = match kind {
            Kind::Normal => {
                let mut lat = Vec::new();
                let r = normal(opts, &id, &mut seen, &mut lat).await;
                t.latencies.extend(lat);
                r.and_then(|()| check(&seen, opts.utterances, true, exp))
                    .map(|()| Outcome::checked(opts.utterances))
            }
            Kind::SlowReader => slow_reader(opts, &id, &mut seen)
                .await
                .and_then(|()| check(&seen, opts.utterances, true, exp))
                .map(|()| Outcome::checked(opts.utterances)),
            Kind::Churn => churn(opts, &id, n).await.map(|sent| Outcome {
                sent,
                checked: false,
            }),
            Kind::BadFrames => bad_frames(opts, &id, n, &mut seen, exp).await,
        };
        for e in &seen.errors {
            *t.errors.entry(e.clone()).or_insert(0) += 1;
        }
        match result {
            Ok(o) => {
                t.utterances += o.sent;
                if o.checked {
                    t.sessions_checked += 1;
                    t.sessions_complete += 1;
                    t.findings += seen.findings;
                }
            }
            Err(e) => {
                if kind != Kind::Churn {
                    t.sessions_checked += 1;
                }
                t.problem(&format!("{} session", kind.name()), format!("{id}: {e}"));
            }
        }
        // Churn and bad frames are quick: paced, so that they stay a tenth of the load each.
        if matches!(kind, Kind::Churn | Kind::BadFrames) {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    t
}

async fn slow_reader(opts: &SoakOptions, id: &str, seen: &mut Seen) -> Result<(), String> {
    let mut ws = connect(opts).await?;
    start(&mut ws, id).await?;
    for k in 0..opts.utterances {
        ws.send(utterance(k, true))
            .await
            .map_err(|e| e.to_string())?;
    }
    ws.send(text(json!({"type": "session.end"})))
        .await
        .map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    loop {
        match next(&mut ws).await {
            Next::Json(v) => {
                if seen.take(&v) {
                    break;
                }
            }
            Next::Closed(c) => return Err(format!("closed ({c:?}) before the final score")),
            Next::Timeout => return Err("no final score within 30 s".into()),
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let _ = ws.close(None).await;
    Ok(())
}

/// Drops the connection mid-session (odd sessions) or before any session (even ones); the finals sent.
async fn churn(opts: &SoakOptions, id: &str, n: usize) -> Result<usize, String> {
    let mut ws = connect(opts).await?;
    if n % 2 == 0 {
        drop(ws);
        return Ok(0);
    }
    start(&mut ws, id).await?;
    for k in 0..2 {
        ws.send(utterance(k, true))
            .await
            .map_err(|e| e.to_string())?;
    }
    // No close frame: the TCP connection just goes.
    drop(ws);
    Ok(2)
}

/// Two good turns around bad JSON, then one of: invalid UTF-8 (error, final score, close 1007), an
/// oversized frame (error, close 1009), a stray binary frame (error; the session goes on and ends normally).
async fn bad_frames(
    opts: &SoakOptions,
    id: &str,
    n: usize,
    seen: &mut Seen,
    exp: &Expected,
) -> Result<Outcome, String> {
    let mut ws = connect(opts).await?;
    start(&mut ws, id).await?;
    turn(&mut ws, seen, 0, false).await?;
    ws.send(Message::Text(r#"{"type":"utterance","#.into()))
        .await
        .map_err(|e| e.to_string())?;
    turn(&mut ws, seen, 1, false).await?;
    let expect = |seen: &Seen, codes: &[&str]| -> Result<(), String> {
        if seen.errors == codes {
            Ok(())
        } else {
            Err(format!("errors {:?}, expected {codes:?}", seen.errors))
        }
    };
    match n % 3 {
        0 => {
            ws.send(Message::Frame(Frame::message(
                vec![0xff, 0xfe, 0x41],
                OpCode::Data(Data::Text),
                true,
            )))
            .await
            .map_err(|e| e.to_string())?;
            seen.until_close(&mut ws).await?;
            expect(seen, &["bad_json", "bad_frame"])?;
            if seen.close != Some(Some(1007)) {
                return Err(format!(
                    "close {:?} after invalid UTF-8, expected 1007",
                    seen.close
                ));
            }
            check(seen, 2, false, exp).map(|()| Outcome::checked(2))
        }
        1 => {
            let big = json!({"type": "utterance", "role": "agent", "text": "好".repeat(OVERSIZED / 3), "final": true});
            ws.send(text(big)).await.map_err(|e| e.to_string())?;
            seen.until_close(&mut ws).await?;
            expect(seen, &["bad_json", "frame_too_large"])?;
            if seen.close != Some(Some(1009)) {
                return Err(format!(
                    "close {:?} after an oversized frame, expected 1009",
                    seen.close
                ));
            }
            // No final score is sent after an oversized frame (the connection is cut at once).
            Ok(Outcome {
                sent: 2,
                checked: false,
            })
        }
        _ => {
            ws.send(Message::Binary(vec![0u8; 320].into()))
                .await
                .map_err(|e| e.to_string())?;
            for k in 2..opts.utterances {
                turn(&mut ws, seen, k, false).await?;
            }
            end(&mut ws, seen).await?;
            expect(seen, &["bad_json", "binary_frame"])?;
            check(seen, opts.utterances, true, exp).map(|()| Outcome::checked(opts.utterances))
        }
    }
}

#[cfg(test)]
mod tests;
