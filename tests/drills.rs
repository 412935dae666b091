//! Every bundled drill's scripted runs get the verdict they declare; drills load the same from their
//! directories; the drill library covers the situations the training manuals name; drill errors name file:line.

use std::collections::HashMap;
use std::sync::Arc;

use huashu::drill::{DrillRun, Summary};
use huashu::rules::Drill;
use huashu::{Engine, Ruleset};

fn run(drill: &Drill, engines: &mut HashMap<String, Arc<Engine>>, replies: &[String]) -> Summary {
    let engine = engines
        .entry(drill.ruleset_name().to_string())
        .or_insert_with(|| {
            Arc::new(
                Engine::new(Ruleset::builtin(drill.ruleset_name()).expect("ruleset"))
                    .expect("compiles"),
            )
        })
        .clone();
    let mut r = DrillRun::new(Arc::new(drill.clone()), engine);
    for reply in replies {
        r.reply(reply).expect("a step is open");
    }
    assert!(r.is_done());
    r.summary()
}

#[test]
fn every_drill_example_gets_its_verdict() {
    let drills = Drill::builtin_all().expect("bundled drills load");
    let mut engines = HashMap::new();
    let mut problems = Vec::new();
    for d in &drills {
        for (i, ex) in d.examples.iter().enumerate() {
            let s = run(d, &mut engines, &ex.replies);
            let weak: Vec<&str> = s.tips.iter().map(|t| t.weakness.as_str()).collect();
            let ok = s.passed == ex.passes
                && ex.score.is_none_or(|want| want == s.score)
                && ex.weaknesses.iter().all(|w| weak.contains(&w.as_str()));
            if !ok {
                problems.push(format!(
                    "{} example {i}: passed {} score {} steps {:?} weaknesses {:?} (want passes {} score {:?} weaknesses {:?})",
                    d.id, s.passed, s.score, s.steps, weak, ex.passes, ex.score, ex.weaknesses
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_library_covers_the_manuals_situations() {
    let drills = Drill::builtin_all().expect("bundled drills load");
    let names: Vec<&str> = drills.iter().map(|d| d.name.as_str()).collect();
    for want in [
        "客户辱骂",
        "物流延误",
        "7天无理由退换货",
        "要求见经理",
        "不合理诉求",
        "系统故障",
        "APP登录卡顿",
        "话费多扣",
        "理财收益咨询",
        "身份核验",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let finance = drills
        .iter()
        .find(|d| d.id == "wealth-return-inquiry")
        .expect("drill");
    assert_eq!(finance.ruleset_name(), "zh-CN-finance");
}

#[test]
fn drills_load_the_same_from_their_directories() {
    let mut from_dirs = Vec::new();
    for name in Ruleset::builtin_names() {
        from_dirs.extend(
            Drill::load_dir(huashu_tests::root().join("rulesets").join(name))
                .expect("directory drills load")
                .into_iter()
                .map(|d| (d.id, d.steps)),
        );
    }
    let embedded: Vec<_> = Drill::builtin_all()
        .expect("embedded")
        .into_iter()
        .map(|d| (d.id, d.steps))
        .collect();
    from_dirs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut embedded = embedded;
    embedded.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(from_dirs, embedded, "rebuild to re-embed");
}

#[test]
fn drill_errors_name_file_line_and_field() {
    let text = "id = \"x\"\nname = \"n\"\nscenario = \"s\"\npersona = \"p\"\npass_mark = 70\n[[step]]\ncustomer = \"c\"\nrequire = [\"empathi\"]\n";
    let e = Drill::parse("drills/x.toml", text, "zh-CN").expect_err("unknown cue");
    assert_eq!(
        e.to_string(),
        "drills/x.toml:8: field `step[0].require`: unknown requirement `empathi` (known: empathy, solution, commitment, time, greeting, need_confirmation, identity, closing, polite, hold, escalation, disclosure:<id>)"
    );
    let e = Drill::parse(
        "drills/x.toml",
        "id = \"x\"\npass_mark = \"high\"\n",
        "zh-CN",
    )
    .expect_err("bad toml");
    assert!(e.to_string().starts_with("drills/x.toml:"), "{e}");
    let e = Drill::parse("drills/y.toml", text, "zh-CN").expect_err("id vs file");
    assert_eq!(
        e.to_string(),
        "drills/y.toml:1: field `id`: id `x` does not match the file name `y.toml`"
    );
}

#[test]
fn an_english_drill_coaches_in_english() {
    let drills = Drill::builtin_all().expect("bundled drills load");
    let drill = drills
        .iter()
        .find(|d| d.id == "late-delivery")
        .expect("the English late-delivery drill");
    assert_eq!(drill.ruleset_name(), "en");
    let engine = Arc::new(Engine::new(Ruleset::builtin("en").expect("ruleset")).expect("compiles"));
    let mut run = DrillRun::new(Arc::new(drill.clone()), engine);
    let feedback = run
        .reply("Delivery isn't our problem, check the tracking yourself.")
        .expect("step 1 open");
    let labels: Vec<&str> = feedback
        .structure
        .iter()
        .map(|p| p.label.as_str())
        .collect();
    assert_eq!(labels, ["empathy", "solution", "commitment"]);
    let order = feedback
        .requirements
        .iter()
        .find(|r| r.name == "order")
        .expect("the order requirement");
    assert_eq!((order.label.as_str(), order.present), ("order", false));
    run.reply("There's nothing I can do, try again tomorrow.")
        .expect("step 2 open");
    let summary = run.summary();
    let time = summary
        .tips
        .iter()
        .find(|t| t.weakness == "time")
        .expect("a tip for the missing time");
    assert!(
        time.tip.is_ascii(),
        "an English drill's tip is English: {}",
        time.tip
    );
    for tip in &summary.tips {
        assert!(
            !tip.tip.contains('：') && !tip.tip.contains('“'),
            "Chinese wording in an English tip: {tip:?}"
        );
    }
}
