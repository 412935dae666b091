//! The adapters under bad input and unlucky platforms (moved from main.rs: one file per job, ≤ 600 lines).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audiohook_session_gives_the_offline_scorecard_and_checks_its_signature() {
    let secret = b"audiohook-secret";
    let srv = server_with(true, |c| {
        c.integrations.audiohook.api_key = Some("key-1".into());
        c.integrations.audiohook.client_secret = Some(B64.encode(secret));
    })
    .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let path = "/v1/integrations/audiohook";
    // The client sends Host "127.0.0.1:port": the signature covers @authority as sent.
    let host = format!("127.0.0.1:{}", srv.addr.port());
    // Wrong secret, wrong key, expired, unsigned: 401.
    for h in [
        audiohook_headers(&host, "sess-1", "key-1", b"wrong", now),
        audiohook_headers(&host, "sess-1", "key-2", secret, now),
        audiohook_headers(&host, "sess-1", "key-1", secret, now - 600),
        vec![("x-api-key", "key-1".to_string())],
    ] {
        let e = ws_to(srv.addr, path, &h).await.unwrap_err();
        assert_eq!(status_of(&e), 401, "{h:?}");
    }
    let good = audiohook_headers(&host, "sess-1", "key-1", secret, now);
    let id = "genesys-conv-1";
    let events = listen(srv.addr, id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut ws = ws_to(srv.addr, path, &good).await.unwrap();
    ws.send(ah("open", 1, json!({"organizationId": "org-1", "conversationId": id,
        "participant": {"id": "p1", "ani": "+1555", "aniName": "", "dnis": "+1800"},
        "media": [{"type": "audio", "format": "PCMU", "channels": ["external", "internal"], "rate": 8000}]})))
        .await
        .unwrap();
    let opened = recv(&mut ws).await.unwrap();
    assert_eq!(opened["type"], "opened", "{opened}");
    assert_eq!(
        (opened["clientseq"].as_u64(), opened["seq"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(opened["parameters"]["media"][0]["format"], "PCMU");
    ws.send(ah("ping", 2, json!({}))).await.unwrap();
    let pong = recv(&mut ws).await.unwrap();
    assert_eq!(
        (pong["type"].as_str(), pong["clientseq"].as_u64()),
        (Some("pong"), Some(2))
    );
    let script = [2, 0, 3];
    let (agent, customer) = tones::call(&script, 8_000);
    // external (customer) first, as the offered channels say.
    let frames = tones::interleave(&tones::mulaw(&customer), &tones::mulaw(&agent), 1);
    for chunk in frames.chunks(1600) {
        ws.send(Message::Binary(chunk.to_vec().into()))
            .await
            .unwrap();
    }
    ws.send(ah("close", 3, json!({"reason": "end"})))
        .await
        .unwrap();
    let closed = recv(&mut ws).await.unwrap();
    assert_eq!(closed["type"], "closed", "{closed}");
    heard_and_scored_as_offline(srv.addr, id, &events.await.unwrap(), &script).await;
    assert_routed(&stats(srv.addr, id).await, 1, 2);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audiohook_audio_before_open_gets_a_disconnect() {
    let srv = server(false).await;
    let mut ws = ws_to(srv.addr, "/v1/integrations/audiohook", &[])
        .await
        .unwrap();
    ws.send(Message::Binary(vec![0xff; 320].into()))
        .await
        .unwrap();
    let (msgs, close) = drain(&mut ws).await;
    assert_eq!(close, Some(1008));
    assert_eq!(msgs[0]["type"], "disconnect", "{msgs:?}");
    assert_eq!(msgs[0]["parameters"]["reason"], "error");
    srv.shutdown();
    srv.stopped().await;
}

// ---- Asterisk AudioSocket ----------------------------------------------------------------------------------

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![kind];
    f.extend(u16::try_from(payload.len()).unwrap().to_be_bytes());
    f.extend(payload);
    f
}

async fn register(addr: SocketAddr, uuid: &str, id: &str, role: &str) -> (u16, String) {
    let body = json!({"uuid": uuid, "conversation_id": id, "role": role}).to_string();
    http(
        addr,
        "POST",
        "/v1/integrations/audiosocket/calls",
        None,
        Some(&body),
    )
    .await
}

/// One leg: the UUID frame, 20 ms slin frames, then a hangup (or an abrupt end).
async fn leg(addr: SocketAddr, uuid: [u8; 16], pcm: Vec<f32>, hangup: bool) -> Vec<u8> {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // Writes may fail once the server has refused the leg and closed: what it said is read below.
    let mut frames = vec![frame(0x01, &uuid)];
    frames.extend(tones::pcm16(&pcm).chunks(320).map(|c| frame(0x10, c)));
    frames.push(frame(0x03, b"5"));
    if hangup {
        frames.push(frame(0x00, &[]));
    }
    for f in frames {
        if tcp.write_all(&f).await.is_err() {
            break;
        }
    }
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
    rest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audiosocket_two_legs_make_one_call_and_unknown_uuids_are_refused() {
    let srv = server(true).await;
    let sock = *srv.app.integrations.audiosocket_addr.get().unwrap();
    let id = "ast-call-1";
    let ua = "0e5f0a2c-6b49-4e0b-9c7b-0a1b2c3d4e5f";
    let uc = "1e5f0a2c-6b49-4e0b-9c7b-0a1b2c3d4e5f";
    assert_eq!(register(srv.addr, ua, id, "agent").await.0, 201);
    assert_eq!(
        register(srv.addr, &uc.to_uppercase(), id, "customer")
            .await
            .0,
        201
    );
    let (status, body) = register(srv.addr, "not-a-uuid", id, "agent").await;
    assert_eq!(status, 400);
    assert!(body.contains("not a UUID"), "{body}");
    assert_eq!(register(srv.addr, ua, id, "boss").await.0, 400);
    let bytes = |u: &str| -> [u8; 16] {
        let hex: String = u.chars().filter(|c| *c != '-').collect();
        let v: Vec<u8> = (0..16)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        v.try_into().unwrap()
    };
    // An unregistered UUID: an error frame, then the connection closes.
    let rest = leg(sock, [7; 16], vec![0.0; 800], true).await;
    assert_eq!(rest.first(), Some(&0xff), "{rest:?}");
    let events = listen(srv.addr, id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let script = [2, 0, 1, 3];
    let (agent, customer) = tones::call(&script, 8_000);
    let (a, c) = tokio::join!(
        leg(sock, bytes(ua), agent, true),
        leg(sock, bytes(uc), customer, true)
    );
    assert!(a.is_empty() && c.is_empty(), "{a:?} {c:?}");
    heard_and_scored_as_offline(srv.addr, id, &events.await.unwrap(), &script).await;
    assert_routed(&stats(srv.addr, id).await, 2, 2);
    srv.shutdown();
    srv.stopped().await;
}

/// The agent's and the customer's AudioSocket UUIDs registered for call `id`, and a listener on its events
/// (given a moment to subscribe before any audio).
async fn two_legs_registered(
    addr: SocketAddr,
    id: &str,
    agent: [u8; 16],
    customer: [u8; 16],
) -> tokio::task::JoinHandle<Vec<(String, Value)>> {
    let hex = |b: [u8; 16]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(register(addr, &hex(agent), id, "agent").await.0, 201);
    assert_eq!(register(addr, &hex(customer), id, "customer").await.0, 201);
    let events = listen(addr, id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audiosocket_leg_that_connects_after_the_other_hung_up_joins_the_same_call() {
    // A short agent leg hangs up before the customer's leg is even connected (the two race on a busy
    // machine): the call waits `reconnect_ms` for the leg it has not heard from, instead of ending and
    // refusing the customer's audio as a second call.
    let srv = server(true).await;
    let sock = *srv.app.integrations.audiosocket_addr.get().unwrap();
    let id = "ast-call-seq";
    let (ua, uc) = ([0xa2u8; 16], [0xc2u8; 16]);
    let events = two_legs_registered(srv.addr, id, ua, uc).await;
    let script = [2, 0, 1, 3];
    let (agent, customer) = tones::call(&script, 8_000);
    let a = leg(sock, ua, agent, true).await;
    let c = leg(sock, uc, customer, true).await;
    assert!(a.is_empty() && c.is_empty(), "{a:?} {c:?}");
    let events = events.await.unwrap();
    let finals = sse_finals(&events);
    let roles: std::collections::BTreeSet<&str> = finals.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(roles, ["agent", "customer"].into(), "{finals:?}");
    assert_routed(&stats(srv.addr, id).await, 2, 2);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audiosocket_leg_answered_late_stays_on_the_calls_clock() {
    let srv = server(true).await;
    let sock = *srv.app.integrations.audiosocket_addr.get().unwrap();
    let id = "ast-late";
    let (ua, uc) = ([0xa1u8; 16], [0xc1u8; 16]);
    let events = two_legs_registered(srv.addr, id, ua, uc).await;
    // The customer's leg comes first and complains in real time (3.1 s).
    let mut customer = tokio::net::TcpStream::connect(sock).await.unwrap();
    customer.write_all(&frame(0x01, &uc)).await.unwrap();
    let (_, said_c) = tones::call(&[2], 8_000);
    let mut next = tokio::time::Instant::now();
    for chunk in tones::pcm16(&said_c).chunks(320) {
        customer.write_all(&frame(0x10, chunk)).await.unwrap();
        next += Duration::from_millis(20);
        tokio::time::sleep_until(next).await;
    }
    // The agent's leg is answered only now, and deflects at once (sent fast): by its own samples it
    // would start at the call's beginning, before the complaint.
    let (said_a, _) = tones::call(&[1], 8_000);
    let rest = leg(sock, ua, said_a, true).await;
    assert!(rest.is_empty(), "{rest:?}");
    customer.write_all(&frame(0x00, &[])).await.unwrap();
    let events = events.await.unwrap();
    let finals = sse_finals(&events);
    assert_eq!(heard_lines(&finals), said(&[2, 1]), "{events:#?}");
    assert!(
        finals[1].2 > 3000,
        "the agent's line starts on the call's clock: {finals:?}"
    );
    let score = final_score(srv.addr, id).await;
    assert!(
        score["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["turn"] == 1),
        "{score}"
    );
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_calls_scorecard_is_kept_for_retain_s_only() {
    let srv = server_with(false, |c| c.integrations.retain_s = 1).await;
    let mut ws = freeswitch(srv.addr).await;
    fork_call(&mut ws, "fs-retain", &[0], "left").await;
    ws.close(None).await.unwrap();
    let score = final_score(srv.addr, "fs-retain").await;
    assert_eq!(score["id"], "fs-retain");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = http(srv.addr, "GET", "/v1/conversations/fs-retain", None, None).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = http(
        srv.addr,
        "GET",
        "/v1/integrations/calls/fs-retain",
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_with_only_the_callers_track_has_one_party() {
    let srv = server(true).await;
    let id = "CA-inbound-only";
    let events = listen(srv.addr, id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut ws = ws_to(srv.addr, "/v1/integrations/twilio", &[])
        .await
        .unwrap();
    twilio_tracks(&mut ws, id, &[2, 0, 3], true, &["inbound"]).await;
    let events = events.await.unwrap();
    assert_eq!(heard_lines(&sse_finals(&events)), said(&[2, 3]));
    let st = stats(srv.addr, id).await;
    let roles: Vec<&str> = st["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["customer"], "{st}");
    srv.shutdown();
    srv.stopped().await;
}
