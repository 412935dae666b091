//! Properties over arbitrary text (the fuzz targets' properties, run on every `cargo test`).

use huashu_engine::{Engine, Role, apply_suggestions};
use huashu_rules::Ruleset;
use proptest::prelude::*;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new(Ruleset::builtin("zh-CN").expect("zh-CN")).expect("compiles"))
}

const PIECES: &[&str] = &[
    "不知道",
    "這不是我的問題",
    "你自己看说明书",
    "保证",
    "收益",
    "稳赚不赔",
    "百分之百",
    "100 %",
    "没办法",
    "您",
    "，",
    "。",
    " ",
    "-",
    "*",
    "11010519491231002X",
    "4111111111111111",
    "尾号",
    "密码是",
    "123456",
    "不能",
    "保证金",
    "亲",
    "ｏｋ",
    "！！",
    "\u{200B}",
    "a",
    "Z",
];

fn turn() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(PIECES), 0..12).prop_map(|v| v.concat()),
        "\\PC{0,60}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn findings_are_exact_sorted_and_disjoint(s in turn()) {
        let findings = engine().check(Role::Agent, &s);
        let mut end = 0;
        for f in &findings {
            prop_assert!(f.span.start >= end, "overlap in {:?}", s);
            prop_assert_eq!(&s[f.span.start..f.span.end], f.matched.as_str());
            let by_chars: String = s.chars().skip(f.char_start).take(f.char_end - f.char_start).collect();
            prop_assert_eq!(by_chars, f.matched.clone());
            for sug in &f.suggestions {
                prop_assert_eq!(sug.span, f.span);
            }
            end = f.span.end;
        }
    }

    #[test]
    fn customer_turns_never_get_agent_findings(s in turn()) {
        let findings = engine().check(Role::Customer, &s);
        for f in &findings {
            let rule = engine().ruleset().rule(&f.rule_id).expect("rule");
            prop_assert!(rule.role != huashu_rules::RoleScope::Agent);
        }
    }

    #[test]
    fn rewrite_is_compliant_or_absent_and_keeps_unflagged_text(s in turn()) {
        let findings = engine().check(Role::Agent, &s);
        let b = engine().rewrite(Role::Agent, &s);
        prop_assert_eq!(&b, &engine().rewrite(Role::Agent, &s));
        if findings.is_empty() {
            prop_assert_eq!(b.as_deref(), Some(s.as_str()));
        } else if let Some(r) = &b {
            prop_assert!(engine().check(Role::Agent, r).is_empty(), "rewrite {:?} is flagged", r);
            // One round suffices unless the first replacement revealed another finding.
            let once = apply_suggestions(&s, &findings);
            if engine().check(Role::Agent, &once).is_empty() {
                prop_assert_eq!(r, &once);
            }
        }
    }
}
