//! The conversation so far, as a bounded state, and its fold over one final turn (the session loop in
//! `crate::session` feeds it): counts, findings, the shared folds, every check's state, the must-say items.

use huashu_rules::{Category, Cue, Role, Ruleset, Severity};
use huashu_text::Normalized;

use super::Scorecard;
use super::checks::{CheckId, Checks, JudgeCtx, PrevTurn, TimingView, TurnView};
use super::complaints::Complaints;
use super::cues::CueHit;
use super::questions::Questions;
use super::report::{self, Evidence};
use crate::finding::{Finding, Turn};

/// Findings kept verbatim in a report; beyond this only counts are kept (a 10,000-turn call stays bounded).
pub const MAX_KEPT_FINDINGS: usize = 500;

/// The conversation so far: counts, the shared folds (questions, complaints, timing), every check's own
/// state, and the findings (at most [`MAX_KEPT_FINDINGS`] kept verbatim).
#[derive(Debug, Default)]
pub(crate) struct State {
    pub turns: usize,
    pub agent_turns: usize,
    pub customer_turns: usize,
    pub questions: Questions,
    pub complaints: Complaints,
    timing: Timing,
    pub checks: Checks,
    disclosed: Vec<bool>,
    pub findings: Vec<Finding>,
    pub findings_total: usize,
    pub deductions: u32,
    pub fatal: Option<Evidence>,
    /// The first `major` finding.
    pub major: Option<Evidence>,
}

/// The last timed turn and the wait for the agent's first reply, for the timing checks.
#[derive(Debug, Default)]
struct Timing {
    prev: Option<PrevTurn>,
    awaiting_first_response: Option<(u64, usize)>,
    responded: bool,
}

impl Timing {
    fn view(&self, turn: &Turn) -> Option<TimingView> {
        let (Some(start_ms), Some(end_ms)) = (turn.start_ms, turn.end_ms) else {
            return None;
        };
        Some(TimingView {
            start_ms,
            end_ms,
            prev: self.prev,
            awaiting_first_response: self.awaiting_first_response,
        })
    }

    fn after(&mut self, view: &TurnView<'_>) {
        let Some(t) = view.timing else {
            return;
        };
        match view.role {
            Role::Customer => {
                if !self.responded && self.awaiting_first_response.is_none() {
                    self.awaiting_first_response = Some((t.end_ms, view.index));
                }
            }
            Role::Agent => {
                if self.awaiting_first_response.take().is_some() {
                    self.responded = true;
                }
            }
            Role::System => {}
        }
        self.prev = Some(PrevTurn {
            role: view.role,
            end_ms: t.end_ms.max(self.prev.map_or(0, |p| p.end_ms)),
            hold: view.is_agent() && view.cue(Cue::Hold).is_some(),
        });
    }
}

impl State {
    /// The report as it stands now: every check judged, points and fatal items counted.
    pub(crate) fn report(&self, c: &Scorecard, ruleset: &Ruleset) -> report::Report {
        let st = self;
        let judged = {
            let episodes = st.complaints.as_closed(&c.scoring);
            let ctx = JudgeCtx {
                scoring: &c.scoring,
                language: &ruleset.manifest.language,
                agent_turns: st.agent_turns,
                customer_turns: st.customer_turns,
                questions: &st.questions,
                episodes: &episodes,
            };
            let checks = c
                .checks
                .iter()
                .filter_map(|(id, spec)| {
                    let (j, tip) = st.checks.judge(*id, &ctx, spec)?;
                    Some((*id, spec, j, tip))
                })
                .collect::<Vec<_>>();
            (episodes, checks)
        };
        report::build(st, judged, c, ruleset)
    }

    /// The coaching tips of the failed checks among `wanted`, in scorecard order: the same pairs as
    /// `report().tips()` restricted to `wanted`. Only those checks are judged and no report is built: a live
    /// session asks after every final turn, and building a report (the kept findings cloned, every detail
    /// formatted) was most of a final turn's cost. Nothing wanted, nothing judged.
    pub(crate) fn tips_for(
        &self,
        c: &Scorecard,
        ruleset: &Ruleset,
        wanted: impl Fn(CheckId) -> bool,
    ) -> Vec<(CheckId, String)> {
        let mut todo = c.checks.iter().filter(|(id, _)| wanted(*id)).peekable();
        if todo.peek().is_none() {
            return Vec::new();
        }
        let st = self;
        let episodes = st.complaints.as_closed(&c.scoring);
        let ctx = JudgeCtx {
            scoring: &c.scoring,
            language: &ruleset.manifest.language,
            agent_turns: st.agent_turns,
            customer_turns: st.customer_turns,
            questions: &st.questions,
            episodes: &episodes,
        };
        todo.filter_map(|(id, spec)| {
            let (j, tip) = st.checks.judge(*id, &ctx, spec)?;
            if j.passed {
                return None;
            }
            Some((*id, tip?))
        })
        .collect()
    }

    /// Folds one final turn in: `findings` are the turn's own (the rules'); the must-say items it made due
    /// are added to them.
    pub(crate) fn observe(
        &mut self,
        conv: &Scorecard,
        turn: &Turn,
        norm: &Normalized,
        mut findings: Vec<Finding>,
    ) -> Vec<Finding> {
        let st = self;
        let index = st.turns;
        st.turns += 1;
        let cues = conv.cues.find(turn.role, &turn.text, norm);
        let mut view = TurnView {
            index,
            role: turn.role,
            text: &turn.text,
            cues: &cues,
            cue_index: &conv.cue,
            agent_turns_before: st.agent_turns,
            timing: st.timing.view(turn),
            scoring: &conv.scoring,
            open_question: None,
            open_complaint: None,
        };
        match turn.role {
            Role::Customer => {
                st.customer_turns += 1;
                let asked = st.questions.customer_repeat(&view, norm.as_str());
                // Asked again after an answer is a grievance only where the ruleset says so; after a thin reply
                // it is one when asked in the same words (the customer insists), else it opens a complaint the
                // customer must still press (restating with more detail is how chat customers clarify).
                let repeated = asked
                    .repeated
                    .clone()
                    .filter(|_| {
                        !asked.after_answer
                            || conv.scoring.dialogue.repeat_after_answer_is_complaint
                    })
                    .map(|r| (r, asked.after_answer || asked.verbatim));
                st.complaints.customer(&view, repeated);
                st.questions.customer_ask(&view, asked);
            }
            Role::Agent => {
                // Words of a forbidden finding (不知道, 你自己去查) are no answer.
                let shirk_chars = findings
                    .iter()
                    .filter(|f| f.category == Category::Forbidden)
                    .map(|f| f.matched.chars().filter(|c| c.is_alphanumeric()).count())
                    .sum();
                let push_back = findings.iter().any(|f| {
                    conv.scoring
                        .push_back_rules
                        .iter()
                        .any(|r| r.as_str() == &*f.rule_id)
                });
                st.questions.agent(&view, shirk_chars, push_back);
                st.agent_turns += 1;
                st.complaints.agent(&view, push_back);
                view.open_question = st.questions.pending.as_ref().map(|p| p.0);
                view.open_complaint = st.complaints.unaddressed();
            }
            Role::System => {}
        }
        st.checks.observe(&view);
        if turn.role == Role::Agent {
            findings.extend(disclosures(st, conv, &view));
        }
        st.timing.after(&view);
        let deduct = conv.scoring.deduct;
        for f in &findings {
            st.findings_total += 1;
            st.deductions += deduct.for_severity(f.severity);
            if f.severity == Severity::Critical && st.fatal.is_none() {
                st.fatal = Some(Evidence::new(
                    index,
                    format!("{} “{}”", f.rule_id, f.matched),
                ));
            }
            if f.severity == Severity::Major && st.major.is_none() {
                st.major = Some(Evidence::new(
                    index,
                    format!("{} “{}”", f.rule_id, f.matched),
                ));
            }
            if st.findings.len() < MAX_KEPT_FINDINGS {
                st.findings.push(f.clone());
            }
        }
        findings
    }
}

fn has(cues: &[CueHit], cue: Option<usize>) -> Option<&CueHit> {
    let cue = cue?;
    cues.iter().find(|h| h.cue == cue)
}

/// The must-say items this agent turn made due: a trigger said before (or without) the required words.
fn disclosures(st: &mut State, conv: &Scorecard, view: &TurnView<'_>) -> Vec<Finding> {
    let (index, text, cues) = (view.index, view.text, view.cues);
    let mut out = Vec::new();
    if st.disclosed.len() < conv.disclosures.len() {
        st.disclosed.resize(conv.disclosures.len(), false);
    }
    for (i, d) in conv.disclosures.iter().enumerate() {
        if has(cues, d.required).is_some() {
            st.disclosed[i] = true;
        }
        let Some(t) = has(cues, d.trigger) else {
            continue;
        };
        if st.disclosed[i] {
            continue;
        }
        // The same constructor as every rule's finding (a fresh cursor: one finding per item and turn).
        out.push(d.template.finding(text, t.span, index, &mut (0, 0)));
    }
    out
}
