//! ASR-tolerant matching: a recogniser hears 这不适合我的问题 for 这不是我的问题, 不知到 for 不知道. On
//! transcribed turns, rule phrases written in Chinese characters are also matched at the level of toneless
//! pinyin with a bounded, weighted edit distance: a homophone costs nothing, a near-homophone (zh/z, ch/c,
//! sh/s, n/l, -ng/-n) half an edit, any other syllable substitution, insertion or deletion one edit. Phrases of
//! 3 syllables allow homophones only, of 4–5 half an edit, longer ones one edit (measured on real chats: looser
//! bounds flag ordinary sentences); the first and last syllables must sound alike so a
//! hit cannot drift into the neighbouring words. Tolerant hits then go through the rule's context conditions
//! and the allow-list like exact ones.

use std::collections::HashMap;

use huashu_rules::Ruleset;
use pinyin::ToPinyin;

/// Which rules match tolerantly on transcribed turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Tolerance {
    /// Exact matching only.
    Off,
    /// Rules with `asr_tolerant = true` in `[match]` (the default).
    #[default]
    OptIn,
    /// Every rule with a Chinese phrase of at least 3 characters.
    All,
}

impl std::str::FromStr for Tolerance {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(Tolerance::Off),
            "opt-in" | "optin" => Ok(Tolerance::OptIn),
            "all" => Ok(Tolerance::All),
            other => Err(format!(
                "unknown tolerance {other:?} (expected off, opt-in or all)"
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
        }
        out
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
                    if (tolerance == Tolerance::OptIn && !entry.opt_in) || !wanted(entry.rule) {
                        continue;
                    }
                    if let Some((len, cost)) = best_match(&entry.syllables, run, i) {
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

/// The cheapest match of `p` starting at `run[i]` within the phrase's budget: (syllables of the run, cost).
/// Both ends must sound alike (cost at most [`FUZZY`]).
fn best_match(p: &[Syl], run: &[(usize, usize, Syl)], i: usize) -> Option<(usize, u32)> {
    let m = p.len();
    let limit = budget(m);
    let max_len = (m + (limit / EDIT) as usize).min(run.len() - i);
    if sub_cost(&p[0], &run[i].2) > FUZZY {
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
        .filter(|&b| sub_cost(&p[m - 1], &run[i + b - 1].2) <= FUZZY)
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
        assert_eq!(best_match(&p, &run("这不适合我的问题"), 1), Some((7, EDIT)));
        // Homophones cost nothing.
        assert_eq!(best_match(&p, &run("不事我的问题"), 0), Some((6, 0)));
        // Two edits are too many.
        assert_eq!(best_match(&p, &run("不适合我们问题"), 0), None);
        // Homophones all along plus one insertion is fine.
        assert_eq!(best_match(&p, &run("不适合我得温体"), 0), Some((7, EDIT)));
        let p = syls("不知道");
        assert_eq!(best_match(&p, &run("不知到"), 0), Some((3, 0)));
        // A near-homophone is too much for 3 syllables, fine for 4.
        assert_eq!(best_match(&p, &run("不资道"), 0), None);
        assert_eq!(
            best_match(&syls("我不知道"), &run("我不资道"), 0),
            Some((4, FUZZY))
        );
        // A real substitution in a 3-syllable phrase is too much.
        assert_eq!(best_match(&p, &run("不知情"), 0), None);
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
        assert_eq!("opt-in".parse::<Tolerance>(), Ok(Tolerance::OptIn));
        assert!("maybe".parse::<Tolerance>().is_err());
    }
}
