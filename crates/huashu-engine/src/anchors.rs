//! Literal anchors for regexes, so that one automaton pass decides which regexes can match a turn.
//!
//! Most rule regexes begin (or end) with one of a few literals (`(保证|承诺)…收益`, `密码(是|为)…`). A regex
//! can only match where one of its prefix literals occurs, so those literals join the phrase automaton and the
//! regex runs only on turns where one was seen — instead of a regex set over every turn.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Most anchors one regex may contribute; beyond this the regex simply runs on every turn.
const MAX_ANCHORS: usize = 256;

/// Byte literals one of which occurs in every match of `pattern`, or None when there is no small such set.
/// Of the candidate sets (required inner literals, prefixes, suffixes) the one whose shortest literal is
/// longest wins: a one-character anchor such as 了 would wake the regex on most turns.
pub(crate) fn anchors(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut candidates: Vec<Vec<Vec<u8>>> = Vec::new();
    if let Some(set) = required(&hir) {
        candidates.push(set);
    }
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        ex.kind(kind).limit_class(16).limit_total(MAX_ANCHORS);
        let seq = ex.extract(&hir);
        if let Some(lits) = seq.literals() {
            candidates.push(lits.iter().map(|l| l.as_bytes().to_vec()).collect());
        }
    }
    let mut best = candidates
        .into_iter()
        .filter(|set| {
            !set.is_empty() && set.len() <= MAX_ANCHORS && set.iter().all(|l| !l.is_empty())
        })
        .max_by_key(|set| {
            (
                set.iter().map(Vec::len).min().unwrap_or(0),
                std::cmp::Reverse(set.len()),
            )
        })?;
    best.sort();
    best.dedup();
    Some(best)
}

/// A set of literals one of which every match of `hir` contains, found by walking the pattern: a concatenation
/// needs each of its required parts, an alternation one of its branches, a repetition with min ≥ 1 its body.
fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(lit) => Some(vec![lit.0.to_vec()]),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Concat(parts) => parts.iter().filter_map(required).max_by_key(|set| {
            (
                set.iter().map(Vec::len).min().unwrap_or(0),
                std::cmp::Reverse(set.len()),
            )
        }),
        HirKind::Alternation(branches) => {
            let mut out = Vec::new();
            for b in branches {
                out.extend(required(b)?);
                if out.len() > MAX_ANCHORS {
                    return None;
                }
            }
            Some(out)
        }
        HirKind::Class(Class::Unicode(cls)) => {
            let n: u32 = cls
                .ranges()
                .iter()
                .map(|r| r.end() as u32 - r.start() as u32 + 1)
                .sum();
            if n > 16 {
                return None;
            }
            Some(
                cls.iter()
                    .flat_map(|r| (r.start()..=r.end()).map(|c| c.to_string().into_bytes()))
                    .collect(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<Vec<u8>>) -> Vec<String> {
        v.into_iter()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    }

    #[test]
    fn prefix_literals_anchor_a_regex() {
        assert_eq!(strs(anchors("(保证|承诺)").unwrap()), ["保证", "承诺"]);
        // Two-character anchors on either side are as good; the smaller set wins.
        assert_eq!(strs(anchors("(保证|承诺).{0,6}收益").unwrap()), ["收益"]);
        assert_eq!(
            strs(anchors("密码(是|为)[0-9a-z]{4,}").unwrap()),
            ["密码为", "密码是"]
        );
    }

    #[test]
    fn suffix_literals_when_the_prefix_is_open() {
        assert_eq!(strs(anchors(".{0,4}不赔").unwrap()), ["不赔"]);
    }

    #[test]
    fn required_inner_literal_beats_one_character_affixes() {
        assert_eq!(
            strs(anchors("(我|小妹)?(也)?不知道(了|呀|呢)?").unwrap()),
            ["不知道"]
        );
        let set = strs(anchors("[我你]?(保证|承诺)[^,]{0,6}(收益|回报)").unwrap());
        assert!(
            set == ["保证", "承诺"] || set == ["回报", "收益"],
            "{set:?}"
        );
    }

    #[test]
    fn no_anchor_for_patterns_that_can_start_anywhere() {
        assert!(anchors(r"\w+").is_none());
        assert!(anchors("(a)?").is_none());
    }
}
