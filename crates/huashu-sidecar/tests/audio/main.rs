#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Live audio on `/v1/stream`: with a fake recogniser (default suite) the whole path — frames, bounded
//! queues, VAD, partials on the pool, finals into the session, findings, errors; with the `audio` feature
//! and a real model, synthesised speech streamed in real time (`scripts/test-audio.sh`).

#[path = "../common/mod.rs"]
mod common;
#[cfg(feature = "audio")]
mod whisper;

use std::sync::Arc;
use std::time::Duration;

use common::tones::{mulaw, pcm16};
use common::*;
use futures_util::SinkExt;
use huashu_audio::{AudioError, Segment};
use huashu_sidecar::audio::{LiveRecognizer, RecognizerFactory, Speech};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Hears "I can guarantee" in any window shorter than 2 s, the whole promise in anything longer.
#[derive(Debug)]
struct FakeFactory;

struct Fake;

impl LiveRecognizer for Fake {
    fn recognize(&mut self, pcm: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
        std::thread::sleep(Duration::from_millis(20));
        let text = if partial && pcm.len() < 32_000 {
            "I can guarantee"
        } else {
            "I can guarantee you a hundred percent return"
        };
        Ok(vec![Segment {
            text: text.into(),
            start_ms: 0,
            end_ms: (pcm.len() / 16) as u64,
            confidence: 0.9,
            no_speech: 0.01,
        }])
    }
}

/// Hold music: a partial takes it for a word, the whole utterance is heard as nothing (as Silero gates it).
struct Music;

impl LiveRecognizer for Music {
    fn recognize(&mut self, _: &[f32], partial: bool) -> Result<Vec<Segment>, AudioError> {
        Ok(if partial {
            vec![Segment {
                text: "la la".into(),
                start_ms: 0,
                end_ms: 600,
                confidence: 0.3,
                no_speech: 0.1,
            }]
        } else {
            Vec::new()
        })
    }
}

/// A recogniser that fails on every job.
struct Failing;

impl LiveRecognizer for Failing {
    fn recognize(&mut self, _: &[f32], _: bool) -> Result<Vec<Segment>, AudioError> {
        Err(AudioError::Recognition("out of memory".into()))
    }
}

impl RecognizerFactory for FakeFactory {
    fn recognizer(&self, language: Option<&str>) -> Result<Box<dyn LiveRecognizer>, AudioError> {
        match language {
            None | Some("en" | "zh" | "auto") => Ok(Box::new(Fake)),
            Some("fail") => Ok(Box::new(Failing)),
            Some("music") => Ok(Box::new(Music)),
            Some(other) => Err(AudioError::Unsupported(format!("language {other}"))),
        }
    }
}

fn tone(ms: u32, rate: u32) -> Vec<f32> {
    (0..rate * ms / 1000)
        .map(|i| 0.3 * (i as f32 * 0.07 * 16_000.0 / rate as f32).sin())
        .collect()
}

fn silence(ms: u32, rate: u32) -> Vec<f32> {
    vec![0.0; (rate * ms / 1000) as usize]
}

async fn binary(ws: &mut Ws, bytes: Vec<u8>) {
    ws.send(Message::Binary(bytes.into())).await.unwrap();
}

async fn server(ruleset: &str, with_speech: bool) -> Running {
    server_with(ruleset, with_speech, 16).await
}

async fn server_with(ruleset: &str, with_speech: bool, max_streams: usize) -> Running {
    let mut c = config();
    c.ruleset = ruleset.into();
    let mut c = c.finish().unwrap();
    // No real model here, even when HUASHU_WHISPER_MODEL is set (finish() reads it with the `audio` feature).
    c.audio.model = None;
    let srv = huashu_sidecar::start(c).await.unwrap();
    if with_speech {
        srv.app
            .speech
            .set(Speech::new(Arc::new(FakeFactory), 2, 1, max_streams))
            .unwrap();
    }
    srv
}

use huashu_sidecar::Running;

/// Starts an audio stream with `start`, sends one utterance (`tone_ms` of tone between 300 ms and 1 s of
/// silence, 16 kHz PCM in 20 ms frames), ends the stream, and returns every message up to `audio.ended`.
/// The first partial transcript of `msgs` (there must be one) and every final one.
fn partial_and_finals(msgs: &[Value]) -> (&Value, Vec<&Value>) {
    let transcripts = msgs.iter().filter(|m| m["type"] == "transcript");
    let partial = transcripts
        .clone()
        .find(|t| t["final"] == false)
        .expect("a partial transcript");
    (
        partial,
        transcripts.filter(|t| t["final"] == true).collect(),
    )
}

async fn one_utterance(ws: &mut Ws, start: Value, tone_ms: u32) -> Vec<Value> {
    send(ws, start).await;
    let v = recv(ws).await.unwrap();
    assert_eq!(v["type"], "audio.started", "{v}");
    let mut x = silence(300, 16_000);
    x.extend(tone(tone_ms, 16_000));
    x.extend(silence(1000, 16_000));
    for chunk in pcm16(&x).chunks(640) {
        binary(ws, chunk.to_vec()).await;
    }
    send(ws, json!({"type": "audio.end"})).await;
    until(ws, "audio.ended", |_| true).await
}

#[tokio::test]
async fn fake_recogniser_partials_then_final_with_findings() {
    let srv = server("en", true).await;
    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "a1").await;
    let msgs = one_utterance(
        &mut ws,
        json!({"type": "audio.start", "role": "agent", "encoding": "pcm_s16le_16k", "language": "en", "ref": 7}),
        3000,
    )
    .await;
    let (partial, fin) = partial_and_finals(&msgs);
    assert_eq!(partial["role"], "agent");
    assert_eq!(partial["text"], "I can guarantee");
    assert_eq!(fin.len(), 1, "{msgs:?}");
    assert_eq!(
        fin[0]["text"],
        "I can guarantee you a hundred percent return"
    );
    assert_eq!(fin[0]["start_ms"], 100);
    assert!(fin[0]["end_ms"].as_u64().unwrap() >= 3300);
    // The final's findings follow it, as for a typed utterance.
    let promise = msgs
        .iter()
        .find(|m| m["type"] == "finding" && m["final"] == true)
        .expect("a final finding");
    assert_eq!(promise["category"], "promise", "{promise}");
    assert!(
        msgs.iter()
            .any(|m| m["type"] == "ack" && m["final"] == true)
    );
    let ended = msgs.last().unwrap();
    assert_eq!(ended["utterances"], 1);
    assert_eq!(ended["ref"], 7);
    // The transcript is a turn of the session: the final score counts it.
    let fin = end(&mut ws).await;
    assert!(fin["findings_total"].as_u64().unwrap() >= 1, "{fin}");
    assert!(
        fin["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["category"] == "promise"),
        "{fin}"
    );
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test]
async fn mulaw_8k_is_decoded_and_upsampled() {
    let srv = server("en", true).await;
    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "m1").await;
    send(
        &mut ws,
        json!({"type": "audio.start", "role": "customer", "encoding": "mulaw_8k"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await.unwrap()["type"], "audio.started");
    let mut x = silence(300, 8_000);
    x.extend(tone(1500, 8_000));
    x.extend(silence(1000, 8_000));
    for chunk in mulaw(&x).chunks(160) {
        binary(&mut ws, chunk.to_vec()).await;
    }
    send(&mut ws, json!({"type": "audio.end"})).await;
    let msgs = until(&mut ws, "audio.ended", |_| true).await;
    let fin: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["type"] == "transcript" && m["final"] == true)
        .collect();
    assert_eq!(fin.len(), 1, "{msgs:?}");
    assert_eq!(fin[0]["role"], "customer");
    // 100 ms (pre-roll) to 1.8 s + 200 ms padding (+ one frame: the interpolated edge), at 16 kHz stream time.
    assert_eq!(fin[0]["start_ms"], 100);
    let end = fin[0]["end_ms"].as_u64().unwrap();
    assert!((2000..=2040).contains(&end), "{end}");
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test]
async fn malformed_audio_is_an_error_and_the_session_goes_on() {
    let srv = server("en", true).await;
    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "bad").await;
    // Frames before audio.start.
    binary(&mut ws, vec![0u8; 640]).await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "binary_frame");
    // audio.end without a stream.
    send(&mut ws, json!({"type": "audio.end"})).await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "no_audio");
    // Unknown encoding, role, language.
    for (msg, code) in [
        (
            json!({"type": "audio.start", "role": "agent", "encoding": "opus"}),
            "bad_message",
        ),
        (
            json!({"type": "audio.start", "role": "boss", "encoding": "mulaw_8k"}),
            "bad_message",
        ),
        (
            json!({"type": "audio.start", "role": "agent", "encoding": "mulaw_8k", "language": "xx"}),
            "bad_message",
        ),
        (
            json!({"type": "audio.start", "role": "agent"}),
            "bad_message",
        ),
    ] {
        send(&mut ws, msg.clone()).await;
        let v = recv(&mut ws).await.unwrap();
        assert_eq!(v["code"], code, "{msg}: {v}");
    }
    send(
        &mut ws,
        json!({"type": "audio.start", "role": "agent", "encoding": "pcm_s16le_16k"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await.unwrap()["type"], "audio.started");
    // A second audio.start while one is open.
    send(
        &mut ws,
        json!({"type": "audio.start", "role": "customer", "encoding": "pcm_s16le_16k"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "audio_active");
    // Odd byte count for 16-bit PCM; an oversized frame (over max_frame_bytes): dropped, not fatal.
    binary(&mut ws, vec![0u8; 641]).await;
    let v = recv(&mut ws).await.unwrap();
    assert_eq!(v["code"], "bad_audio", "{v}");
    assert!(v["message"].as_str().unwrap().contains("even"), "{v}");
    binary(&mut ws, vec![0u8; 64 * 1024 + 2]).await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "frame_too_large");
    // Typed utterances still work alongside.
    let msgs = say(
        &mut ws,
        "agent",
        "I can guarantee you a hundred percent return",
        1,
    )
    .await;
    assert!(findings(&msgs).iter().any(|f| f["category"] == "promise"));
    send(&mut ws, json!({"type": "audio.end"})).await;
    let v = recv(&mut ws).await.unwrap();
    assert_eq!(v["type"], "audio.ended", "{v}");
    assert_eq!(v["utterances"], 0);
    let fin = end(&mut ws).await;
    assert_eq!(fin["findings_total"], 1, "{fin}");
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test]
async fn recogniser_failures_are_reported_and_the_stream_ends_cleanly() {
    let srv = server("en", true).await;
    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "f1").await;
    send(
        &mut ws,
        json!({"type": "audio.start", "role": "agent", "encoding": "pcm_s16le_16k", "language": "fail"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await.unwrap()["type"], "audio.started");
    let mut x = tone(1500, 16_000);
    x.extend(silence(1000, 16_000));
    for chunk in pcm16(&x).chunks(3200) {
        binary(&mut ws, chunk.to_vec()).await;
    }
    send(&mut ws, json!({"type": "audio.end"})).await;
    let msgs = until(&mut ws, "audio.ended", |_| true).await;
    assert!(
        msgs.iter()
            .any(|m| m["type"] == "error" && m["code"] == "audio_failed"),
        "{msgs:?}"
    );
    assert_eq!(msgs.last().unwrap()["utterances"], 0);
    let msgs = say(&mut ws, "agent", "hello", 3).await;
    assert_eq!(msgs.last().unwrap()["type"], "ack");
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test]
async fn audio_streams_are_bounded() {
    let srv = server_with("en", true, 1).await;
    let mut a = connect(srv.addr).await;
    let mut b = connect(srv.addr).await;
    start_session(&mut a, "s1").await;
    start_session(&mut b, "s2").await;
    let open = json!({"type": "audio.start", "role": "agent", "encoding": "pcm_s16le_16k"});
    send(&mut a, open.clone()).await;
    assert_eq!(recv(&mut a).await.unwrap()["type"], "audio.started");
    send(&mut b, open.clone()).await;
    assert_eq!(recv(&mut b).await.unwrap()["code"], "capacity");
    // The slot is free again once the first stream has ended.
    send(&mut a, json!({"type": "audio.end"})).await;
    assert_eq!(recv(&mut a).await.unwrap()["type"], "audio.ended");
    send(&mut b, open).await;
    assert_eq!(recv(&mut b).await.unwrap()["type"], "audio.started");
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test]
async fn without_a_model_audio_is_unavailable() {
    let srv = server("en", false).await;
    let mut ws = connect(srv.addr).await;
    send(
        &mut ws,
        json!({"type": "audio.start", "role": "agent", "encoding": "pcm_s16le_16k"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await.unwrap()["code"], "no_session");
    start_session(&mut ws, "n1").await;
    send(
        &mut ws,
        json!({"type": "audio.start", "role": "agent", "encoding": "pcm_s16le_16k", "ref": "x"}),
    )
    .await;
    let v = recv(&mut ws).await.unwrap();
    assert_eq!(v["code"], "audio_unavailable", "{v}");
    assert_eq!(v["ref"], "x");
    let msgs = say(&mut ws, "agent", "hello", 2).await;
    assert_eq!(msgs.last().unwrap()["type"], "ack");
    srv.shutdown();
    srv.stopped().await;
}

/// An utterance whose partial showed words and whose final hears nothing gets a final with empty text (a
/// screen clears the partial); it is no turn: no final ack (every checked final gets one), not counted in
/// `audio.ended`.
#[tokio::test]
async fn a_partial_heard_in_noise_is_cleared_by_an_empty_final() {
    let srv = server("en", true).await;
    let mut ws = connect(srv.addr).await;
    start_session(&mut ws, "music").await;
    let msgs = one_utterance(
        &mut ws,
        json!({"type": "audio.start", "role": "customer", "encoding": "pcm_s16le_16k", "language": "music"}),
        2000,
    )
    .await;
    let (partial, fin) = partial_and_finals(&msgs);
    assert_eq!(partial["text"], "la la");
    assert_eq!(fin.len(), 1, "{msgs:?}");
    assert_eq!(fin[0]["text"], "");
    assert_eq!(fin[0]["utterance"], partial["utterance"]);
    assert!(
        !msgs
            .iter()
            .any(|m| m["type"] == "ack" && m["final"] == true),
        "{msgs:?}"
    );
    let ended = msgs.last().unwrap();
    assert_eq!(ended["utterances"], 0, "{ended}");
}
