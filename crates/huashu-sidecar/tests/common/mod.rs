#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
//! Helpers: start a daemon on a loopback port, talk to it over WebSocket and raw HTTP.

pub mod chromium;
pub mod tones;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use huashu_sidecar::{Config, Running};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn config() -> Config {
    let mut c = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..Config::default()
    };
    c.reload.selftest = false;
    c
}

pub async fn start(c: Config) -> Running {
    huashu_sidecar::start(c.finish().unwrap()).await.unwrap()
}

pub async fn connect(addr: SocketAddr) -> Ws {
    connect_with(addr, None, "").await.unwrap()
}

pub async fn connect_with(
    addr: SocketAddr,
    token: Option<&str>,
    query: &str,
) -> Result<Ws, String> {
    let auth = token.map(|t| ("authorization", format!("Bearer {t}")));
    ws_to(addr, &format!("/v1/stream{query}"), auth.as_slice())
        .await
        .map_err(|e| e.to_string())
}

/// A WebSocket to `path` with extra request headers (a platform's subprotocol or signature).
pub async fn ws_to(
    addr: SocketAddr,
    path: &str,
    headers: &[(&'static str, String)],
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// Polls `GET /v1/conversations/{id}` until the conversation's final scorecard is there (a call ends on
/// its own task, after the connection closed), at most `within`.
pub async fn final_score(addr: SocketAddr, id: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        let (status, body) =
            http(addr, "GET", &format!("/v1/conversations/{id}"), None, None).await;
        if status == 200 {
            let v: Value = serde_json::from_str(&body).unwrap();
            if v["final"] == true {
                return v;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no final scorecard for {id} within {within:?}");
}

pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

pub async fn send_raw(ws: &mut Ws, s: &str) {
    ws.send(Message::Text(s.to_string().into())).await.unwrap();
}

/// The next JSON message, or None at close (with the close code in `Err`).
pub async fn recv(ws: &mut Ws) -> Result<Value, Option<u16>> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message within 20 s");
        match next {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(f))) => return Err(f.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

/// Messages until (and including) the first one of type `kind` (matching `pred`).
pub async fn until(ws: &mut Ws, kind: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let v = recv(ws)
            .await
            .unwrap_or_else(|c| panic!("closed ({c:?}) before {kind}: {out:?}"));
        let done = v["type"] == kind && pred(&v);
        out.push(v);
        if done {
            return out;
        }
    }
}

pub async fn start_session(ws: &mut Ws, id: &str) -> Value {
    send(ws, json!({"type": "session.start", "conversation_id": id})).await;
    let v = recv(ws).await.unwrap();
    assert_eq!(v["type"], "session.started", "{v}");
    v
}

/// One final utterance; returns the messages up to its ack.
pub async fn say(ws: &mut Ws, role: &str, text: &str, r: i64) -> Vec<Value> {
    send(
        ws,
        json!({"type": "utterance", "role": role, "text": text, "final": true, "ref": r}),
    )
    .await;
    until(ws, "ack", |v| v["ref"] == r && v["final"] == true).await
}

pub fn findings(msgs: &[Value]) -> Vec<Value> {
    msgs.iter()
        .filter(|m| m["type"] == "finding")
        .cloned()
        .collect()
}

/// Ends the session on `ws` and returns its final score.
pub async fn end(ws: &mut Ws) -> Value {
    send(ws, json!({"type": "session.end"})).await;
    until(ws, "score", |v| v["final"] == true)
        .await
        .pop()
        .unwrap()
}

/// `GET /v1/integrations/calls/{id}`: a live or finished call's parties and what each sent (200 expected).
pub async fn call_stats(addr: SocketAddr, id: &str) -> Value {
    let (status, body) = http(
        addr,
        "GET",
        &format!("/v1/integrations/calls/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// A raw HTTP/1.1 request; returns (status, body).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    // Read to the end, or to Content-Length (some servers keep the connection open).
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = tokio::time::timeout_at(deadline, s.read(&mut chunk))
            .await
            .expect("HTTP answer within 20 s")
            .unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            });
            if len.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    status_and_body(&buf)
}

/// A raw HTTP/1.1 answer's status and body (de-chunked); status 0 when the head is not HTTP.
fn status_and_body(buf: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Reads server-sent events from `path` until `stop` returns true for an event (or 20 s).
pub async fn sse(
    addr: SocketAddr,
    path: &str,
    stop: impl Fn(&str, &Value) -> bool,
) -> Vec<(String, Value)> {
    sse_within(addr, path, Duration::from_secs(20), stop).await
}

/// [`sse`] with a longer bound: a call streamed in real time with speech recognised lasts longer than 20 s.
pub async fn sse_within(
    addr: SocketAddr,
    path: &str,
    within: Duration,
    stop: impl Fn(&str, &Value) -> bool,
) -> Vec<(String, Value)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = String::new();
    let mut events = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + within;
    let mut raw = Vec::new();
    loop {
        let n = match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return events,
        };
        raw.extend_from_slice(&chunk[..n]);
        let Ok(text) = std::str::from_utf8(&raw) else {
            continue;
        };
        buf.push_str(text);
        raw.clear();
        // Events are separated by a blank line; chunk-size lines of the transfer encoding are skipped.
        while let Some(i) = buf.find("\n\n") {
            let block: String = buf.drain(..i + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line
                    .strip_prefix("event: ")
                    .or_else(|| line.strip_prefix("event:"))
                {
                    name = n.trim().to_string();
                } else if let Some(d) = line
                    .strip_prefix("data: ")
                    .or_else(|| line.strip_prefix("data:"))
                {
                    data.push_str(d);
                }
            }
            if let Ok(v) = serde_json::from_str::<Value>(&data) {
                let done = stop(&name, &v);
                events.push((name, v));
                if done {
                    return events;
                }
            }
        }
    }
}

/// A raw HTTP/1.1 POST with extra headers (webhooks); returns (status, body as JSON or Null).
pub async fn post_with_headers(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut buf))
        .await
        .expect("HTTP answer within 20 s")
        .unwrap();
    let (status, body) = status_and_body(&buf);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// `/readyz`'s status and JSON body.
pub async fn readyz(addr: SocketAddr) -> (u16, Value) {
    let (s, body) = http(addr, "GET", "/readyz", None, None).await;
    (s, serde_json::from_str(&body).unwrap())
}

/// Polls `/readyz` until `pred` holds. The bound only keeps a broken daemon from hanging the test: a reload
/// of zh-CN in a debug build takes about 7 s on a loaded 2-core machine (24 s for the three of the
/// directory-swap test, alone), and a swap can cost two (the batch that saw the old directory leave fails,
/// the next one loads), so the old 10 s fired while the daemon was still doing what was asked.
pub async fn readyz_until(addr: SocketAddr, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (_, v) = readyz(addr).await;
        if pred(&v) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readyz never showed {what}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
