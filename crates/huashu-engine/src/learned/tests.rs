#![allow(clippy::unwrap_used)]

use huashu_rules::{Category, LearnedModel, Role};

use super::{Example, Settings, keys, train};
use crate::Engine;

/// A promise model that weighs 倍儿棒 and 没得说 (a bias of −4: a turn needs both cues to pass 0.9).
fn promise_model() -> LearnedModel {
    LearnedModel::parse(
        "test/promise.tsv",
        "id\tL-promise\ncategory\tpromise\nthreshold\t0.9\nbias\t-4\n\
         message\t像违规承诺（{score}）\nsuggestion\t我们会尽力保障您的权益\n\n\
         倍儿棒\t3\n没得说\t4\n得说\t0.5\n",
    )
    .unwrap()
}

/// The default ruleset with one model of `category` (threshold 0.9, bias −3) weighing `weights`.
fn with_model(category: &str, weights: &str) -> Engine {
    let text = format!(
        "id\tL-{category}\ncategory\t{category}\nthreshold\t0.9\nbias\t-3\nmessage\tm\n\n{weights}"
    );
    let model = LearnedModel::parse(&format!("test/{category}.tsv"), &text).unwrap();
    Engine::default_ruleset()
        .unwrap()
        .with_learned(&[model])
        .unwrap()
}

fn engine() -> Engine {
    Engine::default_ruleset()
        .unwrap()
        .with_learned(&[promise_model()])
        .unwrap()
}

#[test]
fn a_turn_past_the_threshold_gets_one_finding_on_its_heaviest_clause() {
    let text = "您好亲，这款质量倍儿棒，用三年没得说的";
    let f = engine().scan(Role::Agent, text);
    assert_eq!(f.len(), 1, "{f:?}");
    let f = &f[0];
    assert_eq!(&*f.rule_id, "L-promise");
    assert_eq!(f.category, Category::Promise);
    // Clauses: 您好亲 | 这款质量倍儿棒 (3) | 用三年没得说的 (4.5): the heaviest one.
    assert_eq!(f.matched, "用三年没得说的");
    assert_eq!((f.char_start, f.char_end), (12, 19));
    assert_eq!(&text[f.span.start..f.span.end], "用三年没得说的");
    // sigmoid(−4 + 3 + 4 + 0.5) = 0.97.
    assert_eq!(f.message, "像违规承诺（0.97）");
    assert_eq!(f.suggestions.len(), 1);
    assert_eq!(&*f.suggestions[0].replacement, "我们会尽力保障您的权益");
    assert_eq!(
        f.suggestions[0].applicability,
        huashu_rules::Applicability::Review
    );
}

#[test]
fn traditional_and_full_width_text_scores_as_simplified() {
    let f = engine().scan(Role::Agent, "這款質量倍兒棒，用三年沒得說的");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].matched, "用三年沒得說的");
}

#[test]
fn below_the_threshold_a_customer_turn_or_a_rule_finding_of_the_category_means_none() {
    let e = engine();
    // One cue: sigmoid(−4 + 4.5) = 0.62.
    assert!(e.scan(Role::Agent, "用三年没得说的").is_empty());
    assert!(
        e.scan(Role::Customer, "这款质量倍儿棒，用三年没得说的")
            .is_empty()
    );
    // P009 finds a promise itself: the model adds nothing to a category a rule has found.
    let f = e.scan(Role::Agent, "这款质量倍儿棒，一年都不会坏，没得说");
    assert_eq!(
        f.iter().map(|f| &*f.rule_id).collect::<Vec<_>>(),
        vec!["P009"]
    );
}

#[test]
fn its_finding_never_overlaps_a_rule_finding_and_withholds_the_rewrite() {
    let e = engine();
    let text = "这个我不知道，质量倍儿棒没得说";
    let f = e.scan(Role::Agent, text);
    let ids: Vec<&str> = f.iter().map(|f| &*f.rule_id).collect();
    assert!(ids.contains(&"L-promise"), "{ids:?}");
    for pair in f.windows(2) {
        assert!(pair[0].span.end <= pair[1].span.start, "{f:?}");
    }
    let withheld = e.compliant_rewrite(Role::Agent, text, &f).unwrap_err();
    assert!(
        withheld
            .reason
            .contains("L-promise on “质量倍儿棒没得说” has no safe replacement"),
        "{}",
        withheld.reason
    );
}

#[test]
fn models_compile_or_say_what_is_wrong() {
    let twice = Engine::default_ruleset()
        .unwrap()
        .with_learned(&[promise_model(), promise_model()])
        .unwrap_err();
    assert_eq!(
        twice.to_string(),
        "test/promise.tsv: field `id`: `L-promise` is the id of another learned model"
    );
    let mut m = promise_model();
    m.weights.push(("倍儿棒".into(), 1.0));
    let dup = Engine::default_ruleset()
        .unwrap()
        .with_learned(&[m])
        .unwrap_err();
    assert_eq!(
        dup.to_string(),
        "test/promise.tsv: field `weights`: `倍儿棒` is written twice"
    );
    // No models: the engine runs the rules alone.
    assert!(
        Engine::default_ruleset()
            .unwrap()
            .with_learned(&[])
            .unwrap()
            .learned()
            .is_none()
    );
}

#[test]
fn training_finds_the_cue_and_is_reproducible() {
    let turns = [
        ("保证赚钱", true),
        ("保证收益", true),
        ("稳赚不赔保证", true),
        ("您好", false),
        ("请稍等", false),
        ("收益有波动", false),
        ("赚钱不容易", false),
        ("您好请稍等", false),
    ];
    let examples: Vec<Example> = turns
        .iter()
        .map(|(t, p)| Example {
            keys: keys(t),
            positive: *p,
        })
        .collect();
    let settings = Settings {
        epochs: 30,
        ..Settings::default()
    };
    let (bias, weights) = train(&examples, &settings);
    assert_eq!(train(&examples, &settings), (bias, weights.clone()));
    // The strongest cue is the one every positive has and no negative: 保证 (and its characters).
    let top: Vec<&str> = weights.iter().take(3).map(|(g, _)| g.as_str()).collect();
    assert!(top.contains(&"保证"), "{weights:?}");
    assert!(bias < 0.0);
    // Seen in one turn only: no weight.
    assert!(!weights.iter().any(|(g, _)| g == "稳赚"));
}

#[test]
fn a_clause_of_one_or_two_characters_is_the_span_only_when_nothing_longer_is_free() {
    let e = with_model("promise", "不会\t6\n倍儿棒\t2\n");
    let f = e.scan(Role::Agent, "不会，这款倍儿棒的");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].matched, "这款倍儿棒的");
    // Nothing longer: the answer itself.
    let f = e.scan(Role::Agent, "不会，好");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].matched, "不会");
}

#[test]
fn a_wording_a_rule_of_its_category_exempted_is_left_to_the_rule() {
    let e = with_model("forbidden", "倍儿棒\t6\n");
    let f = e.scan(Role::Agent, "这个倍儿棒的呢");
    assert_eq!(
        f.iter().map(|f| &*f.rule_id).collect::<Vec<_>>(),
        vec!["L-forbidden"]
    );
    // F001's 不知道 with the agent's own next step: the rule let it pass, so does the model.
    let text = "这个倍儿棒的我也不知道哦 我帮您查一下";
    assert!(
        e.near_misses(Role::Agent, text, crate::LastExchange::default())
            .iter()
            .any(|m| m.category == Category::Forbidden && m.dropped_by.is_exemption())
    );
    assert_eq!(e.scan(Role::Agent, text), vec![]);
}

#[test]
fn a_conversation_scored_with_models_carries_their_findings() {
    let engine = std::sync::Arc::new(with_model("forbidden", "倍儿棒\t6\n"));
    let turns = [
        crate::Turn::customer("这个耳机怎么样"),
        crate::Turn::agent("这个倍儿棒的呢"),
    ];
    let report = engine.score(&turns);
    let ids: Vec<(&str, usize)> = report
        .findings
        .iter()
        .map(|f| (&*f.rule_id, f.turn_index))
        .collect();
    assert_eq!(ids, vec![("L-forbidden", 1)]);
    // A session's final turn and a scanned turn agree.
    let mut session = engine.session();
    session.push(turns[0].clone());
    let update = session.push(turns[1].clone());
    assert_eq!(
        update.findings,
        engine.scan_turn(
            Role::Agent,
            "这个倍儿棒的呢",
            crate::LastExchange {
                previous: Some("这个耳机怎么样"),
                own_previous: None
            },
            1
        )
    );
}
