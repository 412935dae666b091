//! Lints on a rule's regexes: text the matcher never sees. Regexes run on the normalised turn, so a literal
//! that normalisation changes (謝, ？, an upper-case letter, an apostrophe, a doubled 谢谢) can never match as
//! written, and an alternative built on one is dead. `huashu check` reports them with the rule's line.

use regex_syntax::hir::{Class, Hir, HirKind};

use crate::Matcher;

/// Largest character class whose members are each normalised; wider ones (`.`, `\d`, `[^…]`) are ranges,
/// not written characters.
const MAX_CLASS_CHARS: u32 = 64;

/// What is dead in `pattern`: one message per literal or class, in pattern order.
pub(crate) fn regex(engine: &Matcher, pattern: &str) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().build().parse(pattern) else {
        return Vec::new(); // the compiler reports syntax errors
    };
    let mut out = Vec::new();
    walk(engine, &hir, &mut out);
    out
}

/// The character before the first space of `s` that comes after something other than an ASCII letter, digit
/// or space (the normaliser drops such a space: `100% safe` is `100%safe`).
fn dropped_space(s: &str) -> Option<char> {
    let mut prev = None;
    for c in s.chars() {
        if c == ' ' {
            if let Some(p) = prev.filter(|p: &char| !p.is_ascii_alphanumeric() && *p != ' ') {
                return Some(p);
            }
        }
        prev = Some(c);
    }
    None
}

fn walk(engine: &Matcher, h: &Hir, out: &mut Vec<String>) {
    match h.kind() {
        HirKind::Literal(lit) => {
            let Ok(s) = std::str::from_utf8(&lit.0) else {
                return;
            };
            // The normaliser keeps a space only after an ASCII letter or digit ("the card"): one after `%`,
            // a mark or an ideograph ("100% safe") is always dropped, whatever follows it.
            if let Some(after) = dropped_space(s) {
                out.push(format!(
                    "regex literal {s:?} has a space after {after:?}, which normalisation always drops, so it never matches as written"
                ));
                return;
            }
            // A space at the edge of a literal is kept between two words of the turn ("the card"); only
            // what lies between the edges is judged alone.
            let s = s.trim();
            if s.is_empty() {
                return;
            }
            let n = engine.normalize(s);
            if n.as_str() != s {
                out.push(format!(
                    "regex literal {s:?} is {:?} after normalisation, so it never matches as written",
                    n.as_str()
                ));
            }
        }
        HirKind::Class(Class::Unicode(cls)) => {
            let size: u32 = cls
                .ranges()
                .iter()
                .map(|r| r.end() as u32 - r.start() as u32 + 1)
                .sum();
            if size > MAX_CLASS_CHARS {
                return;
            }
            let members: Vec<char> = cls
                .ranges()
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .filter(|c| !c.is_whitespace())
                .collect();
            let dead: Vec<char> = members
                .iter()
                .copied()
                .filter(|&c| {
                    let s = c.to_string();
                    engine.normalize(&s).as_str() != s
                })
                .collect();
            // A case-insensitive class ([Aa]) is fine as long as one member survives.
            if !dead.is_empty() && dead.len() == members.len() {
                let shown: String = dead.iter().collect();
                out.push(format!(
                    "regex class [{shown}] is changed by normalisation, so it never matches"
                ));
            }
        }
        HirKind::Class(Class::Bytes(_)) | HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Repetition(r) => walk(engine, &r.sub, out),
        HirKind::Capture(c) => walk(engine, &c.sub, out),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => {
            for h in hs {
                walk(engine, h, out);
            }
        }
    }
}
