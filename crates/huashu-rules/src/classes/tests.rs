use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use super::{expand_entry, expand_regex, references};
use crate::{Ruleset, RulesetError};

fn classes(list: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    list.iter()
        .map(|(n, w)| (n.to_string(), w.iter().map(|w| w.to_string()).collect()))
        .collect()
}

#[test]
fn a_reference_is_a_name_in_braces_never_a_repetition_or_an_escaped_brace() {
    assert_eq!(
        references(r"您{party}.{0,5}\{x}{2}{a_1}"),
        vec!["party", "a_1"]
    );
    assert!(references(r"\{party}").is_empty());
    assert_eq!(references(r"\\{party}"), vec!["party"]);
}

#[test]
fn a_regex_gets_the_class_as_an_escaped_alternation_longest_first() {
    let c = classes(&[("party", &["商家", "商家客服", "a.b", "the seller"])]);
    assert_eq!(
        expand_regex(r"(去)?找{party}.{0,3}吧", &c).unwrap(),
        r"(去)?找(?:the[ ]seller|商家客服|a\.b|商家).{0,3}吧"
    );
    assert_eq!(
        expand_regex(r"找{partyy}", &c).unwrap_err(),
        "unknown word class `partyy` (the ruleset's classes: party)"
    );
}

#[test]
fn a_list_entry_becomes_one_entry_per_word_and_combination() {
    let c = classes(&[("party", &["商家", "快递"]), ("ask", &["问", "找"])]);
    assert_eq!(
        expand_entry("去{ask}{party}吧", &c).unwrap(),
        ["去问商家吧", "去问快递吧", "去找商家吧", "去找快递吧"]
    );
    assert_eq!(expand_entry("{0,2}", &c).unwrap(), ["{0,2}"]);
}

/// A base ruleset and a pack over it, side by side in a fresh directory; `rule` is the base's one rule file.
fn load(base_manifest: &str, pack_manifest: &str, rule: &str) -> Result<Ruleset, RulesetError> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let root: PathBuf =
        std::env::temp_dir().join(format!("huashu-classes-{}-{n}", std::process::id()));
    for (name, extra) in [("base", base_manifest), ("pack", pack_manifest)] {
        let dir = root.join(name);
        fs::create_dir_all(dir.join("rules")).expect("temp dir");
        fs::write(
            dir.join("ruleset.toml"),
            format!("name = \"{name}\"\nversion = \"0.1.0\"\nlanguage = \"zh-CN\"\n{extra}"),
        )
        .expect("write");
    }
    fs::write(root.join("base/rules/F900.toml"), rule).expect("write");
    let rs = Ruleset::load_dir(root.join("pack"));
    let _ = fs::remove_dir_all(&root);
    rs
}

const RULE: &str = r#"id = "F900"
name = "push-back"
category = "forbidden"
severity = "major"
message = "推诿"
why = "test"

[match]
regex = ['您(去)?找{party}']
unless_turn_has = ["我帮您联系{party}"]
"#;

#[test]
fn a_packs_words_reach_the_bases_rules() {
    let rs = load(
        "[classes]\nparty = [\"商家\"]\n",
        "extends = [\"base\"]\n[classes]\nparty = [\"厂家\", \"商家\"]\n",
        RULE,
    )
    .expect("loads");
    assert_eq!(rs.manifest.classes["party"], ["商家", "厂家"]);
    let m = &rs.rule("F900").expect("rule").matcher;
    assert_eq!(m.regex, ["您(去)?找(?:厂家|商家)"]);
    assert_eq!(m.unless_turn_has, ["我帮您联系商家", "我帮您联系厂家"]);
}

#[test]
fn an_unknown_class_names_the_rule_file_line_and_field() {
    let err = load("", "extends = [\"base\"]\n", RULE).expect_err("no class");
    let text = err.to_string();
    assert!(text.contains("F900.toml:9: field `match.regex`: unknown word class `party`: the ruleset defines no `[classes]`"), "{text}");
}

#[test]
fn a_class_with_a_bad_name_or_no_words_is_refused_where_it_is_written() {
    let err = load(
        "[classes]\nParty = [\"商家\"]\n",
        "extends = [\"base\"]\n",
        RULE,
    )
    .expect_err("bad name");
    assert!(
        err.to_string().ends_with(
            "ruleset.toml:5: field `classes.Party`: class name `Party`: use lower-case ASCII letters, digits and `_`, starting with a letter"
        ),
        "{err}"
    );
    let err = load("[classes]\nparty = []\n", "extends = [\"base\"]\n", RULE).expect_err("empty");
    assert!(
        err.to_string()
            .ends_with("ruleset.toml:5: field `classes.party`: class `party` has no words"),
        "{err}"
    );
}

#[test]
fn a_copy_of_half_a_class_in_one_alternation_or_list_line_is_reported() {
    let c = classes(&[("particle", &["呢", "哦", "哈", "亲", "呀", "啦"])]);
    // One alternation holding four of the six words: name the class instead.
    assert_eq!(
        super::spelled_out("regex = ['不知道(呢|哦|哈|啦|的)*']", &c),
        [("particle", 4, "呢")]
    );
    // A list line holding three of them is a copy too; the words spread over several small groups are not.
    assert_eq!(
        super::spelled_out("unless_after = [\"呀\", \"亲\", \"哈\"]", &c),
        [("particle", 3, "哈")]
    );
    assert!(super::spelled_out("regex = ['(呢|吗)不(哦|么)(哈|吧)']", &c).is_empty());
    // Named, it is no copy.
    assert!(super::spelled_out("regex = ['不知道({particle}|的)*']", &c).is_empty());
}
