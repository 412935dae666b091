//! A fake recogniser for two-party calls without a Whisper model: each test tone stands for a line (its
//! pitch, estimated from zero crossings, picks the line), and customer lines are recognised slowly, so an
//! agent's later utterance comes back before the customer's earlier one and the call must put them back
//! in spoken order.

use std::time::Duration;

use huashu_audio::{AudioError, Segment};
use huashu_sidecar::audio::{LiveRecognizer, RecognizerFactory};

/// (pitch Hz, role, line, recognition delay ms).
pub const LINES: &[(f32, &str, &str, u64)] = &[
    (440.0, "agent", "您好，请问有什么可以帮您？", 5),
    (550.0, "agent", "这不是我的问题，你自己看说明书", 5),
    (880.0, "customer", "我的快递三天了还没到，我要投诉！", 400),
    (990.0, "customer", "好的，谢谢", 400),
];

#[derive(Debug)]
pub struct ToneFactory;

pub struct ToneRecognizer;

/// Pitch of `pcm` (16 kHz) from zero crossings, with a little hysteresis.
pub fn pitch(pcm: &[f32]) -> f32 {
    let mut positive = false;
    let mut crossings = 0u32;
    for &s in pcm {
        if positive && s < -1e-3 {
            positive = false;
            crossings += 1;
        } else if !positive && s > 1e-3 {
            positive = true;
            crossings += 1;
        }
    }
    crossings as f32 / 2.0 / (pcm.len().max(1) as f32 / 16_000.0)
}

/// The line of the tone nearest to the loud part of `pcm` (the pre-roll and tail are silence).
pub fn line_of(pcm: &[f32]) -> Option<&'static (f32, &'static str, &'static str, u64)> {
    let loud: Vec<f32> = pcm.iter().copied().filter(|s| s.abs() > 0.0).collect();
    let voiced = loud.len() as f32 / 16_000.0;
    if voiced < 0.1 {
        return None;
    }
    let hz = pitch(pcm) * pcm.len() as f32 / 16_000.0 / voiced;
    LINES
        .iter()
        .min_by(|a, b| (a.0 - hz).abs().total_cmp(&(b.0 - hz).abs()))
}

impl LiveRecognizer for ToneRecognizer {
    fn recognize(&mut self, pcm: &[f32], _partial: bool) -> Result<Vec<Segment>, AudioError> {
        let Some(&(_, _, text, delay)) = line_of(pcm) else {
            return Ok(Vec::new());
        };
        std::thread::sleep(Duration::from_millis(delay));
        Ok(vec![Segment {
            text: text.into(),
            start_ms: 0,
            end_ms: (pcm.len() / 16) as u64,
            confidence: 0.9,
            no_speech: 0.01,
        }])
    }
}

impl RecognizerFactory for ToneFactory {
    fn recognizer(&self, _language: Option<&str>) -> Result<Box<dyn LiveRecognizer>, AudioError> {
        Ok(Box::new(ToneRecognizer))
    }
}

/// A tone of `hz` for `ms` at `rate`.
pub fn tone(hz: f32, ms: u32, rate: u32) -> Vec<f32> {
    (0..rate * ms / 1000)
        .map(|i| 0.3 * (std::f32::consts::TAU * hz * i as f32 / rate as f32).sin())
        .collect()
}

/// A synthesised two-party call at `rate`: (agent channel, customer channel), each line its party's tone
/// with the other channel silent, in the order given by `script` (indices into [`LINES`]), 0.8 s between.
pub fn call(script: &[usize], rate: u32) -> (Vec<f32>, Vec<f32>) {
    let gap = (rate * 800 / 1000) as usize;
    let (mut agent, mut customer) = (vec![0.0; gap], vec![0.0; gap]);
    for &i in script {
        let (hz, role, _, _) = LINES[i];
        let t = tone(hz, 1500, rate);
        let quiet = vec![0.0; t.len()];
        if role == "agent" {
            agent.extend(&t);
            customer.extend(&quiet);
        } else {
            agent.extend(&quiet);
            customer.extend(&t);
        }
        agent.extend(vec![0.0; gap]);
        customer.extend(vec![0.0; gap]);
    }
    (agent, customer)
}

pub fn pcm16(x: &[f32]) -> Vec<u8> {
    x.iter()
        .flat_map(|s| ((s * 32_767.0) as i16).to_le_bytes())
        .collect()
}

/// G.711 μ-law.
pub fn mulaw(x: &[f32]) -> Vec<u8> {
    x.iter()
        .map(|s| {
            let v = (s * 32_767.0) as i32;
            let sign = if v < 0 { 0x80 } else { 0 };
            let mag = (v.abs().min(32_635) + 0x84) as u32;
            let exp = (31 - mag.leading_zeros()).saturating_sub(7).min(7);
            let mant = (mag >> (exp + 3)) & 0x0f;
            !(sign | (exp << 4) as u8 | mant as u8)
        })
        .collect()
}

/// Interleaves two channels of encoded samples of `width` bytes each.
pub fn interleave(left: &[u8], right: &[u8], width: usize) -> Vec<u8> {
    left.chunks(width)
        .zip(right.chunks(width))
        .flat_map(|(l, r)| l.iter().chain(r).copied())
        .collect()
}

/// What a call scores offline with the default ruleset (zh-CN), as `huashu score --audio` orders a
/// stereo file's turns: by start time, then channel (agent left). `turns`: (role, text, start_ms, end_ms).
pub fn offline_score(turns: &[(String, String, u64, u64)], id: &str) -> serde_json::Value {
    let engine = std::sync::Arc::new(huashu::Engine::default_ruleset().unwrap());
    let mut sorted: Vec<&(String, String, u64, u64)> = turns.iter().collect();
    sorted.sort_by_key(|t| (t.2, t.0 != "agent"));
    let mut s = huashu::Session::new(engine);
    for (role, text, start, end) in sorted {
        s.push(
            huashu::Turn::new(huashu::Role::parse(role).unwrap(), text.as_str())
                .with_times(*start, *end),
        );
    }
    let report = s.finish();
    let id = serde_json::json!(id);
    serde_json::to_value(huashu::wire::ScoreOut::new(&id, &report)).unwrap()
}

/// The final transcripts among `msgs`: (role, text, start_ms, end_ms), in the order they came; a final
/// with empty text only clears its partials (docs/protocol.md) and is no turn.
pub fn finals(msgs: &[serde_json::Value]) -> Vec<(String, String, u64, u64)> {
    msgs.iter()
        .filter(|m| m["type"] == "transcript" && m["final"] == true && m["text"] != "")
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["text"].as_str().unwrap().to_string(),
                m["start_ms"].as_u64().unwrap(),
                m["end_ms"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The parts of a score that say what happened: score, verdict, checks and findings (rule, turn).
pub fn gist(score: &serde_json::Value) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = score["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| serde_json::json!([f["rule"], f["turn"], f["start"], f["end"]]))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "score": score["score"],
        "passed": score["passed"],
        "fatal": score["fatal"],
        "structure": score["structure"],
        "checks": score["checks"],
        "findings": findings,
        "findings_total": score["findings_total"],
    })
}
