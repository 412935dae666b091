//! What the telephony load clients (`freeswitch.rs`, `twilio.rs`) share: the synthesised two-party call and
//! the check that the daemon's VAD cut every line for the right party. Each line is 1.6 s of an
//! amplitude-modulated tone for its party (220 Hz agent, 330 Hz customer; the agent speaks first, then
//! they take turns), followed by 1 s of silence on both; 8 kHz, sent in 20 ms frames in real time.

use serde_json::Value;

use super::{LoadOptions, http_get};

pub(super) const RATE: usize = 8000;
pub(super) const FRAME_MS: usize = 20;
const LINE_MS: usize = 1600;
const GAP_MS: usize = 1000;

/// Frames of a call of `lines` lines.
pub(super) fn frames(lines: usize) -> usize {
    lines * (LINE_MS + GAP_MS) / FRAME_MS
}

/// Frame `f` of the call: (agent, customer) samples.
pub(super) fn samples(f: usize) -> Vec<(i16, i16)> {
    let per = RATE * FRAME_MS / 1000;
    (0..per)
        .map(|s| {
            let n = f * per + s;
            let t = n as f64 / RATE as f64;
            let at_ms = n * 1000 / RATE;
            let (line, into) = (at_ms / (LINE_MS + GAP_MS), at_ms % (LINE_MS + GAP_MS));
            let agent = line % 2 == 0;
            let hz = if agent { 220.0 } else { 330.0 };
            // Syllable-like: the level swings at 4 Hz, never down to silence (the VAD bridges short dips).
            let am = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 4.0 * t).sin();
            let v = if into < LINE_MS {
                (8000.0 * am * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
            } else {
                0
            };
            if agent { (v, 0) } else { (0, v) }
        })
        .collect()
}

/// Whether the daemon cut every line of call `id` for the right party (`GET /v1/integrations/calls/{id}`).
pub(super) async fn every_line_cut(opts: &LoadOptions, id: &str, lines: usize) -> bool {
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
    cut("agent") == Some(agent) && cut("customer") == Some(customer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_alternate_between_the_parties_with_silence_between() {
        let per_line = (LINE_MS + GAP_MS) / FRAME_MS;
        // 20 ms of the first line: the agent speaks, the customer is silent.
        let first = samples(10);
        assert_eq!(first.len(), RATE * FRAME_MS / 1000);
        assert!(first.iter().any(|(a, _)| a.unsigned_abs() > 1000));
        assert!(first.iter().all(|(_, c)| *c == 0));
        // The gap after it: silence on both.
        assert!(samples(LINE_MS / FRAME_MS + 5).iter().all(|s| *s == (0, 0)));
        // The second line is the customer's.
        let second = samples(per_line + 10);
        assert!(second.iter().all(|(a, _)| *a == 0));
        assert!(second.iter().any(|(_, c)| c.unsigned_abs() > 1000));
        assert_eq!(frames(6), 6 * per_line);
    }
}
