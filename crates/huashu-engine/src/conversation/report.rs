//! The scorecard: every point gained or lost names the turn and the words that earned it.

use serde::Serialize;

use huashu_rules::{CheckSpec, Ruleset};

use super::Scorecard;
use super::checks::{CheckId, Judged};
use super::complaints::Episodes;
use super::state::State;
use crate::finding::Finding;

/// A turn and the words that show why a check passed or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Evidence {
    pub turn: usize,
    pub text: String,
}

impl Evidence {
    pub fn new(turn: usize, text: String) -> Evidence {
        Evidence { turn, text }
    }
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "turn {}: {}", self.turn, self.text)
    }
}

/// One scorecard item as judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CheckResult {
    pub id: String,
    pub passed: bool,
    /// Points earned (out of `max`); negative for the compliance deduction.
    pub points: f64,
    pub max: u32,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip: Option<String>,
    pub fatal: bool,
}

/// Empathy → solution → commitment after customer complaints.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Structure {
    /// 0–100, averaged over complaints; 100 when there was no complaint.
    pub score: u32,
    pub complaints: usize,
    pub empathy: bool,
    pub solution: bool,
    pub commitment: bool,
    pub in_order: bool,
    pub prompt: bool,
    pub evidence: Vec<String>,
    pub missing: Vec<String>,
}

/// A conversation's scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// `name@version` of the ruleset that scored it.
    pub ruleset: String,
    pub score: u32,
    pub passed: bool,
    pub fatal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fatal_reason: Option<String>,
    pub turns: usize,
    pub structure: Structure,
    pub checks: Vec<CheckResult>,
    pub findings: Vec<Finding>,
    pub findings_total: usize,
}

impl Report {
    /// One coaching tip per failed check, in scorecard order.
    pub fn tips(&self) -> Vec<(&str, &str)> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .filter_map(|c| c.tip.as_deref().map(|t| (c.id.as_str(), t)))
            .collect()
    }
}

/// The checks' verdicts, in scorecard order: (check, its points, verdict, tip).
pub(crate) type Judgements<'a> = Vec<(CheckId, &'a CheckSpec, Judged, Option<String>)>;

pub(crate) fn build(
    st: &State,
    judged: (Episodes, Judgements<'_>),
    scorecard: &Scorecard,
    ruleset: &Ruleset,
) -> Report {
    let (episodes, judgements) = judged;
    let n = episodes.count;
    let all = |check: CheckId| {
        episodes
            .tally(check)
            .is_some_and(|t| t.applicable > 0 && t.passed == t.applicable)
    };
    let structure = Structure {
        score: if n == 0 {
            100
        } else {
            (episodes.structure_sum as f64 / n as f64).round() as u32
        },
        complaints: n,
        empathy: all(CheckId::Empathy),
        solution: all(CheckId::Solution),
        commitment: all(CheckId::Commitment),
        in_order: all(CheckId::InOrder),
        prompt: all(CheckId::Prompt),
        evidence: episodes.evidence.clone(),
        missing: episodes.missing.iter().map(|(_, m)| m.clone()).collect(),
    };
    let mut checks = Vec::new();
    let (mut earned, mut possible) = (0.0f64, 0u32);
    // The lowest `cap` of the failed checks, with the check that set it.
    let mut check_cap: Option<u32> = None;
    let mut fatal_reason = st
        .fatal
        .as_ref()
        .map(|e| format!("critical finding at {e}"));
    for (id, spec, j, tip) in judgements {
        let points = spec.points as f64 * j.share;
        earned += points;
        possible += spec.points;
        if let (Some(cap), false) = (spec.cap, j.passed) {
            check_cap = Some(check_cap.map_or(cap, |c| c.min(cap)));
        }
        if spec.fatal && !j.passed && fatal_reason.is_none() {
            fatal_reason = Some(format!("fatal check `{id}` failed: {}", j.detail));
        }
        checks.push(CheckResult {
            id: id.name().to_string(),
            passed: j.passed,
            points: (points * 10.0).round() / 10.0,
            max: spec.points,
            detail: j.detail,
            turn: j.turn,
            tip,
            fatal: spec.fatal,
        });
    }
    let base = if possible == 0 {
        100.0
    } else {
        100.0 * earned / possible as f64
    };
    let deductions = st.deductions as f64;
    let mut compliance_detail = format!("{} finding(s)", st.findings_total);
    for f in st.findings.iter().take(5) {
        compliance_detail.push_str(&format!(
            "; turn {}: {} “{}”",
            f.turn_index, f.rule_id, f.matched
        ));
    }
    checks.push(CheckResult {
        id: "compliance".into(),
        passed: st.findings_total == 0,
        points: -deductions,
        max: 0,
        detail: compliance_detail,
        turn: st.findings.first().map(|f| f.turn_index),
        tip: st.findings.first().and_then(|f| {
            ruleset
                .rule(&f.rule_id)
                .and_then(|r| r.tip.clone())
                .or_else(|| {
                    f.suggestions.first().map(|s| {
                        if super::checks::chinese(&ruleset.manifest.language) {
                            format!("说“{}”", s.replacement)
                        } else {
                            format!("Say “{}”", s.replacement)
                        }
                    })
                })
        }),
        fatal: st.fatal.is_some(),
    });
    // Only two numbers are needed: cloning the whole scorecard (cue lists and all) per report was the main
    // cost of a live session, which builds a report after every final turn.
    let (pass_mark, fatal_cap) = (scorecard.scoring.pass_mark, scorecard.scoring.fatal_cap);
    let mut score = (base - deductions).round().clamp(0.0, 100.0) as u32;
    // A major finding, or a complaint met with neither empathy nor a solution, caps the score.
    if let (Some(cap), Some(_)) = (scorecard.scoring.major_cap, &st.major) {
        score = score.min(cap);
    }
    if let (Some(cap), Some(_)) = (scorecard.scoring.unaddressed_cap, &episodes.unaddressed) {
        score = score.min(cap);
    }
    if let Some(cap) = check_cap {
        score = score.min(cap);
    }
    let fatal = fatal_reason.is_some();
    if fatal {
        score = score.min(fatal_cap);
    }
    Report {
        ruleset: ruleset.version_tag(),
        score,
        passed: !fatal && score >= pass_mark,
        fatal,
        fatal_reason,
        turns: st.turns,
        structure,
        checks,
        findings: st.findings.clone(),
        findings_total: st.findings_total,
    }
}
