//! `huashu score`: whole conversations in, one scorecard per line out (ARCHITECTURE.md, "Output contract").

use huashu::{Report, Role, Turn};
use serde::Serialize;
use serde_json::Value;

use crate::input::{RawLine, type_name};
use crate::render::FindingOut;

/// Longest conversation line accepted (a long call transcript is one line).
pub const MAX_CONVERSATION_BYTES: usize = 16 << 20;

#[derive(Serialize)]
struct FindingWithTurn<'a> {
    turn: usize,
    #[serde(flatten)]
    finding: FindingOut<'a>,
}

#[derive(Serialize)]
pub struct ScoreOut<'a> {
    id: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a Value>,
    ruleset: &'a str,
    score: u32,
    passed: bool,
    fatal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    fatal_reason: Option<&'a str>,
    structure: &'a huashu::Structure,
    checks: &'a [huashu::CheckResult],
    findings: Vec<FindingWithTurn<'a>>,
    findings_total: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    previews: Vec<FindingWithTurn<'a>>,
}

/// A conversation to score, as parsed.
pub struct Conversation {
    pub id: Value,
    pub agent: Option<Value>,
    /// `date` or `started_at` of the input, carried to the output as `date` (the report groups by month).
    pub date: Option<Value>,
    pub turns: Vec<Turn>,
}

pub fn parse_conversation(raw: RawLine) -> Result<Conversation, String> {
    let line = crate::input::line_text(raw, MAX_CONVERSATION_BYTES)?;
    let value: Value = serde_json::from_str(line.trim_start_matches('\u{FEFF}'))
        .map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(mut obj) = value else {
        return Err("expected a JSON object {\"id\", \"turns\": [...]}".into());
    };
    let id = obj.remove("id").unwrap_or(Value::Null);
    let agent = obj.remove("agent").filter(|a| !a.is_null());
    let date = obj
        .remove("date")
        .filter(|d| !d.is_null())
        .or_else(|| obj.remove("started_at").filter(|d| !d.is_null()));
    let Some(Value::Array(items)) = obj.remove("turns") else {
        return Err("missing array field \"turns\"".into());
    };
    let mut turns = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(t) = item else {
            return Err(format!(
                "turns[{i}]: expected an object, not {}",
                type_name(&item)
            ));
        };
        let role = match t.get("role") {
            Some(Value::String(s)) => Role::parse(s).ok_or_else(|| {
                format!("turns[{i}]: unknown role {s:?} (expected \"agent\", \"customer\" or \"system\")")
            })?,
            None => return Err(format!("turns[{i}]: missing field \"role\"")),
            Some(other) => return Err(format!("turns[{i}]: field \"role\" must be a string, not {}", type_name(other))),
        };
        let text = match t.get("text") {
            Some(Value::String(s)) => s.clone(),
            None => return Err(format!("turns[{i}]: missing field \"text\"")),
            Some(other) => {
                return Err(format!(
                    "turns[{i}]: field \"text\" must be a string, not {}",
                    type_name(other)
                ));
            }
        };
        let ms = |k: &str| -> Result<Option<u64>, String> {
            match t.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                    .map(Some)
                    .ok_or_else(|| format!("turns[{i}]: field \"{k}\" must be a non-negative number of milliseconds")),
                Some(other) => Err(format!("turns[{i}]: field \"{k}\" must be a number, not {}", type_name(other))),
            }
        };
        let (start_ms, end_ms) = (ms("start_ms")?, ms("end_ms")?);
        if let (Some(s), Some(e)) = (start_ms, end_ms) {
            if e < s {
                return Err(format!("turns[{i}]: end_ms {e} is before start_ms {s}"));
            }
        }
        turns.push(Turn::new(role, text).with_optional_times(start_ms, end_ms));
    }
    Ok(Conversation {
        id,
        agent,
        date,
        turns,
    })
}

pub fn score_out<'a>(
    id: &'a Value,
    agent: Option<&'a Value>,
    date: Option<&'a Value>,
    r: &'a Report,
    previews: &'a [huashu::Finding],
) -> ScoreOut<'a> {
    ScoreOut {
        id,
        agent,
        date,
        ruleset: &r.ruleset,
        score: r.score,
        passed: r.passed,
        fatal: r.fatal,
        fatal_reason: r.fatal_reason.as_deref(),
        structure: &r.structure,
        checks: &r.checks,
        findings: r
            .findings
            .iter()
            .map(|f| FindingWithTurn {
                turn: f.turn_index,
                finding: FindingOut::from(f),
            })
            .collect(),
        findings_total: r.findings_total,
        previews: previews
            .iter()
            .map(|f| FindingWithTurn {
                turn: f.turn_index,
                finding: FindingOut::from(f),
            })
            .collect(),
    }
}

/// What a QA lead reads: the score, each check with its evidence, findings per turn, one tip per failure.
pub fn text_report(id: &Value, turns: &[Turn], r: &Report) -> String {
    let mut s = String::new();
    let id = match id {
        Value::String(x) => x.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    let verdict = if r.fatal {
        "FAIL (fatal)"
    } else if r.passed {
        "PASS"
    } else {
        "FAIL"
    };
    s.push_str(&format!(
        "conversation {id}: {}/100 {verdict}   [{}; {} turns]\n",
        r.score, r.ruleset, r.turns
    ));
    if let Some(reason) = &r.fatal_reason {
        s.push_str(&format!("  fatal: {reason}\n"));
    }
    let st = &r.structure;
    if st.complaints > 0 {
        s.push_str(&format!(
            "  structure {}/100 over {} complaint(s): empathy {} solution {} commitment {} in order {} prompt {}\n",
            st.score,
            st.complaints,
            mark(st.empathy),
            mark(st.solution),
            mark(st.commitment),
            mark(st.in_order),
            mark(st.prompt)
        ));
        for e in &st.evidence {
            s.push_str(&format!("    {e}\n"));
        }
    }
    s.push_str("  checks:\n");
    for c in &r.checks {
        let pts = if c.id == "compliance" {
            format!("{:+}", c.points)
        } else {
            format!("{}/{}", c.points, c.max)
        };
        s.push_str(&format!(
            "    {} {:<18} {:>7}  {}\n",
            mark(c.passed),
            c.id,
            pts,
            c.detail
        ));
    }
    if !r.findings.is_empty() {
        s.push_str("  findings:\n");
        for f in &r.findings {
            let text = turns.get(f.turn_index).map_or("", |t| t.text.as_str());
            s.push_str(&format!(
                "    turn {} {} {}/{} “{}” in “{}”\n      {}\n",
                f.turn_index,
                f.rule_id,
                f.category.as_str(),
                f.severity.as_str(),
                f.matched,
                text,
                f.message
            ));
            for sug in &f.suggestions {
                s.push_str(&format!("      → {}\n", sug.replacement));
            }
        }
    }
    let tips = r.tips();
    if !tips.is_empty() {
        s.push_str("  coaching:\n");
        for (id, tip) in tips {
            s.push_str(&format!("    [{id}] {tip}\n"));
        }
    }
    s
}

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}
