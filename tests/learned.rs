//! The learned backstop (docs/learned.md): trained on the hand-written sets written before blind9, does it find
//! in blind9 and blind10 what the rules miss, without a false positive more? And the bundled models: what they
//! add on a turn no rule lists, and nothing on compliant ones.

use huashu::eval::{CorpusRefs, LabelledTurn, evaluate, read_labels};
use huashu::learned::{Settings, retrain};
use huashu::{Category, Engine, LearnedModel, Role, Ruleset};

/// The hand-written sets older than blind9 (no real turns: this test needs no `../shared` data).
const OLDER: [&str; 10] = [
    "handwritten",
    "blind",
    "blind2",
    "blind3",
    "blind4",
    "blind5",
    "blind6",
    "blind7",
    "blind8",
    "grid",
];

fn read(name: &str) -> Vec<LabelledTurn> {
    let path = huashu_tests::root().join("corpora/labelled").join(name);
    let text = std::fs::read_to_string(&path).expect("labelled set");
    read_labels(&text, &mut CorpusRefs::new(None)).expect("labels parse")
}

/// The bundled models' headers, their weights trained on the older sets.
fn trained_on_older_sets(engine: &Engine, ruleset: &str, lang: &str) -> Vec<LearnedModel> {
    let turns: Vec<LabelledTurn> = OLDER
        .iter()
        .flat_map(|n| read(&format!("{n}-{lang}.jsonl")))
        .collect();
    let models = LearnedModel::load_all(ruleset).expect("bundled models");
    retrain(engine, models, &turns, &Settings::default())
}

/// (category, least true positives with the models) on blind9 + blind10; the models may add no false positive.
fn held_out(ruleset: &str, lang: &str, floors: &[(&str, usize)]) {
    let rules = Engine::new(Ruleset::builtin(ruleset).expect("ruleset")).expect("engine");
    let models = trained_on_older_sets(&rules, ruleset, lang);
    let both = Engine::new(Ruleset::builtin(ruleset).expect("ruleset"))
        .expect("engine")
        .with_learned(&models)
        .expect("models");
    let turns: Vec<LabelledTurn> = ["blind9", "blind10"]
        .iter()
        .flat_map(|n| read(&format!("{n}-{lang}.jsonl")))
        .collect();
    let (alone, with) = (evaluate(&rules, &turns), evaluate(&both, &turns));
    for &(cat, least) in floors {
        let (a, w) = (&alone.categories[cat], &with.categories[cat]);
        println!(
            "{lang} {cat}: rules tp {} fp {} fn {}; with the models tp {} fp {} fn {}",
            a.tp, a.fp, a.fn_, w.tp, w.fp, w.fn_
        );
        assert!(
            w.tp >= least,
            "{lang} {cat}: {} true positives, floor {least}",
            w.tp
        );
        assert_eq!(w.fp, a.fp, "{lang} {cat}: the models added false positives");
    }
}

// Measured (rules alone → with them, blind9 + blind10): zh forbidden 78 → 84 of 102, promise 60 → 63 of 68, privacy
// 45 → 46 of 46; en promise 40 → 43 of 50, privacy 36 → 36 of 42 (en has no forbidden model: on real English turns it
// added only false positives, docs/learned.md). Before the models deferred to the rules' exemptions (session 23):
// zh forbidden 87, promise 64, en privacy 37.
#[test]
fn trained_on_older_sets_it_finds_more_of_the_newer_ones_zh() {
    held_out(
        "zh-CN",
        "zh",
        &[("forbidden", 84), ("promise", 63), ("privacy", 46)],
    );
}

#[test]
fn trained_on_older_sets_it_finds_more_of_the_newer_ones_en() {
    held_out("en", "en", &[("promise", 43), ("privacy", 36)]);
}

fn bundled(ruleset: &str) -> Engine {
    Engine::new(Ruleset::builtin(ruleset).expect("ruleset"))
        .expect("engine")
        .with_learned(&LearnedModel::load_all(ruleset).expect("models"))
        .expect("compiles")
}

#[test]
fn the_bundled_models_find_a_promise_no_rule_lists() {
    let engine = bundled("zh-CN");
    let text = "这款产品您就放心买吧，用个十年八年一点问题都没有";
    let rules = Engine::new(Ruleset::builtin("zh-CN").expect("ruleset")).expect("engine");
    assert!(rules.scan(Role::Agent, text).is_empty());
    let f = engine.scan(Role::Agent, text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (&*f[0].rule_id, f[0].category, f[0].matched.as_str()),
        ("L-promise", Category::Promise, "用个十年八年一点问题都没有")
    );
    assert!(
        f[0].message.starts_with("读起来像违规承诺（学习模型评分 "),
        "{}",
        f[0].message
    );
}

#[test]
fn the_bundled_models_leave_compliant_turns_alone() {
    for (ruleset, texts) in [
        (
            "zh-CN",
            &[
                "您好，很高兴为您服务，请问有什么可以帮您？",
                "这款理财产品不保本，理财有风险，投资需谨慎",
                "请您在App内自行输入验证码，我们的工作人员不会向您索要验证码或密码",
                "产品符合行业标准，我们会尽力保障您的权益",
                "跟您保证我们会尽快为您审核处理的，请您放心",
                "尾号0123的银行卡已经收到退款了",
                "这个问题我来帮您跟进处理，有结果第一时间回复您",
                "不好意思，这个我不太清楚，我帮您问一下同事，稍后回复您",
            ][..],
        ),
        (
            "en",
            &[
                "Hi, thanks for reaching out. How can I help you today?",
                "We will do our best to get this resolved for you",
                "Please enter the code in the app yourself; we will never ask you for it",
                "Could you confirm the last four digits of the card?",
            ][..],
        ),
    ] {
        let engine = bundled(ruleset);
        for t in texts {
            assert_eq!(engine.scan(Role::Agent, t), vec![], "{ruleset}: {t}");
        }
    }
}

/// blind11 (written after the bundled models were trained, never trained on): (category, least true positives,
/// most false positives) with the models, as they stand after session 23's precision changes (zh privacy at 0.995,
/// the models deferring to the rules' exemptions: first contact had zh 36/39/42 and en promise 23). The rules alone at
/// first contact: zh forbidden 23/1, promise 26/2, privacy
/// 36/1 (tp/fp; 60, 45, 45 positive); en forbidden 9/1, promise 16/0, privacy 17/0 (40, 30, 30 positive). train1-zh
/// (written after the models too): the rules alone forbidden 142/3 of 200.
#[test]
fn the_bundled_models_on_a_set_written_after_them() {
    for (ruleset, file, floors) in [
        (
            "zh-CN",
            "blind11-zh.jsonl",
            &[("forbidden", 35, 1), ("promise", 37, 2), ("privacy", 39, 1)][..],
        ),
        ("zh-CN", "train1-zh.jsonl", &[("forbidden", 167, 2)][..]),
        (
            "en",
            "blind11-en.jsonl",
            &[("forbidden", 11, 1), ("promise", 22, 2), ("privacy", 22, 0)][..],
        ),
    ] {
        let e = evaluate(&bundled(ruleset), &read(file));
        for &(cat, least, most) in floors {
            let c = &e.categories[cat];
            println!("{file} {cat}: tp {} fp {} fn {}", c.tp, c.fp, c.fn_);
            assert!(
                c.tp >= least && c.fp <= most,
                "{file} {cat}: tp {} fp {}",
                c.tp,
                c.fp
            );
        }
    }
}

/// The label files the bundled models of `lang` are trained on (docs/learned.md, "Training"), in the order
/// `huashu learn` reads them.
fn training_files(lang: &str) -> Vec<std::path::PathBuf> {
    let dir = huashu_tests::root().join("corpora/labelled");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpora/labelled")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(&format!("-{lang}.jsonl"))
                && !["chats", "blind11", "train1"]
                    .iter()
                    .any(|x| name.contains(x))
        })
        .collect();
    files.sort();
    files
}

/// The bundled models are what `huashu learn` gives on the documented sets: nobody hand-edited a weight or
/// trained on the yardstick set. Needs the corpora (the real sets' text); weights agree to 0.01 (libm's `exp`
/// may differ in the last bits between machines; the files keep four decimals).
#[test]
fn the_bundled_models_are_what_learn_gives_on_the_documented_sets() {
    if huashu_tests::shared_corpus("jddc2019_chat_0.1per.tsv").is_none() {
        return;
    }
    let corpora = huashu_tests::shared_corpora();
    for (ruleset, lang) in [("zh-CN", "zh"), ("en", "en")] {
        let engine = Engine::new(Ruleset::builtin(ruleset).expect("ruleset")).expect("engine");
        let mut refs = CorpusRefs::new(Some(corpora.as_path()));
        let turns: Vec<LabelledTurn> = training_files(lang)
            .iter()
            .flat_map(|p| {
                read_labels(&std::fs::read_to_string(p).expect("read"), &mut refs).expect("labels")
            })
            .filter(|t| t.role == Role::Agent)
            .collect();
        let bundled_models = LearnedModel::load_all(ruleset).expect("bundled models");
        let retrained = retrain(
            &engine,
            bundled_models.clone(),
            &turns,
            &Settings::default(),
        );
        for (bundled, again) in bundled_models.iter().zip(retrained) {
            let (bias, weights) = (again.bias, again.weights);
            assert!(
                (bias - bundled.bias).abs() < 0.01,
                "{}: bias {bias} vs {}",
                bundled.file,
                bundled.bias
            );
            let retrained: std::collections::HashMap<&str, f32> =
                weights.iter().map(|(g, w)| (g.as_str(), *w)).collect();
            let mut off = 0;
            for (g, w) in &bundled.weights {
                let r = retrained.get(g.as_str()).copied().unwrap_or(0.0);
                // One pruned on one machine and kept on another sits at the pruning bound (0.02).
                if (r - w).abs() > 0.01 && !(r == 0.0 && w.abs() < 0.03) {
                    off += 1;
                }
            }
            assert_eq!(
                off, 0,
                "{}: {off} weights differ from a retrain",
                bundled.file
            );
            assert!(
                weights.len().abs_diff(bundled.weights.len()) <= 5,
                "{}: {} n-grams retrained, {} bundled",
                bundled.file,
                weights.len(),
                bundled.weights.len()
            );
        }
    }
}
