//! Recognising a channel's neighbouring utterances in one pass (offline transcription).
//!
//! Whisper's encoder costs as much for a 2 s utterance as for the window floor it is given (512 positions,
//! 10.24 s), so a call cut into many short utterances paid that floor once per utterance. Offline, the
//! utterances of a channel are laid back to back (each keeps its VAD padding, so about 400 ms of quiet
//! separates two) into passes of at most [`PACK_MS`], and the text is mapped back to its utterance by time:
//! Whisper splits by token times ([`crate::Whisper`]), other recognisers by segment ([`split_segments`]).

use std::ops::Range;

use crate::Segment;
use crate::vad::Utterance;

/// The longest pass: Whisper's window is 30 s; the fitted window adds 1.5 s of margin.
pub const PACK_MS: u32 = 28_000;

/// Consecutive utterances grouped into passes of at most `max_samples` of audio each (an utterance longer
/// than that is a pass of its own); `max_samples` 0: one utterance per pass. Ranges index `cut`.
pub fn groups(cut: &[Utterance], max_samples: usize) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut len = 0;
    for (i, u) in cut.iter().enumerate() {
        let n = u.end - u.start;
        match out.last_mut() {
            Some(g) if max_samples > 0 && len + n <= max_samples => {
                g.end = i + 1;
                len += n;
            }
            _ => {
                out.push(i..i + 1);
                len = n;
            }
        }
    }
    out
}

/// The audio of a pass: its utterances back to back.
pub fn packed(pcm: &[f32], cut: &[Utterance]) -> Vec<f32> {
    let mut buf = Vec::with_capacity(cut.iter().map(|u| u.end - u.start).sum());
    for u in cut {
        buf.extend_from_slice(&pcm[u.start..u.end]);
    }
    buf
}

/// Where each utterance of a pass lies in its packed audio (sample ranges).
pub fn layout(cut: &[Utterance]) -> Vec<Range<usize>> {
    let mut at = 0;
    cut.iter()
        .map(|u| {
            let r = at..at + (u.end - u.start);
            at = r.end;
            r
        })
        .collect()
}

/// The utterance a stretch `from..to` of the packed audio belongs to: the one it overlaps most; a stretch
/// overlapping none (a zero-length or out-of-range time) goes to the utterance nearest its middle.
pub fn owner(layout: &[Range<usize>], from: usize, to: usize) -> usize {
    let overlap = |r: &Range<usize>| to.min(r.end).saturating_sub(from.max(r.start));
    let best = (0..layout.len()).max_by_key(|&i| (overlap(&layout[i]), std::cmp::Reverse(i)));
    match best {
        Some(i) if overlap(&layout[i]) > 0 => i,
        _ => {
            let mid = from + to.saturating_sub(from) / 2;
            let dist = |r: &Range<usize>| {
                if mid < r.start {
                    r.start - mid
                } else {
                    mid.saturating_sub(r.end.saturating_sub(1))
                }
            };
            (0..layout.len())
                .min_by_key(|&i| dist(&layout[i]))
                .unwrap_or(0)
        }
    }
}

/// A pass's segments (times in the packed audio) given to the utterances they overlap most, with times
/// relative to their utterance: for recognisers that time whole segments only.
pub fn split_segments(layout: &[Range<usize>], segs: Vec<Segment>) -> Vec<Vec<Segment>> {
    let mut out = vec![Vec::new(); layout.len()];
    let sample = |ms: u64| ms as usize * 16;
    for mut s in segs {
        let i = owner(layout, sample(s.start_ms), sample(s.end_ms));
        let Some(slot) = out.get_mut(i) else {
            continue;
        };
        let base = layout[i].start as u64 / 16;
        s.start_ms = s.start_ms.saturating_sub(base);
        s.end_ms = s.end_ms.saturating_sub(base);
        slot.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(start: usize, end: usize) -> Utterance {
        Utterance { start, end }
    }

    #[test]
    fn passes_hold_neighbours_up_to_the_limit() {
        let cut = [u(0, 10), u(20, 25), u(40, 50), u(60, 100), u(100, 104)];
        assert_eq!(groups(&cut, 20), [0..2, 2..3, 3..4, 4..5]);
        assert_eq!(groups(&cut, 25), [0..3, 3..4, 4..5]);
        assert_eq!(groups(&cut, 1000), vec![0..5]);
        // 0: every utterance its own pass.
        assert_eq!(groups(&cut, 0).len(), 5);
        assert!(groups(&[], 10).is_empty());
    }

    #[test]
    fn text_goes_back_to_the_utterance_it_was_heard_in() {
        let cut = [u(16_000, 48_000), u(80_000, 96_000)];
        let pcm: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
        let buf = packed(&pcm, &cut);
        assert_eq!(buf.len(), 48_000);
        assert_eq!((buf[0], buf[32_000]), (16_000.0, 80_000.0));
        let lay = layout(&cut);
        assert_eq!(lay, [0..32_000, 32_000..48_000]);
        assert_eq!(owner(&lay, 30_000, 40_000), 1);
        assert_eq!(owner(&lay, 20_000, 33_000), 0);
        // Past the end: the nearest.
        assert_eq!(owner(&lay, 60_000, 60_000), 1);
        let seg = |t: &str, a: u64, b: u64| Segment {
            text: t.into(),
            start_ms: a,
            end_ms: b,
            confidence: 0.9,
            no_speech: 0.0,
        };
        let split = split_segments(
            &lay,
            vec![
                seg("一", 100, 1900),
                seg("二", 2000, 2900),
                seg("三", 3000, 2900),
            ],
        );
        let texts: Vec<Vec<(&str, u64, u64)>> = split
            .iter()
            .map(|v| {
                v.iter()
                    .map(|s| (s.text.as_str(), s.start_ms, s.end_ms))
                    .collect()
            })
            .collect();
        // Times are relative to each utterance (the second starts 2 000 ms into the pass).
        assert_eq!(
            texts,
            [
                vec![("一", 100, 1900)],
                vec![("二", 0, 900), ("三", 1000, 900)]
            ]
        );
    }
}
