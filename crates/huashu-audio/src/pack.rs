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

/// The shortest pass [`plan`] makes by splitting a channel: a fitted encoder window never goes below its floor
/// (512 positions, 10.24 s with the 1.5 s margin), so a shorter pass costs as much encoder work as this one.
pub const MIN_SPLIT_MS: u32 = 10_000;

/// The workers [`plan`] evens passes out for: the two cores the product is sized for (more workers still
/// take passes from the same queue).
const PLAN_WORKERS: usize = 2;

/// The passes of a recording's channels (`cuts[c]`: channel c's utterances), as (channel, range of its
/// utterances), in channel order. Each channel is split into `n` passes of about the same audio at
/// utterance boundaries, `n` from as many as [`groups`] would pack (`max_samples` each) up to two more, none
/// shorter than [`MIN_SPLIT_MS`]: the split whose passes, the longest first to whichever of two workers is
/// free, end soonest (by [`pass_cost`]), fewer passes on a tie. A call's agent often speaks longer than its customer: one pass per channel left one
/// core idle for the difference. The plan depends on the audio only, not on the threads, so a transcript
/// is the same at any thread count.
pub fn plan(cuts: &[&[Utterance]], max_samples: usize) -> Vec<(usize, Range<usize>)> {
    if max_samples == 0 {
        return cuts
            .iter()
            .enumerate()
            .flat_map(|(c, cut)| groups(cut, 0).into_iter().map(move |g| (c, g)))
            .collect();
    }
    let min = MIN_SPLIT_MS as usize * 16;
    // Per channel, the splits worth trying.
    let options: Vec<Vec<Vec<Range<usize>>>> = cuts
        .iter()
        .map(|cut| {
            let len: usize = cut.iter().map(|u| u.end - u.start).sum();
            let packed = groups(cut, max_samples).len();
            let most = (len / min).max(packed);
            (packed..=(packed + 2).min(most))
                .map(|n| split(cut, n, max_samples))
                .collect()
        })
        .collect();
    let cost = |c: usize, g: &Range<usize>| {
        let audio: usize = cuts[c][g.clone()].iter().map(|u| u.end - u.start).sum();
        pass_cost(audio as f64 / 16_000.0)
    };
    // Every combination (a call has two channels: at most nine), kept small for many channels.
    let mut pick = vec![0usize; cuts.len()];
    let mut best: Option<(f64, usize, Vec<usize>)> = None;
    let combos: usize = options.iter().map(Vec::len).product();
    for k in 0..combos.min(4096) {
        let mut rest = k;
        for (c, o) in options.iter().enumerate() {
            pick[c] = rest % o.len().max(1);
            rest /= o.len().max(1);
        }
        let mut costs: Vec<f64> = pick
            .iter()
            .enumerate()
            .flat_map(|(c, &i)| {
                options[c]
                    .get(i)
                    .into_iter()
                    .flatten()
                    .map(move |g| cost(c, g))
            })
            .collect();
        let passes = costs.len();
        costs.sort_unstable_by(|a, b| b.total_cmp(a));
        let mut workers = [0.0f64; PLAN_WORKERS];
        for x in costs {
            let w = (0..PLAN_WORKERS)
                .min_by(|&a, &b| workers[a].total_cmp(&workers[b]))
                .unwrap_or(0);
            workers[w] += x;
        }
        let span = workers.iter().copied().fold(0.0, f64::max);
        if best
            .as_ref()
            .is_none_or(|b| span < b.0 - 1e-9 || (span <= b.0 + 1e-9 && passes < b.1))
        {
            best = Some((span, passes, pick.clone()));
        }
    }
    let pick = best.map_or(pick, |b| b.2);
    pick.iter()
        .enumerate()
        .flat_map(|(c, &i)| {
            options[c]
                .get(i)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |g| (c, g))
        })
        .collect()
}

/// What a pass of `audio` seconds costs, in seconds of encoder window: the window (the audio + 1.5 s, at least
/// the floor's 10.24 s) with attention's share growing with it (a third of the encoder at the full window:
/// 1 024·n² against 3.1 M·n multiply-adds per layer for n positions), and the decoder's tokens, which grow
/// with the audio (about half the encoder's time on the bench call).
fn pass_cost(audio: f64) -> f64 {
    let window = (audio + 1.5).max(10.24);
    window + window * window / 60.0 + 0.75 * audio
}

/// `cut` in `n` passes of about the same audio; a pass over `max_samples` (one long utterance among short
/// ones) is packed as [`groups`] packs it.
fn split(cut: &[Utterance], n: usize, max_samples: usize) -> Vec<Range<usize>> {
    even(cut, n)
        .into_iter()
        .flat_map(|g| {
            groups(&cut[g.clone()], max_samples)
                .into_iter()
                .map(move |r| g.start + r.start..g.start + r.end)
        })
        .collect()
}

/// `cut` in `n` consecutive groups of about the same audio, each cut at the utterance boundary nearest its
/// share.
fn even(cut: &[Utterance], n: usize) -> Vec<Range<usize>> {
    let total: usize = cut.iter().map(|u| u.end - u.start).sum();
    let mut out = Vec::with_capacity(n);
    let (mut start, mut acc) = (0, 0);
    for (i, u) in cut.iter().enumerate() {
        let len = u.end - u.start;
        let bound = total * (out.len() + 1) / n.max(1);
        if i > start && out.len() + 1 < n && acc + len / 2 > bound {
            out.push(start..i);
            start = i;
        }
        acc += len;
    }
    if start < cut.len() {
        out.push(start..cut.len());
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

    /// `secs` seconds of speech per utterance, one second apart.
    fn speech(secs: &[usize]) -> Vec<Utterance> {
        let mut at = 0;
        secs.iter()
            .map(|s| {
                let x = u(at, at + s * 16_000);
                at = x.end + 16_000;
                x
            })
            .collect()
    }

    #[test]
    fn a_short_calls_passes_are_evened_out_between_its_channels() {
        let max = PACK_MS as usize * 16;
        // 27 s of agent and 21 s of customer speech: one pass each would leave a core idle for 6 s.
        let agent = speech(&[4, 3, 5, 4, 2, 5, 4]);
        let customer = speech(&[3, 4, 3, 5, 3, 3]);
        let plan = plan(&[&agent, &customer], max);
        assert_eq!(plan, [(0, 0..3), (0, 3..7), (1, 0..3), (1, 3..6)]);
        // Each a quarter of the speech or so: two workers end within a few seconds of each other.
        let secs: Vec<usize> = plan
            .iter()
            .map(|(c, r)| {
                let cut = if *c == 0 { &agent } else { &customer };
                cut[r.clone()]
                    .iter()
                    .map(|x| x.end - x.start)
                    .sum::<usize>()
                    / 16_000
            })
            .collect();
        assert_eq!(secs, [12, 15, 10, 11]);
        // Utterances stay in order, each in exactly one pass.
        for c in 0..2 {
            let covered: Vec<usize> = plan
                .iter()
                .filter(|p| p.0 == c)
                .flat_map(|p| p.1.clone())
                .collect();
            assert_eq!(covered, (0..[7, 6][c]).collect::<Vec<_>>());
        }
    }

    #[test]
    fn long_or_short_recordings_are_packed_as_before() {
        let max = PACK_MS as usize * 16;
        // Under twice the shortest split (jfk: 11 s): one pass, as `groups` packs it.
        let short = speech(&[3, 2, 4, 2]);
        assert_eq!(plan(&[&short], max), [(0, 0..4)]);
        // Long channels: each in order, every pass within the limit, as many passes as `groups` makes
        // (25 s each) or up to two more (shorter passes cost less attention).
        let long: Vec<usize> = vec![5; 30];
        let long = speech(&long);
        let p = plan(&[&long, &long], max);
        let g = groups(&long, max).len();
        for c in 0..2 {
            let mine: Vec<&Range<usize>> = p.iter().filter(|x| x.0 == c).map(|x| &x.1).collect();
            assert!((g..=g + 2).contains(&mine.len()), "{p:?}");
            let covered: Vec<usize> = mine.iter().flat_map(|r| (*r).clone()).collect();
            assert_eq!(covered, (0..30).collect::<Vec<_>>());
            assert!(mine.iter().all(|r| r.len() * 5 <= 28), "{p:?}");
        }
        // Packing off: every utterance alone.
        assert_eq!(plan(&[&short], 0).len(), 4);
        // A mono recording of 24 s: two passes, one per worker.
        let mono = speech(&[6, 6, 6, 6]);
        assert_eq!(plan(&[&mono], max), [(0, 0..2), (0, 2..4)]);
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
