//! `huashu loadtest --via freeswitch`: live calls through the FreeSWITCH adapter (`mod_audio_fork`'s wire:
//! subprotocol `audio.drachtio.org`, a JSON metadata frame, then 20 ms binary frames of 16-bit PCM, here
//! stereo at 8 kHz with the agent on the left). Each call is synthesised: `utterances` lines, the parties in
//! turn, each line 1.6 s of an amplitude-modulated tone on its party's channel (220 Hz agent, 330 Hz
//! customer) and then 1 s of silence on both, sent in real time. A frame's latency is how late it left
//! against the call's clock (the daemon reading slower than real time pushes back through TCP). A call is
//! complete when the daemon's VAD cut every line for the right party (`GET /v1/integrations/calls/{id}`);
//! with a Whisper model the lines' transcripts come back and are counted as findings' carriers
//! (`transcript` events), without one the figures are the adapter's own cost (decoding, VAD, the call task).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::{LoadOptions, SessionResult, http_get};

const RATE: usize = 8000;
const FRAME_MS: usize = 20;
const LINE_MS: usize = 1600;
const GAP_MS: usize = 1000;

/// Frame `f` of the call: interleaved left/right samples, little-endian.
fn frame(f: usize) -> Vec<u8> {
    let per = RATE * FRAME_MS / 1000;
    let mut out = Vec::with_capacity(per * 4);
    for s in 0..per {
        let n = f * per + s;
        let t = n as f64 / RATE as f64;
        let at_ms = n * 1000 / RATE;
        let (line, into) = (at_ms / (LINE_MS + GAP_MS), at_ms % (LINE_MS + GAP_MS));
        let speaking = into < LINE_MS;
        let (hz, left) = if line % 2 == 0 {
            (220.0, true)
        } else {
            (330.0, false)
        };
        // Syllable-like: the level swings at 4 Hz, never down to silence (the VAD bridges short dips anyway).
        let am = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 4.0 * t).sin();
        let v = if speaking {
            (8000.0 * am * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
        } else {
            0
        };
        let (l, r) = if left { (v, 0) } else { (0, v) };
        out.extend_from_slice(&l.to_le_bytes());
        out.extend_from_slice(&r.to_le_bytes());
    }
    out
}

/// One call: connect and send the metadata (held), stream the lines in real time, check what the daemon's
/// VAD cut per party, hang up.
pub(super) async fn call(
    i: usize,
    opts: &LoadOptions,
    held: &Barrier,
    done_utt: &Barrier,
    r: &mut SessionResult,
    at_held: &mut bool,
    at_done: &mut bool,
) -> Result<(), String> {
    let mut req = format!("ws://{}/v1/integrations/freeswitch", opts.addr)
        .into_client_request()
        .map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("audio.drachtio.org"),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sink, mut stream) = ws.split();
    let id = format!("fs-load-{i}");
    let meta = json!({"conversation_id": id, "sample_rate": RATE, "channels": 2, "agent": "left"});
    sink.send(Message::Text(meta.to_string().into()))
        .await
        .map_err(|e| e.to_string())?;
    // What comes back: final transcripts (with a model) and errors.
    let reader = tokio::spawn(async move {
        let (mut transcripts, mut errors) = (0usize, 0usize);
        while let Some(Ok(m)) = stream.next().await {
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
            match v["data"]["type"].as_str() {
                Some("transcript") => transcripts += 1,
                Some("error") => errors += 1,
                _ => {}
            }
        }
        (transcripts, errors)
    });
    r.held = true;
    *at_held = true;
    held.wait().await;
    let lines = opts.utterances;
    let frames = lines * (LINE_MS + GAP_MS) / FRAME_MS;
    let start = Instant::now();
    for f in 0..frames {
        let due = start + Duration::from_millis((f * FRAME_MS) as u64);
        tokio::time::sleep_until(due).await;
        sink.send(Message::Binary(frame(f).into()))
            .await
            .map_err(|e| e.to_string())?;
        r.latencies.push(due.elapsed());
    }
    r.sent = lines;
    *at_done = true;
    done_utt.wait().await;
    let stats = http_get(
        opts.addr,
        &format!("/v1/integrations/calls/{id}"),
        opts.token.as_deref(),
    )
    .await
    .and_then(|b| serde_json::from_str::<Value>(&b).ok())
    .unwrap_or_default();
    let cut = |role: &str| {
        stats["parties"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["role"] == role))
            .and_then(|p| p["utterances"].as_u64())
    };
    let (agent, customer) = (lines.div_ceil(2) as u64, (lines / 2) as u64);
    r.complete = cut("agent") == Some(agent) && cut("customer") == Some(customer);
    let _ = sink.close().await;
    if let Ok(Ok((transcripts, errors))) =
        tokio::time::timeout(Duration::from_secs(30), reader).await
    {
        r.hints += transcripts;
        r.errors += errors;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(f: usize) -> Vec<(i16, i16)> {
        frame(f)
            .chunks_exact(4)
            .map(|c| {
                (
                    i16::from_le_bytes([c[0], c[1]]),
                    i16::from_le_bytes([c[2], c[3]]),
                )
            })
            .collect()
    }

    #[test]
    fn lines_alternate_between_the_channels_with_silence_between() {
        let per_line = (LINE_MS + GAP_MS) / FRAME_MS;
        // 20 ms of the first line: the agent (left) speaks, the right channel is silent.
        let first = samples(10);
        assert_eq!(first.len(), RATE * FRAME_MS / 1000);
        assert!(first.iter().any(|(l, _)| l.unsigned_abs() > 1000));
        assert!(first.iter().all(|(_, r)| *r == 0));
        // The gap after it: silence on both.
        assert!(samples(LINE_MS / FRAME_MS + 5).iter().all(|s| *s == (0, 0)));
        // The second line is the customer's (right).
        let second = samples(per_line + 10);
        assert!(second.iter().all(|(l, _)| *l == 0));
        assert!(second.iter().any(|(_, r)| r.unsigned_abs() > 1000));
    }
}
