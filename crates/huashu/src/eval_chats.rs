//! Measuring the scorecard on conversations scored by QA annotators (`huashu eval --conversations`): rank
//! correlation of scores, band agreement, complaint detection, per-check agreement, and the conversations
//! that disagree most.
//!
//! Labels are JSON lines `{"id", "score" (0–100), "band"?, "complaint"?, "greeting"?, "need_confirmation"?,
//! "closing"?, "turns"?: [{"role","text"}], "source"?}`: a label without `turns` names its chat by `id` in a
//! `source` file of the corpus directory, so that chats that may not be redistributed are labelled without
//! their text: a JDDC-layout TSV (session id in the first column), or a JSON array of conversations — an IBM
//! Twitter customer-care thread by `dialogHeader.sessionID`, an ABCD conversation by `convo_id`.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::{Engine, Role, Turn};

/// One annotated conversation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LabelledChat {
    pub id: String,
    pub turns: Vec<Turn>,
    pub score: f64,
    pub complaint: Option<bool>,
    /// Scorecard checks the annotators judged (`greeting`, `need_confirmation`, `closing`).
    pub checks: Vec<(String, bool)>,
}

/// Checks whose annotator judgement maps one-to-one onto an engine check id.
const JUDGED_CHECKS: [crate::CheckId; 3] = [
    crate::CheckId::Greeting,
    crate::CheckId::NeedConfirmation,
    crate::CheckId::Closing,
];

/// Parses chat labels, joining texts from `corpora` where a label carries none.
///
/// # Errors
/// A line that is not a label (named with its line number), a chat missing from its source.
pub fn read_chat_labels(input: &str, corpora: Option<&Path>) -> Result<Vec<LabelledChat>, String> {
    let mut sources: HashMap<String, HashMap<String, Vec<Turn>>> = HashMap::new();
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {n}: {e}"))?;
        let id = match &v["id"] {
            Value::String(s) => s.clone(),
            Value::Null => return Err(format!("line {n}: needs `id`")),
            other => other.to_string(),
        };
        let score = v["score"]
            .as_f64()
            .filter(|s| (0.0..=100.0).contains(s))
            .ok_or_else(|| format!("line {n}: `score` must be a number from 0 to 100"))?;
        let turns = if let Some(items) = v["turns"].as_array() {
            items
                .iter()
                .map(|t| {
                    let role = t["role"].as_str().and_then(Role::parse);
                    match (role, t["text"].as_str()) {
                        (Some(r), Some(x)) => Ok(Turn::new(r, x)),
                        _ => Err(format!("line {n}: a turn needs `role` and `text`")),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            let source = v["source"]
                .as_str()
                .ok_or_else(|| format!("line {n}: needs `turns` or `source`"))?;
            let dir = corpora.ok_or_else(|| {
                format!("line {n}: `source` needs a corpus directory (--corpora DIR)")
            })?;
            if !sources.contains_key(source) {
                let path = dir.join(source);
                let chats = if source.ends_with(".json") {
                    read_json_chats(&path)
                } else {
                    read_tsv_chats(&path)
                };
                sources.insert(
                    source.to_string(),
                    chats.map_err(|e| format!("line {n}: {e}"))?,
                );
            }
            sources[source]
                .get(&id)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "line {n}: no chat {id:?} in {source} (the id of a .tsv chat is its session id, of an \
                         IBM Twitter thread its dialogHeader.sessionID, of an ABCD conversation its convo_id)"
                    )
                })?
        };
        let checks = JUDGED_CHECKS
            .iter()
            .filter_map(|c| v[c.name()].as_bool().map(|b| (c.name().to_string(), b)))
            .collect();
        out.push(LabelledChat {
            id,
            turns,
            score,
            complaint: v["complaint"].as_bool(),
            checks,
        });
    }
    Ok(out)
}

fn read_tsv_chats(path: &Path) -> Result<HashMap<String, Vec<Turn>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut chats: HashMap<String, Vec<Turn>> = HashMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 7 {
            continue;
        }
        let role = if cols[2] == "1" {
            Role::Agent
        } else {
            Role::Customer
        };
        chats
            .entry(cols[0].to_string())
            .or_default()
            .push(Turn::new(role, cols[6..].join("\t")));
    }
    Ok(chats)
}

/// The conversations of a JSON array file, by id: IBM Twitter customer care (`dialogHeader.sessionID`; the
/// thread is `dialogContent` in order — a message keyed `agent` is the agent's, any other speaker the
/// customer's — with the agent's `agentURL.url_utterance` at its `turn`, 1-based, after them when it is past
/// the end) or ABCD (`convo_id`; `original` pairs `[speaker, text]`, `action` lines are system turns).
fn read_json_chats(path: &Path) -> Result<HashMap<String, Vec<Turn>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let items = v
        .as_array()
        .ok_or_else(|| format!("{} is not a JSON array of conversations", path.display()))?;
    let mut chats = HashMap::new();
    for conv in items {
        if let Some(content) = conv.get("dialogContent").and_then(Value::as_array) {
            let Some(id) = conv
                .pointer("/dialogHeader/sessionID")
                .and_then(Value::as_str)
            else {
                continue;
            };
            let mut turns: Vec<Turn> = content
                .iter()
                .filter_map(|m| {
                    let text = m.get("message")?.as_str()?;
                    let role = if m.get("agent").is_some() {
                        Role::Agent
                    } else {
                        Role::Customer
                    };
                    Some(Turn::new(role, text))
                })
                .collect();
            if let Some(u) = conv
                .pointer("/agentURL/url_utterance")
                .and_then(Value::as_str)
            {
                let at = crate::eval::refs::agent_url_position(conv, turns.len());
                turns.insert(at, Turn::new(Role::Agent, u));
            }
            chats.insert(id.to_string(), turns);
        } else if let Some(original) = conv.get("original").and_then(Value::as_array) {
            let id = match conv.get("convo_id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            let turns = original
                .iter()
                .filter_map(|t| {
                    let role = match t.get(0)?.as_str()? {
                        "action" => Role::System,
                        who => Role::parse(who)?,
                    };
                    Some(Turn::new(role, t.get(1)?.as_str()?))
                })
                .collect();
            chats.insert(id, turns);
        }
    }
    Ok(chats)
}

/// A band: high ≥ 80, low < 40, else mid (the QA rubric's).
pub fn band(score: f64) -> &'static str {
    if score >= 80.0 {
        "high"
    } else if score < 40.0 {
        "low"
    } else {
        "mid"
    }
}

#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ChatDisagreement {
    pub id: String,
    pub annotated: f64,
    pub scored: u32,
    pub complaint_annotated: Option<bool>,
    pub complaint_detected: bool,
    /// Why a complaint was seen (or none): the structure summary's line per complaint.
    pub complaints: Vec<String>,
    pub failed_checks: Vec<String>,
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ChatEvaluation {
    pub ruleset: String,
    pub conversations: usize,
    /// Spearman rank correlation of the engine's scores with the annotated ones.
    pub rank_correlation: f64,
    pub band_agreement: f64,
    pub complaint_precision: Option<f64>,
    pub complaint_recall: Option<f64>,
    /// Per judged check: the share of conversations where the engine agrees.
    pub checks: Vec<(String, f64, usize)>,
    /// The conversations that disagree most (largest rank difference first).
    pub worst: Vec<ChatDisagreement>,
}

/// Scores every chat and compares with its labels; `worst` lists up to `show` conversations.
pub fn evaluate_chats(
    engine: &std::sync::Arc<Engine>,
    chats: &[LabelledChat],
    show: usize,
) -> ChatEvaluation {
    let reports: Vec<crate::Report> = chats.iter().map(|c| engine.score(&c.turns)).collect();
    let ann: Vec<f64> = chats.iter().map(|c| c.score).collect();
    let got: Vec<f64> = reports.iter().map(|r| f64::from(r.score)).collect();
    let (ra, rg) = (ranks(&ann), ranks(&got));
    let bands = chats
        .iter()
        .zip(&reports)
        .filter(|(c, r)| band(c.score) == band(f64::from(r.score)))
        .count();
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let mut checks: Vec<(String, usize, usize)> = JUDGED_CHECKS
        .iter()
        .map(|c| (c.name().to_string(), 0, 0))
        .collect();
    for (c, r) in chats.iter().zip(&reports) {
        let detected = r.structure.complaints > 0;
        match (c.complaint, detected) {
            (Some(true), true) => tp += 1,
            (Some(false), true) => fp += 1,
            (Some(true), false) => fn_ += 1,
            _ => {}
        }
        for (name, want) in &c.checks {
            let Some(slot) = checks.iter_mut().find(|x| &x.0 == name) else {
                continue;
            };
            let passed = r.checks.iter().find(|k| &k.id == name).map(|k| k.passed);
            if let Some(p) = passed {
                slot.2 += 1;
                slot.1 += usize::from(p == *want);
            }
        }
    }
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    let mut order: Vec<usize> = (0..chats.len()).collect();
    order.sort_by(|&a, &b| {
        let d = |i: usize| (ra[i] - rg[i]).abs();
        d(b).total_cmp(&d(a))
    });
    let worst = order
        .into_iter()
        .take(show)
        .map(|i| {
            let r = &reports[i];
            ChatDisagreement {
                id: chats[i].id.clone(),
                annotated: chats[i].score,
                scored: r.score,
                complaint_annotated: chats[i].complaint,
                complaint_detected: r.structure.complaints > 0,
                complaints: r.structure.evidence.clone(),
                failed_checks: r
                    .checks
                    .iter()
                    .filter(|k| !k.passed)
                    .map(|k| format!("{}: {}", k.id, k.detail))
                    .collect(),
                findings: r
                    .findings
                    .iter()
                    .map(|f| format!("{} “{}” (turn {})", f.rule_id, f.matched, f.turn_index))
                    .collect(),
            }
        })
        .collect();
    ChatEvaluation {
        ruleset: engine.ruleset().version_tag(),
        conversations: chats.len(),
        rank_correlation: pearson(&ra, &rg),
        band_agreement: ratio(bands, chats.len()).unwrap_or(0.0),
        complaint_precision: ratio(tp, tp + fp),
        complaint_recall: ratio(tp, tp + fn_),
        checks: checks
            .into_iter()
            .map(|(n, agree, of)| (n, ratio(agree, of).unwrap_or(0.0), of))
            .collect(),
        worst,
    }
}

/// Ranks with ties averaged (1-based), for Spearman's correlation.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            r[k] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum::<f64>().sqrt();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum::<f64>().sqrt();
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties_and_correlation_is_spearman() {
        assert_eq!(ranks(&[10.0, 30.0, 30.0, 5.0]), vec![2.0, 3.5, 3.5, 1.0]);
        let r = pearson(&ranks(&[1.0, 2.0, 3.0]), &ranks(&[10.0, 20.0, 30.0]));
        assert!((r - 1.0).abs() < 1e-12);
        let r = pearson(&ranks(&[1.0, 2.0, 3.0]), &ranks(&[3.0, 2.0, 1.0]));
        assert!((r + 1.0).abs() < 1e-12);
        assert_eq!((band(80.0), band(79.9), band(39.9)), ("high", "mid", "low"));
    }

    #[test]
    fn labels_with_turns_are_scored_and_bad_lines_named() {
        let engine = std::sync::Arc::new(Engine::default_ruleset().expect("default"));
        let chats = read_chat_labels(
            concat!(
                r#"{"id":"a","score":90,"complaint":false,"greeting":true,"turns":[{"role":"agent","text":"您好，很高兴为您服务"},{"role":"customer","text":"查一下订单"},{"role":"agent","text":"好的，已经发货了，明天送到。还有其他可以帮您的吗？"}]}"#,
                "\n",
                r#"{"id":"b","score":20,"complaint":true,"turns":[{"role":"customer","text":"三天了还没到，我要投诉！"},{"role":"agent","text":"这不是我的问题"}]}"#
            ),
            None,
        )
        .expect("labels");
        let e = evaluate_chats(&engine, &chats, 5);
        assert_eq!(e.conversations, 2);
        assert_eq!(e.complaint_recall, Some(1.0));
        assert_eq!(e.complaint_precision, Some(1.0));
        assert!((e.rank_correlation - 1.0).abs() < 1e-12);
        assert_eq!(e.checks[0], ("greeting".to_string(), 1.0, 1));
        assert_eq!(
            read_chat_labels(r#"{"id":"x","score":101,"turns":[]}"#, None).unwrap_err(),
            "line 1: `score` must be a number from 0 to 100"
        );
        assert_eq!(
            read_chat_labels(r#"{"id":"x","score":50,"source":"c.tsv"}"#, None).unwrap_err(),
            "line 1: `source` needs a corpus directory (--corpora DIR)"
        );
    }

    #[test]
    fn json_sources_are_read_by_thread_and_conversation_id() {
        let dir = std::env::temp_dir().join(format!("huashu-chats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("ibm.json"),
            r#"[{"dialogHeader":{"sessionID":"s1"},"dialogContent":[{"client":"c","message":"my order never arrived, this is ridiculous"},{"agent":"a","message":"So sorry! Can you DM us the order number?"},{"client":"c","message":"done"}],"agentURL":{"turn":"4","url_utterance":"Thanks, we've issued a refund."}}]"#,
        )
        .expect("ibm");
        std::fs::write(
            dir.join("abcd.json"),
            r#"[{"convo_id":3592,"original":[["agent","Hi! How can I help you?"],["customer","I need to return an item"],["action","Account has been pulled up."],["agent","Sure, done."]]}]"#,
        )
        .expect("abcd");
        let chats = read_chat_labels(
            concat!(
                r#"{"id":"s1","score":60,"source":"ibm.json"}"#,
                "\n",
                r#"{"id":"3592","score":90,"source":"abcd.json"}"#
            ),
            Some(&dir),
        )
        .expect("labels");
        let roles = |c: &LabelledChat| c.turns.iter().map(|t| t.role).collect::<Vec<_>>();
        assert_eq!(
            roles(&chats[0]),
            [Role::Customer, Role::Agent, Role::Customer, Role::Agent]
        );
        assert_eq!(chats[0].turns[3].text, "Thanks, we've issued a refund.");
        assert_eq!(
            roles(&chats[1]),
            [Role::Agent, Role::Customer, Role::System, Role::Agent]
        );
        let err = read_chat_labels(
            r#"{"id":"nope","score":50,"source":"ibm.json"}"#,
            Some(&dir),
        )
        .unwrap_err();
        assert!(
            err.starts_with(r#"line 1: no chat "nope" in ibm.json"#),
            "{err}"
        );
        let err = read_chat_labels(r#"{"id":"x","score":50,"source":"gone.json"}"#, Some(&dir))
            .unwrap_err();
        assert!(err.starts_with("line 1: cannot read"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
