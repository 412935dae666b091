#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 18: the daemon under hostile and unlucky clients — each probe that broke it, on loopback, bounded in
//! count and time: no hang at shutdown, no lock-out, no held slots, hot reload after a directory swap, one
//! owner per conversation, Origin/Host checks, checks off the async threads with capped output, and no silent
//! close or plain-text error.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes (Ok) or `limit` passes (Err).
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, Vec<u8>> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Err(_) => return Err(buf),
            Ok(Ok(0) | Err(_)) => return Ok(buf),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn readyz(addr: std::net::SocketAddr) -> (u16, Value) {
    let (s, body) = http(addr, "GET", "/readyz", None, None).await;
    (s, serde_json::from_str(&body).unwrap())
}

// 1. A half-sent request (no end of headers) must not keep the daemon from stopping: one deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_request_does_not_hold_up_shutdown() {
    let mut c = config();
    c.limits.shutdown_grace_ms = 1000;
    let srv = start(c).await;
    let addr = srv.addr;
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /heal").await.unwrap();
    // A WebSocket session too: it still gets its final score before the deadline.
    let mut ws = connect(addr).await;
    start_session(&mut ws, "h-1").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    srv.shutdown();
    let fin = until(&mut ws, "score", |v| v["final"] == true).await;
    assert_eq!(fin.last().unwrap()["id"], "h-1");
    tokio::time::timeout(Duration::from_secs(5), srv.stopped())
        .await
        .expect("stopped within the shutdown deadline despite a half-sent request");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}
