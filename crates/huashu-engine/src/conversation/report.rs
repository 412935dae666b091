//! The scorecard: every point gained or lost names the turn and the words that earned it.

use serde::Serialize;

use super::Conversation;
use super::session::{EPISODE_CHECKS, EpisodeResult, Episodes, State, add_episode};
use crate::engine::Engine;
use crate::finding::Finding;

/// A turn and the words that show why a check passed or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Outcome of one check before points: None = not applicable.
struct Judged {
    passed: bool,
    /// Share of the points earned (0.0–1.0).
    share: f64,
    detail: String,
    turn: Option<usize>,
}

fn pass(ev: &Evidence) -> Option<Judged> {
    Some(Judged {
        passed: true,
        share: 1.0,
        detail: ev.text.clone(),
        turn: Some(ev.turn),
    })
}

fn fail(detail: impl Into<String>, turn: Option<usize>) -> Option<Judged> {
    Some(Judged {
        passed: false,
        share: 0.0,
        detail: detail.into(),
        turn,
    })
}

pub(crate) fn build(
    st: &State,
    open: Option<EpisodeResult>,
    conv: Option<&Conversation>,
    engine: &Engine,
) -> Report {
    let mut episodes: Episodes = st.episodes.clone();
    if let Some(r) = open {
        add_episode(&mut episodes, r);
    }
    let n = episodes.count;
    let all = |check: &str| {
        tally(&episodes, check).is_some_and(|t| t.applicable > 0 && t.passed == t.applicable)
    };
    let structure = Structure {
        score: if n == 0 {
            100
        } else {
            (episodes.structure_sum as f64 / n as f64).round() as u32
        },
        complaints: n,
        empathy: all("empathy"),
        solution: all("solution"),
        commitment: all("commitment"),
        in_order: all("in_order"),
        prompt: all("prompt"),
        evidence: episodes.evidence.clone(),
        missing: episodes.missing.iter().map(|(_, m)| m.clone()).collect(),
    };
    let mut checks = Vec::new();
    let (mut earned, mut possible) = (0.0f64, 0u32);
    let mut fatal_reason = st
        .fatal
        .as_ref()
        .map(|e| format!("critical finding at {e}"));
    if let Some(conv) = conv {
        for (id, spec) in &conv.checks {
            let Some(j) = judge(id, st, &episodes, conv) else {
                continue;
            };
            let points = spec.points as f64 * j.share;
            earned += points;
            possible += spec.points;
            if spec.fatal && !j.passed && fatal_reason.is_none() {
                fatal_reason = Some(format!("fatal check `{id}` failed: {}", j.detail));
            }
            checks.push(CheckResult {
                id: id.to_string(),
                passed: j.passed,
                points: (points * 10.0).round() / 10.0,
                max: spec.points,
                detail: j.detail,
                turn: j.turn,
                tip: (!j.passed && !spec.tip.is_empty()).then(|| spec.tip.clone()),
                fatal: spec.fatal,
            });
        }
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
            engine
                .ruleset()
                .rule(&f.rule_id)
                .and_then(|r| r.tip.clone())
                .or_else(|| {
                    f.suggestions
                        .first()
                        .map(|s| format!("说“{}”", s.replacement))
                })
        }),
        fatal: st.fatal.is_some(),
    });
    // Only two numbers are needed: cloning the whole scorecard (cue lists and all) per report was the main
    // cost of a live session, which builds a report after every final turn.
    let defaults = huashu_rules::Scoring::default();
    let (pass_mark, fatal_cap) = conv.map_or((defaults.pass_mark, defaults.fatal_cap), |c| {
        (c.scoring.pass_mark, c.scoring.fatal_cap)
    });
    let mut score = (base - deductions).round().clamp(0.0, 100.0) as u32;
    let fatal = fatal_reason.is_some();
    if fatal {
        score = score.min(fatal_cap);
    }
    Report {
        ruleset: engine.ruleset().version_tag(),
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

fn share(k: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 }
}

fn tally<'a>(episodes: &'a Episodes, check: &str) -> Option<&'a super::session::Tally> {
    let i = EPISODE_CHECKS.iter().position(|c| *c == check)?;
    episodes.tally.get(i)
}

/// A complaint-structure check over the complaints it applies to: points are the mean share earned.
fn episode_check(check: &str, episodes: &Episodes) -> Option<Judged> {
    let t = tally(episodes, check)?;
    if t.applicable == 0 {
        return None;
    }
    let passed = t.passed == t.applicable;
    let list = if passed {
        &episodes.found
    } else {
        &episodes.missing
    };
    let detail = list
        .iter()
        .filter(|(id, _)| *id == check)
        .map(|(_, m)| m.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    Some(Judged {
        passed,
        share: t.earned / t.applicable as f64,
        detail,
        turn: None,
    })
}

fn judge(id: &str, st: &State, ep: &Episodes, conv: &Conversation) -> Option<Judged> {
    let t = &st.timing;
    match id {
        "greeting" => match &st.greeting {
            None => None,
            Some(Some(ev)) => pass(ev),
            Some(None) => fail("the agent's first turn has no greeting", None),
        },
        "need_confirmation" => {
            if st.agent_turns == 0 || st.customer_turns == 0 {
                return None;
            }
            match &st.need_confirmation {
                Some(ev) => pass(ev),
                None => fail(
                    "the agent never restated or confirmed the customer's need",
                    None,
                ),
            }
        }
        "identity" => {
            if st.agent_turns == 0 || !conv.scoring.require_identity {
                return None;
            }
            match &st.identity {
                Some(ev) => pass(ev),
                None => fail("no identity check", None),
            }
        }
        "responsiveness" => {
            let q = &st.questions;
            if q.asked == 0 {
                return None;
            }
            let passed = q.answered == q.asked;
            let mut detail = format!(
                "{} of {} customer question(s) answered",
                q.answered, q.asked
            );
            let unanswered = q.unanswered.clone().or_else(|| {
                q.pending
                    .as_ref()
                    .map(|(turn, words)| Evidence::new(*turn, format!("“{words}” has no answer")))
            });
            let ev = if passed {
                q.answered_example.as_ref()
            } else {
                unanswered.as_ref()
            };
            if let Some(e) = ev {
                detail.push_str(&format!(" ({e})"));
            }
            Some(Judged {
                passed,
                share: share(q.answered, q.asked),
                detail,
                turn: ev.map(|e| e.turn),
            })
        }
        "empathy" | "solution" | "commitment" | "in_order" | "prompt" => episode_check(id, ep),
        "closing" => match &st.last_agent_closing {
            None => None,
            Some(Some(ev)) => pass(ev),
            Some(None) => fail("the agent's last turn has no closing", None),
        },
        "courtesy" => {
            if st.agent_turns == 0 {
                return None;
            }
            let ok = st.polite_turns * 2 >= st.agent_turns;
            let detail = format!(
                "{} of {} agent turns use a polite word",
                st.polite_turns, st.agent_turns
            );
            let ev = if ok {
                st.polite_example.as_ref()
            } else {
                st.impolite_example.as_ref()
            };
            Some(Judged {
                passed: ok,
                share: if ok {
                    1.0
                } else {
                    share(st.polite_turns * 2, st.agent_turns)
                },
                detail: match ev {
                    Some(e) => format!("{detail} ({e})"),
                    None => detail,
                },
                turn: ev.map(|e| e.turn),
            })
        }
        "hold" => {
            if st.hold_needed == 0 {
                return None;
            }
            match &st.hold_missing {
                None => st.hold_example.as_ref().and_then(pass),
                Some(ev) => fail(
                    format!("turn {}: {} without 请稍等 first", ev.turn, ev.text),
                    Some(ev.turn),
                ),
            }
        }
        "escalation_time" => {
            if st.escalations == 0 {
                return None;
            }
            match &st.escalation_untimed {
                None => st.escalation_example.as_ref().and_then(pass),
                Some(ev) => fail(
                    format!("turn {}: {} with no time given", ev.turn, ev.text),
                    Some(ev.turn),
                ),
            }
        }
        "first_response" => t.first_response.as_ref().map(|(ok, ev)| Judged {
            passed: *ok,
            share: if *ok { 1.0 } else { 0.0 },
            detail: ev.text.clone(),
            turn: Some(ev.turn),
        }),
        "silence" => timed(
            t.gaps_checked,
            &t.silence,
            "no silence over the limit without a hold phrase",
        ),
        "talk_over" => timed(t.pairs_checked, &t.talk_over, "no talk-over"),
        "speech_rate" => timed(t.rates_checked, &t.rate, "agent speech rate within range"),
        _ => None,
    }
}

fn timed(checked: usize, failure: &Option<Evidence>, ok: &str) -> Option<Judged> {
    if checked == 0 {
        return None;
    }
    match failure {
        None => Some(Judged {
            passed: true,
            share: 1.0,
            detail: format!("{ok} ({checked} checked)"),
            turn: None,
        }),
        Some(ev) => fail(ev.text.clone(), Some(ev.turn)),
    }
}
