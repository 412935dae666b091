//! Scanning one normalised turn for hits: the automaton pass, the regexes it wakes (anchored at a prefix
//! literal, or searched within a window around one), tolerant pinyin matches, then per rule leftmost-longest,
//! checksums, context and the allow-list, and across rules [`resolve_overlaps`]. This is the hot path: it
//! reuses one set of buffers per thread and allocates nothing for a clean turn.

use std::cell::RefCell;

use huashu_rules::{Role, Validate};
use huashu_text::Normalized;
use regex_automata::{Anchored, Input};

use super::Matcher;
use super::compile::{
    Anchor, BOUND_END_DIGIT, BOUND_END_LETTER, BOUND_START_DIGIT, BOUND_START_LETTER,
    CompiledRegex, PatternValue,
};
use super::overlaps::resolve_overlaps;
use super::signature::Signature;
use crate::anchors::longest_digit_run;
use crate::asr::Tolerance;
use crate::context::{Block, Exchange};
use crate::validate;

/// A window regex none of whose window literals was seen.
const NO_SPAN: (u32, u32) = (u32::MAX, 0);

thread_local! {
    // One set of buffers per thread: the hot path allocates nothing for a clean turn.
    pub(super) static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Buffers one turn's checking reuses.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) norm: Normalized,
    pub(super) hits: HitScratch,
}

/// Buffers one turn's matching reuses.
#[derive(Default)]
pub(super) struct HitScratch {
    raw: Vec<Hit>,
    /// The turn's hits after context and overlap resolution: what the caller reads.
    pub(super) kept: Vec<Hit>,
    run: Vec<u32>,
    /// Per regex, the bits of its literal sets seen in this turn (reset for every regex in `run`).
    seen: Vec<u8>,
    /// `regex << 32 | start` of every prefix literal seen in this turn, in the order seen (not sorted: most
    /// woken regexes never run, and sorting them all cost 2 % of a pass).
    starts: Vec<u64>,
    /// The starts of the one prefix regex being tried, sorted.
    mine: Vec<u32>,
    /// Per window regex, the least start and the greatest end of its window literals seen in this turn
    /// (`NO_SPAN` when none; reset for every regex in `run`). These two bound the window: the runs of
    /// `before` and `after` characters around a literal only move right as the literal does.
    span: Vec<(u32, u32)>,
    allowed: Vec<(usize, usize)>,
    /// The turn's character signature, filled on the first regex with weak sets the turn wakes.
    signature: Signature,
    /// Record why each dropped hit is no finding (in `dropped`): set only for [`Matcher::near_misses`].
    explain: bool,
    pub(super) dropped: Vec<(Hit, Dropped)>,
}

/// Why a hit is no finding (see [`crate::DroppedBy`], what callers get).
#[derive(Debug, Clone)]
pub(super) enum Dropped {
    Checksum,
    Context(Block),
    Exchange(&'static str),
    /// Inside the allow-list word at this byte range.
    Allowed(usize, usize),
    /// Another rule's hit (this rule index) overlaps it and was kept.
    Overlap(u32),
}

/// A hit before it becomes a [`crate::Finding`]: rule index and byte range of the normalised text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hit {
    pub(super) rule: u32,
    pub(super) start: usize,
    pub(super) end: usize,
    /// 0 for an exact hit; for a tolerant one the edit cost in half edits.
    pub(super) cost: u32,
    /// Syllables of the phrase a tolerant hit matched (0 for exact hits).
    pub(super) syllables: usize,
}

impl CompiledRegex {
    /// The first match in `input`: the whole match and the part to report (the `hit` group, else the whole).
    /// A pattern too large for a dense DFA (F030's, F033's) is as dear to read the hit off (the capture
    /// search: ~6,000 instructions), and most of its matches are dropped by their context: `keep` sees such a
    /// whole match first, and when it says no the hit is not read off (an empty range).
    #[inline]
    fn search(
        &self,
        input: &Input<'_>,
        keep: impl Fn(&std::ops::Range<usize>) -> bool,
    ) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
        let (whole, large) = self.find(input)?;
        match self.hit_group {
            None => Some((whole.clone(), whole)),
            Some(_) if large && !keep(&whole) => Some((whole.clone(), whole.start..whole.start)),
            Some(g) => Some(self.hit(input, whole, g)),
        }
    }

    /// The whole of the first match in `input`, and whether the meta regex found it (the pattern has no
    /// dense DFA: a large one).
    #[inline]
    fn find(&self, input: &Input<'_>) -> Option<(std::ops::Range<usize>, bool)> {
        if input.get_anchored().is_anchored() {
            // Tried where a prefix literal starts: the anchored forward DFA alone finds the end (no reverse
            // pass for the start), and it is smaller than the pair, so it exists for more patterns.
            if let Some(found) = self.regex.anchored().and_then(|d| anchored_find(d, input)) {
                return found.map(|r| (r, false));
            }
        } else if let Some(found) = self.regex.dense().and_then(|d| dfa_find(d, input)) {
            return found.map(|r| (r, false));
        }
        // No dense DFA, or it gave up (it cannot): the meta regex decides.
        self.regex.meta.search(input).map(|m| (m.range(), true))
    }

    /// The `hit` group (group `g`) of the match `whole`, read off anchored where the match starts; and the
    /// whole match as the capturing search sees it.
    #[cold]
    #[inline(never)]
    fn hit(
        &self,
        input: &Input<'_>,
        whole: std::ops::Range<usize>,
        g: usize,
    ) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let mut caps = self.regex.meta.create_captures();
        let at = input.clone().range(whole.clone()).anchored(Anchored::Yes);
        self.regex.meta.search_captures(&at, &mut caps);
        let whole = caps.get_match().map_or(whole, |m| m.range());
        let hit = caps.get_group(g).map_or(whole.clone(), |s| s.range());
        (whole, hit)
    }
}

impl HitScratch {
    /// Buffers that record why each dropped hit is no finding.
    pub(super) fn explaining() -> HitScratch {
        HitScratch {
            explain: true,
            ..HitScratch::default()
        }
    }
}

impl Hit {
    fn exact(rule: u32, start: usize, end: usize) -> Hit {
        Hit {
            rule,
            start,
            end,
            cost: 0,
            syllables: 0,
        }
    }
}

impl Matcher {
    /// Calls `f` with the hits in `t` (normalised), held in this thread's scratch buffers. `digits`: the
    /// longest run of ASCII digits in `t`, if the caller already knows it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn with_hits<R>(
        &self,
        role: Role,
        norm: &Normalized,
        previous: Exchange<'_>,
        digits: Option<usize>,
        resolve: bool,
        tolerance: Tolerance,
        f: impl FnOnce(&[Hit]) -> R,
    ) -> R {
        self.with_hits_in(
            role,
            norm.as_str(),
            norm.repeats(),
            previous,
            digits,
            resolve,
            tolerance,
            f,
        )
    }

    /// As [`Matcher::with_hits`] on a text of the same byte layout as a normalised one (a transcript whose
    /// homophones were repaired character for character).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn with_hits_in<R>(
        &self,
        role: Role,
        t: &str,
        repeats: &[u32],
        previous: Exchange<'_>,
        digits: Option<usize>,
        resolve: bool,
        tolerance: Tolerance,
        f: impl FnOnce(&[Hit]) -> R,
    ) -> R {
        SCRATCH.with(|cell| {
            let mut own;
            let mut borrowed = cell.try_borrow_mut();
            let hits = match &mut borrowed {
                Ok(scratch) => &mut scratch.hits,
                Err(_) => {
                    own = HitScratch::default();
                    &mut own
                }
            };
            self.hits_in(hits, role, t, repeats, previous, digits, resolve, tolerance);
            f(&hits.kept)
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn hits_in(
        &self,
        scratch: &mut HitScratch,
        role: Role,
        t: &str,
        repeats: &[u32],
        previous: Exchange<'_>,
        digits: Option<usize>,
        resolve: bool,
        tolerance: Tolerance,
    ) {
        let HitScratch {
            raw,
            kept,
            run,
            seen,
            starts,
            mine,
            span,
            allowed,
            signature,
            explain,
            dropped,
        } = scratch;
        raw.clear();
        dropped.clear();
        kept.clear();
        run.clear();
        starts.clear();
        allowed.clear();
        if seen.len() < self.regexes.len() {
            seen.resize(self.regexes.len(), 0);
            span.resize(self.regexes.len(), NO_SPAN);
        }
        if let Some(ac) = &self.phrases {
            ac.for_each_match(t, |start, end, v| {
                let one;
                let anchors: &[Anchor] = if v & PatternValue::OWNER == 0 {
                    if v & PatternValue::ONE != 0 {
                        one = [PatternValue::one(v)];
                        &one
                    } else {
                        let (at, len) = PatternValue::anchors(v);
                        &self.anchors[at..at + len]
                    }
                } else {
                    let owner = &self.owners[(v & !PatternValue::OWNER) as usize];
                    if owner.allow {
                        allowed.push((start, end));
                    }
                    let bounded = owner.bounds == 0 || at_bounds(t, start, end, owner.bounds);
                    for &rule in &owner.rules {
                        let r = &self.rules[rule as usize];
                        // As for regexes below: a hit the last exchange would drop is not kept (P030's 可以 and
                        // 是的, which stand only after a question about safety, are in most turns). Near misses
                        // keep it, to say why.
                        if bounded
                            && r.role.applies_to(role)
                            && (!r.needs_previous
                                || *explain
                                || r.context.allows_previous(previous))
                        {
                            raw.push(Hit::exact(rule, start, end));
                        }
                    }
                    for (rule, offsets) in &owner.repeated {
                        if bounded
                            && self.rules[*rule as usize].role.applies_to(role)
                            && offsets
                                .iter()
                                .all(|&o| repeats.binary_search(&(start as u32 + o)).is_ok())
                        {
                            raw.push(Hit::exact(*rule, start, end));
                        }
                    }
                    let (at, len) = (owner.anchors.0 as usize, owner.anchors.1 as usize);
                    &self.anchors[at..at + len]
                };
                for &a in anchors {
                    let r = a.regex();
                    let s = &mut seen[r as usize];
                    if *s == 0 {
                        run.push(r);
                    }
                    *s |= a.bit();
                    if a.prefix() {
                        starts.push(u64::from(r) << 32 | start as u64);
                    } else if a.window() {
                        let sp = &mut span[r as usize];
                        sp.0 = sp.0.min(start as u32);
                        sp.1 = sp.1.max(end as u32);
                    }
                }
            });
        }
        // Regexes whose every literal set was seen, then those with no literal to wait for.
        let mut ready = 0;
        for k in 0..run.len() {
            let r = run[k];
            let s = std::mem::take(&mut seen[r as usize]);
            if s == self.needs[r as usize] {
                run[ready] = r;
                ready += 1;
            } else {
                span[r as usize] = NO_SPAN;
            }
        }
        run.truncate(ready);
        run.extend_from_slice(&self.unanchored);
        let mut digit_run = digits;
        let mut signed = false;
        for &i in run.iter() {
            let r = &self.regexes[i as usize];
            let (lit_start, lit_end) = std::mem::replace(&mut span[i as usize], NO_SPAN);
            if !r.role.applies_to(role) {
                continue;
            }
            // A rule that fires only after certain words in the last exchange: without them every hit of
            // the regex would be dropped by `dropped_by`, so it is not searched (without a previous turn, one
            // test). Near misses search it anyway, to say why its hits do not count.
            if r.needs_previous
                && !*explain
                && !self.rules[r.rule as usize]
                    .context
                    .allows_previous(previous)
            {
                continue;
            }
            if r.digits > 1 && *digit_run.get_or_insert_with(|| longest_digit_run(t)) < r.digits {
                continue;
            }
            if !r.weak.is_empty() {
                if !signed {
                    signature.fill(t);
                    signed = true;
                }
                if !signature.may_hold_all(&r.weak) {
                    continue;
                }
            }
            // A word of `unless_turn_has` outside the whole match is outside the hit in it too: the hit would be
            // dropped, so it is not read off (near misses read it, to say why).
            let keep = |whole: &std::ops::Range<usize>| {
                *explain
                    || !self.rules[r.rule as usize].context.turn_has_outside(
                        t,
                        whole.start,
                        whole.end,
                    )
            };
            if r.prefix_bit != 0 {
                // Every match starts at a prefix literal: try each, in order, as find_iter would (a match
                // hides the starts inside it).
                mine.clear();
                mine.extend(
                    starts
                        .iter()
                        .filter(|&&x| (x >> 32) == u64::from(i))
                        .map(|&x| x as u32),
                );
                mine.sort_unstable();
                mine.dedup();
                let mut free = 0;
                for &p in mine.iter() {
                    let p = p as usize;
                    if p < free {
                        continue;
                    }
                    let input = Input::new(t).range(p..).anchored(Anchored::Yes);
                    if let Some((whole, hit)) = r.search(&input, keep) {
                        free = whole.end;
                        if !hit.is_empty() {
                            raw.push(Hit::exact(r.rule, hit.start, hit.end));
                        }
                    }
                }
                continue;
            }
            let (mut at, mut end) = (0, t.len());
            if let Some((_, w)) = &r.window {
                (at, end) = if lit_start == NO_SPAN.0 {
                    (t.len(), 0)
                } else {
                    (
                        w.start(t, lit_start as usize),
                        w.after.run_after(t, lit_end as usize),
                    )
                };
            }
            if r.start_anchored {
                // A match must start at 0 and reach the literal through `before`'s characters: when their run
                // stops short of the start, nothing can match; otherwise one anchored try at 0 finds what a
                // search would (and ends where a match dies, not at the window's end).
                if at == 0 && (end > 0 || r.matches_empty) {
                    let input = Input::new(t).range(..end).anchored(Anchored::Yes);
                    if let Some((_, hit)) =
                        r.search(&input, keep).filter(|(_, hit)| !hit.is_empty())
                    {
                        raw.push(Hit::exact(r.rule, hit.start, hit.end));
                    }
                }
                continue;
            }
            // A match that ends at the window's end leaves an empty range: searched only if a match can be empty.
            while at < end || (at == end && r.matches_empty) {
                let Some((whole, hit)) = r.search(&Input::new(t).range(at..end), keep) else {
                    break;
                };
                if !hit.is_empty() {
                    raw.push(Hit::exact(r.rule, hit.start, hit.end));
                }
                // An empty match moves on by one character, as find_iter does.
                at = if whole.is_empty() {
                    whole.end + t[whole.end..].chars().next().map_or(1, char::len_utf8)
                } else {
                    whole.end
                };
            }
        }
        if tolerance != Tolerance::Off && !self.tolerant.is_empty() {
            let wanted = |rule: u32| self.rules[rule as usize].role.applies_to(role);
            for h in self.tolerant.find(t, tolerance, &wanted) {
                raw.push(Hit {
                    rule: h.rule,
                    start: h.start,
                    end: h.end,
                    cost: h.cost,
                    syllables: h.syllables,
                });
            }
        }
        if raw.is_empty() {
            return;
        }
        // Within a rule: leftmost-longest, non-overlapping.
        raw.sort_unstable_by_key(|h| (h.rule, h.start, std::cmp::Reverse(h.end), h.cost));
        let mut last: Option<(u32, usize)> = None;
        for &h in raw.iter() {
            if let Some((rule, end)) = last {
                if rule == h.rule && h.start < end {
                    continue;
                }
            }
            if let Some(why) = self.dropped_by(&h, t, previous) {
                if *explain {
                    dropped.push((h, why));
                }
                continue;
            }
            last = Some((h.rule, h.end));
            kept.push(h);
        }
        if !allowed.is_empty() {
            let inside = |h: &Hit| {
                allowed
                    .iter()
                    .find(|&&(s, e)| s <= h.start && h.end <= e)
                    .copied()
            };
            if *explain {
                for h in kept.iter() {
                    if let Some((s, e)) = inside(h) {
                        dropped.push((*h, Dropped::Allowed(s, e)));
                    }
                }
            }
            kept.retain(|h| inside(h).is_none());
        }
        if resolve {
            let before = explain.then(|| kept.clone());
            resolve_overlaps(kept, &self.ruleset.rules);
            for h in before.iter().flatten() {
                let same = |k: &Hit| (k.rule, k.start, k.end) == (h.rule, h.start, h.end);
                if !kept.iter().any(same) {
                    let by = kept.iter().find(|k| k.start < h.end && h.start < k.end);
                    dropped.push((*h, Dropped::Overlap(by.map_or(h.rule, |k| k.rule))));
                }
            }
        }
    }

    /// What drops a hit, if anything: its checksum, its context in `t`, or the other party's `previous`
    /// turn (normalised), which only the rules that name words for it look at.
    #[inline]
    fn dropped_by(&self, h: &Hit, t: &str, previous: Exchange<'_>) -> Option<Dropped> {
        let rule = &self.ruleset.rules[h.rule as usize];
        let ok = match rule.matcher.validate {
            Validate::None => true,
            Validate::IdCard => validate::id_card(&t[h.start..h.end]),
            Validate::Luhn => validate::luhn(&t[h.start..h.end]),
        };
        if !ok {
            return Some(Dropped::Checksum);
        }
        let context = &self.rules[h.rule as usize].context;
        if let Some(b) = context.block(t, h.start, h.end) {
            return Some(Dropped::Context(b));
        }
        if context.wants_previous() {
            return context.previous_block(previous).map(Dropped::Exchange);
        }
        None
    }
}

/// The first match of `dfa` in `input` (unanchored); None when the DFA gave up (it cannot, without Unicode
/// word boundaries, which it would not have been built with).
#[inline]
fn dfa_find<A: regex_automata::dfa::Automaton>(
    dfa: &regex_automata::dfa::regex::Regex<A>,
    input: &Input<'_>,
) -> Option<Option<std::ops::Range<usize>>> {
    let found = dfa.try_search(input).ok()?;
    Some(found.map(|m| m.range()))
}

/// The match of the anchored forward `dfa` starting where the anchored `input` does; None when the DFA
/// gave up (as for [`dfa_find`]).
#[inline]
fn anchored_find<A: regex_automata::dfa::Automaton>(
    dfa: &A,
    input: &Input<'_>,
) -> Option<Option<std::ops::Range<usize>>> {
    let found = dfa.try_search_fwd(input).ok()?;
    Some(found.map(|m| input.start()..m.offset()))
}

/// Whether the match `start..end` of `t` (normalised) lies at the word boundaries `b` asks for.
#[inline]
fn at_bounds(t: &str, start: usize, end: usize, b: u8) -> bool {
    let (before, after) = (
        t[..start].bytes().next_back().unwrap_or(b' '),
        t.as_bytes().get(end).copied().unwrap_or(b' '),
    );
    !(b & BOUND_START_LETTER != 0 && before.is_ascii_alphabetic()
        || b & BOUND_START_DIGIT != 0 && before.is_ascii_digit()
        || b & BOUND_END_LETTER != 0 && after.is_ascii_alphabetic()
        || b & BOUND_END_DIGIT != 0 && after.is_ascii_digit())
}
