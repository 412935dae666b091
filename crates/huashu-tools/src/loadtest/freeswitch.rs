//! `huashu loadtest --via freeswitch`: live calls through the FreeSWITCH adapter (`mod_audio_fork`'s wire:
//! subprotocol `audio.drachtio.org`, a JSON metadata frame, then 20 ms binary frames of 16-bit PCM, here
//! stereo at 8 kHz with the agent on the left), the synthesised call of `call.rs` sent in real time. A
//! frame's latency is how late it left against the call's clock (the daemon reading slower than real time
//! pushes back through TCP). A call is complete when the daemon's VAD cut every line for the right party;
//! with a Whisper model the lines' final transcripts come back (`transcript` events, counted as hints, each
//! timed against the end of its line on the call's clock), without one the figures are the adapter's own
//! cost (decoding, VAD, the call task).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::Slot;
use super::call::{FRAME_MS, RATE, every_line_cut, frames, samples};

/// Frame `f` of the call: interleaved left (agent) / right (customer) samples, little-endian.
fn frame(f: usize) -> Vec<u8> {
    samples(f)
        .into_iter()
        .flat_map(|(l, r)| {
            let (l, r) = (l.to_le_bytes(), r.to_le_bytes());
            [l[0], l[1], r[0], r[1]]
        })
        .collect()
}

/// One call: connect and send the metadata (held), stream the lines in real time, check what the daemon's
/// VAD cut per party, hang up.
pub(super) async fn call(s: &mut Slot<'_>) -> Result<(), String> {
    let opts = s.opts;
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
    let id = format!("fs-load-{}", s.i);
    let meta = json!({"conversation_id": id, "sample_rate": RATE, "channels": 2, "agent": "left"});
    sink.send(Message::Text(meta.to_string().into()))
        .await
        .map_err(|e| e.to_string())?;
    // When the call's first frame is due: its clock, for the finals' `end_ms`.
    let (clock_tx, clock) = tokio::sync::watch::channel(None::<Instant>);
    // What comes back: final transcripts (with a model) and errors.
    let reader = tokio::spawn(async move {
        let (mut late, mut errors) = (Vec::new(), 0usize);
        while let Some(Ok(m)) = stream.next().await {
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
            let d = &v["data"];
            match d["type"].as_str() {
                Some("transcript") if d["final"] == true => {
                    let start = *clock.borrow();
                    if let (Some(start), Some(end)) = (start, d["end_ms"].as_u64()) {
                        late.push(start.elapsed().saturating_sub(Duration::from_millis(end)));
                    }
                }
                Some("error") => errors += 1,
                _ => {}
            }
        }
        (late, errors)
    });
    s.all_held().await;
    let lines = opts.utterances;
    let start = Instant::now();
    let _ = clock_tx.send(Some(start));
    for f in 0..frames(lines) {
        let due = start + Duration::from_millis((f * FRAME_MS) as u64);
        tokio::time::sleep_until(due).await;
        sink.send(Message::Binary(frame(f).into()))
            .await
            .map_err(|e| e.to_string())?;
        s.r.latencies.push(due.elapsed());
    }
    s.r.sent = lines;
    s.all_sent().await;
    s.r.complete = every_line_cut(opts, &id, lines).await;
    let _ = sink.close().await;
    if let Ok(Ok((late, errors))) = tokio::time::timeout(Duration::from_secs(30), reader).await {
        s.r.hints += late.len();
        s.r.finals_late.extend(late);
        s.r.errors += errors;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_the_agent_left_and_the_customer_right() {
        let bytes = frame(10);
        let pairs: Vec<(i16, i16)> = bytes
            .chunks_exact(4)
            .map(|c| {
                (
                    i16::from_le_bytes([c[0], c[1]]),
                    i16::from_le_bytes([c[2], c[3]]),
                )
            })
            .collect();
        assert_eq!(pairs, samples(10));
    }
}
