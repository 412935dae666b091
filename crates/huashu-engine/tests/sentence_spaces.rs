//! `[normalize] sentence_spaces`: a space between two sentences of ideographs ends the clause for every
//! clause-scoped test, while spacing between single characters is still noise a phrase matches through.

use huashu_engine::{Engine, Role};
use huashu_rules::Ruleset;

fn engine(sentence_spaces: bool) -> Engine {
    let mut manifest = Ruleset::builtin("zh-CN").expect("zh-CN").manifest;
    manifest.scoring = Default::default();
    manifest.allow.clear();
    manifest.normalize.sentence_spaces = sentence_spaces;
    let rule = |file: &str, text: &str| Ruleset::parse_rule(file, text).expect("rule parses");
    let rules = vec![
        // Not knowing, exempt when the agent's own step follows in the same clause.
        rule(
            "rules/forbidden/S1.toml",
            "id = \"S1\"\nname = \"t\"\ncategory = \"forbidden\"\nseverity = \"major\"\nmessage = \"m\"\n\
             [match]\nphrases = [\"不清楚\"]\nunless_after = [\"我去问\"]\nafter_window = 10\n",
        ),
        // A flat no that is its whole clause.
        rule(
            "rules/forbidden/S2.toml",
            "id = \"S2\"\nname = \"t\"\ncategory = \"forbidden\"\nseverity = \"major\"\nmessage = \"m\"\n\
             [match]\nregex = ['(^|[,.!?;:、。…\\n])(?P<hit>改不了)(的|哦|呢)*([,.!?;:、。…\\n]|$)']\n",
        ),
    ];
    Engine::new(Ruleset { manifest, rules }).expect("compiles")
}

fn found(engine: &Engine, text: &str) -> Vec<(String, String)> {
    engine
        .scan(Role::Agent, text)
        .iter()
        .map(|f| {
            (
                f.rule_id.to_string(),
                text[f.span.start..f.span.end].to_string(),
            )
        })
        .collect()
}

#[test]
fn a_clause_scoped_exemption_stops_at_a_space_between_sentences() {
    let (on, off) = (engine(true), engine(false));
    // One clause: the agent's own step right after the hedge exempts it either way.
    assert!(found(&on, "这个不清楚我去问下同事").is_empty());
    assert!(found(&off, "这个不清楚我去问下同事").is_empty());
    // Two sentences, the step in a later one beyond the clause: only the spaces keep them apart.
    let text = "这个型号不清楚 您到时候看看 我去问也没用";
    assert_eq!(found(&on, text), [("S1".into(), "不清楚".into())]);
    assert!(found(&off, text).is_empty());
    // A refusal that is a sentence of its own is its own clause.
    assert_eq!(
        found(&on, "订单已经出库了 改不了的"),
        [("S2".into(), "改不了".into())]
    );
    assert!(found(&off, "订单已经出库了 改不了的").is_empty());
}

#[test]
fn a_phrase_spaced_out_one_character_at_a_time_still_matches() {
    let on = engine(true);
    assert_eq!(
        found(&on, "这个我 不 清 楚 您再等等"),
        [("S1".into(), "不 清 楚".into())]
    );
    assert_eq!(
        found(&on, "订单出库了。改 不 了 的"),
        [("S2".into(), "改 不 了".into())]
    );
}
