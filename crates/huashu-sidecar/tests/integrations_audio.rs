#![cfg(feature = "audio")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! With a Whisper model (`scripts/test-audio.sh`, slow tier): the synthesised two-party Mandarin call of
//! `benches/audio/synth-call.sh`, at 8 kHz, streamed through the FreeSWITCH adapter (stereo L16) and the
//! Twilio adapter (two μ-law tracks), gives the findings `huashu score --audio` gives the same stereo file
//! (the library path of that command: `transcribe_file` with the default channel map, then a `Session`).
//! Skipped without a model, espeak-ng and sox (failing instead under `HUASHU_AUDIO_REQUIRED`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use futures_util::SinkExt;
use huashu_audio::{CallOptions, Whisper, WhisperOptions};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// `$HUASHU_WHISPER_MODEL`, else the model `huashu` uses by default (base in Q8_0).
fn model() -> Option<PathBuf> {
    huashu_audio::model::resolve(None).ok()
}

fn tools() -> bool {
    ["espeak-ng", "sox"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The synthesised call as an 8 kHz 16-bit stereo WAV (agent left), in `dir`.
fn synth(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wide = dir.join("call16k.wav");
    let ok = Command::new("bash")
        .arg(root.join("benches/audio/synth-call.sh"))
        .arg(&wide)
        .status()
        .unwrap()
        .success();
    assert!(ok, "synth-call.sh failed");
    let narrow = dir.join("call8k.wav");
    let ok = Command::new("sox")
        .arg(&wide)
        .args(["-r", "8000", "-b", "16", "-e", "signed-integer"])
        .arg(&narrow)
        .status()
        .unwrap()
        .success();
    assert!(ok, "sox failed");
    narrow
}

/// Findings as (rule, turn).
type Findings = Vec<(String, u64)>;

/// `huashu score --audio FILE`'s findings, and its turns (role, text).
fn offline(model: &Path, file: &Path) -> (Findings, Vec<(String, String)>) {
    let mut w = Whisper::load(model, WhisperOptions::default()).unwrap();
    let turns = huashu_audio::transcribe_file(file, &mut w, &CallOptions::default()).unwrap();
    let engine = Arc::new(huashu::Engine::default_ruleset().unwrap());
    let mut s = huashu::Session::new(engine);
    let said: Vec<(String, String)> = turns
        .iter()
        .map(|t| (t.turn.role.as_str().to_string(), t.turn.text.clone()))
        .collect();
    for t in turns {
        s.push(t.turn);
    }
    let report = s.finish();
    let id = json!("offline");
    let v = serde_json::to_value(huashu::wire::ScoreOut::new(&id, &report)).unwrap();
    (findings_of(&v), said)
}

fn findings_of(score: &Value) -> Findings {
    score["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["turn"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Whisper on one thread takes minutes for the call on a busy machine.
const FINAL_WITHIN: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_through_freeswitch_and_twilio_scores_as_offline() {
    let (Some(model), true) = (model(), tools()) else {
        assert!(
            std::env::var_os("HUASHU_AUDIO_REQUIRED").is_none(),
            "HUASHU_AUDIO_REQUIRED: need a Whisper model, espeak-ng and sox"
        );
        eprintln!("skipped: no Whisper model / espeak-ng / sox");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = synth(dir.path());
    let (want, said) = offline(&model, &file);
    eprintln!("offline turns: {said:?}\noffline findings: {want:?}");
    assert!(
        !want.is_empty(),
        "the synthesised call has a deflection (F004)"
    );
    let audio = huashu_audio::decode_file(&file).unwrap();
    assert_eq!((audio.rate, audio.channels.len()), (8000, 2));

    let mut c = config();
    c.audio.model = Some(model);
    c.audio.threads = 1;
    let srv = start(c).await;

    // FreeSWITCH: stereo L16, agent left, 20 ms frames.
    let mut fs = ws_to(srv.addr, "/v1/integrations/freeswitch", &[])
        .await
        .unwrap();
    let meta = json!({"conversation_id": "fs-speech", "sample_rate": 8000, "channels": 2, "agent": "left"});
    fs.send(Message::Text(meta.to_string().into()))
        .await
        .unwrap();
    let (l, r) = (
        common::tones::pcm16(&audio.channels[0]),
        common::tones::pcm16(&audio.channels[1]),
    );
    let frames = common::tones::interleave(&l, &r, 2);
    for chunk in frames.chunks(640) {
        fs.send(Message::Binary(chunk.to_vec().into()))
            .await
            .unwrap();
    }
    fs.close(None).await.unwrap();
    let got = final_score(srv.addr, "fs-speech", FINAL_WITHIN).await;
    assert_eq!(findings_of(&got), want, "FreeSWITCH: {got}");

    // Twilio: the customer (right) on the inbound track, the agent on the outbound one, μ-law.
    let mut tw = ws_to(srv.addr, "/v1/integrations/twilio", &[])
        .await
        .unwrap();
    let msg = |v: Value| Message::Text(v.to_string().into());
    tw.send(msg(json!({"event": "start", "start": {"callSid": "CA-speech", "tracks": ["inbound", "outbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})))
        .await
        .unwrap();
    let (a, cst) = (
        common::tones::mulaw(&audio.channels[0]),
        common::tones::mulaw(&audio.channels[1]),
    );
    for (ca, cc) in a.chunks(160).zip(cst.chunks(160)) {
        for (track, chunk) in [("inbound", cc), ("outbound", ca)] {
            tw.send(msg(
                json!({"event": "media", "media": {"track": track, "payload": B64.encode(chunk)}}),
            ))
            .await
            .unwrap();
        }
    }
    tw.send(msg(json!({"event": "stop"}))).await.unwrap();
    let got = final_score(srv.addr, "CA-speech", FINAL_WITHIN).await;
    assert_eq!(findings_of(&got), want, "Twilio: {got}");
    srv.shutdown();
    srv.stopped().await;
}
