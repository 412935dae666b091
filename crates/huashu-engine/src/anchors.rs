//! Literal anchors for regexes, so that one automaton pass decides which regexes can match a turn.
//!
//! Most rule regexes begin (or end) with one of a few literals (`(保证|承诺)…收益`, `密码(是|为)…`). A regex
//! can only match where one of its prefix literals occurs, so those literals join the phrase automaton and the
//! regex runs only on turns where one was seen — instead of a regex set over every turn. A regex that needs
//! both a prefix and a suffix literal runs only when both were seen (保证 alone, as in 需要保证附件完整, does
//! not wake `保证…不坏`), and a number pattern runs only when the turn holds a long enough run of digits.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Most literals in one anchor set. The extractor shortens literals to stay under it, and a larger set is
/// not used. At 256, zh-CN's phrase automaton held 8,560 patterns, mostly expanded regex prefixes, and its
/// lookups missed the caches. At 128 it holds 4,784 (ratio to raw aho-corasick 0.497–0.504 vs
/// 0.491–0.498, alternating runs). At 64 the shorter anchors woke regexes too often (0.48).
const MAX_ANCHORS: usize = 128;

/// Most literal sets one regex is gated on (each one is a bit of a per-turn mask).
const MAX_SETS: usize = 3;

/// What must be present in a turn for a regex to have any chance of matching.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Gate {
    /// Sets of literals: every match contains one literal of each set.
    pub(crate) sets: Vec<Vec<Vec<u8>>>,
    /// Every match contains at least this many consecutive ASCII digits.
    pub(crate) digits: usize,
    /// Index in `sets` of a set one of whose literals every match starts with: the regex then only needs
    /// trying, anchored, where such a literal was seen.
    pub(crate) prefix: Option<usize>,
    /// Where around a literal of one set a match can lie, when the prefix set is not usable.
    pub(crate) window: Option<Window>,
    /// Bytes every match holds (0 when a match can be empty, or the pattern did not parse).
    pub(crate) min_len: usize,
    /// Every match starts at the start of the turn (`^…`, not multi-line): one anchored try there is the
    /// whole search, and none is needed when the characters before the literal cannot reach back to it.
    pub(crate) start_anchored: bool,
    /// Sets every match also holds one literal of, too common to join the automaton (a single 瘦, 批, 赔
    /// among the outcomes of `(保证|一定)…(美白|瘦|…)`): checked in the turn's character signature only
    /// when the regex is about to run, so 保证 alone no longer runs it.
    pub(crate) weak: Vec<Vec<Vec<u8>>>,
}

/// The regex is a concatenation `before · L · after` where `L` matches exactly the literals of one gate set:
/// a match then starts no earlier than the run of `before`'s characters that ends where a literal of the
/// set starts, and ends no later than the run of `after`'s characters that follows it. Searching that
/// window instead of the whole turn finds the same matches (`(我|小妹)?(真的|也)*(不知道)(的|呢)*` on a
/// turn only scans 不知道 and the few characters around it that could belong to the match).
///
/// A pattern that opens with a clause mark or the turn's start (`(^|[,.!?…]|es数字x)[^,.!?…]{0,8}?(不知道)`)
/// would put the marks among `before`'s characters and so widen the window to the whole turn; the mark is
/// taken as the window's edge instead: the run of the other characters, then the one mark (or word of the
/// lead) that ends where the run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// Index in `Gate::sets`.
    pub(crate) set: usize,
    pub(crate) before: CharSet,
    pub(crate) after: CharSet,
    /// A leading `(^|…)`'s alternatives a match may start with, before the run of `before`.
    pub(crate) lead: Lead,
}

/// The alternatives of a leading `(^|…)`: single characters (the clause marks) and longer words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lead {
    pub(crate) marks: CharSet,
    pub(crate) words: Vec<String>,
}

impl Window {
    /// Where the window around a literal that starts at byte `at` of `t` begins.
    pub(crate) fn start(&self, t: &str, at: usize) -> usize {
        let run = self.before.run_before(t, at);
        let head = &t[..run];
        let word = self
            .lead
            .words
            .iter()
            .filter(|w| head.ends_with(w.as_str()));
        match (word.map(String::len).max(), head.chars().next_back()) {
            (Some(n), _) => run - n,
            (None, Some(c)) if self.lead.marks.contains(c) => run - c.len_utf8(),
            _ => run,
        }
    }
}

/// Every character that can occur in a match of part of a regex, as sorted, disjoint ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CharSet {
    ranges: Vec<(char, char)>,
}

impl CharSet {
    pub(crate) fn contains(&self, c: char) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < c);
        self.ranges.get(i).is_some_and(|r| r.0 <= c)
    }

    fn add(&mut self, lo: char, hi: char) {
        self.ranges.push((lo, hi));
    }

    fn union(&self, other: &CharSet) -> CharSet {
        let mut both = self.clone();
        both.ranges.extend_from_slice(&other.ranges);
        both.finish()
    }

    fn finish(mut self) -> CharSet {
        self.ranges.sort_unstable();
        let mut out: Vec<(char, char)> = Vec::with_capacity(self.ranges.len());
        for (lo, hi) in self.ranges {
            match out.last_mut() {
                Some(last) if lo as u32 <= last.1 as u32 + 1 => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        CharSet { ranges: out }
    }

    /// Start of the run of characters of this set that ends at byte `at` of `t`.
    pub(crate) fn run_before(&self, t: &str, at: usize) -> usize {
        let mut start = at;
        for (i, c) in t[..at].char_indices().rev() {
            if !self.contains(c) {
                break;
            }
            start = i;
        }
        start
    }

    /// End of the run of characters of this set that starts at byte `at` of `t`.
    pub(crate) fn run_after(&self, t: &str, at: usize) -> usize {
        let mut end = at;
        for c in t[at..].chars() {
            if !self.contains(c) {
                break;
            }
            end += c.len_utf8();
        }
        end
    }
}

/// The gate of `pattern`. A pattern that does not parse gets the empty gate (it runs on every turn, and the
/// regex compiler reports the error).
pub(crate) fn gate(pattern: &str) -> Gate {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return Gate::default();
    };
    let digits = digit_run(&hir).inner;
    let (mut candidates, prefix_set) = candidate_sets(&hir);
    // Number patterns: a run of digits is a far better gate than a few digits or letters, which are in most
    // turns.
    if digits > 1 {
        candidates.retain(|set| !set.iter().flatten().all(u8::is_ascii_alphanumeric));
    }
    // Fewer literals, same gate: a literal that holds another of its set is dropped (the prefix set: one
    // that begins with another, so that anchored starts stay where matches start). The extractor's
    // prefixes of `(保证|肯定)(能|会)?(给您)?…` become 保证|肯定 again, the same set as the required
    // trigger, and the automaton does not carry their expansions.
    let prefix_set = prefix_set.map(|p| least_prefixes(&p));
    let mut candidates: Vec<Vec<Vec<u8>>> = candidates
        .into_iter()
        .map(|set| {
            let set = least_prefixes(&set);
            if prefix_set.as_ref() == Some(&set) {
                set
            } else {
                minimal(&set)
            }
        })
        .collect();
    candidates.sort_by_key(|set| std::cmp::Reverse(strength(set)));
    let mut sets: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut weak: Vec<Vec<Vec<u8>>> = Vec::new();
    for set in candidates {
        if sets.contains(&set) || weak.contains(&set) {
            continue;
        }
        if sets.len() == MAX_SETS {
            if weak.len() < MAX_SETS {
                weak.push(set);
            }
            continue;
        }
        // A set that every literal of a chosen set holds is seen whenever that one is: it gates nothing.
        if sets
            .iter()
            .any(|s| s.iter().all(|l| set.iter().any(|c| holds(l, c))))
        {
            continue;
        }
        // Every further set costs automaton hits on every turn that holds one of its literals, so it must be
        // selective: two Chinese characters or more, or, when the first set is a single character (保证…包
        // and 不 in `(保证|包)…(不会|不)坏`), a handful of single characters. (Allowing such sets after any
        // first set saved regex searches on generated turns but cost 8 % more instructions on real agent
        // turns, where 会, 过, 到 are common and trigger words rare: benches/RESULTS.md.)
        let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
        let first = sets
            .first()
            .map(|f| f.iter().map(Vec::len).min().unwrap_or(0));
        let selective = match first {
            None => true,
            Some(f) => shortest >= 6 || (f < 6 && shortest >= 3 && set.len() <= 8),
        };
        if selective {
            sets.push(set);
        } else if weak.len() < MAX_SETS {
            weak.push(set);
        }
    }
    // A weak set that a chosen set implies gates nothing either.
    weak.retain(|w| {
        !sets
            .iter()
            .any(|s| s.iter().all(|l| w.iter().any(|c| holds(l, c))))
    });
    let prefix = prefix_set.and_then(|p| sets.iter().position(|set| *set == p));
    let window = if prefix.is_some() {
        None
    } else {
        window(&hir, &sets)
    };
    Gate {
        sets,
        digits,
        prefix,
        window,
        min_len: hir.properties().minimum_len().unwrap_or(0),
        start_anchored: hir
            .properties()
            .look_set_prefix()
            .contains(regex_syntax::hir::Look::Start),
        weak,
    }
}

/// Whether the group `hit` of `pattern` spans every match of it: the pattern is that group, with nothing
/// around it but zero-width assertions (`(?P<hit>…)`, `^(?P<hit>…)$`, `((?P<hit>…))`).
pub(crate) fn hit_is_whole(pattern: &str) -> bool {
    fn whole(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Capture(c) if c.name.as_deref() == Some("hit") => true,
            HirKind::Capture(c) => whole(&c.sub),
            HirKind::Concat(hs) => {
                let mut wide = hs.iter().filter(|h| !matches!(h.kind(), HirKind::Look(_)));
                matches!((wide.next(), wide.next()), (Some(h), None) if whole(h))
            }
            _ => false,
        }
    }
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .is_ok_and(|hir| whole(&hir))
}

/// Whether `hay` holds `needle` (whole characters: UTF-8 is self-synchronising).
fn holds(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `set` without the literals that hold a shorter one of the set: a turn holds one of these exactly when
/// it holds one of the whole set. Sorted.
fn minimal(set: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = set
        .iter()
        .filter(|l| !set.iter().any(|o| o.len() < l.len() && holds(l, o)))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `set` without the literals that begin with a shorter one of the set: every text that begins with one
/// of the set begins with one of these. Sorted.
fn least_prefixes(set: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = set
        .iter()
        .filter(|l| !set.iter().any(|o| o.len() < l.len() && l.starts_with(o)))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The window of `hir` (see [`Window`]) around one of `sets`, if the pattern has that shape.
fn window(hir: &Hir, sets: &[Vec<Vec<u8>>]) -> Option<Window> {
    // Groups do not change what a concatenation matches: `(?P<hit>A·L·B)·C` is searched as A·L·B·C.
    fn flatten<'h>(h: &'h Hir, parts: &mut Vec<&'h Hir>) {
        match h.kind() {
            HirKind::Capture(c) => flatten(&c.sub, parts),
            HirKind::Concat(hs) => hs.iter().for_each(|h| flatten(h, parts)),
            _ => parts.push(h),
        }
    }
    let mut parts = Vec::new();
    flatten(hir, &mut parts);
    if parts.len() < 2 {
        return None;
    }
    let lead = parts.first().and_then(|p| lead_of(p));
    for (j, part) in parts.iter().enumerate() {
        let mut ex = Extractor::new();
        ex.kind(ExtractKind::Prefix)
            .limit_class(16)
            .limit_total(MAX_ANCHORS);
        let seq = ex.extract(part);
        if !seq.is_exact() {
            continue;
        }
        let Some(lits) = seq.literals() else {
            continue;
        };
        let mut lits: Vec<Vec<u8>> = lits.iter().map(|l| l.as_bytes().to_vec()).collect();
        lits.sort();
        lits.dedup();
        let Some(set) = sets.iter().position(|s| *s == lits || *s == minimal(&lits)) else {
            continue;
        };
        // A leading `(^|mark)` is the window's edge, not characters of the run (see [`Window`]).
        let (first, lead) = match &lead {
            Some(l) if j > 0 => (1, l.clone()),
            _ => (0, Lead::default()),
        };
        let (mut before, mut after) = (chars_of(&parts[first..j])?, chars_of(&parts[j + 1..])?);
        if sets[set] != lits {
            // The gate keeps 会 of 不会|会: the rest of a longer literal lies on either side of the one seen.
            let own = chars_of(&[*part])?;
            before = before.union(&own);
            after = after.union(&own);
        }
        return Some(Window {
            set,
            before,
            after,
            lead,
        });
    }
    None
}

/// When `h` is an alternation of the turn's start and classes or literals (`^|[,.!?]|es数字x`): those.
fn lead_of(h: &Hir) -> Option<Lead> {
    let HirKind::Alternation(alts) = h.kind() else {
        return None;
    };
    let start = |a: &Hir| matches!(a.kind(), HirKind::Look(regex_syntax::hir::Look::Start));
    if !alts.iter().any(start) {
        return None;
    }
    let mut lead = Lead::default();
    for a in alts.iter().filter(|a| !start(a)) {
        match a.kind() {
            HirKind::Class(Class::Unicode(cls)) => {
                for r in cls.iter() {
                    lead.marks.add(r.start(), r.end());
                }
            }
            HirKind::Literal(lit) => {
                let word = std::str::from_utf8(&lit.0).ok()?;
                let mut chars = word.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => lead.marks.add(c, c),
                    _ => lead.words.push(word.to_string()),
                }
            }
            _ => return None,
        }
    }
    Some(lead)
}

/// The characters matches of `parts` can hold; None when that cannot be told (byte classes, invalid UTF-8).
fn chars_of(parts: &[&Hir]) -> Option<CharSet> {
    fn walk(h: &Hir, set: &mut CharSet) -> Option<()> {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => Some(()),
            HirKind::Literal(lit) => {
                for c in std::str::from_utf8(&lit.0).ok()?.chars() {
                    set.add(c, c);
                }
                Some(())
            }
            HirKind::Class(Class::Unicode(cls)) => {
                for r in cls.iter() {
                    set.add(r.start(), r.end());
                }
                Some(())
            }
            HirKind::Class(Class::Bytes(_)) => None,
            HirKind::Repetition(r) => walk(&r.sub, set),
            HirKind::Capture(c) => walk(&c.sub, set),
            HirKind::Concat(hs) | HirKind::Alternation(hs) => {
                hs.iter().try_for_each(|h| walk(h, set))
            }
        }
    }
    let mut set = CharSet::default();
    for part in parts {
        walk(part, &mut set)?;
    }
    Some(set.finish())
}

/// Byte literals one of which occurs in every match of `pattern`, or None when there is no small such set.
/// Of the candidate sets (required inner literals, prefixes, suffixes) the one whose shortest literal is
/// longest wins: a one-character anchor such as 了 would wake the regex on most turns.
#[cfg(test)]
pub(crate) fn anchors(pattern: &str) -> Option<Vec<Vec<u8>>> {
    gate(pattern).sets.into_iter().next()
}

/// The candidate literal sets, and the prefix set among them (if usable).
type Candidates = (Vec<Vec<Vec<u8>>>, Option<Vec<Vec<u8>>>);

fn candidate_sets(hir: &Hir) -> Candidates {
    let mut candidates = required(hir);
    let mut prefix = None;
    for is_prefix in [true, false] {
        let mut ex = Extractor::new();
        let kind = if is_prefix {
            ExtractKind::Prefix
        } else {
            ExtractKind::Suffix
        };
        ex.kind(kind).limit_class(16).limit_total(MAX_ANCHORS);
        let seq = ex.extract(hir);
        if let Some(lits) = seq.literals() {
            let set: Vec<Vec<u8>> = lits.iter().map(|l| l.as_bytes().to_vec()).collect();
            if is_prefix {
                prefix = Some(set.clone());
            }
            candidates.push(set);
        }
    }
    let usable = |set: &Vec<Vec<u8>>| {
        !set.is_empty() && set.len() <= MAX_ANCHORS && set.iter().all(|l| !l.is_empty())
    };
    candidates.retain(usable);
    (candidates, prefix.filter(usable))
}

/// How selective a literal set is: its shortest literal first, then fewer literals.
fn strength(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    (
        set.iter().map(Vec::len).min().unwrap_or(0),
        std::cmp::Reverse(set.len()),
    )
}

/// Consecutive ASCII digits in the matches of a pattern.
#[derive(Debug, Clone, Copy)]
struct Digits {
    /// Some(n): every match is made of digits only and is at least n long.
    only: Option<usize>,
    /// Every match contains a run of at least this many digits.
    inner: usize,
}

fn digit_run(hir: &Hir) -> Digits {
    let only = |n: usize| Digits {
        only: Some(n),
        inner: n,
    };
    let none = Digits {
        only: None,
        inner: 0,
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => only(0),
        HirKind::Literal(lit) if lit.0.iter().all(u8::is_ascii_digit) => only(lit.0.len()),
        HirKind::Literal(_) => none,
        HirKind::Class(Class::Unicode(cls))
            if cls
                .ranges()
                .iter()
                .all(|r| r.start() >= '0' && r.end() <= '9') =>
        {
            only(1)
        }
        HirKind::Class(Class::Bytes(cls))
            if cls
                .ranges()
                .iter()
                .all(|r| r.start() >= b'0' && r.end() <= b'9') =>
        {
            only(1)
        }
        HirKind::Class(_) => none,
        HirKind::Capture(c) => digit_run(&c.sub),
        HirKind::Repetition(r) => {
            let sub = digit_run(&r.sub);
            let min = r.min as usize;
            Digits {
                only: sub.only.map(|n| n * min),
                inner: if min >= 1 {
                    sub.only.map_or(sub.inner, |n| n * min)
                } else {
                    0
                },
            }
        }
        HirKind::Concat(parts) => {
            let (mut run, mut best, mut all) = (0, 0, true);
            for d in parts.iter().map(digit_run) {
                match d.only {
                    Some(n) => run += n,
                    None => {
                        all = false;
                        best = best.max(run).max(d.inner);
                        run = 0;
                    }
                }
            }
            best = best.max(run);
            Digits {
                only: all.then_some(run),
                inner: best,
            }
        }
        HirKind::Alternation(branches) => {
            let ds: Vec<Digits> = branches.iter().map(digit_run).collect();
            Digits {
                only: ds
                    .iter()
                    .map(|d| d.only)
                    .collect::<Option<Vec<_>>>()
                    .map(|v| v.into_iter().min().unwrap_or(0)),
                inner: ds.iter().map(|d| d.inner).min().unwrap_or(0),
            }
        }
    }
}

/// Longest run of consecutive ASCII digits in `t`.
pub(crate) fn longest_digit_run(t: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for b in t.bytes() {
        if b.is_ascii_digit() {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Sets of literals such that every match of `hir` contains one literal of each set, found by walking the
/// pattern: a concatenation needs each of its parts, an alternation one of its branches, a repetition with
/// min ≥ 1 its body.
fn required(hir: &Hir) -> Vec<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(lit) => vec![vec![lit.0.to_vec()]],
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Concat(parts) => parts.iter().flat_map(required).collect(),
        HirKind::Alternation(branches) => {
            let mut out = Vec::new();
            for b in branches {
                let Some(best) = required(b).into_iter().max_by_key(|set| strength(set)) else {
                    return Vec::new();
                };
                out.extend(best);
                if out.len() > MAX_ANCHORS {
                    return Vec::new();
                }
            }
            vec![out]
        }
        HirKind::Class(Class::Unicode(cls)) => {
            let n: u32 = cls
                .ranges()
                .iter()
                .map(|r| r.end() as u32 - r.start() as u32 + 1)
                .sum();
            if n > 16 {
                return Vec::new();
            }
            vec![
                cls.iter()
                    .flat_map(|r| (r.start()..=r.end()).map(|c| c.to_string().into_bytes()))
                    .collect(),
            ]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
