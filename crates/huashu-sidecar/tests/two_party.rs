#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Both parties of a call on one `/v1/stream` connection (`audio.start` with `roles`, interleaved
//! channels): each channel has its own VAD and recogniser, and the finals enter the conversation in the
//! order they were spoken even when a later one is recognised first. A fake recogniser stands for Whisper
//! (one tone per line, customer lines recognised slowly: `common/tones.rs`).

mod common;

use std::sync::Arc;

use common::tones::{self, LINES};
use common::*;
use futures_util::SinkExt;
use huashu_sidecar::Running;
use huashu_sidecar::audio::Speech;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

async fn server() -> Running {
    let mut c = config().finish().unwrap();
    c.audio.model = None;
    let srv = huashu_sidecar::start(c).await.unwrap();
    srv.app
        .speech
        .set(Speech::new(Arc::new(tones::ToneFactory), 2, 1, 16))
        .unwrap();
    srv
}

/// Streams a two-party call as interleaved frames (fast), then ends the stream; returns its messages.
async fn stream_call(
    ws: &mut Ws,
    encoding: &str,
    frame: Vec<u8>,
    frame_bytes: usize,
) -> Vec<serde_json::Value> {
    send(
        ws,
        json!({"type": "audio.start", "roles": ["agent", "customer"], "encoding": encoding, "ref": "call"}),
    )
    .await;
    let started = recv(ws).await.unwrap();
    assert_eq!(started["type"], "audio.started", "{started}");
    assert_eq!(started["roles"], json!(["agent", "customer"]));
    for chunk in frame.chunks(frame_bytes) {
        ws.send(Message::Binary(chunk.to_vec().into()))
            .await
            .unwrap();
    }
    send(ws, json!({"type": "audio.end"})).await;
    until(ws, "audio.ended", |_| true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stereo_stream_puts_both_parties_in_spoken_order() {
    let srv = server().await;
    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "two-1").await;
    // Customer complains, the agent deflects, the customer thanks: the agent's line is recognised long
    // before the customer's complaint that came first.
    let script = [2, 1, 3];
    let (agent, customer) = tones::call(&script, 8_000);
    let frames = tones::interleave(&tones::pcm16(&agent), &tones::pcm16(&customer), 2);
    // 20 ms of two 16-bit channels at 8 kHz = 640 bytes.
    let msgs = stream_call(&mut ws, "pcm_s16le_8k", frames, 640).await;
    let heard = tones::finals(&msgs);
    let said: Vec<(&str, &str)> = script.iter().map(|&i| (LINES[i].1, LINES[i].2)).collect();
    let got: Vec<(&str, &str)> = heard.iter().map(|t| (t.0.as_str(), t.1.as_str())).collect();
    assert_eq!(got, said, "finals in spoken order: {msgs:#?}");
    assert!(heard.windows(2).all(|w| w[0].2 < w[1].2), "{heard:?}");
    let ended = msgs.last().unwrap();
    assert_eq!(ended["roles"], json!(["agent", "customer"]));
    assert_eq!(ended["utterances"], 3);
    assert_eq!(ended["ref"], "call");
    // The agent's deflection is turn 1 (after the complaint), as spoken.
    let f004: Vec<&serde_json::Value> = msgs
        .iter()
        .filter(|m| m["type"] == "finding" && m["final"] == true)
        .collect();
    assert!(!f004.is_empty(), "{msgs:#?}");
    assert!(f004.iter().all(|f| f["turn"] == 1), "{f004:?}");
    send(&mut ws, json!({"type": "session.end"})).await;
    let score = until(&mut ws, "score", |v| v["final"] == true)
        .await
        .pop()
        .unwrap();
    assert_eq!(
        tones::gist(&score),
        tones::gist(&tones::offline_score(&heard, "two-1"))
    );
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stereo_mulaw_routes_each_channel_to_its_role_and_rejects_bad_starts() {
    let srv = server().await;
    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "two-2").await;
    // Customer on the left this time: roles say so.
    let script = [0, 3];
    let (agent, customer) = tones::call(&script, 8_000);
    let frames = tones::interleave(&tones::mulaw(&customer), &tones::mulaw(&agent), 1);
    send(
        &mut ws,
        json!({"type": "audio.start", "roles": ["customer", "agent"], "encoding": "mulaw_8k"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await.unwrap()["type"], "audio.started");
    // An odd-sized frame is not whole two-channel samples: dropped with bad_audio, the stream goes on.
    ws.send(Message::Binary(vec![0xff; 3].into()))
        .await
        .unwrap();
    for chunk in frames.chunks(320) {
        ws.send(Message::Binary(chunk.to_vec().into()))
            .await
            .unwrap();
    }
    send(&mut ws, json!({"type": "audio.end"})).await;
    let msgs = until(&mut ws, "audio.ended", |_| true).await;
    assert!(
        msgs.iter()
            .any(|m| m["type"] == "error" && m["code"] == "bad_audio"),
        "{msgs:#?}"
    );
    let heard = tones::finals(&msgs);
    let got: Vec<(&str, &str)> = heard.iter().map(|t| (t.0.as_str(), t.1.as_str())).collect();
    assert_eq!(got, [(LINES[0].1, LINES[0].2), (LINES[3].1, LINES[3].2)]);
    for bad in [
        json!({"type": "audio.start", "role": "agent", "roles": ["agent", "customer"], "encoding": "mulaw_8k", "ref": 1}),
        json!({"type": "audio.start", "roles": ["agent", "agent"], "encoding": "mulaw_8k", "ref": 2}),
        json!({"type": "audio.start", "roles": ["agent", "customer", "system"], "encoding": "mulaw_8k", "ref": 3}),
        json!({"type": "audio.start", "roles": ["agent", "boss"], "encoding": "mulaw_8k", "ref": 4}),
    ] {
        send(&mut ws, bad.clone()).await;
        let e = recv(&mut ws).await.unwrap();
        assert_eq!(e["type"], "error", "{bad}: {e}");
        assert_eq!(e["code"], "bad_message", "{bad}: {e}");
        assert_eq!(e["ref"], bad["ref"]);
    }
    srv.shutdown();
    srv.stopped().await;
}
