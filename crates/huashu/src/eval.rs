//! Measuring a ruleset on labelled turns (`huashu eval`, Python `Engine.evaluate`): precision, recall and
//! F1 per category and per rule, with every false positive and false negative and the span that caused it.
//!
//! Labels are JSON lines `{"id", "role", "text", "expect": [categories], "previous"?, "reason"?}`. Instead of
//! `text` a line may carry `"ref"`, a place in a corpus directory, so that labels of data that may not be
//! redistributed can be committed without the text (see [`CorpusRefs`]); a `ref` also brings the other
//! party's previous turn where the corpus has one ([`CorpusRefs::previous`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::{Category, DroppedBy, Engine, Finding, LastExchange, NearMiss, Role};

pub(crate) mod refs;
pub use refs::CorpusRefs;

/// The categories a turn is judged on when the labels name no others.
pub const TURN_CATEGORIES: [Category; 3] =
    [Category::Forbidden, Category::Promise, Category::Privacy];

/// One labelled turn.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LabelledTurn {
    pub id: Value,
    pub role: Role,
    pub text: String,
    /// The other party's turn before this one (`previous`, or joined from the corpus for a `ref`): what
    /// rules with `only_after_turn_has` look at.
    pub previous: Option<String>,
    /// This party's own turn that `previous` answered (`own_previous`, or joined from a chat corpus for a
    /// `ref`): with `previous`, the last exchange that rules with `only_after_exchange_has` look at.
    pub own_previous: Option<String>,
    /// The categories a QA lead says the turn violates (empty: compliant).
    pub expect: BTreeSet<Category>,
    /// 1-based line of the label file, for reports.
    pub line: usize,
}

/// A label line that cannot be used, with its line number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
#[non_exhaustive]
pub struct LabelError {
    pub line: usize,
    pub message: String,
}

/// Parses label lines (blank lines skipped), resolving `ref`s through `refs`.
///
/// # Errors
/// The first unusable line: not JSON, no `text` or `ref`, an unknown role or category.
pub fn read_labels(input: &str, refs: &mut CorpusRefs) -> Result<Vec<LabelledTurn>, LabelError> {
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| LabelError {
            line: line_no,
            message,
        };
        let v: Value =
            serde_json::from_str(line).map_err(|e| err(format!("not a JSON object: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| err("not a JSON object".into()))?;
        let role = match obj.get("role") {
            None => Role::Agent,
            Some(Value::String(r)) => Role::parse(r)
                .ok_or_else(|| err(format!("unknown role {r:?} (agent, customer)")))?,
            Some(other) => return Err(err(format!("`role` must be a string, not {other}"))),
        };
        let mut previous = match obj.get("previous") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            Some(other) => return Err(err(format!("`previous` must be a string, not {other}"))),
        };
        let mut own_previous = match obj.get("own_previous") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            Some(other) => {
                return Err(err(format!("`own_previous` must be a string, not {other}")));
            }
        };
        let text = match (obj.get("text"), obj.get("ref")) {
            (Some(Value::String(t)), _) => t.clone(),
            (None, Some(Value::String(r))) => {
                let text = refs.resolve(r).map_err(err)?;
                // Both from the corpus or neither: a `previous` given by hand answered no corpus turn.
                if previous.is_none() {
                    previous = refs.previous(r);
                    if own_previous.is_none() {
                        own_previous = refs.own_previous(r);
                    }
                }
                text
            }
            (Some(_), _) => return Err(err("`text` must be a string".into())),
            (None, Some(_)) => return Err(err("`ref` must be a string".into())),
            (None, None) => return Err(err("needs `text` or `ref`".into())),
        };
        let expect = match obj.get("expect") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|c| {
                    c.as_str()
                        .and_then(Category::parse)
                        .ok_or_else(|| err(format!("`expect` holds {c}, not a category")))
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
            Some(other) => {
                return Err(err(format!(
                    "`expect` must be a list of categories, not {other}"
                )));
            }
            None => {
                return Err(err(
                    "needs `expect` (a list of categories, [] if none)".into()
                ));
            }
        };
        out.push(LabelledTurn {
            id: obj.get("id").cloned().unwrap_or(Value::Null),
            role,
            text,
            previous,
            own_previous,
            expect,
            line: line_no,
        });
    }
    Ok(out)
}

/// Counts and ratios for one category or rule. A ratio with nothing to divide is `None` (reported null).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
}

impl Counts {
    fn finish(&mut self) {
        let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
        self.f1 = match (self.precision, self.recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
    }
}

/// A rule's record on the labelled turns: a hit is true when the turn is labelled with the rule's category.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RuleScore {
    pub rule: String,
    pub category: &'static str,
    /// `active`, or `preview` (not counted in the category figures).
    pub status: &'static str,
    pub hits: usize,
    pub true_hits: usize,
    pub precision: Option<f64>,
}

/// A turn the ruleset judged differently from its label.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Disagreement {
    pub id: Value,
    pub line: usize,
    pub category: &'static str,
    pub text: String,
    /// The finding (false positive) or the findings of other categories on the turn (false negative).
    pub findings: Vec<Found>,
    /// For a false negative: the category's rules that matched and were dropped, and by what
    /// ([`Engine::near_misses`]). Empty when no rule of the category matched at all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub near_misses: Vec<Near>,
}

/// A rule's match that is no finding ([`crate::NearMiss`]), as the report lists it: char offsets, and why.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Near {
    pub rule: String,
    pub start: usize,
    pub end: usize,
    pub matched: String,
    #[serde(flatten)]
    pub dropped_by: DroppedBy,
}

impl From<NearMiss> for Near {
    fn from(n: NearMiss) -> Near {
        Near {
            rule: n.rule_id.to_string(),
            start: n.char_start,
            end: n.char_end,
            matched: n.matched,
            dropped_by: n.dropped_by,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Found {
    pub rule: String,
    pub category: &'static str,
    pub start: usize,
    pub end: usize,
    pub matched: String,
}

impl From<&Finding> for Found {
    fn from(f: &Finding) -> Found {
        Found {
            rule: f.rule_id.to_string(),
            category: f.category.as_str(),
            start: f.char_start,
            end: f.char_end,
            matched: f.matched.clone(),
        }
    }
}

/// What `huashu eval` reports.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Evaluation {
    pub ruleset: String,
    pub turns: usize,
    pub categories: BTreeMap<&'static str, Counts>,
    pub rules: Vec<RuleScore>,
    pub false_positives: Vec<Disagreement>,
    pub false_negatives: Vec<Disagreement>,
}

impl Evaluation {
    /// The report as `huashu eval --format jsonl` prints it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Categories whose precision or recall falls below the bars (a ratio with nothing to divide passes).
    pub fn below(&self, min_precision: f64, min_recall: f64) -> Vec<String> {
        let mut out = Vec::new();
        for (cat, c) in &self.categories {
            if let Some(p) = c.precision.filter(|&p| p < min_precision) {
                out.push(format!("{cat}: precision {p:.3} < {min_precision}"));
            }
            if let Some(r) = c.recall.filter(|&r| r < min_recall) {
                out.push(format!("{cat}: recall {r:.3} < {min_recall}"));
            }
        }
        out
    }
}

/// Checks every turn and compares with its labels. Judged categories: [`TURN_CATEGORIES`] and any other
/// a label names. Preview rules are scored per rule but never count in the category figures.
pub fn evaluate(engine: &Engine, turns: &[LabelledTurn]) -> Evaluation {
    let mut judged: BTreeSet<Category> = TURN_CATEGORIES.into_iter().collect();
    for t in turns {
        judged.extend(t.expect.iter().copied());
    }
    let mut categories: BTreeMap<&'static str, Counts> = judged
        .iter()
        .map(|c| (c.as_str(), Counts::default()))
        .collect();
    let mut rules: BTreeMap<String, RuleScore> = BTreeMap::new();
    let (mut false_positives, mut false_negatives) = (Vec::new(), Vec::new());
    let mut tally = |findings: &[Finding], expect: &BTreeSet<Category>, status: &'static str| {
        let mut seen = BTreeSet::new();
        for f in findings {
            if !seen.insert(f.rule_id.clone()) {
                continue;
            }
            let r = rules
                .entry(f.rule_id.to_string())
                .or_insert_with(|| RuleScore {
                    rule: f.rule_id.to_string(),
                    category: f.category.as_str(),
                    status,
                    hits: 0,
                    true_hits: 0,
                    precision: None,
                });
            r.hits += 1;
            r.true_hits += usize::from(expect.contains(&f.category));
        }
    };
    for t in turns {
        let exchange = LastExchange {
            previous: t.previous.as_deref(),
            own_previous: t.own_previous.as_deref(),
        };
        let findings = engine.scan_turn(t.role, &t.text, exchange, 0);
        tally(&findings, &t.expect, "active");
        tally(
            &engine.previews_turn(t.role, &t.text, exchange, 0),
            &t.expect,
            "preview",
        );
        for cat in &judged {
            let hits: Vec<&Finding> = findings.iter().filter(|f| f.category == *cat).collect();
            let c = categories.get_mut(cat.as_str()).expect("judged");
            match (t.expect.contains(cat), hits.is_empty()) {
                (true, false) => c.tp += 1,
                (false, false) => {
                    c.fp += 1;
                    false_positives.push(Disagreement {
                        id: t.id.clone(),
                        line: t.line,
                        category: cat.as_str(),
                        text: t.text.clone(),
                        findings: hits.into_iter().map(Found::from).collect(),
                        near_misses: Vec::new(),
                    });
                }
                (true, true) => {
                    c.fn_ += 1;
                    false_negatives.push(Disagreement {
                        id: t.id.clone(),
                        line: t.line,
                        category: cat.as_str(),
                        text: t.text.clone(),
                        findings: findings.iter().map(Found::from).collect(),
                        near_misses: engine
                            .near_misses(t.role, &t.text, exchange)
                            .into_iter()
                            .filter(|n| n.category == *cat)
                            .map(Near::from)
                            .collect(),
                    });
                }
                (false, true) => {}
            }
        }
    }
    for c in categories.values_mut() {
        c.finish();
    }
    let rules = rules
        .into_values()
        .map(|mut r| {
            r.precision = (r.hits > 0).then(|| r.true_hits as f64 / r.hits as f64);
            r
        })
        .collect();
    Evaluation {
        ruleset: engine.ruleset().version_tag(),
        turns: turns.len(),
        categories,
        rules,
        false_positives,
        false_negatives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str) -> Result<Vec<LabelledTurn>, LabelError> {
        read_labels(s, &mut CorpusRefs::new(None))
    }

    #[test]
    fn counts_per_category_and_rule_with_the_disagreements() {
        let engine = Engine::default_ruleset().expect("default");
        let turns = labels(concat!(
            r#"{"id":1,"text":"这个我不知道","expect":["forbidden"]}"#,
            "\n",
            r#"{"id":2,"text":"好的，我帮您查询一下","expect":["forbidden"]}"#,
            "\n\n",
            r#"{"id":3,"role":"customer","text":"这不是我的问题","expect":[]}"#,
            "\n",
            r#"{"id":4,"text":"这不是我的问题","expect":[]}"#,
        ))
        .expect("labels");
        assert_eq!(turns.len(), 4);
        assert_eq!(turns[3].line, 5);
        let e = evaluate(&engine, &turns);
        let f = &e.categories["forbidden"];
        assert_eq!((f.tp, f.fp, f.fn_), (1, 1, 1));
        assert_eq!(f.precision, Some(0.5));
        assert_eq!(f.recall, Some(0.5));
        assert_eq!(e.categories["promise"].precision, None);
        assert_eq!(e.false_positives.len(), 1);
        assert_eq!(e.false_positives[0].id, serde_json::json!(4));
        assert_eq!(e.false_positives[0].findings[0].matched, "这不是我的问题");
        assert_eq!(e.false_negatives[0].id, serde_json::json!(2));
        assert_eq!(
            e.below(0.9, 0.4),
            vec!["forbidden: precision 0.500 < 0.9".to_string()]
        );
    }

    #[test]
    fn a_label_brings_the_previous_turn() {
        let engine = Engine::default_ruleset().expect("default");
        let turns = labels(concat!(
            r#"{"id":1,"text":"可以的哦","previous":"备孕能用吗","expect":["promise"]}"#,
            "\n",
            r#"{"id":2,"text":"可以的哦","expect":["promise"]}"#,
            "\n",
            r#"{"id":3,"text":"可以的哦","previous":"能开发票吗","expect":[]}"#,
        ))
        .expect("labels");
        assert_eq!(turns[0].previous.as_deref(), Some("备孕能用吗"));
        assert_eq!(turns[1].previous, None);
        let e = evaluate(&engine, &turns);
        let p = &e.categories["promise"];
        assert_eq!((p.tp, p.fp, p.fn_), (1, 0, 1));
        assert_eq!(e.false_negatives[0].id, serde_json::json!(2));
        let e = labels(r#"{"text":"x","previous":1,"expect":[]}"#).expect_err("previous");
        assert_eq!(e.to_string(), "line 1: `previous` must be a string, not 1");
    }

    #[test]
    fn a_label_brings_the_last_exchange() {
        let engine = Engine::default_ruleset().expect("default");
        let turns = labels(concat!(
            r#"{"id":1,"text":"请稍等 还麻烦告知下呢","own_previous":"这边发送验证码 后发送随机密码给您使用可以吗","previous":"可以","expect":["privacy"]}"#,
            "\n",
            r#"{"id":2,"text":"请稍等 还麻烦告知下呢","previous":"可以","expect":["privacy"]}"#,
        ))
        .expect("labels");
        assert_eq!(turns[1].own_previous, None);
        let e = evaluate(&engine, &turns);
        let p = &e.categories["privacy"];
        assert_eq!((p.tp, p.fp, p.fn_), (1, 0, 1));
        assert_eq!(e.false_negatives[0].id, serde_json::json!(2));
        let e = labels(r#"{"text":"x","own_previous":[],"expect":[]}"#).expect_err("own");
        assert_eq!(
            e.to_string(),
            "line 1: `own_previous` must be a string, not []"
        );
    }

    #[test]
    fn bad_lines_name_the_line_and_the_field() {
        let e = labels("{\"text\":\"x\",\"expect\":[]}\n{\"text\":\"x\",\"expect\":[\"rude\"]}")
            .expect_err("category");
        assert_eq!(
            e.to_string(),
            "line 2: `expect` holds \"rude\", not a category"
        );
        let e = labels("{\"text\":\"x\"}").expect_err("expect");
        assert_eq!(
            e.to_string(),
            "line 1: needs `expect` (a list of categories, [] if none)"
        );
        let e = labels("{\"ref\":\"a.tsv:3\",\"expect\":[]}").expect_err("ref");
        assert_eq!(
            e.to_string(),
            "line 1: `ref` \"a.tsv:3\" needs a corpus directory (--corpora DIR or HUASHU_CORPORA)"
        );
        let e = labels("[1]").expect_err("object");
        assert_eq!(e.to_string(), "line 1: not a JSON object");
    }
}
