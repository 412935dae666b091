//! Time order across the parties of one call. Each party's stream is recognised on its own, so a final
//! transcript of one party can come back before an earlier utterance of the other party has been
//! recognised. A final is held until no other party can still produce an utterance that started before it
//! (its *watermark* has passed it), so the conversation gets the turns in the order they were spoken —
//! the order `huashu score --audio` gives the same call as a stereo file: by start time, then channel.
//!
//! A party's watermark is the earliest stream time an utterance of it may still start at: the first of
//! its finals cut but not yet recognised, else its open utterance, else its stream position. A party that
//! has ended (or has no recogniser) does not hold anyone back. A final is never held longer than
//! `max_hold` (a party whose audio stopped arriving, a recognition that failed).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use huashu_audio::live::{LiveJob, LiveTranscript};

/// Where one party's stream stands.
#[derive(Debug, Clone, Default)]
struct Clock {
    /// Finals cut and sent to recognition, not yet reported: (utterance index, start ms).
    pending: VecDeque<(u64, u64)>,
    /// Start of the utterance the segmenter has open.
    open_start: Option<u64>,
    /// Stream time reached.
    now_ms: u64,
    /// No more transcripts will come from this party.
    done: bool,
    /// The utterance whose partial was let through last, with its times, until a final of it comes.
    shown: Option<(u64, u64, u64)>,
}

impl Clock {
    fn watermark(&self) -> u64 {
        if self.done {
            return u64::MAX;
        }
        let mut w = self.now_ms;
        if let Some(s) = self.open_start {
            w = w.min(s);
        }
        if let Some(&(_, s)) = self.pending.front() {
            w = w.min(s);
        }
        w
    }
}

#[derive(Debug, Clone)]
struct Held {
    party: usize,
    t: LiveTranscript,
    since: Instant,
}

/// The time-order gate of one call's parties (pure: no tasks, no clocks of its own).
#[derive(Debug, Clone)]
pub struct Merger {
    clocks: Vec<Clock>,
    held: Vec<Held>,
    max_hold: Duration,
}

impl Merger {
    pub fn new(parties: usize, max_hold: Duration) -> Merger {
        Merger {
            clocks: vec![Clock::default(); parties],
            held: Vec::new(),
            max_hold,
        }
    }

    /// Party `p` cut `jobs` (only finals matter) and its segmenter now stands at `open_start`/`now_ms`.
    pub fn cut(&mut self, p: usize, jobs: &[LiveJob], open_start: Option<u64>, now_ms: u64) {
        let Some(c) = self.clocks.get_mut(p) else {
            return;
        };
        if !c.done {
            c.pending.extend(
                jobs.iter()
                    .filter(|j| j.is_final)
                    .map(|j| (j.utterance, j.start_ms)),
            );
        }
        c.open_start = open_start;
        c.now_ms = c.now_ms.max(now_ms);
    }

    /// A transcript of party `p`: a partial passes at once (it is never folded), a final waits its turn.
    /// Returns what may go into the conversation now, in order.
    pub fn heard(
        &mut self,
        p: usize,
        t: LiveTranscript,
        now: Instant,
    ) -> Vec<(usize, LiveTranscript)> {
        if !t.is_final {
            self.resolved(p, t.utterance, false);
            if let Some(c) = self.clocks.get_mut(p) {
                c.shown = Some((t.utterance, t.start_ms, t.end_ms));
            }
            return vec![(p, t)];
        }
        self.resolved(p, t.utterance, true);
        if let Some(c) = self.clocks.get_mut(p) {
            c.shown = None;
        }
        self.held.push(Held {
            party: p,
            t,
            since: now,
        });
        self.release(now)
    }

    /// Party `p` recognised utterance `utterance` as nothing (a final), or a partial of it: every final
    /// before it is done, as jobs of one stream run in order. A final that hears nothing after a partial of
    /// it was let through (noise or hold music the partial took for words) goes out as a final with empty
    /// text, in its turn, so that a screen showing the partial clears it; it is no turn of the conversation.
    pub fn silent(
        &mut self,
        p: usize,
        utterance: u64,
        is_final: bool,
        now: Instant,
    ) -> Vec<(usize, LiveTranscript)> {
        self.resolved(p, utterance, is_final);
        if let Some(c) = self.clocks.get_mut(p).filter(|_| is_final) {
            if let Some((u, start_ms, end_ms)) = c.shown.filter(|s| s.0 == utterance) {
                c.shown = None;
                self.held.push(Held {
                    party: p,
                    t: LiveTranscript {
                        utterance: u,
                        is_final: true,
                        start_ms,
                        end_ms,
                        text: String::new(),
                        confidence: 0.0,
                    },
                    since: now,
                });
            }
        }
        self.release(now)
    }

    fn resolved(&mut self, p: usize, utterance: u64, inclusive: bool) {
        if let Some(c) = self.clocks.get_mut(p) {
            while c
                .pending
                .front()
                .is_some_and(|&(u, _)| u < utterance || (inclusive && u == utterance))
            {
                c.pending.pop_front();
            }
        }
    }

    /// Party `p` will report nothing more (its stream ended and drained, or it has no recogniser).
    pub fn done(&mut self, p: usize, now: Instant) -> Vec<(usize, LiveTranscript)> {
        if let Some(c) = self.clocks.get_mut(p) {
            c.done = true;
            c.pending.clear();
            c.open_start = None;
        }
        self.release(now)
    }

    /// Every party is done.
    pub fn all_done(&self) -> bool {
        self.clocks.iter().all(|c| c.done)
    }

    /// Finals whose turn has come (or that waited `max_hold`), in time order.
    pub fn release(&mut self, now: Instant) -> Vec<(usize, LiveTranscript)> {
        self.held
            .sort_by_key(|h| (h.t.start_ms, h.party, h.t.utterance));
        let mut out = Vec::new();
        while let Some(h) = self.held.first() {
            let (p, start) = (h.party, h.t.start_ms);
            let clear = self.clocks.iter().enumerate().all(|(q, c)| {
                let w = c.watermark();
                q == p || w > start || (w == start && q > p)
            });
            if !clear && now.duration_since(h.since) < self.max_hold {
                break;
            }
            let h = self.held.remove(0);
            out.push((h.party, h.t));
        }
        out
    }

    /// Every held final, in time order (the call is over).
    pub fn drain(&mut self) -> Vec<(usize, LiveTranscript)> {
        self.held
            .sort_by_key(|h| (h.t.start_ms, h.party, h.t.utterance));
        self.held.drain(..).map(|h| (h.party, h.t)).collect()
    }

    /// When the oldest held final stops waiting for the others.
    pub fn deadline(&self) -> Option<Instant> {
        self.held.iter().map(|h| h.since + self.max_hold).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(u: u64, start: u64, end: u64) -> LiveJob {
        LiveJob {
            utterance: u,
            is_final: true,
            start_ms: start,
            end_ms: end,
            speech_start_ms: start,
            speech_end_ms: end,
            pcm: Vec::new(),
        }
    }

    fn heard(u: u64, start: u64, text: &str) -> LiveTranscript {
        LiveTranscript {
            utterance: u,
            is_final: true,
            start_ms: start,
            end_ms: start + 1000,
            text: text.into(),
            confidence: 0.9,
        }
    }

    fn texts(v: &[(usize, LiveTranscript)]) -> Vec<String> {
        v.iter().map(|(p, t)| format!("{p}:{}", t.text)).collect()
    }

    #[test]
    fn a_final_that_hears_nothing_after_a_shown_partial_clears_it() {
        let now = Instant::now();
        let mut m = Merger::new(1, Duration::from_secs(60));
        m.cut(0, &[], Some(300), 1000);
        let partial = LiveTranscript {
            is_final: false,
            ..heard(0, 300, "la la")
        };
        assert_eq!(texts(&m.heard(0, partial, now)), ["0:la la"]);
        m.cut(0, &[job(0, 300, 2000)], None, 2500);
        let out = m.silent(0, 0, true, now);
        assert_eq!(texts(&out), ["0:"]);
        assert!(out[0].1.is_final);
        assert_eq!((out[0].1.start_ms, out[0].1.end_ms), (300, 1300));
        // An utterance whose partials were never shown goes quietly, as before.
        m.cut(0, &[job(1, 3000, 3400)], None, 4000);
        assert!(m.silent(0, 1, true, now).is_empty());
        // A candidate final (a partial) that hears nothing clears nothing: the final decides.
        let partial = LiveTranscript {
            is_final: false,
            ..heard(2, 5000, "hm")
        };
        m.heard(0, partial, now);
        assert!(m.silent(0, 2, false, now).is_empty());
    }

    #[test]
    fn a_later_final_waits_for_the_other_partys_earlier_utterance() {
        let now = Instant::now();
        let mut m = Merger::new(2, Duration::from_secs(60));
        // Customer (1) spoke 0–1 s, agent (0) 1.5–2.5 s; both cut, the agent is recognised first.
        m.cut(1, &[job(0, 0, 1000)], None, 3000);
        m.cut(0, &[job(0, 1500, 2500)], None, 3000);
        assert!(m.heard(0, heard(0, 1500, "agent"), now).is_empty());
        let out = m.heard(1, heard(0, 0, "customer"), now);
        assert_eq!(texts(&out), ["1:customer", "0:agent"]);
    }

    #[test]
    fn an_open_utterance_that_started_earlier_holds_a_final_back() {
        let now = Instant::now();
        let mut m = Merger::new(2, Duration::from_secs(60));
        m.cut(0, &[], Some(500), 2000);
        m.cut(1, &[job(0, 800, 1500)], None, 2000);
        assert!(m.heard(1, heard(0, 800, "c"), now).is_empty());
        // The agent's utterance closes and is recognised: it goes first.
        m.cut(0, &[job(0, 500, 2500)], None, 3200);
        assert_eq!(texts(&m.heard(0, heard(0, 500, "a"), now)), ["0:a", "1:c"]);
    }

    #[test]
    fn an_utterance_recognised_as_nothing_and_an_ended_party_hold_nobody() {
        let now = Instant::now();
        let mut m = Merger::new(2, Duration::from_secs(60));
        m.cut(0, &[job(0, 0, 400)], None, 5000);
        m.cut(1, &[job(0, 1000, 2000)], None, 5000);
        assert!(m.heard(1, heard(0, 1000, "c"), now).is_empty());
        assert_eq!(texts(&m.silent(0, 0, true, now)), ["1:c"]);
        // A party that never speaks and then ends does not hold the other one.
        let mut m = Merger::new(2, Duration::from_secs(60));
        m.cut(0, &[job(0, 100, 900)], None, 1000);
        assert!(
            m.heard(0, heard(0, 100, "a"), now).is_empty(),
            "party 1 is at 0 ms"
        );
        assert_eq!(texts(&m.done(1, now)), ["0:a"]);
        assert!(!m.all_done());
    }

    #[test]
    fn a_final_is_held_at_most_max_hold_and_ties_go_to_the_lower_party() {
        let t0 = Instant::now();
        let mut m = Merger::new(2, Duration::from_millis(500));
        m.cut(0, &[job(0, 100, 900)], None, 1000);
        assert!(m.heard(0, heard(0, 100, "a"), t0).is_empty());
        assert_eq!(m.deadline(), Some(t0 + Duration::from_millis(500)));
        assert!(m.release(t0 + Duration::from_millis(499)).is_empty());
        assert_eq!(texts(&m.release(t0 + Duration::from_millis(500))), ["0:a"]);
        // Same start: party 0 first, whichever was recognised first.
        let mut m = Merger::new(2, Duration::from_secs(60));
        m.cut(0, &[job(0, 200, 900)], None, 1000);
        m.cut(1, &[job(0, 200, 900)], None, 1000);
        assert!(m.heard(1, heard(0, 200, "c"), t0).is_empty());
        assert_eq!(texts(&m.heard(0, heard(0, 200, "a"), t0)), ["0:a", "1:c"]);
    }

    #[test]
    fn partials_pass_at_once_and_drain_keeps_time_order() {
        let now = Instant::now();
        let mut m = Merger::new(2, Duration::from_secs(60));
        let mut p = heard(0, 300, "partial");
        p.is_final = false;
        assert_eq!(texts(&m.heard(1, p, now)), ["1:partial"]);
        m.cut(0, &[job(0, 900, 1000), job(1, 1200, 1300)], None, 2000);
        m.cut(1, &[job(0, 0, 100)], None, 0);
        assert!(m.heard(0, heard(1, 1200, "a2"), now).is_empty());
        assert!(m.heard(0, heard(0, 900, "a1"), now).is_empty());
        assert_eq!(texts(&m.drain()), ["0:a1", "0:a2"]);
    }
}
