//! `unless_sentence_has` / `only_if_sentence_has` look at the hit's sentence up to and including its closing
//! mark, so that a rule can exempt (or require) a question by its `?` — the only sign of one in English
//! ("Is the claim as good as approved?").

use huashu_engine::{Engine, Role};
use huashu_rules::Ruleset;

fn engine() -> Engine {
    let mut manifest = Ruleset::builtin("en").expect("en").manifest;
    manifest.scoring = Default::default();
    manifest.allow.clear();
    let rule = |file: &str, text: &str| Ruleset::parse_rule(file, text).expect("rule parses");
    let rules = vec![
        rule(
            "rules/promise/Q1.toml",
            "id = \"Q1\"\nname = \"t\"\ncategory = \"promise\"\nseverity = \"major\"\nmessage = \"m\"\n\
             [match]\nphrases = [\"as good as approved\"]\nunless_sentence_has = [\"?\"]\n",
        ),
        rule(
            "rules/promise/Q2.toml",
            "id = \"Q2\"\nname = \"t\"\ncategory = \"promise\"\nseverity = \"major\"\nmessage = \"m\"\n\
             [match]\nphrases = [\"刷不了\"]\nonly_if_sentence_has = [\"吗?\"]\n",
        ),
    ];
    Engine::new(Ruleset { manifest, rules }).expect("compiles")
}

fn ids(engine: &Engine, text: &str) -> Vec<String> {
    engine
        .scan(Role::Agent, text)
        .iter()
        .map(|f| f.rule_id.to_string())
        .collect()
}

#[test]
fn a_closing_question_mark_is_part_of_the_sentence() {
    let e = engine();
    assert!(ids(&e, "Is the claim as good as approved?").is_empty());
    assert_eq!(ids(&e, "Your claim is as good as approved."), ["Q1"]);
    assert_eq!(ids(&e, "Your claim is as good as approved"), ["Q1"]);
    // The question after the sentence's end is another sentence.
    assert_eq!(ids(&e, "It is as good as approved. Any questions?"), ["Q1"]);
    // Full-width marks fold to the ASCII ones the list names.
    assert_eq!(ids(&e, "这张卡刷不了吗？"), ["Q2"]);
    assert!(ids(&e, "这张卡刷不了。").is_empty());
}
