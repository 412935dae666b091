//! Issue 18, items 6–8: foreign origins and hosts refused, heavy checks off the async threads with capped
//! output, and protocol violations answered (never a silent close or a plain-text error) and counted.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::common::*;
use crate::{closed_within, sse_open};

/// A raw HTTP/1.1 request with these headers (a `Host` among them replaces the default); (status, body).
async fn http_with(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes()).await.unwrap();
    let raw = closed_within(&mut s, Duration::from_secs(10))
        .await
        .expect("an answer within 10 s");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

async fn ws_with(addr: std::net::SocketAddr, headers: &[(&str, &str)]) -> Result<Ws, String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/v1/stream")
        .into_client_request()
        .unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

fn code_of(body: &str) -> Value {
    serde_json::from_str::<Value>(body).unwrap_or_else(|_| panic!("not JSON: {body}"))["error"]["code"]
        .clone()
}

// 6. With no tokens, a web page from another origin (or a rebinding host name) cannot use the daemon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_origins_and_hosts_are_refused() {
    let srv = start(config()).await;
    let addr = srv.addr;
    let utter = r#"{"role":"agent","text":"这不是我的问题"}"#;
    // A cross-site "simple" POST (text/plain: no preflight) from a foreign page.
    let (s, body) = http_with(
        addr,
        "POST",
        "/v1/conversations/o-1/utterances",
        &[
            ("Origin", "http://evil.example"),
            ("Content-Type", "text/plain"),
        ],
        utter,
    )
    .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(code_of(&body), "forbidden");
    // The WebSocket upgrade from a foreign page.
    let err = ws_with(addr, &[("origin", "http://evil.example")])
        .await
        .err()
        .unwrap();
    assert!(err.contains("403"), "{err}");
    // DNS rebinding: a foreign host name, even with a matching Origin.
    let evil_host = format!("evil.example:{}", addr.port());
    let evil_origin = format!("http://{evil_host}");
    for (path, method) in [("/v1/conversations/o-1", "GET"), ("/readyz", "GET")] {
        let (s, body) = http_with(addr, method, path, &[("Host", &evil_host)], "").await;
        assert_eq!(s, 403, "{path}: {body}");
    }
    let (s, _) = http_with(
        addr,
        "POST",
        "/v1/scan",
        &[("Host", &evil_host), ("Origin", &evil_origin)],
        r#"{"text":"您好"}"#,
    )
    .await;
    assert_eq!(s, 403);
    // The daemon's own pages, loopback pages and clients with no Origin are fine.
    let own = format!("http://{addr}");
    for origin in [own.as_str(), "http://localhost:3000"] {
        let (s, body) = http_with(
            addr,
            "POST",
            "/v1/conversations/o-2/utterances",
            &[("Origin", origin)],
            utter,
        )
        .await;
        assert_eq!(s, 200, "{origin}: {body}");
    }
    let mut ws = ws_with(addr, &[("origin", own.as_str())]).await.unwrap();
    start_session(&mut ws, "o-ws").await;
    let (s, _) = http_with(
        addr,
        "GET",
        "/healthz",
        &[("Host", &format!("localhost:{}", addr.port()))],
        "",
    )
    .await;
    assert_eq!(s, 200);
    srv.shutdown();
    srv.stopped().await;

    // Configured: another origin and host name are allowed.
    let mut c = config();
    c.allowed_origins = vec!["https://crm.example".into()];
    c.allowed_hosts = vec!["assist.internal".into()];
    let srv = start(c).await;
    let addr = srv.addr;
    let (s, body) = http_with(
        addr,
        "POST",
        "/v1/conversations/o-3/utterances",
        &[
            ("Origin", "https://crm.example"),
            ("Host", "assist.internal:8787"),
        ],
        utter,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = http_with(
        addr,
        "POST",
        "/v1/conversations/o-3/utterances",
        &[("Origin", "https://other.example")],
        utter,
    )
    .await;
    assert_eq!(s, 403);
    srv.shutdown();
    srv.stopped().await;
}

// 7. A finding-dense input is checked off the async threads (it does not stall other sessions, even on a
// one-thread runtime) and what it produces is capped, with a clear error.
#[tokio::test(flavor = "current_thread")]
async fn heavy_checks_stall_nobody_and_output_is_capped() {
    let mut c = config();
    c.limits.max_frame_bytes = 1 << 20;
    c.limits.max_output_bytes = 64 * 1024;
    c.limits.check_threads = 2;
    let srv = start(c).await;
    let addr = srv.addr;
    let mut heavy = connect(addr).await;
    start_session(&mut heavy, "heavy").await;
    let mut light = connect(addr).await;
    start_session(&mut light, "light").await;
    // About 36 KB of text, a finding every 8 characters.
    let text = "这不是我的问题，".repeat(1_500);
    let t = Instant::now();
    send(
        &mut heavy,
        json!({"type": "draft", "text": text, "ref": "big"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Another session is served while the heavy check runs.
    let l = Instant::now();
    say(&mut light, "agent", "您好", 0).await;
    let light_took = l.elapsed();
    let msgs = until(&mut heavy, "ack", |v| v["ref"] == "big").await;
    let heavy_took = t.elapsed();
    eprintln!("light {light_took:?}, heavy {heavy_took:?}");
    assert!(
        light_took < heavy_took / 2,
        "the light session waited {light_took:?} for a check of {heavy_took:?}"
    );
    // Capped: an error says how many findings were not sent; the ack counts them all.
    let bytes: usize = msgs.iter().map(|m| m.to_string().len()).sum();
    assert!(bytes <= 64 * 1024 + 1024, "{bytes} bytes for one input");
    let err = msgs
        .iter()
        .find(|m| m["type"] == "error")
        .expect("an output_too_large error");
    assert_eq!(err["code"], "output_too_large");
    assert_eq!(err["ref"], "big");
    let ack = msgs.last().unwrap();
    let sent = findings(&msgs).len() as u64;
    assert!(ack["findings"].as_u64().unwrap() > sent, "{ack}");
    // REST: the body is capped the same way.
    let small = "这不是我的问题，".repeat(1_000);
    let (s, body) = http(
        addr,
        "POST",
        "/v1/conversations/heavy-rest/utterances",
        None,
        Some(&json!({"role": "agent", "text": small}).to_string()),
    )
    .await;
    assert_eq!(s, 200);
    assert!(body.len() <= 64 * 1024, "{} bytes", body.len());
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["findings_omitted"].as_u64().unwrap() > 0);
    srv.shutdown();
    srv.stopped().await;
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn metrics(addr: std::net::SocketAddr) -> String {
    http(addr, "GET", "/metrics", None, None).await.1
}

// 8. No silent close and no plain-text error: a frame that breaks the protocol gets an error, the final score
// and a close frame, and is counted; router refusals are JSON; REST and SSE capacity refusals are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_violations_and_refusals_are_answered_and_counted() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
    let mut c = config();
    c.limits.max_sessions = 3;
    c.limits.max_listeners = 1;
    let srv = start(c).await;
    let addr = srv.addr;
    let protocol = r#"huashu_rejected_total{reason="protocol"}"#;
    let before = metric(&metrics(addr).await, protocol);
    for (i, (opcode, payload, close)) in [
        (OpCode::Data(Data::Text), vec![0xff, 0xfe, 0x41], 1007),
        (OpCode::Data(Data::Reserved(3)), b"{}".to_vec(), 1002),
    ]
    .into_iter()
    .enumerate()
    {
        let mut ws = connect(addr).await;
        let id = format!("bad-frame-{i}");
        start_session(&mut ws, &id).await;
        let n = findings(&say(&mut ws, "agent", "这不是我的问题", 0).await).len();
        ws.send(Message::Frame(Frame::message(payload, opcode, true)))
            .await
            .unwrap();
        let e = recv(&mut ws).await.unwrap();
        assert_eq!(e["code"], "bad_frame", "{e}");
        let fin = recv(&mut ws).await.unwrap();
        assert_eq!(fin["type"], "score");
        assert_eq!(fin["final"], true);
        assert_eq!(fin["id"], id.as_str());
        assert_eq!(fin["findings_total"].as_u64().unwrap() as usize, n);
        assert_eq!(recv(&mut ws).await.unwrap_err(), Some(close));
    }
    // A bad close code is answered with close 1002.
    let mut ws = connect(addr).await;
    start_session(&mut ws, "bad-close").await;
    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::from(999),
        reason: "".into(),
    })))
    .await
    .unwrap();
    assert_eq!(recv(&mut ws).await.unwrap_err(), Some(1002));
    let m = metrics(addr).await;
    assert!(metric(&m, protocol) >= before + 3.0, "{m}");
    // Refusals by the router are the documented JSON error.
    let big = "x".repeat(70_000);
    for (method, path, body, status, code) in [
        ("POST", "/v1/scan", big.as_str(), 413, "frame_too_large"),
        (
            "POST",
            "/v1/conversations/%FF%FE/utterances",
            "{}",
            400,
            "bad_request",
        ),
        ("GET", "/v1/scan", "", 405, "method_not_allowed"),
        ("GET", "/no/such/route", "", 404, "not_found"),
        ("GET", "/v1/stream", "", 400, "bad_request"),
    ] {
        let (s, b) = http_with(addr, method, path, &[], body).await;
        assert_eq!(s, status, "{method} {path}: {b}");
        assert_eq!(code_of(&b), code, "{method} {path}: {b}");
    }
    // REST and SSE capacity refusals are counted.
    let capacity = r#"huashu_rejected_total{reason="capacity"}"#;
    let before = metric(&metrics(addr).await, capacity);
    let (_held, head) = sse_open(addr, "/v1/conversations/cap-l/events", None).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (s, _) = http(addr, "GET", "/v1/conversations/cap-l2/events", None, None).await;
    assert_eq!(s, 503);
    for i in 0..4 {
        http(
            addr,
            "POST",
            &format!("/v1/conversations/cap-{i}/utterances"),
            None,
            Some(r#"{"role":"agent","text":"您好"}"#),
        )
        .await;
    }
    let after = metric(&metrics(addr).await, capacity);
    assert!(after >= before + 2.0, "{before} → {after}");
    srv.shutdown();
    srv.stopped().await;
}
