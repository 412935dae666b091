//! ASR-tolerant matching: a recogniser hears 这不适合我的问题 for 这不是我的问题, 不知到 for 不知道. On
//! transcribed turns, rule phrases written in Chinese characters are also matched at the level of toneless
//! pinyin with a bounded, weighted edit distance: a homophone costs nothing, a near-homophone (zh/z, ch/c,
//! sh/s, n/l, -ng/-n) half an edit, any other syllable substitution, insertion or deletion one edit. Phrases of
//! 3 syllables allow homophones only, of 4–5 half an edit, longer ones one edit (measured on real chats: looser
//! bounds flag ordinary sentences); the first and last syllables must sound alike so a
//! hit cannot drift into the neighbouring words. Tolerant hits then go through the rule's context conditions
//! and the allow-list like exact ones.
//!
//! Regex rules (F001's `…不知道…`) cannot be matched at pinyin level, so their Chinese literals of 3 or more
//! characters are used to *repair* the transcript instead: a run of characters that is an exact toneless
//! homophone of such a literal (不知到, 文别人) is rewritten to the literal before the regexes run. Each
//! character is replaced by one of the same UTF-8 length, so every byte offset, and every finding's span in the
//! heard text, stays where it was.

use std::collections::HashMap;

use huashu_rules::Ruleset;
use pinyin::ToPinyin;

/// Which rules match tolerantly on transcribed turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Tolerance {
    /// Exact matching only.
    Off,
    /// Near-misses and homophones for rules with `asr_tolerant = true` in `[match]` only.
    OptIn,
    /// The default: exact homophones for every rule (phrases and regex literals of at least 3 characters:
    /// 不知到 is 不知道 heard), near-misses for opt-in rules. Measured on the 16,299 real JDDC agent turns read
    /// as transcripts, homophones add no finding (`tests/real_chats.rs`).
    #[default]
    Homophones,
    /// Near-misses for every rule with a Chinese phrase of at least 3 characters (8 extra findings on the
    /// same real turns, all wrong: 是您的私人… for 是您的事).
    All,
}

impl Tolerance {
    /// Whether a rule (opting in or not) matches tolerantly at all, and the most its phrase may differ.
    fn limit(self, opt_in: bool, syllables: usize) -> Option<u32> {
        match self {
            Tolerance::Off => None,
            Tolerance::OptIn if !opt_in => None,
            Tolerance::Homophones if !opt_in => Some(0),
            _ => Some(budget(syllables)),
        }
    }
}

impl std::str::FromStr for Tolerance {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(Tolerance::Off),
            "opt-in" | "optin" => Ok(Tolerance::OptIn),
            "homophones" => Ok(Tolerance::Homophones),
            "all" => Ok(Tolerance::All),
            other => Err(format!(
                "unknown tolerance {other:?} (expected off, opt-in, homophones or all)"
            )),
        }
    }
}

/// Shortest phrase (in syllables) matched tolerantly: shorter ones would match too much.
pub const MIN_SYLLABLES: usize = 3;

/// Costs are in half edits.
const FUZZY: u32 = 1;
const EDIT: u32 = 2;

#[derive(Debug)]
struct Entry {
    rule: u32,
    opt_in: bool,
    syllables: Vec<Syl>,
}

/// A syllable: toneless pinyin and its fuzzy-folded key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Syl {
    plain: &'static str,
    fuzzy: String,
}

fn fold(plain: &str) -> String {
    let mut s = plain.to_string();
    for (from, to) in [("zh", "z"), ("ch", "c"), ("sh", "s")] {
        if let Some(rest) = s.strip_prefix(from) {
            s = format!("{to}{rest}");
        }
    }
    if let Some(rest) = s.strip_prefix('n') {
        s = format!("l{rest}");
    }
    for (from, to) in [("ing", "in"), ("eng", "en"), ("ang", "an")] {
        if let Some(stem) = s.strip_suffix(from) {
            s = format!("{stem}{to}");
        }
    }
    s
}

fn syllable(c: char) -> Option<Syl> {
    c.to_pinyin().map(|p| Syl {
        plain: p.plain(),
        fuzzy: fold(p.plain()),
    })
}

fn sub_cost(a: &Syl, b: &Syl) -> u32 {
    if a.plain == b.plain {
        0
    } else if a.fuzzy == b.fuzzy {
        FUZZY
    } else {
        EDIT
    }
}

/// The most a phrase of `m` syllables may differ, in half edits.
fn budget(m: usize) -> u32 {
    match m {
        0..=3 => 0,
        4 | 5 => FUZZY,
        _ => EDIT,
    }
}

/// Rule phrases compiled for tolerant matching, indexed by the fuzzy key of their first syllable.
#[derive(Debug, Default)]
pub(crate) struct TolerantPhrases {
    entries: Vec<Entry>,
    by_first: HashMap<String, Vec<usize>>,
    /// Chinese literals of the rules' regexes, for homophone repair, indexed by their first plain syllable.
    words: Vec<Word>,
    words_by_first: HashMap<&'static str, Vec<usize>>,
}

/// A regex literal that a transcript may be repaired to.
#[derive(Debug)]
struct Word {
    rule: u32,
    opt_in: bool,
    chars: Vec<char>,
    plain: Vec<&'static str>,
}

/// A tolerant hit: rule, byte range of the normalised text, cost in half edits, phrase length in syllables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TolerantHit {
    pub rule: u32,
    pub start: usize,
    pub end: usize,
    pub cost: u32,
    pub syllables: usize,
}

impl TolerantPhrases {
    /// `norm` is the engine's normaliser (phrases are matched against normalised text).
    pub(crate) fn compile(ruleset: &Ruleset, norm: &dyn Fn(&str) -> String) -> TolerantPhrases {
        let mut out = TolerantPhrases::default();
        for (idx, rule) in ruleset.rules.iter().enumerate() {
            for phrase in &rule.matcher.phrases {
                let p = norm(phrase);
                let syllables: Option<Vec<Syl>> = p.chars().map(syllable).collect();
                let Some(syllables) = syllables else {
                    continue; // not all Chinese characters
                };
                if syllables.len() < MIN_SYLLABLES {
                    continue;
                }
                let key = syllables[0].fuzzy.clone();
                out.by_first.entry(key).or_default().push(out.entries.len());
                out.entries.push(Entry {
                    rule: idx as u32,
                    opt_in: rule.matcher.asr_tolerant,
                    syllables,
                });
            }
            for pattern in &rule.matcher.regex {
                for literal in han_literals(pattern) {
                    let plain: Option<Vec<&'static str>> = literal
                        .iter()
                        .map(|&c| c.to_pinyin().map(|p| p.plain()))
                        .collect();
                    let Some(plain) = plain else { continue };
                    if out
                        .words
                        .iter()
                        .any(|w| w.rule == idx as u32 && w.chars == literal)
                    {
                        continue;
                    }
                    out.words_by_first
                        .entry(plain[0])
                        .or_default()
                        .push(out.words.len());
                    out.words.push(Word {
                        rule: idx as u32,
                        opt_in: rule.matcher.asr_tolerant,
                        chars: literal,
                        plain,
                    });
                }
            }
        }
        out
    }

    /// `t` with every exact toneless homophone of a wanted rule's regex literal rewritten to the literal
    /// (leftmost, longest first), character for character so every byte offset stays; None when nothing
    /// was rewritten.
    pub(crate) fn repair(
        &self,
        t: &str,
        tolerance: Tolerance,
        wanted: &dyn Fn(u32) -> bool,
    ) -> Option<String> {
        if tolerance == Tolerance::Off || self.words.is_empty() {
            return None;
        }
        let chars: Vec<(usize, char, Option<&'static str>)> = t
            .char_indices()
            .map(|(at, c)| (at, c, c.to_pinyin().map(|p| p.plain())))
            .collect();
        let mut text: Option<String> = None;
        let mut i = 0;
        while i < chars.len() {
            let Some(first) = chars[i].2 else {
                i += 1;
                continue;
            };
            let best = self
                .words_by_first
                .get(first)
                .into_iter()
                .flatten()
                .map(|&w| &self.words[w])
                .filter(|w| {
                    tolerance.limit(w.opt_in, w.chars.len()).is_some()
                        && wanted(w.rule)
                        && i + w.chars.len() <= chars.len()
                        && w.plain
                            .iter()
                            .zip(&chars[i..])
                            .all(|(p, c)| c.2 == Some(*p))
                        && w.chars
                            .iter()
                            .zip(&chars[i..])
                            .all(|(&a, c)| a.len_utf8() == c.1.len_utf8())
                })
                .max_by_key(|w| w.chars.len());
            let Some(word) = best else {
                i += 1;
                continue;
            };
            let n = word.chars.len();
            if word.chars.iter().zip(&chars[i..]).any(|(&a, c)| a != c.1) {
                let out = text.get_or_insert_with(|| t.to_string());
                let mut buf = [0u8; 4];
                let mut at = chars[i].0;
                for &c in &word.chars {
                    let bytes = c.encode_utf8(&mut buf);
                    out.replace_range(at..at + bytes.len(), bytes);
                    at += bytes.len();
                }
            }
            i += n;
        }
        text
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Tolerant hits in the normalised text `t`, for rules `wanted` accepts.
    pub(crate) fn find(
        &self,
        t: &str,
        tolerance: Tolerance,
        wanted: &dyn Fn(u32) -> bool,
    ) -> Vec<TolerantHit> {
        let mut hits = Vec::new();
        if tolerance == Tolerance::Off || self.entries.is_empty() {
            return hits;
        }
        // Runs of Chinese characters: (byte offset, syllable); a tolerant hit never crosses anything else.
        let mut runs: Vec<Vec<(usize, usize, Syl)>> = vec![Vec::new()];
        for (at, c) in t.char_indices() {
            match syllable(c) {
                Some(s) => {
                    if let Some(run) = runs.last_mut() {
                        run.push((at, at + c.len_utf8(), s));
                    }
                }
                None => {
                    if runs.last().is_some_and(|r| !r.is_empty()) {
                        runs.push(Vec::new());
                    }
                }
            }
        }
        for run in runs.iter().filter(|r| r.len() >= MIN_SYLLABLES - 1) {
            for i in 0..run.len() {
                let Some(candidates) = self.by_first.get(&run[i].2.fuzzy) else {
                    continue;
                };
                for &e in candidates {
                    let entry = &self.entries[e];
                    let Some(limit) = tolerance.limit(entry.opt_in, entry.syllables.len()) else {
                        continue;
                    };
                    if !wanted(entry.rule) {
                        continue;
                    }
                    if let Some((len, cost)) = best_match(&entry.syllables, run, i, limit) {
                        hits.push(TolerantHit {
                            rule: entry.rule,
                            start: run[i].0,
                            end: run[i + len - 1].1,
                            cost,
                            syllables: entry.syllables.len(),
                        });
                    }
                }
            }
        }
        hits
    }
}

/// Runs of at least [`MIN_SYLLABLES`] Chinese characters that `pattern` matches literally (inside
/// alternatives, optional parts and groups too): the words a transcript's homophones are repaired to.
fn han_literals(pattern: &str) -> Vec<Vec<char>> {
    use regex_syntax::hir::{Hir, HirKind};
    fn walk(hir: &Hir, out: &mut Vec<Vec<char>>) {
        match hir.kind() {
            HirKind::Literal(lit) => flush(&lit.0, out),
            HirKind::Concat(parts) => {
                let mut bytes = Vec::new();
                for part in parts {
                    if let HirKind::Literal(lit) = part.kind() {
                        bytes.extend_from_slice(&lit.0);
                    } else {
                        flush(&bytes, out);
                        bytes.clear();
                        walk(part, out);
                    }
                }
                flush(&bytes, out);
            }
            HirKind::Alternation(parts) => parts.iter().for_each(|p| walk(p, out)),
            HirKind::Repetition(r) => walk(&r.sub, out),
            HirKind::Capture(c) => walk(&c.sub, out),
            HirKind::Empty | HirKind::Class(_) | HirKind::Look(_) => {}
        }
    }
    fn flush(bytes: &[u8], out: &mut Vec<Vec<char>>) {
        let Ok(s) = std::str::from_utf8(bytes) else {
            return;
        };
        let mut run = Vec::new();
        for c in s.chars().chain(std::iter::once('\0')) {
            if c.to_pinyin().is_some() {
                run.push(c);
            } else {
                if run.len() >= MIN_SYLLABLES {
                    out.push(std::mem::take(&mut run));
                }
                run.clear();
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) {
        walk(&hir, &mut out);
    }
    out
}

/// The cheapest match of `p` starting at `run[i]` within the phrase's budget: (syllables of the run, cost).
/// Both ends must sound alike (cost at most [`FUZZY`]).
fn best_match(
    p: &[Syl],
    run: &[(usize, usize, Syl)],
    i: usize,
    limit: u32,
) -> Option<(usize, u32)> {
    let m = p.len();
    let max_len = (m + (limit / EDIT) as usize).min(run.len() - i);
    if sub_cost(&p[0], &run[i].2) > FUZZY.min(limit) {
        return None;
    }
    // d[a][b]: cost of p[..a] against run[i..i+b].
    let mut prev: Vec<u32> = (0..=max_len as u32).map(|b| b * EDIT).collect();
    let mut cur = vec![0u32; max_len + 1];
    for a in 1..=m {
        cur[0] = a as u32 * EDIT;
        for b in 1..=max_len {
            let sub = prev[b - 1] + sub_cost(&p[a - 1], &run[i + b - 1].2);
            cur[b] = sub.min(prev[b] + EDIT).min(cur[b - 1] + EDIT);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let min_len = m.saturating_sub((limit / EDIT) as usize).max(1);
    (min_len..=max_len)
        .filter(|&b| sub_cost(&p[m - 1], &run[i + b - 1].2) <= FUZZY.min(limit))
        .map(|b| (b, prev[b]))
        .filter(|&(_, c)| c <= limit)
        .min_by_key(|&(b, c)| (c, b.abs_diff(m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syls(s: &str) -> Vec<Syl> {
        s.chars().map(|c| syllable(c).expect("han")).collect()
    }

    fn run(s: &str) -> Vec<(usize, usize, Syl)> {
        s.char_indices()
            .map(|(at, c)| (at, at + c.len_utf8(), syllable(c).expect("han")))
            .collect()
    }

    #[test]
    fn insertion_homophone_and_near_homophone() {
        let p = syls("不是我的问题");
        // One inserted syllable (base heard 不适合 for 不是).
        assert_eq!(
            best_match(&p, &run("这不适合我的问题"), 1, budget(p.len())),
            Some((7, EDIT))
        );
        // Homophones cost nothing.
        assert_eq!(
            best_match(&p, &run("不事我的问题"), 0, budget(p.len())),
            Some((6, 0))
        );
        // Two edits are too many.
        assert_eq!(
            best_match(&p, &run("不适合我们问题"), 0, budget(p.len())),
            None
        );
        // Homophones all along plus one insertion is fine.
        assert_eq!(
            best_match(&p, &run("不适合我得温体"), 0, budget(p.len())),
            Some((7, EDIT))
        );
        let p = syls("不知道");
        assert_eq!(
            best_match(&p, &run("不知到"), 0, budget(p.len())),
            Some((3, 0))
        );
        // A near-homophone is too much for 3 syllables, fine for 4.
        assert_eq!(best_match(&p, &run("不资道"), 0, budget(p.len())), None);
        assert_eq!(
            best_match(&syls("我不知道"), &run("我不资道"), 0, budget(4)),
            Some((4, FUZZY))
        );
        // With no budget (homophones only) an insertion or a near-homophone is too much.
        let p6 = syls("不是我的问题");
        assert_eq!(best_match(&p6, &run("这不适合我的问题"), 1, 0), None);
        assert_eq!(best_match(&p6, &run("不事我的问题"), 0, 0), Some((6, 0)));
        assert_eq!(best_match(&syls("我不知道"), &run("我不资道"), 0, 0), None);
        // A real substitution in a 3-syllable phrase is too much.
        assert_eq!(best_match(&p, &run("不知情"), 0, budget(p.len())), None);
    }

    #[test]
    fn regex_literals_for_repair() {
        let words = |p: &str| -> Vec<String> {
            han_literals(p)
                .into_iter()
                .map(|w| w.into_iter().collect())
                .collect()
        };
        assert_eq!(
            words("(我们|我)?(真的|也)*(不知道|不晓得)(的|呢)*"),
            ["不知道", "不晓得"]
        );
        assert_eq!(words("问别人(吧|去)?"), ["问别人"]);
        // Two characters are too few; a class or a repetition breaks a run.
        assert_eq!(words("没法[改换]单号"), Vec::<String>::new());
        assert_eq!(words("保证收益ab不会亏"), ["保证收益", "不会亏"]);
    }

    #[test]
    fn repair_keeps_offsets() {
        let mut p = TolerantPhrases::default();
        for (rule, w) in [(0, "不知道"), (1, "问别人")] {
            let chars: Vec<char> = w.chars().collect();
            let plain = chars
                .iter()
                .map(|c| c.to_pinyin().expect("han").plain())
                .collect();
            let first = chars[0].to_pinyin().expect("han").plain();
            p.words_by_first
                .entry(first)
                .or_default()
                .push(p.words.len());
            p.words.push(Word {
                rule,
                opt_in: rule == 0,
                chars,
                plain,
            });
        }
        let all = |_: u32| true;
        let r = p
            .repair("我不知到，你文别人吧", Tolerance::All, &all)
            .expect("repaired");
        assert_eq!(r, "我不知道，你问别人吧");
        // Homophones: every rule's words. Opt-in repairs only words of rules that opt in.
        let r = p
            .repair("我不知到，你文别人吧", Tolerance::Homophones, &all)
            .expect("repaired");
        assert_eq!(r, "我不知道，你问别人吧");
        let r = p
            .repair("我不知到，你文别人吧", Tolerance::OptIn, &all)
            .expect("repaired");
        assert_eq!(r, "我不知道，你文别人吧");
        // Already the word, a near-homophone, or tolerance off: nothing to repair.
        assert!(p.repair("我不知道", Tolerance::All, &all).is_none());
        assert!(p.repair("我不资道", Tolerance::All, &all).is_none());
        assert!(p.repair("我不知到", Tolerance::Off, &all).is_none());
        assert!(p.repair("我不知到", Tolerance::All, &|_| false).is_none());
    }

    #[test]
    fn folding() {
        assert_eq!(fold("zhang"), "zan");
        assert_eq!(fold("shi"), "si");
        assert_eq!(fold("neng"), "len");
        assert_eq!(fold("ni"), "li");
        assert_eq!(fold("a"), "a");
    }

    #[test]
    fn parse_tolerance() {
        assert_eq!("all".parse::<Tolerance>(), Ok(Tolerance::All));
        assert_eq!("homophones".parse::<Tolerance>(), Ok(Tolerance::Homophones));
        assert_eq!(Tolerance::default(), Tolerance::Homophones);
        assert_eq!("opt-in".parse::<Tolerance>(), Ok(Tolerance::OptIn));
        assert!("maybe".parse::<Tolerance>().is_err());
    }
}
