//! Engine behaviour users rely on: exact spans, exact suggestions and rewrites on the shared cases file
//! (`tests/cases/scan.jsonl`, also run by the Python binding's tests), the allow-list, overlap resolution,
//! and conversation scores.

use std::sync::Arc;

use huashu::rules::Ruleset;
use huashu::{Engine, Role, Turn};
use huashu_tests::{rule, tiny_ruleset};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    role: String,
    text: String,
    findings: Vec<Expected>,
    rewrite: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Expected {
    rule: String,
    category: String,
    start: usize,
    end: usize,
    matched: String,
    suggestion: Option<String>,
}

#[test]
fn shared_scan_cases() {
    let engine = Engine::default_ruleset().expect("default ruleset");
    let data = std::fs::read_to_string(huashu_tests::root().join("tests/cases/scan.jsonl"))
        .expect("cases");
    let mut n = 0;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).expect("case parses");
        let role = Role::parse(&case.role).expect("role");
        let got: Vec<Expected> = engine
            .check(role, &case.text)
            .into_iter()
            .map(|f| Expected {
                rule: f.rule_id.to_string(),
                category: f.category.as_str().to_string(),
                start: f.char_start,
                end: f.char_end,
                suggestion: f.suggestions.first().map(|s| s.replacement.to_string()),
                matched: f.matched,
            })
            .collect();
        assert_eq!(got, case.findings, "findings for {:?}", case.text);
        assert_eq!(
            engine.rewrite(role, &case.text),
            case.rewrite,
            "rewrite of {:?}",
            case.text
        );
        n += 1;
    }
    assert!(n >= 20);
}

#[test]
fn allow_list_wins_over_rules() {
    let r = rule("T001", "major", "\"保证\"");
    let without = Engine::new(tiny_ruleset(&[], &[(&r.0, &r.1)])).expect("compiles");
    assert_eq!(without.check(Role::Agent, "请缴纳保证金").len(), 1);
    let with = Engine::new(tiny_ruleset(&["保证金"], &[(&r.0, &r.1)])).expect("compiles");
    assert!(with.check(Role::Agent, "请缴纳保证金").is_empty());
    // Only hits inside an allowed occurrence are dropped.
    let f = with.check(Role::Agent, "保证金之外我保证");
    assert_eq!((f.len(), f[0].char_start, f[0].char_end), (1, 6, 8));
}

#[test]
fn overlapping_findings_resolve_by_severity_then_length_then_position() {
    let a = rule("T001", "major", "\"不知道\"");
    let b = rule("T002", "critical", "\"知道了吧\"");
    let c = rule("T003", "major", "\"我不知道\"");
    let rs = tiny_ruleset(&[], &[(&a.0, &a.1), (&b.0, &b.1), (&c.0, &c.1)]);
    let engine = Engine::new(rs).expect("compiles");
    // T002 (critical) wins over the overlapping majors, whatever the rule order.
    let f = engine.check(Role::Agent, "我不知道了吧");
    assert_eq!(f.len(), 1);
    assert_eq!(
        (&*f[0].rule_id, f[0].char_start, f[0].char_end),
        ("T002", 2, 6)
    );
    // Same severity: the longer wins.
    let f = engine.check(Role::Agent, "我不知道");
    assert_eq!(f.len(), 1);
    assert_eq!(
        (&*f[0].rule_id, f[0].matched.as_str()),
        ("T003", "我不知道")
    );
    // Reversed rule order gives the same result.
    let rs = tiny_ruleset(&[], &[(&c.0, &c.1), (&b.0, &b.1), (&a.0, &a.1)]);
    let engine = Engine::new(rs).expect("compiles");
    assert_eq!(
        engine.check(Role::Agent, "我不知道")[0].rule_id.as_ref(),
        "T003"
    );
}

fn conversation(agent: &[&str]) -> Vec<Turn> {
    let mut turns = vec![Turn::customer("我买的空调坏了三次了，你们到底怎么回事？")];
    turns.extend(agent.iter().map(|t| Turn::agent(*t)));
    turns
}

#[test]
fn complaint_structure_scores_in_the_expected_order() {
    let engine = Arc::new(Engine::default_ruleset().expect("default"));
    let (e, s, c) = (
        "非常抱歉给您带来不便，我理解您的心情",
        "我马上为您申请上门检测",
        "我会全程跟进，今天下午五点前给您回电",
    );
    // A good chat also closes: one the agent never closes is capped at 79 (`closing`, like `courtesy`).
    let good = engine.score(&conversation(&[e, s, c, "请问还有其他可以帮您的吗？"]));
    let reversed = engine.score(&conversation(&[c, s, e]));
    let solution_only = engine.score(&conversation(&[s]));
    let hostile = engine.score(&conversation(&[
        "这不是我的问题，你自己看说明书",
        "有本事你去投诉啊",
    ]));
    assert!(good.score >= 80, "{}", good.score);
    assert!(
        good.score > reversed.score,
        "{} vs {}",
        good.score,
        reversed.score
    );
    assert!(
        reversed.score > solution_only.score,
        "{} vs {}",
        reversed.score,
        solution_only.score
    );
    assert!(
        solution_only.score > hostile.score,
        "{} vs {}",
        solution_only.score,
        hostile.score
    );
    assert!(hostile.score <= 40 && hostile.fatal && !hostile.passed);
    assert_eq!(
        hostile.fatal_reason.as_deref(),
        Some("critical finding at turn 2: F014 “有本事你去投诉啊”")
    );

    // Explanations name the turn and the words.
    let check =
        |r: &huashu::Report, id: &str| r.checks.iter().find(|c| c.id == id).cloned().expect(id);
    assert_eq!(
        check(&good, "empathy").detail,
        "turn 1 “非常抱歉” after the complaint at turn 0"
    );
    assert_eq!(
        check(&good, "solution").detail,
        "turn 2 “马上为您” after the complaint at turn 0"
    );
    assert_eq!(
        check(&good, "commitment").detail,
        "turn 3 “全程跟进” after the complaint at turn 0"
    );
    assert!(good.structure.in_order && good.structure.prompt);
    assert_eq!(good.structure.score, 100);
    let in_order = check(&reversed, "in_order");
    assert!(!in_order.passed);
    assert_eq!(
        in_order.detail,
        "after the complaint at turn 0: empathy turn 3, solution turn 2, commitment turn 1 — not empathy → solution → commitment"
    );
    // Late empathy (after the solution and the commitment) earns half its weight, order and prompt nothing.
    assert_eq!(reversed.structure.score, 63);
    assert!(check(&reversed, "empathy").passed);
    assert!(check(&reversed, "empathy").points < check(&good, "empathy").points);
    assert_eq!(solution_only.structure.score, 25);
    assert!(check(&solution_only, "empathy").tip.is_some());
}

#[derive(Deserialize)]
struct ScoreCase {
    name: String,
    turns: Vec<huashu_tests::TurnIn>,
    score: u32,
    passed: bool,
    fatal: bool,
    structure: ExpectedStructure,
    rules: Vec<String>,
    failed_checks: Vec<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct ExpectedStructure {
    score: u32,
    complaints: usize,
    empathy: bool,
    solution: bool,
    commitment: bool,
    in_order: bool,
    prompt: bool,
}

/// `tests/cases/score.jsonl`: whole conversations with their expected score, verdict and structure flags;
/// the Python binding's tests run the same file.
#[test]
fn shared_score_cases() {
    let engine = Arc::new(Engine::default_ruleset().expect("default ruleset"));
    let data = std::fs::read_to_string(huashu_tests::root().join("tests/cases/score.jsonl"))
        .expect("cases");
    let mut n = 0;
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let case: ScoreCase = serde_json::from_str(line).expect("case parses");
        let turns = huashu_tests::to_turns(&case.turns);
        let r = engine.score(&turns);
        let s = &r.structure;
        let got = ExpectedStructure {
            score: s.score,
            complaints: s.complaints,
            empathy: s.empathy,
            solution: s.solution,
            commitment: s.commitment,
            in_order: s.in_order,
            prompt: s.prompt,
        };
        let name = &case.name;
        assert_eq!(
            (r.score, r.passed, r.fatal),
            (case.score, case.passed, case.fatal),
            "score, passed, fatal of {name:?}"
        );
        assert_eq!(got, case.structure, "structure of {name:?}");
        let rules: Vec<&str> = r.findings.iter().map(|f| &*f.rule_id).collect();
        assert_eq!(rules, case.rules, "findings of {name:?}");
        let failed: Vec<&str> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(failed, case.failed_checks, "failed checks of {name:?}");
        n += 1;
    }
    assert!(n >= 5);
}

fn check_of(r: &huashu::Report, id: &str) -> Option<huashu::CheckResult> {
    r.checks.iter().find(|c| c.id == id).cloned()
}

fn turns(list: &[(&str, &str)]) -> Vec<Turn> {
    list.iter()
        .map(|(role, text)| Turn::new(Role::parse(role).expect("role"), *text))
        .collect()
}

/// A complaint about the agent's own manner needs an apology, not a solution or a follow-up.
#[test]
fn manner_complaints_need_an_apology_not_a_solution() {
    let engine = Arc::new(Engine::default_ruleset().expect("default"));
    let cut_in = [
        ("customer", "我想问一下信用卡年费能不能减免"),
        ("agent", "年费是按规定收的。"),
        ("customer", "你先听我说完！我是说我刷够次数了。"),
    ];
    let mut apologised = turns(&cut_in);
    apologised.extend(turns(&[(
        "agent",
        "抱歉刚才打断您了。刷卡满6次的话年费可以减免，我帮您看一下记录。",
    )]));
    let r = engine.score(&apologised);
    assert!(check_of(&r, "empathy").expect("empathy").passed);
    assert!(check_of(&r, "prompt").expect("prompt").passed);
    for id in ["solution", "commitment", "in_order"] {
        assert!(
            check_of(&r, id).is_none(),
            "{id} applies to a manner complaint"
        );
    }
    let mut ignored = turns(&cut_in);
    ignored.extend(turns(&[("agent", "刷够6次就可以减免。")]));
    let r = engine.score(&ignored);
    let e = check_of(&r, "empathy").expect("empathy");
    assert!(!e.passed);
    assert!(
        e.detail.contains("manner") && e.detail.contains("听我说完"),
        "{}",
        e.detail
    );
    // A complaint about a third party's attitude together with the problem still needs a solution.
    let r = engine.score(&turns(&[
        ("customer", "你们柜员态度太差了，我要投诉。"),
        ("agent", "非常抱歉，我理解您的心情。"),
    ]));
    assert!(check_of(&r, "solution").is_some());
}

/// Fixed on the spot: no follow-up is due, the order is judged on empathy → solution.
#[test]
fn a_problem_fixed_in_the_conversation_needs_no_commitment() {
    let engine = Arc::new(Engine::default_ruleset().expect("default"));
    let r = engine.score(&turns(&[
        // 又: the fault again, a grievance (a bare 怎么用不了 is a report the customer may not press).
        ("customer", "我的优惠券怎么又用不了了？"),
        ("agent", "非常抱歉给您带来不便，我马上为您重新发放一张。"),
        ("agent", "已经为您发放好了，您刷新一下就能用了。"),
    ]));
    assert!(check_of(&r, "commitment").is_none());
    let o = check_of(&r, "in_order").expect("in_order");
    assert!(o.passed, "{}", o.detail);
    assert!(o.detail.contains("已经为您发放"), "{}", o.detail);
    // Applied for is not fixed: the outcome is still to come, so a follow-up is due.
    let r = engine.score(&turns(&[
        ("customer", "运费多扣了，怎么回事？"),
        ("agent", "非常抱歉，运费已经给您申请退回了。"),
    ]));
    assert!(!check_of(&r, "commitment").expect("commitment").passed);
}

/// The same question in other words is a repeat: a dissatisfaction signal, and the earlier answer did not
/// answer it. Filler and shirking are no answers; a hold defers the answer.
#[test]
fn questions_need_answers_and_rephrased_repeats_count() {
    let engine = Arc::new(Engine::default_ruleset().expect("default"));
    let r = engine.score(&turns(&[
        ("customer", "我的退款什么时候能到账？"),
        ("agent", "退款会在验货后处理。"),
        ("customer", "我就是想知道退款什么时候能到。"),
        ("agent", "嗯。"),
    ]));
    assert_eq!(r.structure.complaints, 1);
    assert!(r.structure.evidence[0].contains("asked again"));
    let q = check_of(&r, "responsiveness").expect("responsiveness");
    assert!(!q.passed);
    assert_eq!(q.points, 0.0, "{}", q.detail);
    assert!(q.detail.contains("0 of 2"), "{}", q.detail);

    let r = engine.score(&turns(&[
        ("customer", "套餐怎么升级？"),
        ("agent", "请您稍等，我帮您查询一下。"),
        ("agent", "您可以在APP首页点办理-套餐变更。"),
        ("customer", "那要多少钱？"),
        ("agent", "不知道。"),
    ]));
    let q = check_of(&r, "responsiveness").expect("responsiveness");
    assert!(q.detail.starts_with("1 of 2"), "{}", q.detail);
    assert_eq!(q.turn, Some(3));
    // Different short questions are not repeats.
    let r = engine.score(&turns(&[
        ("customer", "那6期呢？"),
        ("agent", "6期有手续费。"),
        ("customer", "多少？"),
        ("agent", "每期0.6%。"),
    ]));
    assert_eq!(r.structure.complaints, 0);
    assert!(
        check_of(&r, "responsiveness")
            .expect("responsiveness")
            .passed
    );
}

/// The English ruleset has the same design.
#[test]
fn english_ruleset_judges_manner_answers_and_fixes() {
    let engine = Arc::new(Engine::new(Ruleset::builtin("en").expect("en")).expect("compiles"));
    let r = engine.score(&turns(&[
        ("customer", "How long does shipping take?"),
        (
            "agent",
            "Standard shipping takes three to five business days.",
        ),
        ("customer", "Let me finish! I asked about express shipping."),
        (
            "agent",
            "Sorry for cutting in. Express shipping arrives in one to two days.",
        ),
    ]));
    assert!(
        check_of(&r, "responsiveness")
            .expect("responsiveness")
            .passed
    );
    assert!(check_of(&r, "empathy").expect("empathy").passed);
    assert!(check_of(&r, "solution").is_none());
    let r = engine.score(&turns(&[
        ("customer", "I was charged twice, this is unacceptable."),
        (
            "agent",
            "I'm so sorry about that. I've issued a refund and it has been processed.",
        ),
    ]));
    assert!(check_of(&r, "commitment").is_none());
    assert!(check_of(&r, "solution").expect("solution").passed);
}

const PREVIEW_RULE: &str = r#"
id = "X001"
name = "preview-watch"
category = "forbidden"
severity = "major"
status = "preview"
message = "watch: {matched}"
[match]
phrases = ["随便你"]
[[suggest]]
replace = "我来帮您处理"
[[example]]
bad = "随便你吧"
[[example]]
bad = "那就随便你"
[[example]]
ok = "随时找我"
[[example]]
ok = "您随便看看"
"#;

const ACTIVE_RULE: &str = r#"
id = "X002"
name = "active-dont-know"
category = "forbidden"
severity = "critical"
message = "no: {matched}"
[match]
phrases = ["不知道"]
[[suggest]]
replace = "我帮您查询一下"
"#;

/// A preview rule is reported apart and never counts: no finding, no score deduction, no fatal item, no
/// rewrite; switching rules off needs no edit of the ruleset and names an unknown id.
#[test]
fn preview_rules_are_reported_apart_and_rules_switch_off() {
    let rs = tiny_ruleset(
        &[],
        &[("X001.toml", PREVIEW_RULE), ("X002.toml", ACTIVE_RULE)],
    );
    let engine = Engine::new(rs.clone()).expect("engine");
    let text = "随便你吧";
    assert!(engine.check(Role::Agent, text).is_empty());
    let previews = engine.previews(Role::Agent, text);
    assert_eq!(previews.len(), 1);
    assert_eq!(&*previews[0].rule_id, "X001");
    assert_eq!((previews[0].char_start, previews[0].char_end), (0, 3));
    assert_eq!(engine.rewrite(Role::Agent, text).as_deref(), Some(text));
    assert_eq!(engine.rule("X001").map(|r| r.id.as_str()), Some("X001"));
    let outcome = huashu::ruleset_tests::run(&engine);
    assert_eq!(outcome.rules, 2);
    let engine = Arc::new(engine);
    let with = engine.score(&[Turn::agent("随便你吧")]);
    let without = engine.score(&[Turn::agent("好的")]);
    assert_eq!(with.score, without.score);
    assert!(!with.fatal && with.findings.is_empty());

    // Switched off for one run: the critical rule no longer fires; an unknown id is an error.
    let off = engine.without_rules(&["X002"]).expect("switch off");
    assert!(off.check(Role::Agent, "不知道").is_empty());
    assert_eq!(off.previews(Role::Agent, text).len(), 1);
    assert_eq!(engine.check(Role::Agent, "不知道").len(), 1);
    let err = engine.without_rules(&["X999"]).expect_err("unknown id");
    assert_eq!(
        err.to_string(),
        "no rule `X999` to switch off in zh-CN@0.1.0"
    );
}

/// A preview rule that looks at the previous turn sees it wherever a conversation is scored (`huashu score`'s
/// previews, the sidecar's), as the enforced rules do.
#[test]
fn preview_rules_see_the_previous_turn_of_a_conversation() {
    let rule = r#"
id = "X004"
name = "preview-yes-after-pregnancy"
category = "promise"
severity = "major"
status = "preview"
message = "watch: {matched}"
[match]
phrases = ["可以的"]
only_after_turn_has = ["孕"]
"#;
    let engine = Engine::new(tiny_ruleset(&[], &[("X004.toml", rule)])).expect("engine");
    assert!(engine.wants_previous());
    assert!(engine.previews(Role::Agent, "可以的").is_empty());
    assert_eq!(
        engine
            .previews_turn(
                Role::Agent,
                "可以的",
                huashu::LastExchange {
                    previous: Some("孕期能用吗"),
                    own_previous: None
                },
                0
            )
            .len(),
        1
    );
    let turns = [
        Turn::agent("可以的"),
        Turn::customer("孕期能用吗"),
        Turn::agent("您好"),
        Turn::agent("可以的"),
        Turn::customer("可以的"),
    ];
    let found = huashu::wire::conversation_previews(&engine, &turns);
    let at: Vec<usize> = found.iter().map(|f| f.turn_index).collect();
    assert_eq!(at, [3]);
}

/// `huashu check` lints regex literals that normalisation changes: they can never match as written.
#[test]
fn check_lints_regex_literals_normalisation_changes() {
    let rule = r#"
id = "X003"
name = "dead-literal"
category = "forbidden"
severity = "minor"
message = "m"
[match]
regex = ['(謝謝|好的)再见', '(?i)[Gg]oodbye', '[？！]', '(100% |fully )safe', 'good (news|day)']
[[suggest]]
replace = "您好"
"#;
    let engine = Engine::new(tiny_ruleset(&[], &[("X003.toml", rule)])).expect("engine");
    let problems: Vec<String> = huashu::ruleset_tests::run(&engine)
        .problems
        .into_iter()
        .map(|p| p.message)
        .filter(|m| m.contains("normalisation"))
        .collect();
    assert_eq!(
        problems,
        vec![
            "regex literal \"謝謝\" is \"谢\" after normalisation, so it never matches as written"
                .to_string(),
            "regex class [！？] is changed by normalisation, so it never matches".to_string(),
            // A space after `%` is always dropped (100% safe is 100%safe); one after a word is kept.
            "regex literal \"100% \" has a space after '%', which normalisation always drops, so it never matches as written"
                .to_string(),
        ]
    );
}
