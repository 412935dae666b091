//! With the `audio` feature and a real model (`scripts/test-audio.sh`): synthesised speech streamed in real
//! time, and noise on the line that must not become words. Without a model these say so and pass, unless
//! `HUASHU_AUDIO_REQUIRED` is set.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::tones::pcm16;
use crate::common::*;

/// Synthesised English streamed in real time through a real Whisper model; measures the first partial.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whisper_streams_partials_and_finds_the_promise() {
    let Some(model) = whisper_model() else { return };
    let speech = espeak_pcm16("I can guarantee you a hundred percent return.");

    let threads = std::env::var("HUASHU_WHISPER_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let srv = start(english_speech(model, threads)).await;
    // 500 ms of silence, the speech, 1.5 s of silence.
    let mut stream = vec![0u8; 16_000];
    stream.extend_from_slice(&speech);
    stream.extend(vec![0u8; 48_000]);
    let (began, heard) = stream_live(srv.addr, "live-en", stream).await;
    let speech_at = began + Duration::from_millis(500);
    for (at, v) in &heard {
        if v["type"] == "transcript" {
            eprintln!(
                "{} after {:?}: {}",
                if v["final"] == true {
                    "final"
                } else {
                    "partial"
                },
                *at - began,
                v["text"]
            );
        }
    }
    let first_partial = heard
        .iter()
        .find(|(_, v)| v["type"] == "transcript" && v["final"] == false)
        .map(|(at, _)| at.saturating_duration_since(speech_at))
        .expect("a partial transcript");
    let msgs: Vec<Value> = heard.into_iter().map(|(_, v)| v).collect();
    let fin: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["type"] == "transcript" && m["final"] == true)
        .collect();
    assert!(!fin.is_empty(), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m["type"] == "finding" && m["final"] == true && m["category"] == "promise"),
        "{msgs:?}"
    );
    eprintln!(
        "LIVE first-partial latency {} ms after speech onset (speech {} ms)",
        first_partial.as_millis(),
        speech.len() / 32
    );
    // Latency is a figure (`huashu bench --audio`, benches/RESULTS.md), not a timed assertion: what users
    // rely on is that a partial is shown while the utterance is still open, before its final.
    let position = |is_final: bool| {
        msgs.iter()
            .position(|m| m["type"] == "transcript" && m["final"] == is_final)
            .expect("a transcript")
    };
    assert!(position(false) < position(true), "{msgs:?}");
    srv.shutdown();
}

/// `text` read by espeak-ng (English), as 16 kHz signed 16-bit mono PCM.
fn espeak_pcm16(text: &str) -> Vec<u8> {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.wav");
    let pcm = dir.path().join("speech.raw");
    let ok = Command::new("espeak-ng")
        .args(["-v", "en", "-s", "150", "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let ok = Command::new("sox")
        .arg(&raw)
        .args([
            "-r",
            "16000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-t",
            "raw",
        ])
        .arg(&pcm)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::read(&pcm).unwrap()
}

/// A real model, espeak-ng and sox, or None (a failure under `HUASHU_AUDIO_REQUIRED`).
fn whisper_model() -> Option<std::path::PathBuf> {
    use std::process::Command;
    let model = std::env::var_os("HUASHU_WHISPER_MODEL").map(std::path::PathBuf::from);
    let tools = ["espeak-ng", "sox"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    match (model.filter(|m| m.is_file()), tools) {
        (Some(model), true) => Some(model),
        _ => {
            assert!(
                std::env::var_os("HUASHU_AUDIO_REQUIRED").is_none(),
                "HUASHU_AUDIO_REQUIRED: need HUASHU_WHISPER_MODEL, espeak-ng and sox"
            );
            eprintln!("skipped: no HUASHU_WHISPER_MODEL / espeak-ng / sox");
            None
        }
    }
}

/// Six seconds of what a phone line carries besides speech — bursts of white noise, then a warbling 440 Hz
/// tone (music on hold) — then a promise, streamed live: with a Silero model (cached, as under CI) no final
/// transcript holds words from the noise and the promise is still found. Without it the energy segmenter cuts the noise
/// and Whisper turns it into words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_on_the_line_is_not_transcribed() {
    let Some(model) = whisper_model() else { return };
    if huashu_audio::model::cached_silero_vad().is_none() {
        assert!(
            std::env::var_os("HUASHU_AUDIO_REQUIRED").is_none(),
            "HUASHU_AUDIO_REQUIRED: no Silero VAD model cached (scripts/fetch-model silero)"
        );
        eprintln!("skipped: no Silero VAD model cached");
        return;
    }
    let mut noise: Vec<f32> = Vec::new();
    let mut seed = 0x2545_f491_u32;
    for _burst in 0..4 {
        for i in 0..16_000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let white = (seed as f32 / u32::MAX as f32 - 0.5) * 0.3;
            noise.push(if i < 8_000 { white } else { 0.0 });
        }
    }
    for i in 0..32_000 {
        let t = i as f32 / 16_000.0;
        let warble = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 2.0 * t).sin();
        noise.push(0.3 * warble * (2.0 * std::f32::consts::PI * 440.0 * t).sin());
    }
    let mut stream = pcm16(&noise);
    stream.extend(vec![0u8; 16_000]);
    stream.extend(espeak_pcm16(
        "I can guarantee you a hundred percent return.",
    ));
    stream.extend(vec![0u8; 48_000]);

    let srv = start(english_speech(model, 1)).await;
    let msgs: Vec<Value> = stream_live(srv.addr, "noisy-line", stream)
        .await
        .1
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let partials: Vec<&str> = msgs
        .iter()
        .filter(|m| m["type"] == "transcript" && m["final"] == false)
        .filter_map(|m| m["text"].as_str())
        .collect();
    eprintln!("partials: {partials:?}");
    // Of the noise, at most the first partial of each piece the energy segmenter cut is recognised (an
    // utterance's first partial is, for latency); every later one and every final hear nothing.
    let noise_partials = partials
        .iter()
        .filter(|t| !t.to_lowercase().starts_with("i can"))
        .count();
    assert!(noise_partials <= 2, "{partials:?}");
    let heard: Vec<&str> = msgs
        .iter()
        .filter(|m| m["type"] == "transcript" && m["final"] == true)
        .filter_map(|m| m["text"].as_str())
        .collect();
    eprintln!("finals: {heard:?}");
    assert!(!heard.is_empty(), "{msgs:?}");
    // Only the promise's words (espeak's "a hundred percent" may come back as 100%), each sentence at most
    // twice (a loop cut back).
    let said = [
        "i",
        "can",
        "guarantee",
        "you",
        "a",
        "hundred",
        "percent",
        "100",
        "return",
    ];
    for text in &heard {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        assert!(
            words.iter().all(|w| said.contains(&w.as_str())),
            "noise transcribed: {heard:?}"
        );
        assert!(words.len() <= 2 * said.len(), "a loop: {heard:?}");
    }
    assert!(
        msgs.iter()
            .any(|m| m["type"] == "finding" && m["final"] == true && m["category"] == "promise"),
        "{msgs:?}"
    );
    srv.shutdown();
}

/// A sidecar config with English live speech on `model`, `threads` Whisper threads per recognition.
fn english_speech(model: std::path::PathBuf, threads: usize) -> huashu_sidecar::Config {
    let mut c = config();
    c.ruleset = "en".into();
    c.audio.model = Some(model);
    c.audio.language = "en".into();
    c.audio.threads = threads;
    c
}

/// Streams `pcm` (16 kHz s16le) as the agent's audio of a new conversation `id`, in 20 ms frames at
/// real-time pace while reading concurrently: when the first frame went out, and every message up to
/// `audio.ended` with when it came.
async fn stream_live(
    addr: std::net::SocketAddr,
    id: &str,
    pcm: Vec<u8>,
) -> (std::time::Instant, Vec<(std::time::Instant, Value)>) {
    let mut ws = connect(addr).await;
    start_session(&mut ws, id).await;
    send(
        &mut ws,
        json!({"type": "audio.start", "role": "agent", "encoding": "pcm_s16le_16k", "language": "en"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await.unwrap()["type"], "audio.started");
    let (mut tx, mut rx) = futures_util::StreamExt::split(ws);
    let began = std::time::Instant::now();
    let sender = tokio::spawn(async move {
        let mut next = tokio::time::Instant::now();
        for chunk in pcm.chunks(640) {
            tx.send(Message::Binary(chunk.to_vec().into()))
                .await
                .unwrap();
            next += Duration::from_millis(20);
            tokio::time::sleep_until(next).await;
        }
        tx.send(Message::Text(
            json!({"type": "audio.end"}).to_string().into(),
        ))
        .await
        .unwrap();
        tx
    });
    let mut msgs = Vec::new();
    loop {
        let next = tokio::time::timeout(
            Duration::from_secs(120),
            futures_util::StreamExt::next(&mut rx),
        )
        .await
        .expect("messages within 120 s")
        .expect("open")
        .unwrap();
        let Message::Text(t) = next else { continue };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        let done = v["type"] == "audio.ended";
        msgs.push((std::time::Instant::now(), v));
        if done {
            break;
        }
    }
    let _tx = sender.await.unwrap();
    (began, msgs)
}
