//! Near misses (`Engine::near_misses`, what `huashu eval` lists under a false negative): each dropped match of a
//! rule with what dropped it, on rules written for the test so that no bundled rule moves them.

use huashu::{Engine, Role};
use huashu_tests::{rule, rule_with, tiny_ruleset};

#[test]
fn near_misses_say_what_dropped_each_match() {
    let shirk = rule_with(
        "T001",
        "major",
        "\"不知道\"",
        "unless_followed_by = [\"您\"]\nunless_turn_has = [\"帮您查\"]",
    );
    let card = rule_with(
        "T002",
        "critical",
        "",
        "regex = ['[0-9]{16}']\nvalidate = \"luhn\"",
    );
    let asked = rule_with(
        "T003",
        "major",
        "\"可以的\"",
        "only_after_turn_has = [\"安全吗\"]",
    );
    let longer = rule("T004", "critical", "\"我不知道啊\"");
    let member = rule_with(
        "T005",
        "major",
        "",
        "regex = ['提供[^,]{0,6}卡号']\nunless_hit_has = [\"会员卡号\"]",
    );
    let rs = tiny_ruleset(
        &["不知道的事"],
        &[
            (&shirk.0, &shirk.1),
            (&card.0, &card.1),
            (&asked.0, &asked.1),
            (&longer.0, &longer.1),
            (&member.0, &member.1),
        ],
    );
    let engine = Engine::new(rs).expect("compiles");
    let why = |text: &str, previous: Option<&str>| -> Vec<(String, usize, usize, String)> {
        let exchange = huashu::LastExchange {
            previous,
            own_previous: None,
        };
        engine
            .near_misses(Role::Agent, text, exchange)
            .into_iter()
            .map(|n| {
                let text_range = &text[n.span.start..n.span.end];
                assert_eq!(text_range, n.matched, "span and matched agree");
                (
                    n.rule_id.to_string(),
                    n.char_start,
                    n.char_end,
                    n.dropped_by.to_string(),
                )
            })
            .collect()
    };
    let row = |r: &str, s: usize, e: usize, why: &str| (r.to_string(), s, e, why.to_string());
    // An exemption word: the condition as rule files name it, and the words of the turn that met it.
    assert_eq!(
        why("这个不知道，马上帮您查", None),
        vec![row("T001", 2, 5, "unless_turn_has “帮您查”")]
    );
    assert_eq!(
        why("不知道您还需要什么", None),
        vec![row("T001", 0, 3, "unless_followed_by “您”")]
    );
    // A number that fails its checksum; a valid one is a finding, not a near miss.
    assert_eq!(
        why("卡号1234567812345678", None),
        vec![row("T002", 2, 18, "checksum fails")]
    );
    assert!(why("卡号4111111111111111", None).is_empty());
    // A rule that needs the customer's question: said without it, and after the wrong one.
    assert_eq!(
        why("可以的", None),
        vec![row("T003", 0, 3, "only_after_turn_has (last exchange)")]
    );
    assert_eq!(
        why("可以的", Some("能退吗")),
        vec![row("T003", 0, 3, "only_after_turn_has (last exchange)")]
    );
    assert!(why("可以的", Some("这个安全吗")).is_empty());
    // Inside an allow-list word; and beaten by an overlapping finding of a more severe rule.
    assert_eq!(
        why("不知道的事情", None),
        vec![row("T001", 0, 3, "allow-list “不知道的事”")]
    );
    assert_eq!(
        why("我不知道啊", None),
        vec![row("T001", 1, 4, "overlaps T004's finding")]
    );
    // Words inside the match itself: the card the gap took in is named there.
    assert_eq!(
        why("请提供您的会员卡号", None),
        vec![row("T005", 1, 9, "unless_hit_has “会员卡号”")]
    );
    assert_eq!(engine.check(Role::Agent, "请提供您的银行卡号").len(), 1);
    // The turn's findings are what a scan gives: near misses change nothing.
    assert_eq!(engine.check(Role::Agent, "我不知道啊").len(), 1);
    // Where the text is normalised (traditional, full width), the words are quoted as written.
    assert_eq!(
        why("這個不知道，馬上幫您查", None),
        vec![row("T001", 2, 5, "unless_turn_has “幫您查”")]
    );
}
