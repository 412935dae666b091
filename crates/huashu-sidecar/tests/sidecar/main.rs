#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The daemon end to end on loopback: a whole conversation over WebSocket, REST and SSE giving the same
//! findings, and the fault cases (malformed JSON, oversized frames, unknown types, a client that never
//! reads, disconnect, reload and shutdown mid-stream, capacity, auth) — each with its expected error and
//! nothing lost for the other sessions.

#[path = "../common/mod.rs"]
mod common;
mod lifecycle;
mod openapi;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use serde_json::{Value, json};

const CONVERSATION: &[(&str, &str)] = &[
    ("agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
    ("customer", "我的快递三天了还没到，我要投诉！"),
    ("agent", "这不是我的问题，你自己看说明书。"),
    (
        "agent",
        "非常抱歉给您带来不便，我理解您的心情，我马上为您联系快递核实。",
    ),
    (
        "agent",
        "我会全程跟进，今天下午五点前给您回电，请问还有其他可以帮您的吗？",
    ),
];

/// Runs CONVERSATION on a started session; returns all final findings.
async fn run_conversation(ws: &mut Ws) -> Vec<Value> {
    let mut all = Vec::new();
    for (i, (role, text)) in CONVERSATION.iter().enumerate() {
        let msgs = say(ws, role, text, i as i64).await;
        all.extend(findings(&msgs));
    }
    all
}

fn strip(f: &Value) -> Value {
    let mut f = f.clone();
    let o = f.as_object_mut().unwrap();
    for k in ["type", "conversation_id", "final", "source", "ref"] {
        o.remove(k);
    }
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_conversation_ws_rest_sse_agree() {
    let srv = start(config()).await;
    let addr = srv.addr;
    // An SSE screen listening before the REST conversation starts.
    let listener = tokio::spawn(async move {
        sse(addr, "/v1/conversations/rest-1/events", |name, v| {
            name == "score" && v["final"] == true
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut ws = connect(addr).await;
    let started = start_session(&mut ws, "ws-1").await;
    assert!(started["ruleset"].as_str().unwrap().starts_with("zh-CN@"));
    let mut kinds = std::collections::BTreeSet::new();
    let mut ws_findings = Vec::new();
    for (i, (role, text)) in CONVERSATION.iter().enumerate() {
        let msgs = say(&mut ws, role, text, i as i64).await;
        for m in &msgs {
            kinds.insert(format!(
                "{}:{}",
                m["type"].as_str().unwrap(),
                m["hint"].as_str().unwrap_or("")
            ));
        }
        ws_findings.extend(findings(&msgs));
    }
    assert!(
        kinds.contains("hint:suggestion") && kinds.contains("hint:rewrite"),
        "{kinds:?}"
    );
    assert!(!ws_findings.is_empty());
    // A draft: findings and the compliant rewrite, nothing folded.
    send(
        &mut ws,
        json!({"type": "draft", "text": "这不是我的问题", "ref": "d1"}),
    )
    .await;
    let d = until(&mut ws, "ack", |v| v["ref"] == "d1").await;
    assert!(
        d.iter()
            .any(|m| m["type"] == "finding" && m["source"] == "draft")
    );
    assert!(
        d.iter()
            .any(|m| m["hint"] == "rewrite" && m["text"] == "这个问题我会协调相关同事处理"),
        "{d:?}"
    );
    // A draft whose only rewrite would be flagged again: no rewrite hint, but one saying why.
    send(
        &mut ws,
        json!({"type": "draft", "text": "你问别人吧", "ref": "d2"}),
    )
    .await;
    let d = until(&mut ws, "ack", |v| v["ref"] == "d2").await;
    assert!(!d.iter().any(|m| m["hint"] == "rewrite"), "{d:?}");
    assert!(
        d.iter().any(|m| m["hint"] == "rewrite_withheld"
            && m["text"] == "no compliant rewrite: F006 on “问别人” has no safe replacement"),
        "{d:?}"
    );
    send(&mut ws, json!({"type": "score", "ref": 7})).await;
    let live = until(&mut ws, "score", |_| true).await.pop().unwrap();
    assert_eq!(live["final"], false);
    assert_eq!(live["ref"], 7);
    let fin = end(&mut ws).await;
    assert_eq!(fin["id"], "ws-1");
    assert_eq!(
        fin["findings_total"].as_u64().unwrap() as usize,
        ws_findings.len()
    );
    for k in [
        "score",
        "passed",
        "fatal",
        "structure",
        "checks",
        "findings",
        "ruleset",
    ] {
        assert!(fin.get(k).is_some(), "score lacks {k}: {fin}");
    }

    // REST: same utterances, same findings.
    let mut rest_findings = Vec::new();
    for (role, text) in CONVERSATION {
        let body = json!({"role": role, "text": text}).to_string();
        let (status, out) = http(
            addr,
            "POST",
            "/v1/conversations/rest-1/utterances",
            None,
            Some(&body),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        let v: Value = serde_json::from_str(&out).unwrap();
        rest_findings.extend(v["findings"].as_array().unwrap().iter().cloned());
    }
    let ws_stripped: Vec<Value> = ws_findings.iter().map(strip).collect();
    let ws_rules: Vec<Value> = ws_stripped.iter().map(|f| f["rule"].clone()).collect();
    let rest_rules: Vec<Value> = rest_findings.iter().map(|f| f["rule"].clone()).collect();
    assert_eq!(ws_rules, rest_rules);
    for (a, b) in ws_stripped.iter().zip(&rest_findings) {
        let mut a = a.clone();
        a.as_object_mut().unwrap().remove("turn");
        assert_eq!(&a, b);
    }
    let (status, out) = http(addr, "DELETE", "/v1/conversations/rest-1", None, None).await;
    assert_eq!(status, 200, "{out}");
    let rest_final: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rest_final["score"], fin["score"]);

    // SSE saw the same findings and the final score.
    let events = listener.await.unwrap();
    let sse_findings: Vec<Value> = events
        .iter()
        .filter(|(n, v)| n == "finding" && v["final"] == true)
        .map(|(_, v)| v["rule"].clone())
        .collect();
    assert_eq!(sse_findings, rest_rules);
    assert!(
        events
            .iter()
            .any(|(n, v)| n == "score" && v["final"] == true)
    );

    // /v1/check answers as a `huashu scan` line.
    let (status, out) = http(
        addr,
        "POST",
        "/v1/check",
        None,
        Some(r#"{"role":"agent","text":"這不是我的問題，你自己看說明書","id":3}"#),
    )
    .await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["id"], 3);
    assert_eq!(
        v["rewrite"],
        "这个问题我会协调相关同事处理，我为您整理一份操作指南，您看是否需要"
    );
    // A rewrite that would still be flagged is never offered: null, and why.
    let (status, out) = http(
        addr,
        "POST",
        "/v1/check",
        None,
        Some(r#"{"role":"agent","text":"这不是我的问题，你自己去问快递公司吧。","id":4}"#),
    )
    .await;
    assert_eq!(status, 200);
    let w: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(w["rewrite"], Value::Null);
    assert_eq!(
        w["rewrite_withheld"],
        "no compliant rewrite: F030 on “你自己去问快递公司” has no safe replacement"
    );
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    let keys: Vec<&String> = v["findings"][0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "byte_end",
            "byte_start",
            "category",
            "end",
            "matched",
            "message",
            "rule",
            "severity",
            "start",
            "suggestions"
        ]
    );
    assert!(v["rewrite"].is_string());
    let (status, _) = http(addr, "POST", "/v1/check", None, Some("{nope")).await;
    assert_eq!(status, 400);

    // A transcript from the client's own recogniser: homophones of the rules' words match (布知道, 文別人),
    // at the heard span, and the findings carry the confidence; the same text typed is exact.
    let heard = r#"{"role":"agent","text":"这个我布知道，你文別人吧","confidence":0.75}"#;
    let (status, out) = http(
        addr,
        "POST",
        "/v1/conversations/asr-1/utterances",
        None,
        Some(heard),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let got: Vec<(String, String, f64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["matched"].as_str().unwrap().to_string(),
                f["confidence"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("F001".to_string(), "我布知道".to_string(), 0.75),
            ("F006".to_string(), "文別人".to_string(), 0.75)
        ]
    );
    let typed = r#"{"role":"agent","text":"这个我布知道，你文別人吧"}"#;
    let (_, out) = http(
        addr,
        "POST",
        "/v1/conversations/asr-1/utterances",
        None,
        Some(typed),
    )
    .await;
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"], json!([]), "{v}");
    let bad = r#"{"role":"agent","text":"好的","confidence":1.5}"#;
    let (status, out) = http(
        addr,
        "POST",
        "/v1/conversations/asr-1/utterances",
        None,
        Some(bad),
    )
    .await;
    assert_eq!(status, 400, "{out}");
    assert!(
        out.contains("confidence must be a number from 0 to 1, got 1.5"),
        "{out}"
    );

    // Health, readiness, metrics, OpenAPI, console.
    assert_eq!(http(addr, "GET", "/healthz", None, None).await.0, 200);
    let (s, ready) = http(addr, "GET", "/readyz", None, None).await;
    assert_eq!(s, 200, "{ready}");
    let (_, metrics) = http(addr, "GET", "/metrics", None, None).await;
    for m in [
        "huashu_utterances_total",
        "huashu_findings_total{rule=",
        "huashu_turn_seconds_bucket",
        "huashu_sessions_total",
    ] {
        assert!(metrics.contains(m), "metrics lack {m}");
    }
    let (_, html) = http(addr, "GET", "/", None, None).await;
    assert!(html.contains("console.js"));
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_unknown_and_bad_fields_are_errors_and_the_session_goes_on() {
    let srv = start(config()).await;
    let mut ws = connect(srv.addr).await;
    // Before session.start.
    send(
        &mut ws,
        json!({"type": "utterance", "role": "agent", "text": "x"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "no_session");
    start_session(&mut ws, "m-1").await;
    for (frame, code) in [
        ("{not json", "bad_json"),
        ("[1,2]", "bad_message"),
        (r#"{"text":"no type"}"#, "bad_message"),
        (r#"{"type":"telepathy"}"#, "unknown_type"),
        (
            r#"{"type":"utterance","role":"robot","text":"x"}"#,
            "bad_message",
        ),
        (r#"{"type":"utterance","role":"agent"}"#, "bad_message"),
        (
            r#"{"type":"session.start","conversation_id":"again"}"#,
            "session_active",
        ),
        ("\u{0}\u{ffff}", "bad_json"),
    ] {
        send_raw(&mut ws, frame).await;
        let v = recv(&mut ws).await.unwrap();
        assert_eq!(v["type"], "error", "{frame}: {v}");
        assert_eq!(v["code"], code, "{frame}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    ws.send(tokio_tungstenite::tungstenite::Message::Binary(
        vec![1u8, 2, 3].into(),
    ))
    .await
    .unwrap();
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "binary_frame");
    // Nothing was folded by the bad frames; the conversation goes on.
    let all = run_conversation(&mut ws).await;
    let fin = end(&mut ws).await;
    assert_eq!(fin["findings_total"].as_u64().unwrap() as usize, all.len());
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame_closes_1009_and_others_are_unaffected() {
    let mut c = config();
    c.limits.max_frame_bytes = 1024;
    let srv = start(c).await;
    let mut other = connect(srv.addr).await;
    start_session(&mut other, "o-1").await;
    say(&mut other, "agent", CONVERSATION[0].1, 0).await;

    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "big-1").await;
    let big = "好".repeat(600); // 1800 bytes
    send(
        &mut ws,
        json!({"type": "utterance", "role": "agent", "text": big}),
    )
    .await;
    let v = recv(&mut ws).await.unwrap();
    assert_eq!(v["code"], "frame_too_large", "{v}");
    assert_eq!(recv(&mut ws).await.unwrap_err(), Some(1009));
    // Far over the hard limit: the connection is dropped, the server lives on.
    let mut ws2 = connect(srv.addr).await;
    start_session(&mut ws2, "big-2").await;
    send_raw(&mut ws2, &"x".repeat(1 << 20)).await;
    let r = recv(&mut ws2).await;
    assert!(
        matches!(&r, Ok(v) if v["code"] == "frame_too_large") || r.is_err(),
        "{r:?}"
    );

    let rest = &CONVERSATION[1..];
    let mut n = 0;
    for (i, (role, text)) in rest.iter().enumerate() {
        n += findings(&say(&mut other, role, text, 1 + i as i64).await).len();
    }
    let fin = end(&mut other).await;
    assert_eq!(fin["findings_total"].as_u64().unwrap() as usize, n);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_cut_off_alone() {
    let mut c = config();
    c.limits.write_timeout_ms = 500;
    c.limits.out_queue = 8;
    c.limits.queue_depth = 8;
    let srv = start(c).await;
    let app = std::sync::Arc::clone(&srv.app);
    let addr = srv.addr;
    // The reader: a whole conversation while the other client floods.
    let mut good = connect(addr).await;
    start_session(&mut good, "good").await;

    let mut bad = connect(addr).await;
    start_session(&mut bad, "never-reads").await;
    let flood = tokio::spawn(async move {
        // Long agent turns full of findings: lots to write back. Sending stops once TCP pushes back.
        let text = "这不是我的问题，你自己看说明书。".repeat(200);
        let msg = json!({"type": "utterance", "role": "agent", "text": text}).to_string();
        for _ in 0..20_000 {
            let sent = tokio::time::timeout(
                Duration::from_secs(2),
                bad.send(tokio_tungstenite::tungstenite::Message::Text(
                    msg.clone().into(),
                )),
            )
            .await;
            if !matches!(sent, Ok(Ok(()))) {
                break;
            }
        }
        bad // never read
    });
    let all = run_conversation(&mut good).await;
    let fin = end(&mut good).await;
    assert_eq!(fin["findings_total"].as_u64().unwrap() as usize, all.len());
    // The flooder is disconnected by the write timeout; its session is ended and scored.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if app.connections.load(std::sync::atomic::Ordering::SeqCst) <= 1
            && app.registry.active() == 0
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "slow consumer not cut off"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, metrics) = http(addr, "GET", "/metrics", None, None).await;
    assert!(
        metrics.contains("huashu_rejected_total{reason=\"slow_consumer\"}"),
        "{metrics}"
    );
    drop(flood.await.unwrap());
    drop(good);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partials_are_superseded_finals_never_dropped() {
    let srv = start(config()).await;
    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "p-1").await;
    let text = "这不是我的问题，你自己看说明书";
    for k in 0..300 {
        let part: String = text.chars().take(1 + k % 15).collect();
        send(
            &mut ws,
            json!({"type": "utterance", "role": "agent", "text": part, "final": false}),
        )
        .await;
    }
    let mut total = 0;
    for r in 0..50 {
        send(
            &mut ws,
            json!({"type": "utterance", "role": "agent", "text": "这不是我的问题", "final": false}),
        )
        .await;
        send(
            &mut ws,
            json!({"type": "utterance", "role": "agent", "text": text, "final": true, "ref": r}),
        )
        .await;
    }
    let mut acks = 0;
    while acks < 50 {
        let v = recv(&mut ws).await.unwrap();
        if v["final"] == true && v["type"] == "finding" {
            total += 1;
        }
        if v["final"] == true && v["type"] == "ack" {
            assert_eq!(v["ref"], acks, "finals in order");
            acks += 1;
        }
    }
    assert_eq!(total, 100);
    let fin = end(&mut ws).await;
    assert_eq!(fin["findings_total"], 100);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_mid_session_scores_for_listeners_and_spares_others() {
    let srv = start(config()).await;
    let addr = srv.addr;
    let listener = tokio::spawn(async move {
        sse(addr, "/v1/conversations/gone/events", |n, v| {
            n == "score" && v["final"] == true
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut other = connect(addr).await;
    start_session(&mut other, "stays").await;
    let mut ws = connect(addr).await;
    start_session(&mut ws, "gone").await;
    say(&mut ws, "customer", CONVERSATION[1].1, 0).await;
    say(&mut other, "agent", CONVERSATION[0].1, 0).await;
    drop(ws); // no close frame, no session.end
    let events = listener.await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.0, "score");
    assert_eq!(last.1["final"], true);
    assert_eq!(last.1["id"], "gone");
    let mut n = 0;
    for (i, (role, text)) in CONVERSATION[1..].iter().enumerate() {
        n += findings(&say(&mut other, role, text, 1 + i as i64).await).len();
    }
    assert_eq!(
        end(&mut other).await["findings_total"].as_u64().unwrap() as usize,
        n
    );
    // The same id can be used again.
    let mut again = connect(addr).await;
    start_session(&mut again, "gone").await;
    srv.shutdown();
    srv.stopped().await;
}
