//! An energy-based voice activity detector: enough to cut a call channel into utterances.
//!
//! 20 ms frames; a frame is speech when its energy is above both an absolute floor and the channel's noise
//! floor (its 10th-percentile frame energy) plus a margin (but below its loud frames). Speech runs closer than `max_gap_ms` are
//! bridged, runs shorter than `min_speech_ms` dropped, each utterance padded, and long ones split so that
//! no utterance exceeds Whisper's 30 s window.

/// Tuning of the detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadOptions {
    pub frame_ms: u32,
    /// Absolute energy floor in dBFS.
    pub min_db: f32,
    /// Margin above the noise floor in dB.
    pub margin_db: f32,
    pub max_gap_ms: u32,
    pub min_speech_ms: u32,
    pub pad_ms: u32,
    pub max_utterance_ms: u32,
}

impl Default for VadOptions {
    fn default() -> Self {
        VadOptions {
            frame_ms: 20,
            min_db: -50.0,
            margin_db: 12.0,
            max_gap_ms: 600,
            min_speech_ms: 150,
            pad_ms: 200,
            max_utterance_ms: 28_000,
        }
    }
}

/// A cut utterance: sample range of the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utterance {
    pub start: usize,
    pub end: usize,
}

/// Utterances of `samples` (at `rate` Hz), in order, never overlapping.
pub fn utterances(samples: &[f32], rate: u32, opts: &VadOptions) -> Vec<Utterance> {
    let frame = (rate as usize * opts.frame_ms as usize / 1000).max(1);
    let ms_to_frames = |ms: u32| (ms / opts.frame_ms.max(1)) as usize;
    let energies: Vec<f32> = samples
        .chunks(frame)
        .map(|c| {
            let e = c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32;
            10.0 * (e + 1e-10).log10()
        })
        .collect();
    if energies.is_empty() {
        return Vec::new();
    }
    let mut sorted = energies.clone();
    sorted.sort_by(f32::total_cmp);
    let floor = sorted[sorted.len() / 10];
    let loud = sorted[sorted.len() * 9 / 10];
    // A channel that is speech almost throughout has no quiet frames to learn the floor from: the threshold
    // never rises above its loud frames.
    let threshold = (floor + opts.margin_db)
        .min(loud - opts.margin_db / 2.0)
        .max(opts.min_db);
    let speech: Vec<bool> = energies.iter().map(|&e| e > threshold).collect();

    // Runs of speech frames, gaps bridged.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let max_gap = ms_to_frames(opts.max_gap_ms);
    for (i, &s) in speech.iter().enumerate() {
        if !s {
            continue;
        }
        match runs.last_mut() {
            Some((_, end)) if i - *end <= max_gap => *end = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    let min_len = ms_to_frames(opts.min_speech_ms).max(1);
    let pad = ms_to_frames(opts.pad_ms);
    let max_len = ms_to_frames(opts.max_utterance_ms).max(1);
    let n = speech.len();
    let mut out: Vec<Utterance> = Vec::new();
    for (s, e) in runs.into_iter().filter(|(s, e)| e - s >= min_len) {
        let s = s.saturating_sub(pad);
        let e = (e + pad).min(n);
        // Padding never makes two utterances overlap.
        let s = out
            .last()
            .map_or(s, |u: &Utterance| s.max(u.end.div_ceil(frame)));
        let mut at = s;
        while at < e {
            let end = (at + max_len).min(e);
            out.push(Utterance {
                start: at * frame,
                end: (end * frame).min(samples.len()),
            });
            at = end;
        }
    }
    out.retain(|u| u.end > u.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: u32) -> Vec<f32> {
        (0..16 * ms)
            .map(|i| 0.3 * (i as f32 * 0.07).sin())
            .collect()
    }

    fn silence(ms: u32) -> Vec<f32> {
        vec![0.0; 16 * ms as usize]
    }

    #[test]
    fn two_utterances_separated_by_a_long_pause() {
        let mut x = silence(500);
        x.extend(tone(1000));
        x.extend(silence(1500));
        x.extend(tone(800));
        x.extend(silence(300));
        let u = utterances(&x, 16_000, &VadOptions::default());
        assert_eq!(u.len(), 2, "{u:?}");
        // Starts about 300 ms (padded 200 ms before 500 ms).
        assert!((4_000..=5_200).contains(&u[0].start), "{u:?}");
        assert!(u[0].end <= u[1].start);
        assert!(u[1].end <= x.len());
    }

    #[test]
    fn short_pause_is_bridged_and_clicks_dropped() {
        let mut x = tone(700);
        x.extend(silence(300));
        x.extend(tone(700));
        x.extend(silence(2000));
        x.extend(tone(40)); // a click
        x.extend(silence(2000));
        let u = utterances(&x, 16_000, &VadOptions::default());
        assert_eq!(u.len(), 1, "{u:?}");
    }

    #[test]
    fn silence_and_empty_give_nothing() {
        assert!(utterances(&[], 16_000, &VadOptions::default()).is_empty());
        assert!(utterances(&silence(3000), 16_000, &VadOptions::default()).is_empty());
    }

    #[test]
    fn long_speech_is_split_under_the_window() {
        let x = tone(61_000);
        let u = utterances(&x, 16_000, &VadOptions::default());
        assert!(u.len() >= 3);
        assert!(u.iter().all(|u| u.end - u.start <= 28 * 16_000));
        assert_eq!(u.last().map(|u| u.end), Some(x.len()));
    }
}
