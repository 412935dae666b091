//! `huashu loadtest --via twilio`: the synthesised calls of `call.rs` as Twilio Media Streams (`connected`,
//! `start` with both tracks, a `media` message per track per 20 ms of base64 μ-law 8 kHz, `stop`), unsigned
//! on loopback. Twilio's `inbound` track is the caller: the customer under the daemon's default
//! `[integrations.twilio] inbound`, so the agent's audio goes out on `outbound`. Latency is how late each
//! 20 ms pair of messages left against the call's clock; Media Streams carry nothing back, so hints are not
//! counted here (they go to SSE listeners). A call is complete when the daemon's VAD cut every line for the
//! right party, asked before `stop` ends it.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::Slot;
use super::call::{FRAME_MS, every_line_cut, frames, samples};

/// G.711 μ-law of one 16-bit sample (the encoding Media Streams carry).
fn mulaw(sample: i16) -> u8 {
    let v = i32::from(sample);
    let sign = if v < 0 { 0x80 } else { 0 };
    let mag = (v.abs().min(32_635) + 0x84) as u32;
    let exp = (31 - mag.leading_zeros()).saturating_sub(7).min(7);
    let mant = (mag >> (exp + 3)) & 0x0f;
    !(sign | (exp << 4) as u8 | mant as u8)
}

/// Frame `f` of the call as the two tracks' payloads: (inbound = customer, outbound = agent), base64 μ-law.
fn payloads(f: usize) -> (String, String) {
    let (agent, customer): (Vec<u8>, Vec<u8>) = samples(f)
        .into_iter()
        .map(|(a, c)| (mulaw(a), mulaw(c)))
        .unzip();
    (B64.encode(customer), B64.encode(agent))
}

/// One call: connect, `connected` and `start` (held), the media in real time, check what the daemon's VAD
/// cut per party, `stop`, hang up.
pub(super) async fn call(s: &mut Slot<'_>) -> Result<(), String> {
    let opts = s.opts;
    let req = format!("ws://{}/v1/integrations/twilio", opts.addr)
        .into_client_request()
        .map_err(|e| e.to_string())?;
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sink, mut stream) = ws.split();
    let id = format!("CA-load-{}", s.i);
    let sid = format!("MZ-load-{}", s.i);
    let msg = |v: Value| Message::Text(v.to_string().into());
    let mut seq = 1u64;
    for m in [
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
        json!({"event": "start", "sequenceNumber": "1", "streamSid": sid, "start": {
            "accountSid": "AC-load", "streamSid": sid, "callSid": id, "tracks": ["inbound", "outbound"],
            "customParameters": {}, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}),
    ] {
        sink.send(msg(m)).await.map_err(|e| e.to_string())?;
    }
    // Nothing is expected back; a close (a refused call) ends the reader.
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    s.all_held().await;
    let lines = opts.utterances;
    let start = Instant::now();
    for f in 0..frames(lines) {
        let due = start + Duration::from_millis((f * FRAME_MS) as u64);
        tokio::time::sleep_until(due).await;
        let (inbound, outbound) = payloads(f);
        for (track, payload) in [("inbound", inbound), ("outbound", outbound)] {
            seq += 1;
            let m = json!({"event": "media", "sequenceNumber": seq.to_string(), "streamSid": sid, "media": {
                "track": track, "chunk": (f + 1).to_string(), "timestamp": (f * FRAME_MS).to_string(),
                "payload": payload}});
            sink.send(msg(m)).await.map_err(|e| e.to_string())?;
        }
        s.r.latencies.push(due.elapsed());
    }
    s.r.sent = lines;
    s.all_sent().await;
    s.r.complete = every_line_cut(opts, &id, lines).await;
    seq += 1;
    let stop = json!({"event": "stop", "sequenceNumber": seq.to_string(), "streamSid": sid,
        "stop": {"accountSid": "AC-load", "callSid": id}});
    sink.send(msg(stop)).await.map_err(|e| e.to_string())?;
    let _ = sink.close().await;
    let _ = tokio::time::timeout(Duration::from_secs(30), reader).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn mulaw_encodes_silence_and_both_extremes() {
        // G.711: silence is 0xFF, full scale positive 0x80, full scale negative 0x00.
        assert_eq!(mulaw(0), 0xFF);
        assert_eq!(mulaw(i16::MAX), 0x80);
        assert_eq!(mulaw(i16::MIN), 0x00);
        // Monotonic over the positive half: a louder sample never encodes to a quieter code.
        let level = |b: u8| (!b & 0x7f) as i32;
        assert!(
            (0..=32_000)
                .step_by(500)
                .map(|v| level(mulaw(v as i16)))
                .is_sorted()
        );
    }

    #[test]
    fn the_agent_goes_out_on_the_outbound_track() {
        // Frame 10 is inside the first line, the agent's: outbound carries the tone, inbound silence.
        let (inbound, outbound) = payloads(10);
        let (inbound, outbound) = (B64.decode(inbound).unwrap(), B64.decode(outbound).unwrap());
        assert_eq!(inbound.len(), 160);
        assert!(inbound.iter().all(|b| *b == 0xFF));
        assert!(outbound.iter().any(|b| level_of(*b) > 0x40));
    }

    fn level_of(b: u8) -> u8 {
        !b & 0x7f
    }
}
