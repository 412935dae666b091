//! Rules that look at the other party's previous turn (`only_after_turn_has`, `unless_after_turn_has`) or at
//! the last exchange (`only_after_exchange_has`, `unless_after_exchange_has`): what "previous" and the
//! exchange are in a conversation, and that a single turn without a previous turn never fires such a rule.

use std::sync::Arc;

use huashu_engine::{Engine, LastExchange, Role, Turn};
use huashu_rules::Ruleset;

/// A single turn's exchange with the other party's previous turn only.
fn after(previous: Option<&str>) -> LastExchange<'_> {
    LastExchange {
        previous,
        own_previous: None,
    }
}

/// zh-CN's manifest with three rules: `A1` (agent, kept only after a customer turn with 孕 or 过敏, dropped
/// when that turn asks for a return), `C1` (customer, kept only after an agent turn with 验证码) and `X1`
/// (agent, 告知下 kept only when the last exchange names a code, dropped when it sends the customer to type it).
fn engine() -> Arc<Engine> {
    let mut manifest = Ruleset::builtin("zh-CN").expect("zh-CN").manifest;
    manifest.scoring = Default::default();
    manifest.allow.clear();
    let rule = |file: &str, text: &str| Ruleset::parse_rule(file, text).expect("rule parses");
    let rules = vec![
        rule(
            "rules/promise/A1.toml",
            "id = \"A1\"\nname = \"t\"\ncategory = \"promise\"\nseverity = \"major\"\nmessage = \"m {matched}\"\n\
             [match]\nphrases = [\"可以的\"]\nonly_after_turn_has = [\"孕\", \"過敏\"]\nunless_after_turn_has = [\"退\"]\n",
        ),
        rule(
            "rules/privacy/C1.toml",
            "id = \"C1\"\nname = \"t\"\ncategory = \"privacy\"\nseverity = \"minor\"\nrole = \"customer\"\n\
             message = \"m {matched}\"\n[match]\nphrases = [\"好的\"]\nonly_after_turn_has = [\"验证码\"]\n",
        ),
        rule(
            "rules/privacy/X1.toml",
            "id = \"X1\"\nname = \"t\"\ncategory = \"privacy\"\nseverity = \"critical\"\nmessage = \"m {matched}\"\n\
             [match]\nphrases = [\"告知下\"]\nonly_after_exchange_has = [\"验证码\"]\nunless_after_exchange_has = [\"輸入\"]\n",
        ),
    ];
    Arc::new(Engine::new(Ruleset { manifest, rules }).expect("compiles"))
}

fn ids(findings: &[huashu_engine::Finding]) -> Vec<String> {
    findings.iter().map(|f| f.rule_id.to_string()).collect()
}

#[test]
fn a_single_turn_fires_only_with_a_previous_turn_that_has_the_words() {
    let e = engine();
    assert!(e.wants_previous());
    assert!(e.scan(Role::Agent, "可以的哦").is_empty());
    assert!(
        e.scan_turn(Role::Agent, "可以的哦", after(None), 0)
            .is_empty()
    );
    let found = e.scan_turn(Role::Agent, "可以的哦", after(Some("备孕能用吗")), 0);
    assert_eq!(ids(&found), ["A1"]);
    assert_eq!((found[0].char_start, found[0].char_end), (0, 3));
    assert_eq!(found[0].matched, "可以的");
    // The words are normalised like the text: traditional 過敏 in the rule, simplified in the turn, and back.
    assert_eq!(
        ids(&e.scan_turn(Role::Agent, "可以的", after(Some("过敏体质呢")), 0)),
        ["A1"]
    );
    assert_eq!(
        ids(&e.scan_turn(Role::Agent, "可以的", after(Some("過敏體質呢")), 0)),
        ["A1"]
    );
    // `unless_after_turn_has` in the same turn wins; a previous turn without the words keeps nothing.
    assert!(
        e.scan_turn(
            Role::Agent,
            "可以的",
            after(Some("孕妇用了过敏可以退吗")),
            0
        )
        .is_empty()
    );
    assert!(
        e.scan_turn(Role::Agent, "可以的", after(Some("能开发票吗")), 0)
            .is_empty()
    );
    // The customer rule looks at the agent's turn.
    assert_eq!(
        ids(&e.scan_turn(Role::Customer, "好的", after(Some("验证码发您了")), 0)),
        ["C1"]
    );
    assert!(
        e.scan_turn(Role::Agent, "好的", after(Some("验证码发您了")), 0)
            .is_empty()
    );
}

#[test]
fn in_a_conversation_previous_is_the_other_partys_last_turn() {
    let e = engine();
    let mut s = e.session();
    assert_eq!(s.previous(Role::Agent), None);
    assert!(s.push(Turn::agent("可以的")).findings.is_empty());
    s.push(Turn::customer("备孕能用吗"));
    // Two agent turns in a row both answer the customer's last turn.
    assert!(s.push(Turn::agent("您好")).findings.is_empty());
    assert_eq!(s.previous(Role::Agent), Some("备孕能用吗"));
    assert_eq!(ids(&s.push(Turn::agent("可以的哦")).findings), ["A1"]);
    // A partial (draft) is checked the same way, and does not become anyone's previous turn.
    assert_eq!(ids(&s.revise(Turn::agent("可以的")).findings), ["A1"]);
    assert_eq!(s.previous(Role::Customer), Some("可以的哦"));
    // A system turn is no one's previous turn and has none.
    s.push(Turn::new(Role::System, "验证码已发送"));
    assert_eq!(s.previous(Role::System), None);
    assert!(s.push(Turn::customer("好的")).findings.is_empty());
    s.push(Turn::agent("验证码发您了"));
    assert_eq!(ids(&s.push(Turn::customer("好的")).findings), ["C1"]);
    // The customer's newest turn replaces the question.
    s.push(Turn::customer("能开发票吗"));
    assert!(s.push(Turn::agent("可以的")).findings.is_empty());
    // The batch score sees what the session saw.
    let turns = [Turn::customer("孕期呢"), Turn::agent("可以的 这款不影响哦")];
    let r = e.score(&turns);
    assert_eq!(ids(&r.findings), ["A1"]);
}

#[test]
fn a_cue_list_cannot_look_at_the_previous_turn() {
    let mut rs = Ruleset::builtin("zh-CN").expect("zh-CN");
    let cue = rs
        .manifest
        .scoring
        .cues
        .values_mut()
        .next()
        .expect("a cue list");
    cue.only_after_turn_has = vec!["孕".into()];
    let err = Engine::new(rs).expect_err("refused");
    assert!(
        err.to_string()
            .contains("`only_after_turn_has` / `unless_after_turn_has` belong to rules"),
        "{err}"
    );
}

#[test]
fn examples_carry_the_previous_turn_and_a_useless_one_is_a_problem() {
    let mut manifest = Ruleset::builtin("zh-CN").expect("zh-CN").manifest;
    manifest.scoring = Default::default();
    let head = "name = \"t\"\ncategory = \"forbidden\"\nseverity = \"minor\"\nmessage = \"m\"\n[[suggest]]\nreplace = \"您好\"\n";
    let with = format!(
        "id = \"A2\"\n{head}[match]\nphrases = [\"可以的\"]\nonly_after_turn_has = [\"孕\"]\n\
         [[example]]\nprevious = \"备孕能用吗\"\nbad = \"可以的\"\n[[example]]\nprevious = \"孕期呢\"\nbad = \"可以的哦\"\n\
         [[example]]\nok = \"可以的\"\n[[example]]\nprevious = \"能开发票吗\"\nok = \"可以的\"\n"
    );
    let without = format!(
        "id = \"A3\"\n{head}[match]\nphrases = [\"不知道\"]\n\
         [[example]]\nbad = \"不知道\"\n[[example]]\nbad = \"我不知道\"\n\
         [[example]]\nok = \"知道了\"\n[[example]]\nprevious = \"在吗\"\nok = \"好的\"\n"
    );
    let rules = vec![
        Ruleset::parse_rule("rules/forbidden/A2.toml", &with).expect("parses"),
        Ruleset::parse_rule("rules/forbidden/A3.toml", &without).expect("parses"),
    ];
    let e = Engine::new(Ruleset { manifest, rules }).expect("compiles");
    let out = huashu_engine::selftest::run(&e);
    let problems: Vec<String> = out.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            "rules/forbidden/A3.toml:17: rule A3: example's `previous` \"在吗\" has no effect: the rule has no `only_after_turn_has`, `unless_after_turn_has` or `…_after_exchange_has`"
        ]
    );
}

#[test]
fn a_single_turn_sees_the_exchange_only_when_given_both_turns() {
    let e = engine();
    let asked = "这边发送验证码 后发送随机密码给您使用可以吗";
    assert!(e.scan(Role::Agent, "还麻烦告知下呢").is_empty());
    // The customer's 可以 alone names no code.
    assert!(
        e.scan_turn(Role::Agent, "还麻烦告知下呢", after(Some("可以")), 0)
            .is_empty()
    );
    let found = e.scan_turn(
        Role::Agent,
        "还麻烦告知下呢",
        LastExchange {
            previous: Some("可以"),
            own_previous: Some(asked),
        },
        4,
    );
    assert_eq!(ids(&found), ["X1"]);
    assert_eq!(
        (found[0].char_start, found[0].char_end, found[0].turn_index),
        (3, 6, 4)
    );
    // 告知下 after an exchange: the ids found.
    let after_exchange = |previous, own_previous| {
        ids(&e.scan_turn(
            Role::Agent,
            "告知下",
            LastExchange {
                previous,
                own_previous,
            },
            0,
        ))
    };
    // Either turn of the exchange may name it; the agent's own turn without an answer is no exchange.
    assert_eq!(after_exchange(Some("验证码收到了"), None), ["X1"]);
    assert!(after_exchange(None, Some(asked)).is_empty());
    // `unless_after_exchange_has` looks in both turns (traditional 輸入 in the rule).
    assert!(after_exchange(Some("好的"), Some("验证码请在页面输入")).is_empty());
    assert!(after_exchange(Some("要输入吗"), Some(asked)).is_empty());
    // The older forms docs/rules.md named: `own` before `previous`, and the previous turn alone.
    assert_eq!(
        e.check_turn_after_exchange(Role::Agent, "还麻烦告知下呢", Some(asked), Some("可以"), 4),
        found
    );
    assert!(
        e.check_turn_after_exchange(Role::Agent, "告知下", Some(asked), None, 0)
            .is_empty()
    );
    assert_eq!(
        ids(&e.scan_after(Role::Agent, "告知下", Some("验证码收到了"))),
        ["X1"]
    );
    // The turn-only rules do not look at the agent's own turn.
    assert!(
        e.scan_turn(
            Role::Agent,
            "可以的",
            LastExchange {
                previous: Some("嗯"),
                own_previous: Some("备孕能用吗")
            },
            0
        )
        .is_empty()
    );
}

#[test]
fn in_a_conversation_the_exchange_is_the_question_the_previous_turn_answered() {
    let e = engine();
    let mut s = e.session();
    s.push(Turn::customer("我的密码忘记了"));
    // The customer spoke first: no agent question before it.
    assert_eq!(s.own_previous(Role::Agent), None);
    s.push(Turn::agent("这边发送验证码 后发送随机密码给您使用可以吗"));
    s.push(Turn::customer("可以"));
    assert_eq!(
        s.own_previous(Role::Agent),
        Some("这边发送验证码 后发送随机密码给您使用可以吗")
    );
    assert_eq!(s.own_previous(Role::Customer), Some("我的密码忘记了"));
    assert_eq!(
        s.last_exchange(Role::Agent),
        LastExchange {
            previous: Some("可以"),
            own_previous: Some("这边发送验证码 后发送随机密码给您使用可以吗"),
        }
    );
    // Several agent turns in a row all answer the same exchange; a draft is checked the same way.
    assert!(s.push(Turn::agent("请稍等")).findings.is_empty());
    assert_eq!(ids(&s.revise(Turn::agent("告知下")).findings), ["X1"]);
    assert_eq!(ids(&s.push(Turn::agent("还麻烦告知下呢")).findings), ["X1"]);
    // The next exchange is the agent's 还麻烦告知下呢 and the customer's reply: no code named any more.
    s.push(Turn::customer("[数字x]"));
    assert_eq!(s.own_previous(Role::Agent), Some("还麻烦告知下呢"));
    assert!(s.push(Turn::agent("有问题再告知下")).findings.is_empty());
    // The batch score sees what the session saw.
    let turns = [
        Turn::agent("这边发送验证码可以吗"),
        Turn::customer("可以"),
        Turn::agent("告知下呢"),
    ];
    assert_eq!(ids(&e.score(&turns).findings), ["X1"]);
}
