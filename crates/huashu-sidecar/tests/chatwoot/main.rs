#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Chatwoot integration on loopback: a fake Chatwoot API (a small hyper server) receives the private
//! notes the daemon posts for webhook deliveries signed as Chatwoot signs them.

#[path = "../common/mod.rs"]
mod common;
mod failures;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use huashu_sidecar::Config;
use huashu_sidecar::integrations::chatwoot::signature;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const SECRET: &str = "whsec-test";
const TOKEN: &str = "cw-agent-token";
const PATH: &str = "/v1/integrations/chatwoot";
const LEAK: &str = "您的身份证号是110105199003071239";

/// One request the fake Chatwoot received.
#[derive(Debug)]
struct Received {
    path: String,
    token: Option<String>,
    body: Value,
}

/// A fake Chatwoot API answering each request with the next of `statuses` (the last one repeated).
async fn fake_chatwoot(statuses: Vec<u16>) -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    slow_chatwoot(statuses, Duration::ZERO).await
}

/// As [`fake_chatwoot`], answering each request only after `delay`.
async fn slow_chatwoot(
    statuses: Vec<u16>,
    delay: Duration,
) -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let served = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (tx, statuses, served) = (tx.clone(), statuses.clone(), Arc::clone(&served));
            let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let (tx, statuses, served) = (tx.clone(), statuses.clone(), Arc::clone(&served));
                async move {
                    let path = req.uri().path().to_string();
                    let token = req
                        .headers()
                        .get("api_access_token")
                        .and_then(|v| v.to_str().ok())
                        .map(String::from);
                    let bytes =
                        axum::body::to_bytes(axum::body::Body::new(req.into_body()), 1 << 20)
                            .await
                            .unwrap();
                    tokio::time::sleep(delay).await;
                    let n = served.fetch_add(1, Ordering::SeqCst);
                    let status = statuses[n.min(statuses.len() - 1)];
                    let _ = tx.send(Received {
                        path,
                        token,
                        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    });
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(axum::body::Body::from(r#"{"id":1}"#))
                            .unwrap(),
                    )
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    (addr, rx)
}

/// An address where nothing listens (the port was just freed).
async fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

fn config(base: Option<SocketAddr>, secret: Option<&str>) -> Config {
    let mut c = common::config();
    let cw = &mut c.integrations.chatwoot;
    cw.enabled = true;
    cw.base_url = base.map(|a| format!("http://{a}"));
    cw.api_token = base.map(|_| TOKEN.to_string());
    cw.secret = secret.map(String::from);
    cw.retry_backoff_ms = 20;
    c
}

fn message(
    id: u64,
    conversation: u64,
    message_type: &str,
    sender: &str,
    private: bool,
    text: &str,
) -> String {
    json!({
        "event": "message_created", "id": id, "content": text, "message_type": message_type,
        "content_type": "text", "content_attributes": {}, "created_at": "2026-12-06T02:20:00.000Z",
        "private": private, "source_id": null,
        "sender": {"id": 5, "name": "someone", "type": sender},
        "inbox": {"id": 1, "name": "Web"},
        "conversation": {"id": conversation, "inbox_id": 1, "status": "open", "messages": []},
        "account": {"id": 1, "name": "Acme"}
    })
    .to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Delivers `body` as Chatwoot does: signed with `secret` at `ts` (or unsigned).
async fn deliver_at(addr: SocketAddr, secret: Option<&str>, ts: u64, body: &str) -> (u16, Value) {
    let ts = ts.to_string();
    let sig = secret.map(|s| signature::sign(s, &ts, body.as_bytes()));
    let mut headers = vec![(
        "X-Chatwoot-Delivery",
        "7f0c2a1e-0000-4000-8000-000000000001",
    )];
    if let Some(sig) = &sig {
        headers.push(("X-Chatwoot-Signature", sig));
        headers.push(("X-Chatwoot-Timestamp", &ts));
    }
    common::post_with_headers(addr, PATH, &headers, body).await
}

async fn deliver(addr: SocketAddr, body: &str) -> (u16, Value) {
    deliver_at(addr, Some(SECRET), now(), body).await
}

async fn status(addr: SocketAddr) -> Value {
    let (code, body) =
        common::http(addr, "GET", "/v1/integrations/chatwoot/status", None, None).await;
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Polls the status until `pred` holds (or fails after 10 s).
async fn status_until(addr: SocketAddr, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = status(addr).await;
        if pred(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "status never got there: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn nothing_more(rx: &mut mpsc::UnboundedReceiver<Received>) {
    if let Ok(Some(r)) = tokio::time::timeout(Duration::from_millis(400), rx.recv()).await {
        panic!("an unexpected request reached Chatwoot: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_violation_posts_one_private_note_and_customer_messages_only_enter_the_conversation()
{
    let (api, mut notes) = fake_chatwoot(vec![200]).await;
    let running = common::start(config(Some(api), Some(SECRET))).await;
    let addr = running.addr;
    // A screen listening to the conversation (until its final score) sees the same findings.
    let listener = tokio::spawn(common::sse(
        addr,
        "/v1/conversations/42/events",
        |name, v| name == "score" && v["final"] == true,
    ));
    while running.app.registry.listeners() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let (code, fed) = deliver(
        addr,
        &message(1, 42, "incoming", "contact", false, "我的身份证号是多少？"),
    )
    .await;
    assert_eq!(code, 200, "{fed}");
    assert_eq!(fed["status"], "fed");
    assert_eq!(
        (fed["conversation_id"].as_str(), fed["turn"].as_u64()),
        (Some("42"), Some(0))
    );

    let (code, checked) = deliver(addr, &message(2, 42, "outgoing", "user", false, LEAK)).await;
    assert_eq!(code, 200, "{checked}");
    assert_eq!(checked["status"], "checked");
    assert_eq!(
        checked["turn"], 1,
        "the customer's message is turn 0: {checked}"
    );
    assert_eq!(checked["findings"], 1);
    assert_eq!(checked["note"], "queued");

    let note = tokio::time::timeout(Duration::from_secs(10), notes.recv())
        .await
        .expect("a note within 10 s")
        .unwrap();
    assert_eq!(note.path, "/api/v1/accounts/1/conversations/42/messages");
    assert_eq!(note.token.as_deref(), Some(TOKEN));
    assert_eq!(note.body["private"], true);
    assert_eq!(note.body["message_type"], "outgoing");
    let content = note.body["content"].as_str().unwrap();
    assert!(
        content.starts_with("**话术检查**：1 处问题\n- **V001**（critical）“110105199003071239”："),
        "{content}"
    );
    assert!(
        content.contains("\n  建议：**************1239\n"),
        "{content}"
    );
    assert!(
        content.contains("\n\n**合规改写**：您的身份证号是**************1239\n\n"),
        "{content}"
    );
    // The agent's first message had no greeting: the scorecard's live coaching comes with the note.
    assert!(content.contains("\n\n**辅导**（greeting）："), "{content}");
    // One note for the agent's message, none for the customer's.
    nothing_more(&mut notes).await;

    // The scorecard has both messages: the finding is on turn 1.
    let (code, score) = common::http(addr, "GET", "/v1/conversations/42", None, None).await;
    assert_eq!(code, 200, "{score}");
    let score: Value = serde_json::from_str(&score).unwrap();
    assert_eq!(score["findings"][0]["turn"], 1, "{score}");

    // Chatwoot delivering the same message again (a retry) neither counts it twice nor posts again.
    let (code, again) = deliver(addr, &message(2, 42, "outgoing", "user", false, LEAK)).await;
    assert_eq!(
        (code, again["status"].as_str()),
        (200, Some("duplicate")),
        "{again}"
    );
    nothing_more(&mut notes).await;
    let s = status_until(addr, |s| s["notes_posted"]["sent"] == 1).await;
    assert_eq!(s["webhooks"]["checked"], 1, "{s}");
    assert_eq!(s["webhooks"]["fed"], 1, "{s}");
    assert_eq!(s["webhooks"]["duplicates"], 1, "{s}");

    // Resolving the conversation in Chatwoot ends it here: the final scorecard goes to its listeners.
    let resolved =
        json!({"event": "conversation_status_changed", "id": 42, "status": "resolved"}).to_string();
    let (code, ended) = deliver(addr, &resolved).await;
    assert_eq!(
        (code, ended["status"].as_str()),
        (200, Some("ended")),
        "{ended}"
    );
    let events = listener.await.unwrap();
    let finding = events
        .iter()
        .find(|(name, _)| name == "finding")
        .map(|(_, v)| v)
        .expect("a finding on SSE");
    assert_eq!(finding["rule"], "V001");
    assert_eq!(finding["ref"]["chatwoot_message_id"], 2);
    assert!(
        events.iter().any(|(n, v)| n == "hint"
            && v["hint"] == "rewrite"
            && v["text"] == "您的身份证号是**************1239"),
        "{events:?}"
    );
    let (_, last) = events.last().expect("the final score on SSE");
    assert_eq!(
        (last["type"].as_str(), last["final"].as_bool()),
        (Some("score"), Some(true)),
        "{last}"
    );
    assert_eq!(last["findings"][0]["rule"], "V001", "{last}");
    assert!(
        running
            .app
            .registry
            .get("42")
            .is_none_or(|c| !c.is_active())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withheld_rewrite_is_explained_in_the_note() {
    let (api, mut notes) = fake_chatwoot(vec![200]).await;
    let running = common::start(config(Some(api), Some(SECRET))).await;
    let (code, r) = deliver(
        running.addr,
        &message(9, 50, "outgoing", "user", false, "这个我不知道，你问别人吧"),
    )
    .await;
    assert_eq!((code, r["findings"].as_u64()), (200, Some(2)), "{r}");
    let note = tokio::time::timeout(Duration::from_secs(10), notes.recv())
        .await
        .expect("a note")
        .unwrap();
    let content = note.body["content"].as_str().unwrap();
    assert!(
        content.starts_with("**话术检查**：2 处问题\n- **F001**"),
        "{content}"
    );
    assert!(
        content.contains("\n\n**未给出改写**：no compliant rewrite"),
        "{content}"
    );
    assert!(!content.contains("合规改写"), "{content}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_private_notes_and_activity_are_ignored() {
    let (api, mut notes) = fake_chatwoot(vec![200]).await;
    let running = common::start(config(Some(api), Some(SECRET))).await;
    let addr = running.addr;
    for (body, why) in [
        (
            message(1, 43, "outgoing", "agent_bot", false, LEAK),
            "not sent by a human agent",
        ),
        (
            message(2, 43, "outgoing", "user", true, LEAK),
            "private note",
        ),
        (
            message(3, 43, "incoming", "contact", true, LEAK),
            "private note",
        ),
        (message(4, 43, "activity", "user", false, LEAK), "activity"),
        (
            json!({"event": "conversation_created", "id": 43}).to_string(),
            "not handled",
        ),
    ] {
        let (code, r) = deliver(addr, &body).await;
        assert_eq!(code, 200, "{r}");
        assert_eq!(r["status"], "ignored", "{body}: {r}");
        assert!(r["reason"].as_str().unwrap().contains(why), "{body}: {r}");
    }
    nothing_more(&mut notes).await;
    // None of them started a conversation.
    let (code, _) = common::http(addr, "GET", "/v1/conversations/43", None, None).await;
    assert_eq!(code, 404);
    assert_eq!(status(addr).await["webhooks"]["ignored"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_get_401_json_errors() {
    let (api, mut notes) = fake_chatwoot(vec![200]).await;
    let running = common::start(config(Some(api), Some(SECRET))).await;
    let addr = running.addr;
    let body = message(1, 44, "outgoing", "user", false, LEAK);
    let cases: [(Option<&str>, u64, &str); 3] = [
        (None, now(), "missing X-Chatwoot-Signature"),
        (Some("not-the-secret"), now(), "does not match"),
        (Some(SECRET), now() - 3600, "away from this server's clock"),
    ];
    for (secret, ts, says) in cases {
        let (code, r) = deliver_at(addr, secret, ts, &body).await;
        assert_eq!(code, 401, "{r}");
        assert_eq!(r["error"]["code"], "unauthorized", "{r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains(says),
            "{r}"
        );
    }
    // A body changed after signing.
    let ts = now().to_string();
    let sig = signature::sign(SECRET, &ts, body.as_bytes());
    let tampered = body.replace("110105199003071239", "110105199003071230");
    let (code, r) = common::post_with_headers(
        addr,
        PATH,
        &[
            ("X-Chatwoot-Signature", &sig),
            ("X-Chatwoot-Timestamp", &ts),
        ],
        &tampered,
    )
    .await;
    assert_eq!(
        (code, r["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{r}"
    );
    nothing_more(&mut notes).await;
    let (code, _) = common::http(addr, "GET", "/v1/conversations/44", None, None).await;
    assert_eq!(
        code, 404,
        "a refused delivery must not start a conversation"
    );
    assert_eq!(status(addr).await["webhooks"]["refused"], 4);
    // The same delivery, signed right, passes.
    let (code, r) = deliver(addr, &body).await;
    assert_eq!((code, r["status"].as_str()), (200, Some("checked")), "{r}");
}
