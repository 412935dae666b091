//! The Chatwoot API failing, retries, shutdown and configuration errors (moved from main.rs: one file per job, ≤ 600 lines).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_a_websocket_owns_gets_409_and_chatwoot_may_retry_later() {
    let (api, mut notes) = fake_chatwoot(vec![200]).await;
    let running = common::start(config(Some(api), Some(SECRET))).await;
    let addr = running.addr;
    let mut ws = common::connect(addr).await;
    common::start_session(&mut ws, "51").await;
    let body = message(1, 51, "outgoing", "user", false, LEAK);
    let (code, r) = deliver(addr, &body).await;
    assert_eq!(
        (code, r["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{r}"
    );
    nothing_more(&mut notes).await;
    // Once the WebSocket's session is over, Chatwoot's retry of the same message is taken in, not a duplicate.
    common::send(&mut ws, json!({"type": "session.end"})).await;
    common::until(&mut ws, "score", |v| v["final"] == true).await;
    let (code, r) = deliver(addr, &body).await;
    assert_eq!((code, r["status"].as_str()), (200, Some("checked")), "{r}");
    let note = tokio::time::timeout(Duration::from_secs(10), notes.recv())
        .await
        .expect("a note")
        .unwrap();
    assert_eq!(note.path, "/api/v1/accounts/1/conversations/51/messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_deliveries_pass_on_loopback_without_a_secret_and_off_means_404() {
    let running = common::start(config(None, None)).await;
    let (code, r) = deliver_at(
        running.addr,
        None,
        now(),
        &message(1, 45, "outgoing", "user", false, LEAK),
    )
    .await;
    assert_eq!(code, 200, "{r}");
    // No Chatwoot API configured: the findings go to the sidecar's listeners only.
    assert_eq!(
        (r["findings"].as_u64(), r["note"].as_str()),
        (Some(1), Some("off")),
        "{r}"
    );

    let off = common::start(common::config()).await;
    let (code, r) = deliver_at(
        off.addr,
        None,
        now(),
        &message(1, 45, "outgoing", "user", false, LEAK),
    )
    .await;
    assert_eq!(
        (code, r["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatwoot_api_down_still_answers_200_and_counts_the_failure() {
    let down = closed_port().await;
    let mut c = config(Some(down), Some(SECRET));
    c.integrations.chatwoot.retries = 2;
    let running = common::start(c).await;
    let addr = running.addr;
    let (code, r) = deliver(addr, &message(1, 46, "outgoing", "user", false, LEAK)).await;
    assert_eq!((code, r["note"].as_str()), (200, Some("queued")), "{r}");
    let s = status_until(addr, |s| s["notes_posted"]["failed"] == 1).await;
    assert_eq!(
        s["notes_posted"]["retries"], 2,
        "two retries after the first attempt: {s}"
    );
    assert_eq!(s["notes_posted"]["sent"], 0, "{s}");
    assert_eq!(s["notes_posted"]["pending"], 0, "{s}");
    let (_, metrics) = common::http(addr, "GET", "/metrics", None, None).await;
    assert!(
        metrics.contains(r#"huashu_integration_notes_total{platform="chatwoot",result="failed"}"#),
        "{metrics}"
    );
    // The daemon goes on: the next delivery is answered as before.
    let (code, r) = deliver(addr, &message(2, 46, "incoming", "contact", false, "好的")).await;
    assert_eq!((code, r["status"].as_str()), (200, Some("fed")), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_chatwoot_never_delays_the_webhook_reply() {
    // Accepts connections and never answers.
    let hang = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = hang.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = hang.accept().await {
            held.push(tcp);
        }
    });
    let mut c = config(Some(api), Some(SECRET));
    c.integrations.chatwoot.request_timeout_ms = 1_500;
    c.integrations.chatwoot.retries = 0;
    let running = common::start(c).await;
    let started = Instant::now();
    let (code, r) = deliver(
        running.addr,
        &message(1, 47, "outgoing", "user", false, LEAK),
    )
    .await;
    let took = started.elapsed();
    assert_eq!((code, r["note"].as_str()), (200, Some("queued")), "{r}");
    assert!(
        took < Duration::from_millis(1_500),
        "the reply waited for the note: {took:?}"
    );
    let s = status_until(running.addr, |s| s["notes_posted"]["failed"] == 1).await;
    assert_eq!(s["notes_posted"]["retries"], 0, "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_and_the_note_arrives() {
    let (api, mut notes) = fake_chatwoot(vec![503, 200]).await;
    let running = common::start(config(Some(api), Some(SECRET))).await;
    let (code, _) = deliver(
        running.addr,
        &message(1, 48, "outgoing", "user", false, LEAK),
    )
    .await;
    assert_eq!(code, 200);
    for _ in 0..2 {
        let r = tokio::time::timeout(Duration::from_secs(10), notes.recv())
            .await
            .expect("two attempts")
            .unwrap();
        assert_eq!(r.path, "/api/v1/accounts/1/conversations/48/messages");
    }
    let s = status_until(running.addr, |s| s["notes_posted"]["sent"] == 1).await;
    assert_eq!(
        (
            s["notes_posted"]["retries"].as_u64(),
            s["notes_posted"]["failed"].as_u64()
        ),
        (Some(1), Some(0)),
        "{s}"
    );
    nothing_more(&mut notes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_note_in_flight_finish() {
    let delay = Duration::from_millis(800);
    let (api, mut notes) = slow_chatwoot(vec![200], delay).await;
    let running = common::start(config(Some(api), Some(SECRET))).await;
    let (code, r) = deliver(
        running.addr,
        &message(1, 49, "outgoing", "user", false, LEAK),
    )
    .await;
    assert_eq!((code, r["note"].as_str()), (200, Some("queued")), "{r}");
    let began = Instant::now();
    running.shutdown();
    running.stopped().await;
    // The daemon stopped only once Chatwoot had answered the note (well within shutdown_grace_ms).
    assert!(
        began.elapsed() >= delay - Duration::from_millis(100),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(
        notes.try_recv().unwrap().path,
        "/api/v1/accounts/1/conversations/49/messages"
    );
}

#[test]
fn config_refuses_what_cannot_work() {
    let refused = |c: Config| c.finish().err().map(|e| e.to_string()).unwrap_or_default();
    let mut c = config(None, None);
    c.tokens = vec!["t".into()];
    assert!(refused(c).contains("set a secret"));
    let mut c = config(None, Some(SECRET));
    c.integrations.chatwoot.base_url = Some("https://app.chatwoot.com".into());
    c.integrations.chatwoot.api_token = Some(TOKEN.into());
    assert!(refused(c).contains("https is not supported"));
    let mut c = config(None, Some(SECRET));
    c.integrations.chatwoot.base_url = Some("http://chatwoot:3000".into());
    assert!(refused(c).contains("no api_token"));
    assert!(config(None, Some(SECRET)).finish().is_ok());
    // Neither the token nor the secret shows in a printed config.
    let printed = format!(
        "{:?}",
        config(Some(([127, 0, 0, 1], 9).into()), Some(SECRET))
    );
    assert!(printed.contains("ChatwootConfig"), "{printed}");
    assert!(
        !printed.contains(SECRET) && !printed.contains(TOKEN),
        "{printed}"
    );
    let parsed = Config::from_toml(
        "[integrations.chatwoot]\nenabled = true\nbase_url = \"http://chatwoot:3000\"\napi_token = \"x\"\nsecret = \"y\"\nretries = 4\n",
    )
    .unwrap();
    assert_eq!(parsed.integrations.chatwoot.retries, 4);
    let unknown = Config::from_toml("[integrations.chatwoot]\nsecrte = \"y\"\n")
        .err()
        .unwrap();
    assert!(unknown.to_string().contains("secrte"), "{unknown}");
}
