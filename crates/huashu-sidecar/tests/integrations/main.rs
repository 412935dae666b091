#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Replay tests of the telephony adapters on loopback, no vendor: a scripted client per platform speaks
//! its wire protocol from a synthesised two-party 8 kHz call (`common/tones.rs`: a tone per line, agent
//! 440/550 Hz, customer 880/990 Hz). Without a Whisper model the per-party statistics prove routing (each
//! role's pitch is its own tone); with the tone recogniser standing for Whisper, the final scorecard is
//! the one the same turns score offline in spoken order. Bad cases: wrong signature, audio before the
//! start message, abrupt close, reconnect with the same call id, a party that never speaks.

mod bad_cases;
#[path = "../common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::tones::{self, LINES};
use common::*;
use futures_util::{SinkExt, StreamExt};
use hmac::Mac;
use huashu_sidecar::audio::Speech;
use huashu_sidecar::{Config, Running};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

async fn server_with(speech: bool, edit: impl FnOnce(&mut Config)) -> Running {
    let mut c = config();
    c.integrations.reconnect_ms = 400;
    c.integrations.audiosocket.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    edit(&mut c);
    let mut c = c.finish().unwrap();
    c.audio.model = None;
    let srv = huashu_sidecar::start(c).await.unwrap();
    if speech {
        srv.app
            .speech
            .set(Speech::new(Arc::new(tones::ToneFactory), 2, 1, 16))
            .unwrap();
    }
    srv
}

async fn server(speech: bool) -> Running {
    server_with(speech, |_| {}).await
}

fn status_of(e: &tokio_tungstenite::tungstenite::Error) -> u16 {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(r) => r.status().as_u16(),
        other => panic!("not an HTTP refusal: {other}"),
    }
}

/// Reads until the server closes; returns the text frames and the close code.
async fn drain(ws: &mut Ws) -> (Vec<Value>, Option<u16>) {
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => out.push(serde_json::from_str(t.as_str()).unwrap()),
            Ok(Some(Ok(Message::Close(f)))) => return (out, f.map(|f| u16::from(f.code))),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => return (out, None),
            Err(_) => panic!("no close within 20 s: {out:?}"),
        }
    }
}

/// The call's final scorecard (10 s: the tone recogniser is instant).
async fn final_score(addr: SocketAddr, id: &str) -> Value {
    common::final_score(addr, id, Duration::from_secs(10)).await
}

async fn stats(addr: SocketAddr, id: &str) -> Value {
    call_stats(addr, id).await
}

fn party<'a>(stats: &'a Value, role: &str) -> &'a Value {
    stats["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == role)
        .unwrap_or_else(|| panic!("no {role} in {stats}"))
}

/// Each role heard its own tone (agent lines 440/550 Hz, customer 880/990 Hz) and the VAD cut its lines.
fn assert_routed(stats: &Value, agent_lines: u64, customer_lines: u64) {
    let a = party(stats, "agent");
    let c = party(stats, "customer");
    let (ah, ch) = (
        a["tone_hz"].as_f64().unwrap(),
        c["tone_hz"].as_f64().unwrap(),
    );
    if agent_lines > 0 {
        assert!((420.0..580.0).contains(&ah), "agent pitch {ah}: {stats}");
    }
    if customer_lines > 0 {
        assert!(
            (850.0..1010.0).contains(&ch),
            "customer pitch {ch}: {stats}"
        );
    }
    assert_eq!(a["utterances"], agent_lines, "{stats}");
    assert_eq!(c["utterances"], customer_lines, "{stats}");
}

/// SSE listener of a call, started before the call: every event until the final score.
fn listen(addr: SocketAddr, id: &str) -> tokio::task::JoinHandle<Vec<(String, Value)>> {
    let path = format!("/v1/conversations/{id}/events");
    tokio::spawn(
        async move { sse(addr, &path, |name, v| name == "score" && v["final"] == true).await },
    )
}

fn sse_finals(events: &[(String, Value)]) -> Vec<(String, String, u64, u64)> {
    let msgs: Vec<Value> = events.iter().map(|(_, v)| v.clone()).collect();
    tones::finals(&msgs)
}

fn said(script: &[usize]) -> Vec<(String, String)> {
    script
        .iter()
        .map(|&i| (LINES[i].1.to_string(), LINES[i].2.to_string()))
        .collect()
}

fn heard_lines(finals: &[(String, String, u64, u64)]) -> Vec<(String, String)> {
    finals.iter().map(|f| (f.0.clone(), f.1.clone())).collect()
}

/// The call's lines came through in the order `script` spoke them, and its live scorecard is the one
/// `huashu score` gives the same finals offline; returns that scorecard.
async fn heard_and_scored_as_offline(
    addr: SocketAddr,
    id: &str,
    events: &[(String, Value)],
    script: &[usize],
) -> Value {
    let finals = sse_finals(events);
    assert_eq!(heard_lines(&finals), said(script), "{events:#?}");
    let score = final_score(addr, id).await;
    assert_eq!(
        tones::gist(&score),
        tones::gist(&tones::offline_score(&finals, id))
    );
    score
}

// ---- FreeSWITCH ---------------------------------------------------------------------------------------

async fn freeswitch(addr: SocketAddr) -> Ws {
    ws_to(
        addr,
        "/v1/integrations/freeswitch",
        &[("sec-websocket-protocol", "audio.drachtio.org".into())],
    )
    .await
    .unwrap()
}

/// Streams `script` as mod_audio_fork does: metadata, then 20 ms stereo L16 frames (agent on `agent`).
async fn fork_call(ws: &mut Ws, id: &str, script: &[usize], agent: &str) {
    let meta = json!({"conversation_id": id, "sample_rate": 8000, "channels": 2, "agent": agent, "callid": "sip-1"});
    ws.send(Message::Text(meta.to_string().into()))
        .await
        .unwrap();
    let (a, c) = tones::call(script, 8_000);
    let (l, r) = if agent == "left" { (a, c) } else { (c, a) };
    let frames = tones::interleave(&tones::pcm16(&l), &tones::pcm16(&r), 2);
    for chunk in frames.chunks(640) {
        ws.send(Message::Binary(chunk.to_vec().into()))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeswitch_fork_gives_the_offline_scorecard_and_hints_back() {
    let srv = server(true).await;
    let id = "fs-call-1";
    let events = listen(srv.addr, id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut ws = freeswitch(srv.addr).await;
    let script = [2, 1, 3];
    fork_call(&mut ws, id, &script, "right").await;
    // Wait for the agent's deflection to come back as a mod_audio_fork::json payload.
    let mut back = Vec::new();
    while !back.iter().any(|m: &Value| m["data"]["type"] == "hint") {
        match tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Text(t))) => back.push(serde_json::from_str(t.as_str()).unwrap()),
            other => panic!("{other:?} before a hint: {back:?}"),
        }
    }
    assert!(back.iter().all(|m| m["type"] == "json"), "{back:?}");
    // The fork stops: the module closes the socket.
    ws.close(None).await.unwrap();
    let events = events.await.unwrap();
    let score = heard_and_scored_as_offline(srv.addr, id, &events, &script).await;
    assert!(
        score["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["turn"] == 1)
    );
    // The SSE stream ended on the same final score.
    assert_eq!(events.last().unwrap().1["score"], score["score"]);
    assert_routed(&stats(srv.addr, id).await, 1, 2);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeswitch_without_a_model_routes_each_channel_and_refuses_audio_before_metadata() {
    let srv = server(false).await;
    // mod_audio_stream: no subprotocol, same format. Agent left.
    let mut ws = ws_to(srv.addr, "/v1/integrations/freeswitch", &[])
        .await
        .unwrap();
    fork_call(&mut ws, "fs-2", &[0, 2, 1], "left").await;
    ws.close(None).await.unwrap();
    let score = final_score(srv.addr, "fs-2").await;
    assert_eq!(score["id"], "fs-2");
    assert_routed(&stats(srv.addr, "fs-2").await, 2, 1);
    // Audio first: an error payload, then close 1008.
    let mut ws = freeswitch(srv.addr).await;
    ws.send(Message::Binary(vec![0u8; 640].into()))
        .await
        .unwrap();
    let (msgs, close) = drain(&mut ws).await;
    assert_eq!(close, Some(1008));
    assert_eq!(msgs[0]["data"]["code"], "no_session", "{msgs:?}");
    // Bad metadata names the field.
    let mut ws = freeswitch(srv.addr).await;
    ws.send(Message::Text(
        r#"{"conversation_id":"x","sample_rate":44100,"channels":2,"agent":"left"}"#.into(),
    ))
    .await
    .unwrap();
    let (msgs, close) = drain(&mut ws).await;
    assert_eq!(close, Some(1008));
    assert!(
        msgs[0]["data"]["message"]
            .as_str()
            .unwrap()
            .contains("sample_rate 44100"),
        "{msgs:?}"
    );
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_close_waits_for_a_reconnect_with_the_same_call_id() {
    let srv = server(true).await;
    let id = "fs-reconnect";
    let events = listen(srv.addr, id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // First half of the call, then the TCP connection drops without a close frame.
    let mut ws = freeswitch(srv.addr).await;
    fork_call(&mut ws, id, &[2], "right").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(ws);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let live = stats(srv.addr, id).await;
    assert_eq!(live["live"], true, "the call waits reconnect_ms: {live}");
    // The fork reconnects within reconnect_ms (400 ms) and goes on: same conversation.
    let mut ws = freeswitch(srv.addr).await;
    fork_call(&mut ws, id, &[1], "right").await;
    ws.close(None).await.unwrap();
    heard_and_scored_as_offline(srv.addr, id, &events.await.unwrap(), &[2, 1]).await;
    // A drop with nobody reconnecting: the call ends after reconnect_ms with its final score.
    let mut ws = freeswitch(srv.addr).await;
    fork_call(&mut ws, "fs-dropped", &[0], "left").await;
    drop(ws);
    let score = final_score(srv.addr, "fs-dropped").await;
    assert_eq!(score["findings_total"], 0, "{score}");
    assert_eq!(stats(srv.addr, "fs-dropped").await["live"], false);
    srv.shutdown();
    srv.stopped().await;
}

// ---- Twilio -------------------------------------------------------------------------------------------

fn twilio_sig(token: &str, url: &str) -> String {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// A Media Streams session: connected, start (both tracks), media per track in 20 ms chunks, stop.
async fn twilio_call(ws: &mut Ws, call_sid: &str, script: &[usize], stop: bool) {
    twilio_tracks(ws, call_sid, script, stop, &["inbound", "outbound"]).await;
}

/// As [`twilio_call`], with only `tracks` announced and sent.
async fn twilio_tracks(ws: &mut Ws, call_sid: &str, script: &[usize], stop: bool, tracks: &[&str]) {
    let sid = "MZ0001";
    let msg = |v: Value| Message::Text(v.to_string().into());
    ws.send(msg(
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
    ))
    .await
    .unwrap();
    ws.send(msg(json!({"event": "start", "sequenceNumber": "1", "streamSid": sid, "start": {
        "accountSid": "AC1", "streamSid": sid, "callSid": call_sid, "tracks": tracks,
        "customParameters": {}, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})))
        .await
        .unwrap();
    let (agent, customer) = tones::call(script, 8_000);
    let (a, c) = (tones::mulaw(&agent), tones::mulaw(&customer));
    let mut seq = 2;
    for (i, (ca, cc)) in a.chunks(160).zip(c.chunks(160)).enumerate() {
        for (track, chunk) in [("inbound", cc), ("outbound", ca)] {
            if !tracks.contains(&track) {
                continue;
            }
            ws.send(msg(json!({"event": "media", "sequenceNumber": seq.to_string(), "streamSid": sid, "media": {
                "track": track, "chunk": (i + 1).to_string(), "timestamp": (i * 20).to_string(),
                "payload": B64.encode(chunk)}})))
                .await
                .unwrap();
            seq += 1;
        }
    }
    if stop {
        ws.send(msg(
            json!({"event": "stop", "sequenceNumber": seq.to_string(), "streamSid": sid,
            "stop": {"accountSid": "AC1", "callSid": call_sid}}),
        ))
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_media_stream_gives_the_offline_scorecard_with_a_valid_signature_only() {
    let srv = server_with(true, |c| {
        c.integrations.twilio.auth_token = Some("tw-token".into());
        c.integrations.twilio.url = Some("wss://assist.example.com/v1/integrations/twilio".into());
    })
    .await;
    let url = "wss://assist.example.com/v1/integrations/twilio";
    // Wrong or missing signature: 401 before any audio.
    for sig in [twilio_sig("other-token", url), String::new()] {
        let e = ws_to(
            srv.addr,
            "/v1/integrations/twilio",
            &[("x-twilio-signature", sig)],
        )
        .await
        .unwrap_err();
        assert_eq!(status_of(&e), 401);
    }
    let id = "CA-twilio-1";
    let events = listen(srv.addr, id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut ws = ws_to(
        srv.addr,
        "/v1/integrations/twilio",
        &[("x-twilio-signature", twilio_sig("tw-token", url))],
    )
    .await
    .unwrap();
    let script = [0, 2, 1, 3];
    twilio_call(&mut ws, id, &script, true).await;
    heard_and_scored_as_offline(srv.addr, id, &events.await.unwrap(), &script).await;
    assert_routed(&stats(srv.addr, id).await, 2, 2);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_media_before_start_is_refused_and_a_silent_party_holds_nothing_back() {
    let srv = server(true).await;
    let mut ws = ws_to(srv.addr, "/v1/integrations/twilio", &[])
        .await
        .unwrap();
    ws.send(Message::Text(
        json!({"event": "media", "media": {"track": "inbound", "payload": "AAAA"}})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let (_, close) = drain(&mut ws).await;
    assert_eq!(close, Some(1008));
    // The customer never speaks (its track is all silence): the agent's lines still go in, in order.
    let id = "CA-silent";
    let events = listen(srv.addr, id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut ws = ws_to(srv.addr, "/v1/integrations/twilio", &[])
        .await
        .unwrap();
    twilio_call(&mut ws, id, &[0, 1], true).await;
    let events = events.await.unwrap();
    let finals = sse_finals(&events);
    assert_eq!(heard_lines(&finals), said(&[0, 1]));
    let st = stats(srv.addr, id).await;
    assert_routed(&st, 2, 0);
    assert_eq!(party(&st, "customer")["finals"], 0);
    let score = final_score(srv.addr, id).await;
    assert_eq!(
        tones::gist(&score),
        tones::gist(&tones::offline_score(&finals, id))
    );
    srv.shutdown();
    srv.stopped().await;
}

// ---- Genesys AudioHook -----------------------------------------------------------------------------------

/// The headers Genesys sends, signed as RFC 9421 says (the signature base written out by hand).
fn audiohook_headers(
    authority: &str,
    session: &str,
    key: &str,
    secret: &[u8],
    now: u64,
) -> Vec<(&'static str, String)> {
    let params = format!(
        r#"("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="{key}";nonce="n1";alg="hmac-sha256";created={now};expires={}"#,
        now + 60
    );
    let base = format!(
        "\"@request-target\": /v1/integrations/audiohook\n\"@authority\": {authority}\n\"audiohook-organization-id\": org-1\n\"audiohook-session-id\": {session}\n\"audiohook-correlation-id\": corr-1\n\"x-api-key\": {key}\n\"@signature-params\": {params}"
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(base.as_bytes());
    vec![
        ("audiohook-organization-id", "org-1".into()),
        ("audiohook-session-id", session.into()),
        ("audiohook-correlation-id", "corr-1".into()),
        ("x-api-key", key.into()),
        ("signature-input", format!("sig1={params}")),
        (
            "signature",
            format!("sig1=:{}:", B64.encode(mac.finalize().into_bytes())),
        ),
    ]
}

fn ah(kind: &str, seq: u64, params: Value) -> Message {
    Message::Text(
        json!({"version": "2", "type": kind, "seq": seq, "serverseq": 0, "id": "sess-1", "position": "PT0S", "parameters": params})
            .to_string()
            .into(),
    )
}
