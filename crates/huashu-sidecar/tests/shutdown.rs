#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Shutdown with utterances in transit (issue 18, probe 8: at SIGTERM 91 of 6,328 were neither scored nor
//! refused). Every final utterance the daemon read off a socket is answered with its `ack` or refused with an
//! `error`, and each session's final score counts exactly the acknowledged ones. A test binary of its own: it
//! reads the process-wide `/metrics` counters, which other tests would move.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{config, connect, start, start_session};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const SESSIONS: usize = 40;
const EACH: usize = 150;

fn counter(name: &str) -> u64 {
    huashu_sidecar::metrics::render()
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().last())
        .map_or(0, |v| v.parse::<f64>().unwrap() as u64)
}

/// What one client saw after pipelining its utterances into the shutdown.
#[derive(Debug, Default)]
struct Seen {
    acks: Vec<u64>,
    /// The findings each ack counts.
    acked_findings: u64,
    refused: Vec<(u64, String)>,
    findings: u64,
    score: Option<Value>,
    close: Option<u16>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utterances_in_transit_at_shutdown_are_answered_or_refused() {
    let mut c = config();
    // A short inbox: at shutdown some readers are waiting for room, with an utterance read and not queued.
    c.limits.queue_depth = 4;
    let srv = start(c).await;
    let addr = srv.addr;
    let received = "huashu_utterances_received_total";
    let before = counter(received);
    let mut clients = Vec::new();
    for i in 0..SESSIONS {
        let mut ws = connect(addr).await;
        start_session(&mut ws, &format!("transit-{i}")).await;
        let (mut tx, mut rx) = ws.split();
        let sender = tokio::spawn(async move {
            for k in 0..EACH {
                let (role, text) = if k % 2 == 0 {
                    ("agent", "这不是我的问题，你自己去问快递公司吧。")
                } else {
                    ("customer", "你这是什么态度？我要投诉！")
                };
                let u = json!({"type": "utterance", "role": role, "text": text, "final": true, "ref": k});
                if tx.send(Message::Text(u.to_string().into())).await.is_err() {
                    break;
                }
            }
            tx
        });
        let reader = tokio::spawn(async move {
            let mut seen = Seen::default();
            loop {
                let next = tokio::time::timeout(Duration::from_secs(30), rx.next())
                    .await
                    .expect("a message or the close within 30 s");
                let v: Value = match next {
                    Some(Ok(Message::Text(t))) => serde_json::from_str(t.as_str()).unwrap(),
                    Some(Ok(Message::Close(f))) => {
                        seen.close = f.map(|f| u16::from(f.code));
                        break;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break,
                };
                match v["type"].as_str() {
                    Some("ack") => {
                        seen.acks.push(v["ref"].as_u64().unwrap());
                        seen.acked_findings += v["findings"].as_u64().unwrap();
                    }
                    Some("finding") => seen.findings += 1,
                    Some("error") => seen.refused.push((
                        v["ref"]
                            .as_u64()
                            .expect("an error for an utterance names its ref"),
                        v["code"].as_str().unwrap().to_string(),
                    )),
                    Some("score") => seen.score = Some(v),
                    _ => {}
                }
            }
            seen
        });
        clients.push((sender, reader));
    }
    // Mid-stream: some answers are out, most utterances are still being sent, queued or checked.
    tokio::time::sleep(Duration::from_millis(300)).await;
    srv.shutdown();
    let (mut acked, mut refused) = (0u64, 0u64);
    for (i, (sender, reader)) in clients.into_iter().enumerate() {
        let seen = reader.await.unwrap();
        // The sender ends when the daemon closes the connection under it.
        drop(
            tokio::time::timeout(Duration::from_secs(30), sender)
                .await
                .expect("the daemon closed the connection")
                .unwrap(),
        );
        let score = seen.score.as_ref().expect("a final score at shutdown");
        assert_eq!(score["final"], true, "session {i}");
        assert_eq!(seen.close, Some(1001), "session {i}");
        // Answered in order, each once: the acks are 0..n; the score counts exactly the findings of the
        // acknowledged turns, and every one of them was sent.
        let n = seen.acks.len() as u64;
        assert_eq!(seen.acks, (0..n).collect::<Vec<_>>(), "session {i}");
        assert_eq!(
            score["findings_total"].as_u64(),
            Some(seen.acked_findings),
            "session {i}: the score's findings against its acks'"
        );
        assert_eq!(seen.findings, seen.acked_findings, "session {i}");
        let refs: BTreeSet<u64> = seen.refused.iter().map(|(r, _)| *r).collect();
        assert!(
            refs.iter().all(|r| *r >= n),
            "session {i}: {:?}",
            seen.refused
        );
        acked += n;
        refused += seen.refused.len() as u64;
    }
    srv.stopped().await;
    let read = counter(received) - before;
    eprintln!(
        "{} sent, {read} read by the daemon, {acked} acknowledged, {refused} refused",
        SESSIONS * EACH
    );
    assert!(acked > 0, "nothing was answered before the shutdown");
    assert!(
        (read as usize) < SESSIONS * EACH,
        "the shutdown came after every utterance was read: nothing was in transit"
    );
    assert_eq!(
        read,
        acked + refused,
        "utterances read off the sockets but neither answered nor refused"
    );
}
