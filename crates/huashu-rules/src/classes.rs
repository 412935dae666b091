//! Word classes: a ruleset names a class of words once (`[classes] agent = ["我", "小妹", "我们这边", …]`) and its
//! rules use it by name, `{agent}`, in regexes, phrases and context lists. Half of the misses on held-out turns
//! were a class lacking a member in one rule that another rule had (corpora/labelled/GENERAL-zh.md): a member
//! added to the class reaches every rule that names it, and a pack adds members to its base's classes.
//!
//! Expansion happens once, when the ruleset is assembled: the engine and the lint see plain regexes and lists
//! (`huashu explain` folds a class's [`alternation`] back into its name for people).

use std::collections::BTreeMap;

use crate::Ruleset;
use crate::error::RulesetError;
use crate::rule::Match;

/// Most entries one list entry may expand to (several classes in one entry multiply).
const MAX_EXPANSION: usize = 4096;

/// Whether the byte at `at` of `s` is escaped (an odd run of backslashes before it).
fn escaped(s: &str, at: usize) -> bool {
    s.as_bytes()[..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
        % 2
        == 1
}

/// A piece of a regex or list entry: text as written, or a class reference.
enum Segment<'s> {
    Text(&'s str),
    Class(&'s str),
}

/// `s` cut into text and class references (`{name}`, not escaped, `name` a lower-case letter or `_` then
/// lower-case letters, digits or `_`). `{2}` and `{0,5}` are regex repetitions, never names: they stay text.
fn segments(s: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let (mut text, mut at) = (0, 0);
    while let Some(i) = s[at..].find('{') {
        let start = at + i;
        at = start + 1;
        let Some(len) = s[at..].find('}') else { break };
        let name = &s[at..at + len];
        let mut chars = name.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !escaped(s, start);
        if valid {
            if text < start {
                out.push(Segment::Text(&s[text..start]));
            }
            out.push(Segment::Class(name));
            at += len + 1;
            text = at;
        }
    }
    if text < s.len() {
        out.push(Segment::Text(&s[text..]));
    }
    out
}

/// The class names `s` refers to, in order.
fn references(s: &str) -> Vec<&str> {
    segments(s)
        .into_iter()
        .filter_map(|g| match g {
            Segment::Class(name) => Some(name),
            Segment::Text(_) => None,
        })
        .collect()
}

/// A regex with every `{name}` replaced by the class's [`alternation`].
fn expand_regex(pattern: &str, classes: &BTreeMap<String, Vec<String>>) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len());
    for g in segments(pattern) {
        match g {
            Segment::Text(t) => out.push_str(t),
            Segment::Class(name) => {
                out.push_str(&alternation(
                    classes.get(name).ok_or_else(|| unknown(name, classes))?,
                ));
            }
        }
    }
    Ok(out)
}

/// What `{name}` becomes in a regex: a non-capturing alternation of the class's `words`, escaped, longest first
/// (an alternation prefers its first branch that matches: 商家客服 before 商家). `huashu explain` folds it back
/// into the name.
pub fn alternation(words: &[String]) -> String {
    let mut sorted: Vec<&String> = words.iter().collect();
    sorted.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    let mut out = String::from("(?:");
    for (k, w) in sorted.iter().enumerate() {
        if k > 0 {
            out.push('|');
        }
        escape_into(w, &mut out);
    }
    out.push(')');
    out
}

/// Classes a rule file spells out instead of naming: for each class of three or more words, the most of its
/// words one regex alternation (`(a|b|c)`, innermost) or one line of list entries (`"a", "b"`) of the file
/// `source` holds, when that is at least half the class (and at least three): the class name, how many, and
/// one of them as written. A copy drifts from the class, which is what classes are for (`huashu test-ruleset`).
pub fn spelled_out<'a>(
    source: &str,
    classes: &'a BTreeMap<String, Vec<String>>,
) -> Vec<(&'a str, usize, &'a str)> {
    let units: Vec<Vec<&str>> = alternations(source)
        .into_iter()
        .chain(
            source
                .lines()
                .map(|l| l.split('"').skip(1).step_by(2).collect()),
        )
        .collect();
    let mut out = Vec::new();
    for (name, words) in classes {
        if words.len() < 3 {
            continue;
        }
        let best = units
            .iter()
            .map(|unit| {
                let held: Vec<&String> = words
                    .iter()
                    .filter(|w| unit.contains(&w.as_str()))
                    .collect();
                (held.len(), held.first().map_or("", |w| w.as_str()))
            })
            .max_by_key(|&(n, _)| n);
        if let Some((n, word)) = best.filter(|&(n, _)| n >= 3 && 2 * n >= words.len()) {
            out.push((name.as_str(), n, word));
        }
    }
    out
}

/// The alternatives of every innermost group of `source` that has some (`(?:a|b)` → `a`, `b`).
fn alternations(source: &str) -> Vec<Vec<&str>> {
    let bytes = source.as_bytes();
    let mut open: Vec<(usize, bool)> = Vec::new();
    let mut out = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' if !escaped(source, i) => {
                if let Some(last) = open.last_mut() {
                    last.1 = false;
                }
                open.push((i + 1, true));
            }
            b')' if !escaped(source, i) => {
                if let Some((start, innermost)) = open.pop() {
                    let body = &source[start..i];
                    if innermost && body.contains('|') {
                        let body = body.strip_prefix("?:").unwrap_or(body);
                        let body = match body.strip_prefix("?P<") {
                            Some(rest) => rest.split_once('>').map_or(rest, |(_, b)| b),
                            None => body,
                        };
                        out.push(body.split('|').collect());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// `word` as a regex that matches it literally.
fn escape_into(word: &str, out: &mut String) {
    for c in word.chars() {
        // A space written `[ ]` holds in a pattern with the `x` flag too.
        if c == ' ' {
            out.push_str("[ ]");
            continue;
        }
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A list entry with every `{name}` replaced by each of the class's words: one entry per combination.
fn expand_entry(
    entry: &str,
    classes: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, String> {
    let mut done = vec![String::new()];
    for g in segments(entry) {
        match g {
            Segment::Text(t) => done.iter_mut().for_each(|d| d.push_str(t)),
            Segment::Class(name) => {
                let words = classes.get(name).ok_or_else(|| unknown(name, classes))?;
                if done.len() * words.len() > MAX_EXPANSION {
                    return Err(format!(
                        "`{entry}` expands to more than {MAX_EXPANSION} entries"
                    ));
                }
                done = done
                    .iter()
                    .flat_map(|d| words.iter().map(move |w| format!("{d}{w}")))
                    .collect();
            }
        }
    }
    Ok(done)
}

fn unknown(name: &str, classes: &BTreeMap<String, Vec<String>>) -> String {
    let known: Vec<&str> = classes.keys().map(String::as_str).collect();
    if known.is_empty() {
        format!("unknown word class `{name}`: the ruleset defines no `[classes]`")
    } else {
        format!(
            "unknown word class `{name}` (the ruleset's classes: {})",
            known.join(", ")
        )
    }
}

/// Checks the classes themselves: names a reference can use, no empty class or member, no class inside a
/// class. `label`/`text` are the manifest's, for the error's line.
pub(crate) fn check(
    classes: &BTreeMap<String, Vec<String>>,
    label: &str,
    text: &str,
) -> Result<(), RulesetError> {
    for (name, words) in classes {
        let problem = if references(&format!("{{{name}}}")) != [name.as_str()] {
            Some(format!(
                "class name `{name}`: use lower-case ASCII letters, digits and `_`, starting with a letter"
            ))
        } else if words.is_empty() {
            Some(format!("class `{name}` has no words"))
        } else if words.iter().any(|w| w.trim().is_empty()) {
            Some(format!("class `{name}` has an empty word"))
        } else {
            words.iter().find(|w| !references(w).is_empty()).map(|w| {
                format!(
                    "class `{name}`: `{w}` refers to a class (classes hold words, not other classes)"
                )
            })
        };
        if let Some(message) = problem {
            return Err(RulesetError::Invalid {
                file: label.to_string(),
                line: line_of_class(text, name),
                field: format!("classes.{name}"),
                message,
            });
        }
    }
    Ok(())
}

fn line_of_class(text: &str, name: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(name) && t[name.len()..].trim_start().starts_with('=')
        })
        .map_or(1, |i| i + 1)
}

/// Every class reference of every rule and cue list of `ruleset` expanded (see the module documentation).
///
/// # Errors
/// A reference to a class the ruleset does not define, or a list entry that expands too far, named with the
/// rule file, the line and the field.
pub(crate) fn expand(ruleset: &mut Ruleset, manifest_label: &str) -> Result<(), RulesetError> {
    let classes = ruleset.manifest.classes.clone();
    for rule in &mut ruleset.rules {
        let (file, text) = (rule.source.file.clone(), rule.source.text.clone());
        expand_match(&mut rule.matcher, &classes).map_err(|(field, entry, message)| {
            RulesetError::Invalid {
                file,
                line: line_of_entry(&text, &entry),
                field: format!("match.{field}"),
                message,
            }
        })?;
    }
    for (cue, m) in &mut ruleset.manifest.scoring.cues {
        expand_match(m, &classes).map_err(|(field, _, message)| RulesetError::Invalid {
            file: manifest_label.to_string(),
            line: 1,
            field: format!("scoring.cues.{cue}.{field}"),
            message,
        })?;
    }
    Ok(())
}

/// The line of `text` (a rule file) holding `entry`, or 1.
fn line_of_entry(text: &str, entry: &str) -> usize {
    text.lines()
        .position(|l| l.contains(entry))
        .map_or(1, |i| i + 1)
}

/// `m` expanded; on error the field, the entry as written and the message.
fn expand_match(
    m: &mut Match,
    classes: &BTreeMap<String, Vec<String>>,
) -> Result<(), (&'static str, String, String)> {
    for r in &mut m.regex {
        if references(r).is_empty() {
            continue;
        }
        *r = expand_regex(r, classes).map_err(|e| ("regex", r.clone(), e))?;
    }
    let fields: [(&'static str, &mut Vec<String>); 13] = [
        ("phrases", &mut m.phrases),
        ("unless_followed_by", &mut m.unless_followed_by),
        ("unless_preceded_by", &mut m.unless_preceded_by),
        ("unless_before", &mut m.unless_before),
        ("unless_after", &mut m.unless_after),
        ("unless_sentence_has", &mut m.unless_sentence_has),
        ("unless_turn_has", &mut m.unless_turn_has),
        ("unless_hit_has", &mut m.unless_hit_has),
        ("only_if_sentence_has", &mut m.only_if_sentence_has),
        ("only_after_turn_has", &mut m.only_after_turn_has),
        ("unless_after_turn_has", &mut m.unless_after_turn_has),
        ("only_after_exchange_has", &mut m.only_after_exchange_has),
        (
            "unless_after_exchange_has",
            &mut m.unless_after_exchange_has,
        ),
    ];
    for (field, list) in fields {
        if list.iter().all(|e| references(e).is_empty()) {
            continue;
        }
        let mut out = Vec::with_capacity(list.len());
        for e in list.iter() {
            out.extend(expand_entry(e, classes).map_err(|msg| (field, e.clone(), msg))?);
        }
        // A class member may repeat a word the list names itself.
        let mut seen = std::collections::HashSet::new();
        out.retain(|w| seen.insert(w.clone()));
        *list = out;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
