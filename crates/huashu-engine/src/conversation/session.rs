//! The streaming session: turns arrive one by one (ASR partials may be revised), findings come back at once,
//! and the conversation state stays bounded however long the call runs.

use std::sync::Arc;

use huashu_rules::{Category, Cue, Role, Severity};

use super::Scorecard;
use super::checks::{CheckId, Checks, JudgeCtx, PrevTurn, TimingView, TurnView};
use super::complaints::Complaints;
use super::cues::CueHit;
use super::questions::Questions;
use super::report::{self, Evidence};
use crate::asr::Tolerance;
use crate::engine::Engine;
use crate::finding::{Finding, Turn};

/// Findings kept verbatim in a report; beyond this only counts are kept (a 10,000-turn call stays bounded).
pub const MAX_KEPT_FINDINGS: usize = 500;

/// What a push or a revision returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnUpdate {
    pub turn_index: usize,
    /// The turn's findings as they stand now (a revision replaces the previous set for the same turn).
    pub findings: Vec<Finding>,
    pub is_final: bool,
}

/// One conversation, scored as it happens. Holds the engine it started with; [`Session::set_engine`] switches
/// rulesets between turns (hot reload).
#[derive(Debug)]
pub struct Session {
    engine: Arc<Engine>,
    state: State,
    partial: Option<Turn>,
}

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

impl Session {
    pub fn new(engine: Arc<Engine>) -> Session {
        Session {
            engine,
            state: State::default(),
            partial: None,
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Switches to a new engine (ruleset version) from the next turn on.
    pub fn set_engine(&mut self, engine: Arc<Engine>) {
        self.engine = engine;
    }

    /// Number of final turns so far.
    pub fn turns(&self) -> usize {
        self.state.turns
    }

    /// A final turn. Replaces any pending partial. Returns the turn's findings, including any disclosure
    /// the turn made due.
    pub fn push(&mut self, turn: Turn) -> TurnUpdate {
        self.push_ref(&turn)
    }

    /// As [`Session::push`], borrowing the turn.
    pub fn push_ref(&mut self, turn: &Turn) -> TurnUpdate {
        self.push_with(turn, None)
    }

    /// A final turn that a speech recogniser produced with `confidence` (0–1): findings carry the
    /// confidence, and rules match tolerantly as `tolerance` says (see [`Tolerance`]).
    pub fn push_asr(&mut self, turn: &Turn, confidence: f32, tolerance: Tolerance) -> TurnUpdate {
        self.push_with(turn, Some((confidence, tolerance)))
    }

    fn push_with(&mut self, turn: &Turn, asr: Option<(f32, Tolerance)>) -> TurnUpdate {
        self.partial = None;
        let index = self.state.turns;
        let findings = self.fold(turn, asr);
        TurnUpdate {
            turn_index: index,
            findings,
            is_final: true,
        }
    }

    /// An ASR partial (or an agent's draft) for the turn in progress: findings for it as it stands, without
    /// touching the conversation state. A later partial or the final replaces it entirely.
    pub fn revise(&mut self, turn: Turn) -> TurnUpdate {
        let index = self.state.turns;
        let findings = self.engine.check_turn(turn.role, &turn.text, index);
        self.partial = Some(turn);
        TurnUpdate {
            turn_index: index,
            findings,
            is_final: false,
        }
    }

    /// The pending partial, if any.
    pub fn partial(&self) -> Option<&Turn> {
        self.partial.as_ref()
    }

    /// The report as it stands now (the session goes on).
    pub fn report(&self) -> report::Report {
        let c = self.engine.scorecard();
        let st = &self.state;
        let judged = {
            let episodes = st.complaints.as_closed(&c.scoring);
            let ctx = JudgeCtx {
                scoring: &c.scoring,
                language: &self.engine.ruleset().manifest.language,
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
        report::build(st, judged, c, &self.engine)
    }

    /// The coaching tips of the failed checks among `wanted`, in scorecard order: the same pairs as
    /// `report().tips()` restricted to `wanted`. Only those checks are judged and no report is built: a live
    /// session asks after every final turn, and building a report (the kept findings cloned, every detail
    /// formatted) was most of a final turn's cost. Nothing wanted, nothing judged.
    pub fn tips_for(&self, wanted: impl Fn(CheckId) -> bool) -> Vec<(CheckId, String)> {
        let c = self.engine.scorecard();
        let mut todo = c.checks.iter().filter(|(id, _)| wanted(*id)).peekable();
        if todo.peek().is_none() {
            return Vec::new();
        }
        let st = &self.state;
        let episodes = st.complaints.as_closed(&c.scoring);
        let ctx = JudgeCtx {
            scoring: &c.scoring,
            language: &self.engine.ruleset().manifest.language,
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

    /// Ends the conversation. A pending partial is dropped (only finals count).
    pub fn finish(self) -> report::Report {
        self.report()
    }

    fn fold(&mut self, turn: &Turn, asr: Option<(f32, Tolerance)>) -> Vec<Finding> {
        let engine = Arc::clone(&self.engine);
        let index = self.state.turns;
        let norm = engine.normalize(&turn.text);
        let mut findings = engine
            .matcher()
            .check_normalized_asr(turn.role, &turn.text, &norm, index, asr);
        let st = &mut self.state;
        st.turns += 1;
        let conv = engine.scorecard();
        let cues = conv.cues.find(turn.role, &turn.text, &norm);
        let view = TurnView {
            index,
            role: turn.role,
            text: &turn.text,
            cues: &cues,
            cue_index: &conv.cue,
            agent_turns_before: st.agent_turns,
            timing: st.timing.view(turn),
            scoring: &conv.scoring,
        };
        match turn.role {
            Role::Customer => {
                st.customer_turns += 1;
                let asked = st.questions.customer_repeat(&view, norm.as_str());
                st.complaints.customer(&view, asked.repeated.clone());
                st.questions.customer_ask(&view, asked);
            }
            Role::Agent => {
                // Words of a forbidden finding (不知道, 你自己去查) are no answer.
                let shirk_chars = findings
                    .iter()
                    .filter(|f| f.category == Category::Forbidden)
                    .map(|f| f.matched.chars().filter(|c| c.is_alphanumeric()).count())
                    .sum();
                st.questions.agent(&view, norm.as_str(), shirk_chars);
                st.agent_turns += 1;
                st.complaints.agent(&view);
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
