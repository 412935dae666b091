//! The rulesets measured on labelled turns, as `huashu eval` measures them: real agent turns labelled blind
//! by POLICY.md (`corpora/labelled/real-*.jsonl`: ids, corpus refs and labels; the text is joined from
//! `../shared/corpora` at run time) and hand-written turns (`handwritten-*.jsonl`). Each category holds a
//! floor of precision and recall; the review log (`corpora/labelled/REVIEW-*.md`) says how the labels and
//! rules got there. Also: a compliant rewrite is never flagged, on every text these sets and the rulesets hold.

use huashu::eval::{CorpusRefs, LabelledTurn, evaluate, read_labels};
use huashu::{Engine, Ruleset};

#[path = "labelled/floors.rs"]
mod floors;
use floors::*;

fn load(name: &str, real: bool) -> Option<Vec<LabelledTurn>> {
    let dir = if real {
        // Skips outside CI when the corpora are absent; fails under CI.
        huashu_tests::shared_corpus("jddc2019_chat_0.1per.tsv")?;
        Some(huashu_tests::shared_corpora())
    } else {
        None
    };
    let path = huashu_tests::root().join("corpora/labelled").join(name);
    let text = std::fs::read_to_string(&path).expect("labelled set");
    Some(read_labels(&text, &mut CorpusRefs::new(dir.as_deref())).expect("labels parse"))
}

fn holds(name: &str, ruleset: &str, real: bool, floors: Floors) {
    let Some(turns) = load(name, real) else {
        return;
    };
    let engine = Engine::new(Ruleset::builtin(ruleset).expect("ruleset")).expect("engine");
    let e = evaluate(&engine, &turns);
    let mut failed = Vec::new();
    for (cat, min_p, min_r) in floors {
        let c = &e.categories[cat];
        println!(
            "{name} {cat}: tp {} fp {} fn {} P {:?} R {:?}",
            c.tp, c.fp, c.fn_, c.precision, c.recall
        );
        if c.precision.is_some_and(|p| p < *min_p) || c.recall.is_some_and(|r| r < *min_r) {
            failed.push(format!(
                "{cat}: P {:?} (floor {min_p}), R {:?} (floor {min_r})",
                c.precision, c.recall
            ));
        }
    }
    assert!(failed.is_empty(), "{name} on {ruleset}: {failed:?}");
}

#[test]
fn real_zh_turns() {
    holds("real-zh.jsonl", "zh-CN", true, REAL_ZH);
}

#[test]
fn heldout_zh_turns() {
    holds("heldout-zh.jsonl", "zh-CN", true, HELDOUT_ZH);
}

#[test]
fn heldout3_zh_turns() {
    holds("heldout3-zh.jsonl", "zh-CN", true, HELDOUT3_ZH);
}

#[test]
fn heldout4_zh_turns() {
    holds("heldout4-zh.jsonl", "zh-CN", true, HELDOUT4_ZH);
}

#[test]
fn heldout5_zh_turns() {
    holds("heldout5-zh.jsonl", "zh-CN", true, HELDOUT5_ZH);
}

#[test]
fn real4_zh_turns() {
    holds("real4-zh.jsonl", "zh-CN", true, REAL4_ZH);
}

#[test]
fn real_en_turns() {
    holds("real-en.jsonl", "en", true, REAL_EN);
}

#[test]
fn heldout_en_turns() {
    holds("heldout-en.jsonl", "en", true, HELDOUT_EN);
}

#[test]
fn heldout2_en_turns() {
    holds("heldout2-en.jsonl", "en", true, HELDOUT2_EN);
}

#[test]
fn handwritten_zh_turns() {
    holds("handwritten-zh.jsonl", "zh-CN", false, HANDWRITTEN_ZH);
}

#[test]
fn handwritten_en_turns() {
    holds("handwritten-en.jsonl", "en", false, HANDWRITTEN_EN);
}

#[test]
fn blind_turns() {
    holds("blind-zh.jsonl", "zh-CN", false, BLIND_ZH);
    holds("blind-en.jsonl", "en", false, BLIND_EN);
}

#[test]
fn blind2_turns() {
    holds("blind2-zh.jsonl", "zh-CN", false, BLIND2_ZH);
    holds("blind2-en.jsonl", "en", false, BLIND2_EN);
}

#[test]
fn blind3_turns() {
    holds("blind3-zh.jsonl", "zh-CN", false, BLIND3_ZH);
    holds("blind3-en.jsonl", "en", false, BLIND3_EN);
}

#[test]
fn blind4_turns() {
    holds("blind4-zh.jsonl", "zh-CN", false, BLIND4_ZH);
    holds("blind4-en.jsonl", "en", false, BLIND4_EN);
}

#[test]
fn blind5_turns() {
    holds("blind5-zh.jsonl", "zh-CN", false, BLIND5_ZH);
    holds("blind5-en.jsonl", "en", false, BLIND5_EN);
}

#[test]
fn blind6_turns() {
    holds("blind6-zh.jsonl", "zh-CN", false, BLIND6_ZH);
    holds("blind6-en.jsonl", "en", false, BLIND6_EN);
}

#[test]
fn blind7_turns() {
    holds("blind7-zh.jsonl", "zh-CN", false, BLIND7_ZH);
    holds("blind7-en.jsonl", "en", false, BLIND7_EN);
}

#[test]
fn blind8_turns() {
    holds("blind8-zh.jsonl", "zh-CN", false, BLIND8_ZH);
    holds("blind8-en.jsonl", "en", false, BLIND8_EN);
}

#[test]
fn blind9_turns() {
    holds("blind9-zh.jsonl", "zh-CN", false, BLIND9_ZH);
    holds("blind9-en.jsonl", "en", false, BLIND9_EN);
}

#[test]
fn blind10_turns() {
    holds("blind10-zh.jsonl", "zh-CN", false, BLIND10_ZH);
    holds("blind10-en.jsonl", "en", false, BLIND10_EN);
}

#[test]
fn train1_turns() {
    holds("train1-en.jsonl", "en", false, TRAIN1_EN);
    holds("train1-zh.jsonl", "zh-CN", false, TRAIN1_ZH);
}

#[test]
fn blind11_turns() {
    holds("blind11-zh.jsonl", "zh-CN", false, BLIND11_ZH);
    holds("blind11-en.jsonl", "en", false, BLIND11_EN);
}

#[test]
fn grid_en_turns() {
    holds("grid-en.jsonl", "en", false, GRID_EN);
}

#[test]
fn grid_zh_turns() {
    holds("grid-zh.jsonl", "zh-CN", false, GRID_ZH);
}

/// Every text of a ruleset's examples, the project corpus and the labelled sets: its rewrite, when one is
/// offered, draws no finding at all.
#[test]
fn a_rewrite_is_compliant_or_absent() {
    let mut texts: Vec<(String, huashu::Role, String)> = Vec::new();
    for name in ["zh-CN", "en", "zh-CN-finance", "zh-CN-ecommerce"] {
        let rs = Ruleset::builtin(name).expect("ruleset");
        for rule in &rs.rules {
            for ex in &rule.example {
                let role = ex.role.unwrap_or(huashu::Role::Agent);
                for t in [&ex.bad, &ex.ok, &ex.fixed].into_iter().flatten() {
                    texts.push((name.to_string(), role, t.clone()));
                }
            }
        }
    }
    let corpus =
        std::fs::read_to_string(huashu_tests::root().join("corpora/turns.jsonl")).expect("corpus");
    for t in read_labels(&corpus, &mut CorpusRefs::new(None)).expect("corpus parses") {
        texts.push(("zh-CN".into(), t.role, t.text));
    }
    for (file, rs, real) in [
        ("real-zh.jsonl", "zh-CN", true),
        ("heldout-zh.jsonl", "zh-CN", true),
        ("heldout3-zh.jsonl", "zh-CN", true),
        ("heldout4-zh.jsonl", "zh-CN", true),
        ("real-en.jsonl", "en", true),
        ("heldout-en.jsonl", "en", true),
        ("handwritten-zh.jsonl", "zh-CN", false),
        ("handwritten-en.jsonl", "en", false),
        ("blind-zh.jsonl", "zh-CN", false),
        ("blind-en.jsonl", "en", false),
        ("blind2-zh.jsonl", "zh-CN", false),
        ("blind2-en.jsonl", "en", false),
        ("blind3-zh.jsonl", "zh-CN", false),
        ("blind3-en.jsonl", "en", false),
        ("blind4-zh.jsonl", "zh-CN", false),
        ("blind4-en.jsonl", "en", false),
        ("blind5-zh.jsonl", "zh-CN", false),
        ("blind5-en.jsonl", "en", false),
        ("blind6-zh.jsonl", "zh-CN", false),
        ("blind6-en.jsonl", "en", false),
        ("blind7-zh.jsonl", "zh-CN", false),
        ("blind7-en.jsonl", "en", false),
        ("blind8-zh.jsonl", "zh-CN", false),
        ("blind8-en.jsonl", "en", false),
        ("blind9-zh.jsonl", "zh-CN", false),
        ("blind9-en.jsonl", "en", false),
        ("blind10-zh.jsonl", "zh-CN", false),
        ("blind10-en.jsonl", "en", false),
        ("blind11-zh.jsonl", "zh-CN", false),
        ("blind11-en.jsonl", "en", false),
        ("train1-en.jsonl", "en", false),
        ("train1-zh.jsonl", "zh-CN", false),
        ("grid-en.jsonl", "en", false),
        ("grid-zh.jsonl", "zh-CN", false),
    ] {
        for t in load(file, real).unwrap_or_default() {
            texts.push((rs.into(), t.role, t.text));
        }
    }
    let mut engines = std::collections::HashMap::new();
    let (mut offered, mut withheld, mut bad) = (0, 0, Vec::new());
    for (rs, role, text) in &texts {
        let engine = engines.entry(rs.clone()).or_insert_with(|| {
            Engine::new(Ruleset::builtin(rs).expect("ruleset")).expect("engine")
        });
        let findings = engine.check(*role, text);
        if findings.is_empty() {
            continue;
        }
        match engine.compliant_rewrite(*role, text, &findings) {
            Ok(r) => {
                offered += 1;
                let again = engine.check(*role, &r);
                if !again.is_empty() {
                    bad.push(format!(
                        "{rs}: {text:?} -> {r:?} flags {}",
                        again[0].rule_id
                    ));
                }
            }
            Err(_) => withheld += 1,
        }
    }
    println!(
        "{} texts: {offered} rewrites offered, {withheld} withheld",
        texts.len()
    );
    assert!(offered > 100, "only {offered} rewrites offered");
    assert!(bad.is_empty(), "{bad:#?}");
}

/// The scorecard against 207 real chats scored blind by two QA annotators (`corpora/labelled/chats.jsonl`:
/// their mean score, settled complaint label; agreement between them: rank 0.959, bands 183/207, complaint
/// 201/207). The bars are rank ≥ 0.75, bands ≥ 75 %, complaint P and R ≥ 0.9; the floors are what
/// the scorer holds today (rank 0.761, bands 0.763, complaint P 0.919 R 0.905 after the chats2 cue pass of
/// corpora/labelled/SCORECARD-zh.md; 0.759, 0.763, 0.919, 0.905 after session 6; 0.752, 0.754, 0.917, 0.873 before it (main after the rules4 merge);
/// 0.732, 0.754 after session 5 and 0.693, 0.734 before it; session 4 traded recall 0.937 for precision
/// 0.797 → 0.917 by judging a calm report as no complaint until pressed; 0.643, 0.715, 0.797, 0.937 before it,
/// 0.554, 0.676, 0.787, 0.937 before session 3, and 0.318, 0.507, 0.735, 0.794 before any; 0.772, 0.768, 0.921,
/// 0.921 after session 16's closing cap and cue pass), so that it can only go up.
#[test]
fn real_chats_scored_as_annotators_score_them() {
    use huashu::eval_chats::{evaluate_chats, read_chat_labels};
    if huashu_tests::shared_corpus("jddc2019_chat_0.1per.tsv").is_none() {
        return;
    }
    let text = std::fs::read_to_string(huashu_tests::root().join("corpora/labelled/chats.jsonl"))
        .expect("chat labels");
    let chats =
        read_chat_labels(&text, Some(&huashu_tests::shared_corpora())).expect("labels parse");
    assert_eq!(chats.len(), 207);
    let engine = std::sync::Arc::new(Engine::default_ruleset().expect("zh-CN"));
    let e = evaluate_chats(&engine, &chats, 0);
    println!(
        "rank {:.3} bands {:.3} complaint P {:?} R {:?}",
        e.rank_correlation, e.band_agreement, e.complaint_precision, e.complaint_recall
    );
    assert!(e.rank_correlation >= 0.77, "{e:?}");
    assert!(e.band_agreement >= 0.765, "{e:?}");
    assert!(e.complaint_precision.unwrap_or(0.0) >= 0.92, "{e:?}");
    assert!(e.complaint_recall.unwrap_or(0.0) >= 0.92, "{e:?}");
}

/// The scorecard against 116 real chats it was not tuned on (`corpora/labelled/chats2.jsonl`: JDDC 2019 chats
/// in none of chats.jsonl, 58 with upset wording and 58 calm, one annotator, labels committed before any engine
/// run). Main's rules on them: rank 0.376, bands 0.655, complaint P 0.714 R 0.577 (chats.jsonl: 0.759, 0.763,
/// 0.919, 0.905). The cue pass of SCORECARD-zh.md ("Held-out chats2") was tuned on the half whose sha256(id)
/// starts with an even byte (0.389, 0.685, 0.778, 0.538 -> 0.580, 0.704, 0.857, 0.923); the odd half (0.359,
/// 0.629, 0.667, 0.615) did not move. The floors are the whole set after it (0.473, 0.664, 0.769, 0.769),
/// bands lowered to 0.65 by the scorer fix of session 12 (a question asked again after its answer is no new
/// unanswered question: 0.472, 0.655): the one held-out chat it moves passes responsiveness and goes from 63 to
/// 88, into the high band, where both annotators put it at 67 on average (SCORECARD-zh.md, "Scorer fixes, session 12").
/// Session 16's cue pass (hold, greeting, solution wording; tuned on the even half, no odd chat moved): 0.494,
/// 0.664, floors raised to 0.49 and 0.66. Session 20's `clarity` check (the customer did not follow a reply;
/// chosen on the even half): 0.510, 0.664, rank floor raised to 0.50.
#[test]
fn held_out_real_chats_scored_as_annotated() {
    use huashu::eval_chats::{evaluate_chats, read_chat_labels};
    if huashu_tests::shared_corpus("jddc2019_chat_0.1per.tsv").is_none() {
        return;
    }
    let text = std::fs::read_to_string(huashu_tests::root().join("corpora/labelled/chats2.jsonl"))
        .expect("chat labels");
    let chats =
        read_chat_labels(&text, Some(&huashu_tests::shared_corpora())).expect("labels parse");
    assert_eq!(chats.len(), 116);
    let engine = std::sync::Arc::new(Engine::default_ruleset().expect("zh-CN"));
    let e = evaluate_chats(&engine, &chats, 0);
    println!(
        "rank {:.3} bands {:.3} complaint P {:?} R {:?}",
        e.rank_correlation, e.band_agreement, e.complaint_precision, e.complaint_recall
    );
    assert!(e.rank_correlation >= 0.50, "{e:?}");
    assert!(e.band_agreement >= 0.66, "{e:?}");
    assert!(e.complaint_precision.unwrap_or(0.0) >= 0.76, "{e:?}");
    assert!(e.complaint_recall.unwrap_or(0.0) >= 0.76, "{e:?}");
}

/// The English scorecard against 95 real English conversations (`corpora/labelled/chats-en.jsonl`: 92 IBM Twitter
/// customer-care threads and 3 ABCD chats, read by id from `../shared/corpora`), scored blind by one annotator on
/// the zh chats' scale before the engine was run on them. Before any English cue was tuned on them: rank 0.316,
/// bands 0.653, complaint P 0.800 R 0.364; after the cue pass of corpora/labelled/SCORECARD-en.md (tuned on the
/// half whose sha256(id) starts with an even byte): 0.550, 0.779, P 0.932, R 0.745 (held odd half 0.510, 0.809,
/// 0.880, 0.733). The floors sit a little under, so that they can only go up. Session 12's scorer fix (a question
/// asked again after its answer is no new unanswered question) raised the rank to 0.587 (SCORECARD-en.md).
#[test]
fn real_english_chats_scored_as_annotated() {
    use huashu::eval_chats::{evaluate_chats, read_chat_labels};
    let sources = [
        "ibm_twitter_customer_care_test.json",
        "ibm_twitter_customer_care_dev.json",
        "abcd_sample.json",
    ];
    if sources
        .iter()
        .any(|s| huashu_tests::shared_corpus(s).is_none())
    {
        return;
    }
    let text =
        std::fs::read_to_string(huashu_tests::root().join("corpora/labelled/chats-en.jsonl"))
            .expect("chat labels");
    let chats =
        read_chat_labels(&text, Some(&huashu_tests::shared_corpora())).expect("labels parse");
    assert_eq!(chats.len(), 95);
    let engine =
        std::sync::Arc::new(Engine::new(Ruleset::builtin("en").expect("en")).expect("engine"));
    let e = evaluate_chats(&engine, &chats, 0);
    println!(
        "rank {:.3} bands {:.3} complaint P {:?} R {:?} checks {:?}",
        e.rank_correlation, e.band_agreement, e.complaint_precision, e.complaint_recall, e.checks
    );
    assert!(e.rank_correlation >= 0.57, "{e:?}");
    assert!(e.band_agreement >= 0.76, "{e:?}");
    assert!(e.complaint_precision.unwrap_or(0.0) >= 0.91, "{e:?}");
    assert!(e.complaint_recall.unwrap_or(0.0) >= 0.72, "{e:?}");
}
