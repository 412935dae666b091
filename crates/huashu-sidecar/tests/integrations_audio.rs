#![cfg(feature = "audio")]
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! With a Whisper model (`scripts/test-audio.sh`, slow tier): the synthesised two-party Mandarin call of
//! `benches/audio/synth-call.sh`, at 8 kHz, streamed through the FreeSWITCH adapter (stereo L16) and the
//! Twilio adapter (two μ-law tracks), gives the findings `huashu score --audio` gives the same stereo file
//! (the library path of that command: `transcribe_file` with the default channel map, then a `Session`);
//! a μ-law platform gives what that command gives the file in μ-law, the audio it carried.
//! The same call through Asterisk AudioSocket (one TCP connection per party, UUIDs registered over REST,
//! 20 ms slin frames) and Genesys AudioHook (stereo PCMU, 200 ms frames, ping and a pause), both paced (at
//! [`PACE`] times real time) and at once: the offline findings, the offline turns' roles in the order they were
//! spoken, and the final scorecard at `GET /v1/conversations/{id}` after hang-up.
//! Skipped without a model, espeak-ng and sox (failing instead under `HUASHU_AUDIO_REQUIRED`).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use futures_util::{SinkExt, StreamExt};
use huashu_audio::{CallOptions, Whisper, WhisperOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// Runs sox in repeatable mode (`-R`: its dither is seeded, so every run synthesises the same samples and
/// Whisper hears the same call; unseeded, a word of it changed from run to run).
fn sox(args: &[&std::ffi::OsStr]) {
    let ok = Command::new("sox")
        .arg("-R")
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "sox {args:?} failed");
}

/// The synthesised call as an 8 kHz 16-bit stereo WAV (agent left), in `dir`.
fn synth(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wide = dir.join("call16k.wav");
    let ok = Command::new("bash")
        .arg(root.join("benches/audio/synth-call.sh"))
        .arg(&wide)
        .env("SOX_OPTS", "-R")
        .status()
        .unwrap()
        .success();
    assert!(ok, "synth-call.sh failed");
    let narrow = dir.join("call8k.wav");
    sox(&[
        wide.as_os_str(),
        "-r".as_ref(),
        "8000".as_ref(),
        "-b".as_ref(),
        "16".as_ref(),
        "-e".as_ref(),
        "signed-integer".as_ref(),
        narrow.as_os_str(),
    ]);
    narrow
}

/// The call of `pcm` in G.711 μ-law, as a μ-law platform carries it: the raw interleaved bytes (agent
/// first), and the same audio expanded back to a 16-bit WAV (what a recording of that call holds).
fn mulaw_of(pcm: &Path) -> (Vec<u8>, PathBuf) {
    let raw = pcm.with_extension("ulaw");
    sox(&[
        pcm.as_os_str(),
        "-t".as_ref(),
        "raw".as_ref(),
        "-e".as_ref(),
        "u-law".as_ref(),
        raw.as_os_str(),
    ]);
    let wav = pcm.with_file_name("call8k-ulaw.wav");
    sox(&[
        "-t".as_ref(),
        "raw".as_ref(),
        "-r".as_ref(),
        "8000".as_ref(),
        "-c".as_ref(),
        "2".as_ref(),
        "-e".as_ref(),
        "u-law".as_ref(),
        raw.as_os_str(),
        "-e".as_ref(),
        "signed-integer".as_ref(),
        "-b".as_ref(),
        "16".as_ref(),
        wav.as_os_str(),
    ]);
    (std::fs::read(&raw).unwrap(), wav)
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

/// What `huashu score --audio` gives one coding of the call: findings and turns (role, text).
struct Offline {
    want: Findings,
    said: Vec<(String, String)>,
}

/// The synthesised call and what `huashu score --audio` makes of it, once for every test of this file.
/// A platform that carries μ-law is compared with the offline result of the μ-law audio it carried: G.711
/// changes what Whisper hears of a syllable now and then (once "我不知道" became "我不知套", and F001 went).
struct Call {
    model: PathBuf,
    /// The 8 kHz 16-bit channels: agent, customer.
    agent: Vec<f32>,
    customer: Vec<f32>,
    /// The same in G.711 μ-law.
    agent_ulaw: Vec<u8>,
    customer_ulaw: Vec<u8>,
    /// Offline, the 16-bit file and the μ-law one.
    pcm: Offline,
    ulaw: Offline,
}

/// The call, or None (skipped) without a model, espeak-ng and sox.
fn the_call() -> Option<&'static Call> {
    static CALL: OnceLock<Option<Call>> = OnceLock::new();
    let call = CALL.get_or_init(|| {
        let (Some(model), true) = (model(), tools()) else {
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let file = synth(dir.path());
        let (ulaw, ulaw_file) = mulaw_of(&file);
        let [pcm, ulaw_offline] = [("16-bit", &file), ("μ-law", &ulaw_file)].map(|(name, f)| {
            let (want, said) = offline(&model, f);
            eprintln!("offline ({name}) turns: {said:?}\noffline ({name}) findings: {want:?}");
            assert!(
                want.iter().any(|f| f.0 == "F004"),
                "the synthesised call has a deflection (F004)"
            );
            Offline { want, said }
        });
        let audio = huashu_audio::decode_file(&file).unwrap();
        assert_eq!((audio.rate, audio.channels.len()), (8000, 2));
        let mut ch = audio.channels.into_iter();
        Some(Call {
            model,
            agent: ch.next().unwrap(),
            customer: ch.next().unwrap(),
            agent_ulaw: ulaw.iter().step_by(2).copied().collect(),
            customer_ulaw: ulaw.iter().skip(1).step_by(2).copied().collect(),
            pcm,
            ulaw: ulaw_offline,
        })
    });
    if call.is_none() {
        assert!(
            std::env::var_os("HUASHU_AUDIO_REQUIRED").is_none(),
            "HUASHU_AUDIO_REQUIRED: need a Whisper model, espeak-ng and sox"
        );
        eprintln!("skipped: no Whisper model / espeak-ng / sox");
    }
    call.as_ref()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_through_freeswitch_and_twilio_scores_as_offline() {
    let Some(call) = the_call() else {
        return;
    };
    let mut c = config();
    c.audio.model = Some(call.model.clone());
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
        common::tones::pcm16(&call.agent),
        common::tones::pcm16(&call.customer),
    );
    let frames = common::tones::interleave(&l, &r, 2);
    for chunk in frames.chunks(640) {
        fs.send(Message::Binary(chunk.to_vec().into()))
            .await
            .unwrap();
    }
    fs.close(None).await.unwrap();
    let got = final_score(srv.addr, "fs-speech", FINAL_WITHIN).await;
    assert_eq!(findings_of(&got), call.pcm.want, "FreeSWITCH: {got}");

    // Twilio: the customer (right) on the inbound track, the agent on the outbound one, μ-law.
    let mut tw = ws_to(srv.addr, "/v1/integrations/twilio", &[])
        .await
        .unwrap();
    let msg = |v: Value| Message::Text(v.to_string().into());
    tw.send(msg(json!({"event": "start", "start": {"callSid": "CA-speech", "tracks": ["inbound", "outbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})))
        .await
        .unwrap();
    let (a, cst) = (&call.agent_ulaw, &call.customer_ulaw);
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
    assert_eq!(findings_of(&got), call.ulaw.want, "Twilio: {got}");
    srv.shutdown();
    srv.stopped().await;
}

/// A call streamed at [`PACE`] times real time lasts a quarter of its 60 s, then its last utterances are
/// recognised.
const CALL_WITHIN: Duration = Duration::from_secs(300);

/// An SSE listener of conversation `id`, started before its call: every event up to the final score.
fn listen(addr: SocketAddr, id: &str) -> tokio::task::JoinHandle<Vec<(String, Value)>> {
    let path = format!("/v1/conversations/{id}/events");
    tokio::spawn(async move {
        sse_within(addr, &path, CALL_WITHIN, |name, v| {
            name == "score" && v["final"] == true
        })
        .await
    })
}

/// What came through a live call: its final transcripts (from SSE), its scorecard and its per-party figures.
struct Heard {
    finals: Vec<(String, String, u64, u64)>,
    score: Value,
    stats: Value,
}

async fn heard(addr: SocketAddr, id: &str, events: &[(String, Value)]) -> Heard {
    let msgs: Vec<Value> = events.iter().map(|(_, v)| v.clone()).collect();
    let finals = common::tones::finals(&msgs);
    let score = final_score(addr, id, FINAL_WITHIN).await;
    Heard {
        finals,
        score,
        stats: call_stats(addr, id).await,
    }
}

/// The live call gave the offline findings, the offline turns' roles in the order they were spoken, each
/// party's turns on its role, and a final scorecard that is the one its own turns score offline. The
/// texts are not compared: live pieces are cut by the live segmenter, not by Silero over the whole file,
/// and Whisper words most of these synthesised turns differently (the flagged one agrees: the findings).
fn assert_as_offline(platform: &str, call: &Offline, h: &Heard) {
    let heard: Vec<(String, String)> = h
        .finals
        .iter()
        .map(|f| (f.0.clone(), f.1.clone()))
        .collect();
    eprintln!("{platform} turns: {heard:?}");
    let roles = |t: &[(String, String)]| t.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        roles(&heard),
        roles(&call.said),
        "{platform}: roles of the turns in spoken order\nlive:    {heard:?}\noffline: {:?}",
        call.said
    );
    assert!(
        h.finals.windows(2).all(|w| w[0].2 <= w[1].2),
        "{platform}: turns not in time order: {:?}",
        h.finals
    );
    assert_eq!(findings_of(&h.score), call.want, "{platform}: {}", h.score);
    let id = h.score["id"].as_str().unwrap();
    assert_eq!(
        common::tones::gist(&h.score),
        common::tones::gist(&common::tones::offline_score(&h.finals, id)),
        "{platform}: the final scorecard is not what its turns score"
    );
    for role in ["agent", "customer"] {
        let spoken = call.said.iter().filter(|t| t.0 == role).count() as u64;
        let p = h.stats["parties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["role"] == role)
            .unwrap_or_else(|| panic!("{platform}: no {role} in {}", h.stats));
        assert_eq!(p["finals"], spoken, "{platform} {role}: {}", h.stats);
    }
}

/// An AudioSocket frame: kind, big-endian u16 length, payload.
/// The frames go out this many times faster than real time: the adapters and the live segmenter keep time by
/// the audio, not the clock, and a 60 s call at real-time pace cost CI a minute of waiting.
const PACE: u32 = 4;
const FRAME_20MS: Duration = Duration::from_millis(20);
const FRAME_200MS: Duration = Duration::from_millis(200);

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![kind];
    f.extend(u16::try_from(payload.len()).unwrap().to_be_bytes());
    f.extend(payload);
    f
}

/// One AudioSocket leg as Asterisk sends it: the UUID, 20 ms slin frames every 20 ms, the hangup. Returns
/// what the sidecar sent back before closing (nothing, unless it refused the leg).
async fn audiosocket_leg(sock: SocketAddr, uuid: [u8; 16], pcm: &[f32]) -> Vec<u8> {
    let mut tcp = tokio::net::TcpStream::connect(sock).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp.write_all(&frame(0x01, &uuid)).await.unwrap();
    let mut tick = tokio::time::interval(FRAME_20MS / PACE);
    let frames = common::tones::pcm16(pcm);
    let n = frames.len() / 320;
    for (i, chunk) in frames.chunks(320).enumerate() {
        tick.tick().await;
        if let Err(e) = tcp.write_all(&frame(0x10, chunk)).await {
            panic!("AudioSocket leg {uuid:02x?} closed at frame {i} of {n}: {e}");
        }
    }
    tcp.write_all(&frame(0x00, &[])).await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(CALL_WITHIN, tcp.read_to_end(&mut rest))
        .await
        .expect("the sidecar closes a leg that hung up")
        .unwrap();
    rest
}

/// The whole call through AudioSocket: both UUIDs registered to conversation `id`, then both legs at once.
async fn audiosocket_call(addr: SocketAddr, sock: SocketAddr, id: &str, call: &Call) {
    let legs = [
        ([0x5a; 16], "agent", &call.agent),
        ([0xc3; 16], "customer", &call.customer),
    ];
    for (uuid, role, _) in &legs {
        let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
        let body = json!({"uuid": hex, "conversation_id": id, "role": role}).to_string();
        let (status, answer) = http(
            addr,
            "POST",
            "/v1/integrations/audiosocket/calls",
            None,
            Some(&body),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }
    let [(ua, _, a), (uc, _, c)] = legs;
    let (ra, rc) = tokio::join!(audiosocket_leg(sock, ua, a), audiosocket_leg(sock, uc, c));
    assert!(
        ra.is_empty() && rc.is_empty(),
        "AudioSocket legs refused: {ra:?} {rc:?}"
    );
}

/// An AudioHook client message.
fn ah(kind: &str, seq: u64, position_ms: u64, params: Value) -> Message {
    let v = json!({"version": "2", "type": kind, "seq": seq, "serverseq": 0, "id": "e1f2a3b4-0000-4000-8000-000000000001",
        "position": format!("PT{}.{:03}S", position_ms / 1000, position_ms % 1000), "parameters": params});
    Message::Text(v.to_string().into())
}

/// The whole call through AudioHook as Genesys' reference client streams a stereo recording: `open`
/// offering stereo PCMU (external = customer first) and each channel alone, 200 ms frames every 200 ms,
/// a `ping` every 5 s, a 1 s pause (`paused` … `resumed`: no audio, the stream position does not move),
/// then `close`. Returns the server's messages.
async fn audiohook_call(addr: SocketAddr, id: &str, call: &Call) -> Vec<Value> {
    let headers = [
        (
            "audiohook-organization-id",
            "d7934305-0972-4844-938e-9060eef73d05".to_string(),
        ),
        (
            "audiohook-session-id",
            "e1f2a3b4-0000-4000-8000-000000000001".to_string(),
        ),
        ("audiohook-correlation-id", "corr-speech".to_string()),
    ];
    let ws = ws_to(addr, "/v1/integrations/audiohook", &headers)
        .await
        .unwrap();
    let (mut tx, mut rx) = ws.split();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(Ok(m)) = rx.next().await {
            if let Message::Text(t) = m {
                got.push(serde_json::from_str::<Value>(t.as_str()).unwrap());
            }
        }
        got
    });
    let media = |channels: Value| json!({"type": "audio", "format": "PCMU", "channels": channels, "rate": 8000});
    let (mut seq, mut pings) = (1, 0);
    tx.send(ah("open", seq, 0, json!({"organizationId": "d7934305-0972-4844-938e-9060eef73d05",
        "conversationId": id, "participant": {"id": "p1", "ani": "+15550100", "aniName": "", "dnis": "+18005550100"},
        "media": [media(json!(["external", "internal"])), media(json!(["external"])), media(json!(["internal"]))],
        "language": "zh-CN"})))
        .await
        .unwrap();
    let frames = common::tones::interleave(&call.customer_ulaw, &call.agent_ulaw, 1);
    // 200 ms of two channels of one byte each.
    let per = 3200;
    let pause_at = frames.len() / per / 2;
    let mut tick = tokio::time::interval(FRAME_200MS / PACE);
    for (i, chunk) in frames.chunks(per).enumerate() {
        let pos = (i * 200) as u64;
        if i > 0 && i % 25 == 0 {
            seq += 1;
            pings += 1;
            tx.send(ah("ping", seq, pos, json!({}))).await.unwrap();
        }
        if i == pause_at {
            seq += 1;
            tx.send(ah("paused", seq, pos, json!({}))).await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
            seq += 1;
            tx.send(ah(
                "resumed",
                seq,
                pos,
                json!({"start": format!("PT{}S", pos / 1000), "discarded": "PT0S"}),
            ))
            .await
            .unwrap();
            tick.reset();
        }
        tick.tick().await;
        tx.send(Message::Binary(chunk.to_vec().into()))
            .await
            .unwrap();
    }
    seq += 1;
    let end = (frames.len() / 2 / 8) as u64;
    tx.send(ah("close", seq, end, json!({"reason": "end"})))
        .await
        .unwrap();
    let got = tokio::time::timeout(CALL_WITHIN, reader)
        .await
        .expect("the sidecar closes the session after `closed`")
        .unwrap();
    let kinds: Vec<&str> = got.iter().filter_map(|m| m["type"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"opened"), "{got:?}");
    assert_eq!(
        got[0]["parameters"]["media"][0],
        media(json!(["external", "internal"])),
        "{got:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "pong").count(),
        pings,
        "{got:?}"
    );
    assert_eq!(kinds.last(), Some(&"closed"), "{got:?}");
    assert_eq!(got.last().unwrap()["clientseq"], seq, "{got:?}");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_through_audiosocket_and_audiohook_scores_as_offline() {
    let Some(call) = the_call() else {
        return;
    };
    let mut c = config();
    c.audio.model = Some(call.model.clone());
    c.audio.threads = 1;
    c.integrations.audiosocket.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let srv = start(c).await;
    let sock = *srv.app.integrations.audiosocket_addr.get().unwrap();
    let (as_id, ah_id) = ("asterisk-speech", "3f1c0b7a-5d2e-4e8f-9a1b-2c3d4e5f6a7b");
    let (as_events, ah_events) = (listen(srv.addr, as_id), listen(srv.addr, ah_id));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    // Both platforms at once, paced: each call lasts its recording's length over PACE.
    let ((), hook) = tokio::join!(
        audiosocket_call(srv.addr, sock, as_id, call),
        audiohook_call(srv.addr, ah_id, call)
    );
    let streamed = t0.elapsed();
    assert!(hook.iter().any(|m| m["type"] == "pong"), "{hook:?}");
    let (as_events, ah_events) = (as_events.await.unwrap(), ah_events.await.unwrap());
    let asterisk = heard(srv.addr, as_id, &as_events).await;
    let genesys = heard(srv.addr, ah_id, &ah_events).await;
    eprintln!(
        "AudioSocket and AudioHook streamed in {streamed:.1?}, final scores after {:.1?}",
        t0.elapsed()
    );
    assert_as_offline("AudioSocket", &call.pcm, &asterisk);
    assert_as_offline("AudioHook", &call.ulaw, &genesys);
    srv.shutdown();
    srv.stopped().await;
}
