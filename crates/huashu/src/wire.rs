//! JSON output shapes shared by the `huashu` command and the sidecar daemon (ARCHITECTURE.md, "Output contract":
//! other tools depend on them; keep them stable). One definition: `huashu scan` prints a [`ScanOut`] per
//! line and the sidecar's `POST /v1/check` answers with the same shape.

use serde::Serialize;
use serde_json::Value;

use crate::Finding;

/// One finding as `huashu scan` prints it. `start`/`end` are characters of the original text.
#[derive(Debug, Serialize)]
#[non_exhaustive]
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
    /// Only for a transcribed turn: the recogniser's confidence (absent from text turns' output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
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
            confidence: f.confidence,
        }
    }
}

/// One `huashu scan` output line: the turn's id, its findings and the compliant rewrite (`null` with
/// `rewrite_withheld` saying why when no rewrite is free of findings), and the preview rules' findings.
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct ScanOut<'a> {
    pub id: &'a Value,
    pub findings: Vec<FindingOut<'a>>,
    pub rewrite: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewrite_withheld: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub previews: Vec<FindingOut<'a>>,
}

impl<'a> ScanOut<'a> {
    /// The line for a turn: `rewrite` is what [`crate::Engine::compliant_rewrite`] gave.
    pub fn new(
        id: &'a Value,
        findings: &'a [Finding],
        rewrite: &'a Result<String, crate::Withheld>,
        previews: &'a [Finding],
    ) -> ScanOut<'a> {
        ScanOut {
            id,
            findings: findings.iter().map(FindingOut::from).collect(),
            rewrite: rewrite.as_deref().ok(),
            rewrite_withheld: rewrite.as_ref().err().map(|w| w.reason.as_str()),
            previews: previews.iter().map(FindingOut::from).collect(),
        }
    }
}

/// A finding of a conversation, with the turn it came from (`huashu score` and the sidecar's `score`).
#[derive(Debug, Serialize)]
#[non_exhaustive]
pub struct FindingWithTurn<'a> {
    pub turn: usize,
    #[serde(flatten)]
    pub finding: FindingOut<'a>,
}

/// A conversation's scorecard as `huashu score` prints it; `ruleset` is the `name@version` that scored it.
#[derive(Debug, Serialize)]
#[non_exhaustive]
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
    /// Findings of preview rules: reported, never counted in the score.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub previews: Vec<FindingWithTurn<'a>>,
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
            previews: Vec::new(),
        }
    }

    /// With the preview rules' findings of the conversation's turns.
    pub fn with_previews(mut self, previews: &'a [Finding]) -> ScoreOut<'a> {
        self.previews = previews
            .iter()
            .map(|f| FindingWithTurn {
                turn: f.turn_index,
                finding: f.into(),
            })
            .collect();
        self
    }
}

/// The preview rules' findings on every turn of a conversation, stamped with the turn index.
pub fn conversation_previews(engine: &crate::Engine, turns: &[crate::Turn]) -> Vec<Finding> {
    if engine.preview_engine().is_none() {
        return Vec::new();
    }
    // Each turn after its last exchange, as a session gives the enforced rules (`Session::previous`,
    // `Session::own_previous`): per party (agent, customer) its last turn, and the other party's turn that
    // one answered. System turns are no one's.
    let mut last: [Option<&str>; 2] = [None, None];
    let mut answered: [Option<&str>; 2] = [None, None];
    let mut out = Vec::new();
    for (i, t) in turns.iter().enumerate() {
        let parties = match t.role {
            crate::Role::Agent => Some((0, 1)),
            crate::Role::Customer => Some((1, 0)),
            crate::Role::System => None,
        };
        let exchange = parties.map_or_else(crate::LastExchange::default, |(_, other)| {
            crate::LastExchange {
                previous: last[other],
                own_previous: answered[other],
            }
        });
        out.extend(engine.previews_turn(t.role, &t.text, exchange, i));
        if let Some((me, other)) = parties {
            answered[me] = last[other];
            last[me] = Some(&t.text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::{Engine, Ruleset, Turn};

    /// zh-CN's manifest without scoring and one rule: 告知下 only after an exchange naming 验证码.
    fn engine(status: &str) -> Engine {
        let mut rs = Ruleset::builtin("zh-CN").expect("zh-CN");
        rs.manifest.scoring = Default::default();
        rs.manifest.allow.clear();
        let text = format!(
            "id = \"X005\"\nname = \"ask-for-the-code\"\ncategory = \"privacy\"\nseverity = \"major\"\n\
             status = \"{status}\"\nmessage = \"m {{matched}}\"\n[match]\nphrases = [\"告知下\"]\n\
             only_after_exchange_has = [\"验证码\"]\n"
        );
        rs.rules =
            vec![Ruleset::parse_rule("rules/privacy/X005.toml", &text).expect("rule parses")];
        Engine::new(rs).expect("engine")
    }

    /// A conversation's preview rules see this party's own turn that the previous turn answered, as its
    /// enforced rules do (the agent's 这边发送验证码可以吗 → the customer's 可以 → 告知下).
    #[test]
    fn preview_rules_see_the_last_exchange_of_a_conversation() {
        let turns = [
            Turn::agent("这边发送验证码可以吗"),
            Turn::customer("可以"),
            Turn::agent("请稍等"),
            Turn::agent("告知下"),
            Turn::customer("[数字x]"),
            Turn::agent("告知下"),
        ];
        let found = super::conversation_previews(&engine("preview"), &turns);
        let at: Vec<(usize, &str)> = found
            .iter()
            .map(|f| (f.turn_index, f.matched.as_str()))
            .collect();
        // Turn 5's exchange is 告知下 → [数字x]: no code named.
        assert_eq!(at, [(3, "告知下")]);
        // The same rule enforced finds the same turn in a session.
        let report = Arc::new(engine("active")).score(&turns);
        let at: Vec<usize> = report.findings.iter().map(|f| f.turn_index).collect();
        assert_eq!(at, [3]);
    }
}
