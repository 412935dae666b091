//! JSON output shapes shared by the `huashu` command and the sidecar daemon (ARCHITECTURE.md, "Output contract":
//! other tools depend on them; keep them stable). One definition: `huashu scan` prints a [`ScanOut`] per
//! line and the sidecar's `POST /v1/check` answers with the same shape.

use serde::Serialize;
use serde_json::Value;

use crate::Finding;

/// One finding as `huashu scan` prints it. `start`/`end` are characters of the original text.
#[derive(Debug, Serialize)]
pub struct FindingOut<'a> {
    pub rule: &'a str,
    pub category: &'a str,
    pub severity: &'a str,
    pub start: usize,
    pub end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
    pub matched: &'a str,
    pub message: &'a str,
    pub suggestions: Vec<&'a str>,
}

impl<'a> From<&'a Finding> for FindingOut<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingOut {
            rule: &f.rule_id,
            category: f.category.as_str(),
            severity: f.severity.as_str(),
            start: f.char_start,
            end: f.char_end,
            byte_start: f.span.start,
            byte_end: f.span.end,
            matched: &f.matched,
            message: &f.message,
            suggestions: f.suggestions.iter().map(|s| &*s.replacement).collect(),
        }
    }
}

/// One `huashu scan` output line: the turn's id, its findings and the compliant rewrite.
#[derive(Debug, Serialize)]
pub struct ScanOut<'a> {
    pub id: &'a Value,
    pub findings: Vec<FindingOut<'a>>,
    pub rewrite: &'a str,
}

/// A finding of a conversation, with the turn it came from (`huashu score` and the sidecar's `score`).
#[derive(Debug, Serialize)]
pub struct FindingWithTurn<'a> {
    pub turn: usize,
    #[serde(flatten)]
    pub finding: FindingOut<'a>,
}

/// A conversation's scorecard as `huashu score` prints it; `ruleset` is the `name@version` that scored it.
#[derive(Debug, Serialize)]
pub struct ScoreOut<'a> {
    pub id: &'a Value,
    pub ruleset: &'a str,
    pub score: u32,
    pub passed: bool,
    pub fatal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fatal_reason: Option<&'a str>,
    pub structure: &'a crate::Structure,
    pub checks: &'a [crate::CheckResult],
    pub findings: Vec<FindingWithTurn<'a>>,
    pub findings_total: usize,
}

impl<'a> ScoreOut<'a> {
    /// The scorecard of `report` for the conversation `id`.
    pub fn new(id: &'a Value, report: &'a crate::Report) -> ScoreOut<'a> {
        ScoreOut {
            id,
            ruleset: &report.ruleset,
            score: report.score,
            passed: report.passed,
            fatal: report.fatal,
            fatal_reason: report.fatal_reason.as_deref(),
            structure: &report.structure,
            checks: &report.checks,
            findings: report
                .findings
                .iter()
                .map(|f| FindingWithTurn {
                    turn: f.turn_index,
                    finding: f.into(),
                })
                .collect(),
            findings_total: report.findings_total,
        }
    }
}
