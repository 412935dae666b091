//! The daemon's life around the sessions: hot reload and shutdown mid-stream, capacity, bearer tokens and
//! tickets.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;
use crate::{CONVERSATION, end};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &p);
        } else {
            std::fs::copy(e.path(), p).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_mid_stream_switches_at_next_utterance_and_keeps_old_on_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("zh-CN");
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rulesets/zh-CN"),
        &dir,
    );
    let mut c = config();
    c.ruleset = dir.display().to_string();
    c.reload.debounce_ms = 100;
    let srv = start(c).await;
    let addr = srv.addr;
    let mut ws = connect(addr).await;
    let started = start_session(&mut ws, "r-1").await;
    let v1 = started["ruleset"].as_str().unwrap().to_string();
    let first = say(&mut ws, "agent", "这不是我的问题", 0).await;
    assert!(!findings(&first).is_empty());

    // A new version: findings from the next utterance on use it, the score is stamped with it.
    let manifest = dir.join("ruleset.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let old_version = text
        .lines()
        .find(|l| l.starts_with("version"))
        .unwrap()
        .to_string();
    std::fs::write(
        &manifest,
        text.replacen(&old_version, "version = \"9.9.9\"", 1),
    )
    .unwrap();
    readyz_until(addr, "generation 1", |v| v["generation"] == 1).await;
    let msgs = say(&mut ws, "agent", "这不是我的问题", 1).await;
    let switch = msgs
        .iter()
        .find(|m| m["type"] == "ruleset")
        .expect("a ruleset message");
    assert_eq!(switch["previous"], v1.as_str());
    assert!(switch["ruleset"].as_str().unwrap().ends_with("@9.9.9"));
    assert!(
        msgs.last().unwrap()["ruleset"]
            .as_str()
            .unwrap()
            .ends_with("@9.9.9")
    );

    // A broken version: rejected, the old one keeps serving, /readyz and /metrics say so.
    std::fs::write(
        dir.join("rules/forbidden/BROKEN.toml"),
        "id = \"BROKEN\"\nthis is not toml [[[",
    )
    .unwrap();
    let ready = readyz_until(addr, "a failed reload", |v| {
        v["reload"]["failures"].as_u64().unwrap_or(0) >= 1
    })
    .await;
    assert!(
        ready["reload"]["last_error"]
            .as_str()
            .unwrap()
            .contains("BROKEN"),
        "{ready}"
    );
    assert!(ready["ruleset"].as_str().unwrap().ends_with("@9.9.9"));
    assert_eq!(ready["ready"], true);
    let (_, metrics) = http(addr, "GET", "/metrics", None, None).await;
    assert!(
        metrics.contains("huashu_ruleset_reload_failed 1"),
        "{metrics}"
    );
    let msgs = say(&mut ws, "agent", "这不是我的问题", 2).await;
    assert!(!findings(&msgs).is_empty());
    let fin = end(&mut ws).await;
    assert!(fin["ruleset"].as_str().unwrap().ends_with("@9.9.9"));
    assert_eq!(
        fin["findings_total"].as_u64().unwrap() as usize,
        3 * findings(&first).len()
    );
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_stream_sends_final_scores_then_1001() {
    let srv = start(config()).await;
    let addr = srv.addr;
    let mut a = connect(addr).await;
    let mut b = connect(addr).await;
    start_session(&mut a, "s-a").await;
    start_session(&mut b, "s-b").await;
    let na = findings(&say(&mut a, "agent", "这不是我的问题", 0).await).len();
    say(&mut b, "customer", CONVERSATION[1].1, 0).await;
    // A REST conversation too, with a listener.
    http(
        addr,
        "POST",
        "/v1/conversations/s-rest/utterances",
        None,
        Some(r#"{"role":"agent","text":"这不是我的问题"}"#),
    )
    .await;
    let listener = tokio::spawn(async move {
        sse(addr, "/v1/conversations/s-rest/events", |n, v| {
            n == "score" && v["final"] == true
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    srv.shutdown();
    for (ws, n) in [(&mut a, na), (&mut b, 0)] {
        let fin = until(ws, "score", |v| v["final"] == true)
            .await
            .pop()
            .unwrap();
        assert_eq!(fin["findings_total"].as_u64().unwrap() as usize, n);
        assert_eq!(recv(ws).await.unwrap_err(), Some(1001));
    }
    let events = listener.await.unwrap();
    assert!(
        events
            .iter()
            .any(|(n, v)| n == "score" && v["final"] == true && v["id"] == "s-rest")
    );
    tokio::time::timeout(Duration::from_secs(15), srv.stopped())
        .await
        .expect("stops");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_capacity_new_sessions_get_503() {
    let mut c = config();
    c.limits.max_sessions = 2;
    let srv = start(c).await;
    let addr = srv.addr;
    let mut a = connect(addr).await;
    start_session(&mut a, "c-a").await;
    let (s, _) = http(
        addr,
        "POST",
        "/v1/conversations/c-rest/utterances",
        None,
        Some(r#"{"role":"agent","text":"您好"}"#),
    )
    .await;
    assert_eq!(s, 200);
    // Sessions full: a REST conversation and a session.start are refused.
    let (s, body) = http(
        addr,
        "POST",
        "/v1/conversations/c-rest2/utterances",
        None,
        Some(r#"{"role":"agent","text":"您好"}"#),
    )
    .await;
    assert_eq!(s, 503, "{body}");
    assert!(body.contains("capacity"));
    let mut b = connect(addr).await;
    send(
        &mut b,
        json!({"type": "session.start", "conversation_id": "c-b"}),
    )
    .await;
    assert_eq!(recv(&mut b).await.unwrap()["code"], "capacity");
    assert_eq!(recv(&mut b).await.unwrap_err(), Some(1013));
    let (s, _) = http(addr, "GET", "/readyz", None, None).await;
    assert_eq!(s, 503);
    // Connections full: the upgrade itself is refused with 503. (The refused connection's slot is freed as
    // its close completes: wait for it rather than race it.)
    readyz_until(addr, "one connection", |v| v["connections"] == 1).await;
    let _c2 = connect(addr).await;
    let err = connect_with(addr, None, "").await.err().unwrap();
    assert!(err.contains("503"), "{err}");
    // The held session is fine.
    say(&mut a, "agent", "您好", 0).await;
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_and_tickets() {
    let mut c = config();
    c.tokens = vec!["t0ken".into()];
    let srv = start(c).await;
    let addr = srv.addr;
    let body = Some(r#"{"text":"您好"}"#);
    assert_eq!(http(addr, "POST", "/v1/check", None, body).await.0, 401);
    assert_eq!(
        http(addr, "POST", "/v1/check", Some("wrong"), body).await.0,
        401
    );
    assert_eq!(
        http(addr, "POST", "/v1/check", Some("t0ken"), body).await.0,
        200
    );
    assert_eq!(http(addr, "GET", "/healthz", None, None).await.0, 200);
    assert!(
        connect_with(addr, None, "")
            .await
            .err()
            .unwrap()
            .contains("401")
    );
    let mut ws = connect_with(addr, Some("t0ken"), "").await.unwrap();
    start_session(&mut ws, "auth-1").await;
    let (s, t) = http(addr, "POST", "/v1/tickets", Some("t0ken"), None).await;
    assert_eq!(s, 200);
    let ticket = serde_json::from_str::<Value>(&t).unwrap()["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let q = format!("?ticket={ticket}");
    let mut w2 = connect_with(addr, None, &q).await.unwrap();
    start_session(&mut w2, "auth-2").await;
    assert!(
        connect_with(addr, None, &q)
            .await
            .err()
            .unwrap()
            .contains("401"),
        "tickets are single-use"
    );
    srv.shutdown();
    srv.stopped().await;
}
