//! Word classes (`[classes]`, docs/rules.md) as people meet them: `huashu explain` shows a rule as written,
//! and `huashu test-ruleset` asks for a class where a rule copies one.

use std::process::{Command, Output};

fn huashu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huashu"))
        .args(args)
        .output()
        .expect("run huashu")
}

#[test]
fn explain_shows_a_regex_with_its_classes_by_name_and_spells_each_out_once() {
    let out = huashu(&["explain", "F033"]);
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("(不可以|不行|不能|不支持|不可))(的)?({particle}|了)*"),
        "{s}"
    );
    assert!(s.contains("\n  classes: {particle} = 呢|哦|哈|"), "{s}");
}

const RULE: &str = r#"id = "T001"
name = "cold-wait"
category = "forbidden"
severity = "major"
message = "冷漠：{matched}"

[match]
regex = ['等着吧(呢|哦|哈)*']

[[suggest]]
replace = "请您稍等，我马上为您处理"

[[example]]
bad = "等着吧"
[[example]]
bad = "你就等着吧哦"
[[example]]
ok = "请您稍等"
[[example]]
ok = "等着您的回复"
"#;

const MANIFEST: &str =
    "name = \"t\"\nversion = \"1\"\n[classes]\nparticle = [\"呢\", \"哦\", \"哈\", \"亲\"]\n";

fn write_ruleset(dir: &std::path::Path, rule: &str) {
    std::fs::create_dir_all(dir.join("rules/forbidden")).expect("write test ruleset");
    std::fs::write(dir.join("ruleset.toml"), MANIFEST).expect("write test ruleset");
    std::fs::write(dir.join("rules/forbidden/T001.toml"), rule).expect("write test ruleset");
}

#[test]
fn test_ruleset_asks_for_a_class_where_a_rule_copies_one() {
    let dir = tempfile::tempdir().unwrap();
    write_ruleset(dir.path(), RULE);
    let out = huashu(&["test-ruleset", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("T001.toml:8: rule T001: spells out 3 of the 4 words of class `particle`: name `{particle}` instead (a copy drifts from the class)"),
        "{s}"
    );
    // Named, the class gives the same words and one more, and the examples still hold.
    write_ruleset(dir.path(), &RULE.replace("(呢|哦|哈)*", "({particle})*"));
    let out = huashu(&["test-ruleset", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn explain_writes_a_list_holding_a_whole_class_by_its_name() {
    let out = huashu(&["explain", "F001"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains(
            "\n  unless the sentence has: {restated} | {confirming} | {reported} | 吗 | 帮您查 |"
        ),
        "{s}"
    );
}
