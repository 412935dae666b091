//! Precision and recall per category on the project's own annotated turns (`corpora/turns.jsonl`).

use std::collections::{BTreeMap, BTreeSet};

use huashu::{Engine, Role};
use serde::Deserialize;

#[derive(Deserialize)]
struct Annotated {
    id: String,
    role: String,
    text: String,
    expect: Vec<String>,
}

const MIN_PRECISION: f64 = 0.95;
const MIN_RECALL: f64 = 0.90;

#[test]
fn precision_and_recall_per_category() {
    let path = huashu_tests::root().join("corpora/turns.jsonl");
    let data = std::fs::read_to_string(&path).expect("corpora/turns.jsonl");
    let engine = Engine::default_ruleset().expect("default ruleset");
    // category -> (tp, fp, fn)
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut n = 0;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let a: Annotated = serde_json::from_str(line).expect("annotated line parses");
        n += 1;
        let role = Role::parse(&a.role).expect("role");
        let findings = engine.check(role, &a.text);
        let found: BTreeSet<String> = findings
            .iter()
            .map(|f| f.category.as_str().to_string())
            .collect();
        let expected: BTreeSet<String> = a.expect.iter().cloned().collect();
        for cat in ["forbidden", "promise", "privacy"] {
            let c = counts.entry(cat.to_string()).or_default();
            match (expected.contains(cat), found.contains(cat)) {
                (true, true) => c.0 += 1,
                (false, true) => {
                    c.1 += 1;
                    let f = findings
                        .iter()
                        .find(|f| f.category.as_str() == cat)
                        .expect("found");
                    errors.push(format!(
                        "FP {cat} {} {:?}: {} on {:?}",
                        a.id, a.text, f.rule_id, f.matched
                    ));
                }
                (true, false) => {
                    c.2 += 1;
                    errors.push(format!("FN {cat} {} {:?}", a.id, a.text));
                }
                (false, false) => {}
            }
        }
    }
    assert!(n >= 300, "corpus has only {n} turns");
    let mut report = format!("{n} turns\n");
    let mut failed = false;
    for (cat, (tp, fp, fneg)) in &counts {
        let p = if tp + fp == 0 {
            1.0
        } else {
            *tp as f64 / (tp + fp) as f64
        };
        let r = if tp + fneg == 0 {
            1.0
        } else {
            *tp as f64 / (tp + fneg) as f64
        };
        report.push_str(&format!(
            "{cat:10} P {p:.3} R {r:.3} (tp {tp}, fp {fp}, fn {fneg})\n"
        ));
        failed |= p < MIN_PRECISION || r < MIN_RECALL;
    }
    println!("{report}");
    for e in &errors {
        println!("{e}");
    }
    assert!(
        !failed,
        "below P {MIN_PRECISION} / R {MIN_RECALL}:\n{report}\n{}",
        errors.join("\n")
    );
}
