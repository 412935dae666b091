//! Peers' test suites as data: every assertion of houbb/sensitive-word (Java) and ToolGood.Words (C#) that
//! tests a matcher — the input text, the words of the dictionary, the words found — run against a ruleset
//! with each word a rule (`tests/peers/*.jsonl`, one case per line, each naming its source file and line).
//!
//! A case may carry:
//! - `regex`: patterns, each a rule too (their number detectors are regexes in a huashu ruleset); a regex
//!   rule is reported as `/pattern/`;
//! - `allow`: the ruleset's allow-list (their white list);
//! - `matched`: the original text of each finding, `text[f.span]`, which checks the alignment;
//! - `skip`: why the case tests something a compliance engine must not do (their own switches, pinyin,
//!   collapsing repeated Latin letters…). Skipped cases run and count, but need not pass.
//!
//! How words are counted follows each peer: houbb reports non-overlapping words, the longest first, which
//! is what `Engine::check` reports; ToolGood reports every word found, overlapping ones included (中国 and
//! 国人 in 我是中国人), so each of its words is checked with a ruleset of that one rule (and the allow-list).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use huashu_engine::{Engine, Role, Ruleset};
use serde_json::Value;

struct Case {
    source: String,
    words: Vec<String>,
    regex: Vec<String>,
    allow: Vec<String>,
    text: String,
    expect: Vec<String>,
    matched: Option<Vec<String>>,
    skip: Option<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("strings").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn cases(file: &str) -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(file);
    std::fs::read_to_string(&path)
        .expect("peer data")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("one JSON object per line");
            Case {
                source: v["source"].as_str().expect("source").to_string(),
                words: strings(&v, "words"),
                regex: strings(&v, "regex"),
                allow: strings(&v, "allow"),
                text: v["text"].as_str().expect("text").to_string(),
                expect: strings(&v, "expect"),
                matched: v.get("matched").map(|_| strings(&v, "matched")),
                skip: v.get("skip").and_then(Value::as_str).map(str::to_string),
            }
        })
        .collect()
}

/// A ruleset directory with one rule per word and per regex; returns the engine and what each rule id
/// stands for.
fn engine(
    dir: &Path,
    words: &[String],
    regex: &[String],
    allow: &[String],
) -> Result<(Engine, BTreeMap<String, String>), String> {
    let _ = std::fs::remove_dir_all(dir);
    let rules = dir.join("rules/forbidden");
    std::fs::create_dir_all(&rules).map_err(|e| e.to_string())?;
    let q = |s: &str| serde_json::to_string(s).expect("json string");
    let allow: Vec<String> = allow.iter().map(|a| q(a)).collect();
    std::fs::write(
        dir.join("ruleset.toml"),
        format!(
            "name = \"peers\"\nversion = \"0.1.0\"\nlanguage = \"zh\"\nallow = [{}]\n",
            allow.join(", ")
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut ids = BTreeMap::new();
    let all = words
        .iter()
        .map(|w| (format!("phrases = [{}]", q(w)), w.clone()))
        .chain(
            regex
                .iter()
                .map(|r| (format!("regex = [{}]", q(r)), format!("/{r}/"))),
        );
    for (i, (matcher, word)) in all.enumerate() {
        let id = format!("W{i:03}");
        std::fs::write(
            rules.join(format!("{id}.toml")),
            format!(
                "id = \"{id}\"\nname = \"w{i}\"\ncategory = \"forbidden\"\nseverity = \"major\"\n\
                 role = \"agent\"\nmessage = \"{{matched}}\"\n\n[match]\n{matcher}\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        ids.insert(id, word);
    }
    let rs = Ruleset::load(dir.to_str().expect("utf-8")).map_err(|e| e.to_string())?;
    let engine = Engine::new(rs).map_err(|e| e.to_string())?;
    Ok((engine, ids))
}

/// The words found in the case's text and the original text of each finding, in text order.
fn found(case: &Case, dir: &Path, overlapping: bool) -> Result<(Vec<String>, Vec<String>), String> {
    let mut hits: Vec<(usize, usize, String, String)> = Vec::new();
    let mut run = |words: &[String], regex: &[String]| -> Result<(), String> {
        let (e, ids) = engine(dir, words, regex, &case.allow)?;
        for f in e.check(Role::Agent, &case.text) {
            let word = ids.get(&*f.rule_id).cloned().unwrap_or_default();
            let text = case.text[f.span.start..f.span.end].to_string();
            hits.push((f.span.start, f.span.end, word, text));
        }
        Ok(())
    };
    if overlapping {
        for w in &case.words {
            run(std::slice::from_ref(w), &[])?;
        }
        for r in &case.regex {
            run(&[], std::slice::from_ref(r))?;
        }
    } else {
        run(&case.words, &case.regex)?;
    }
    hits.sort();
    Ok(hits.into_iter().map(|h| (h.2, h.3)).unzip())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn run_file(file: &str, overlapping: bool) {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "huashu-peers-{}-{}",
        file.split('.').next().unwrap_or("x"),
        std::process::id()
    ));
    let cases = cases(file);
    let (mut pass, mut skipped, mut failures) = (0, 0, Vec::new());
    for case in &cases {
        let ok = match found(case, &dir, overlapping) {
            Ok((words, texts)) => {
                let words_ok = sorted(words.clone()) == sorted(case.expect.clone());
                let texts_ok = case
                    .matched
                    .as_ref()
                    .is_none_or(|m| sorted(m.clone()) == sorted(texts.clone()));
                if !(words_ok && texts_ok) {
                    Err(format!("found {words:?} (original text {texts:?})"))
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(format!("ruleset: {e}")),
        };
        match (&ok, &case.skip) {
            (Ok(()), _) => pass += 1,
            (Err(_), Some(_)) => skipped += 1,
            (Err(e), None) => failures.push(format!(
                "{}: {:?} in {:?}: expected {:?}{}; {e}",
                case.source,
                case.words,
                case.text,
                case.expect,
                case.matched
                    .as_ref()
                    .map_or(String::new(), |m| format!(" as {m:?}"))
            )),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{file}: {pass} of {} cases pass ({skipped} failing cases are skipped by design, {} failures)",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn houbb_sensitive_word() {
    run_file("houbb_sensitive_word.jsonl", false);
}

#[test]
fn toolgood_words() {
    run_file("toolgood_words.jsonl", true);
}
