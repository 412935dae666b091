//! The learned backstop from the command line: on in batch scanning, off with `--rules-only`; `huashu learn`
//! trains a ruleset directory's models; a broken model file is an error naming its line.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn huashu(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_huashu"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn huashu");
    // A run that fails before reading its input closes the pipe: that is its answer, not the test's error.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait")
}

fn rules_of(out: &Output) -> Vec<String> {
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule"].as_str().unwrap_or(""),
                f["matched"].as_str().unwrap_or("")
            )
        })
        .collect()
}

const NO_RULE_LISTS_IT: &str = "这款产品您就放心买吧，用个十年八年一点问题都没有\n";

#[test]
fn batch_scanning_runs_the_learned_models_unless_told_rules_only() {
    let with = huashu(&["scan", "-"], NO_RULE_LISTS_IT);
    assert!(with.status.success());
    assert_eq!(
        rules_of(&with),
        vec!["L-promise 用个十年八年一点问题都没有"]
    );
    let without = huashu(&["scan", "--rules-only", "-"], NO_RULE_LISTS_IT);
    assert_eq!(rules_of(&without), Vec::<String>::new());
}

/// A copy of the bundled `en` ruleset in `dir`, with the bundled model headers and no weights.
fn copy_ruleset(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read ruleset") {
        let p = entry.expect("entry").path();
        let target = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_ruleset(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

#[test]
fn learn_trains_the_models_of_a_ruleset_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("en");
    copy_ruleset(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rulesets/en"),
        &dir,
    );
    let labels = tmp.path().join("labels.jsonl");
    let mut lines = String::new();
    for i in 0..6 {
        lines.push_str(&format!(
            "{{\"id\":\"p{i}\",\"role\":\"agent\",\"text\":\"this one is totally zorbly, zero worries number {i}\",\"expect\":[\"promise\"]}}\n\
             {{\"id\":\"n{i}\",\"role\":\"agent\",\"text\":\"thanks for waiting, let me look into order {i}\",\"expect\":[]}}\n\
             {{\"id\":\"c{i}\",\"role\":\"customer\",\"text\":\"is it zorbly {i}\",\"expect\":[]}}\n"
        ));
    }
    std::fs::write(&labels, lines).expect("write labels");
    let out = huashu(
        &[
            "learn",
            "--ruleset",
            dir.to_str().expect("utf-8"),
            "--epochs",
            "20",
            labels.to_str().expect("utf-8"),
        ],
        "",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Customer turns are not trained on: 12 agent turns, 6 of them promises.
    assert!(
        stdout.contains("promise.tsv: L-promise (promise) trained on 12 turns, 6 positive;"),
        "{stdout}"
    );
    let model = std::fs::read_to_string(dir.join("learned/promise.tsv")).expect("model");
    // The header is kept; the weights are the new ones.
    assert!(
        model.starts_with("id\tL-promise\ncategory\tpromise\nthreshold\t0.98\n"),
        "{model}"
    );
    let weight = |gram: &str| -> f32 {
        model
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{gram}\t")))
            .and_then(|w| w.parse().ok())
            .unwrap_or(0.0)
    };
    // Every promise says it, no other turn does; and the other way round.
    assert!(weight("zor") > 0.2 && weight("wai") < -0.1, "{model}");
    let scanned = huashu(
        &["scan", "--ruleset", dir.to_str().expect("utf-8"), "-"],
        "honestly it is zorbly, zero worries\n",
    );
    assert_eq!(rules_of(&scanned), vec!["L-promise honestly it is zorbly"]);
}

#[test]
fn learn_needs_model_files_and_a_broken_one_is_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("t");
    std::fs::create_dir_all(dir.join("rules")).expect("mkdir");
    std::fs::write(dir.join("ruleset.toml"), "name = \"t\"\nversion = \"1\"\n").expect("write");
    let labels = tmp.path().join("l.jsonl");
    std::fs::write(
        &labels,
        "{\"id\":1,\"role\":\"agent\",\"text\":\"hi\",\"expect\":[]}\n",
    )
    .expect("write");
    let d = dir.to_str().expect("utf-8");
    let out = huashu(
        &["learn", "--ruleset", d, labels.to_str().expect("utf-8")],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no learned/*.tsv to train"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::create_dir_all(dir.join("learned")).expect("mkdir");
    std::fs::write(
        dir.join("learned/promise.tsv"),
        "id\tL-promise\ncategory\tpromise\nthreshold\t0.9\nmessage\tm\n\n保证\tmuch\n",
    )
    .expect("write");
    let out = huashu(&["scan", "--ruleset", d, "-"], "你好\n");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("learned/promise.tsv:6: field `weights`: `much` is not a number"),
        "{err}"
    );
    // The rules alone do not read the models.
    assert!(
        huashu(&["scan", "--rules-only", "--ruleset", d, "-"], "你好\n")
            .status
            .success()
    );
}

#[test]
fn explain_shows_a_learned_model() {
    let out = huashu(&["explain", "L-promise"], "");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(
            "L-promise learned model (promise, minor; batch scoring only, docs/learned.md)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  file:      rulesets/zh-CN/learned/promise.tsv\n  threshold: 0.98 (bias "),
        "{text}"
    );
    assert!(
        text.contains("\n  for:       ") && text.contains("\n  against:   "),
        "{text}"
    );
}

#[test]
fn conversation_scoring_counts_a_model_finding_unless_told_rules_only() {
    let chat = r#"{"id":"x","turns":[{"role":"customer","text":"这个质量怎么样"},{"role":"agent","text":"这款产品您就放心买吧，用个十年八年一点问题都没有"}]}"#;
    let score = |args: &[&str]| -> (Vec<String>, u64) {
        let out = huashu(args, &format!("{chat}\n"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim())
                .expect("one JSON line");
        let rules = v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["rule"].as_str().unwrap_or("").to_string())
            .collect();
        (rules, v["score"].as_u64().expect("score"))
    };
    let (with, scored) = score(&["score", "-"]);
    let (without, plain) = score(&["score", "--rules-only", "-"]);
    assert_eq!(with, vec!["L-promise"]);
    assert!(without.is_empty());
    // A minor finding costs the conversation a few points, as a minor rule would.
    assert!(scored < plain, "{scored} vs {plain}");
}
