//! The streaming session: turns arrive one by one (ASR partials may be revised), findings come back at once,
//! and the conversation state stays bounded however long the call runs.

use std::collections::VecDeque;
use std::sync::Arc;

use huashu_rules::{Category, Role, Severity};

use super::Conversation;
use super::cues::CueHit;
use super::report::{self, Evidence};
use crate::asr::Tolerance;
use crate::engine::Engine;
use crate::finding::{Finding, Suggestion, Turn};

/// Findings kept verbatim in a report; beyond this only counts are kept (a 10,000-turn call stays bounded).
pub const MAX_KEPT_FINDINGS: usize = 500;
/// Recent customer turns remembered to spot a repeated question.
const RECENT_CUSTOMER_TURNS: usize = 3;
/// Evidence lines kept for the structure score.
const MAX_STRUCTURE_EVIDENCE: usize = 12;

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

#[derive(Debug, Default)]
pub(crate) struct State {
    pub turns: usize,
    pub agent_turns: usize,
    pub customer_turns: usize,
    pub greeting: Option<Option<Evidence>>,
    pub need_confirmation: Option<Evidence>,
    pub identity: Option<Evidence>,
    pub polite_turns: usize,
    pub polite_example: Option<Evidence>,
    pub impolite_example: Option<Evidence>,
    pub last_agent_closing: Option<Option<Evidence>>,
    pub hold_needed: usize,
    pub hold_given: usize,
    pub hold_missing: Option<Evidence>,
    pub hold_example: Option<Evidence>,
    pub escalations: usize,
    pub escalations_timed: usize,
    pub escalation_untimed: Option<Evidence>,
    pub escalation_example: Option<Evidence>,
    pub episodes: Episodes,
    current: Option<Episode>,
    recent_customer: VecDeque<String>,
    pub timing: TimingState,
    disclosed: Vec<bool>,
    pub findings: Vec<Finding>,
    pub findings_total: usize,
    pub deductions: u32,
    pub fatal: Option<Evidence>,
}

/// Aggregates over complaint episodes that have been closed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Episodes {
    pub count: usize,
    pub empathy: usize,
    pub solution: usize,
    pub commitment: usize,
    pub in_order: usize,
    pub prompt: usize,
    pub structure_sum: u32,
    /// One line per complaint, for the structure summary.
    pub evidence: Vec<String>,
    /// (check id, what earned it) and (check id, what was missing), bounded.
    pub found: Vec<(&'static str, String)>,
    pub missing: Vec<(&'static str, String)>,
}

/// A customer complaint and the agent's replies until the next one.
#[derive(Debug, Clone)]
struct Episode {
    turn: usize,
    trigger: String,
    replies: usize,
    empathy: Option<(usize, usize, String)>,
    solution: Option<(usize, usize, String)>,
    commitment: Option<(usize, usize, String)>,
    prompt: bool,
}

#[derive(Debug, Default)]
pub(crate) struct TimingState {
    prev: Option<PrevTurn>,
    awaiting_first_response: Option<(u64, usize)>,
    pub first_response: Option<(bool, Evidence)>,
    pub gaps_checked: usize,
    pub silence: Option<Evidence>,
    pub pairs_checked: usize,
    pub talk_over: Option<Evidence>,
    pub rates_checked: usize,
    pub rate: Option<Evidence>,
}

#[derive(Debug, Clone, Copy)]
struct PrevTurn {
    role: Role,
    end_ms: u64,
    hold: bool,
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
        let conv = self.engine.conversation();
        report::build(
            &self.state,
            self.state.current.as_ref().map(close_episode),
            conv,
            &self.engine,
        )
    }

    /// Ends the conversation. A pending partial is dropped (only finals count).
    pub fn finish(self) -> report::Report {
        self.report()
    }

    fn fold(&mut self, turn: &Turn, asr: Option<(f32, Tolerance)>) -> Vec<Finding> {
        let engine = Arc::clone(&self.engine);
        let index = self.state.turns;
        let norm = engine.normalize(&turn.text);
        let mut findings = engine.check_normalized_asr(turn.role, &turn.text, &norm, index, asr);
        let st = &mut self.state;
        st.turns += 1;
        if let Some(conv) = engine.conversation() {
            let cues = conv.cues.find(turn.role, &turn.text, &norm);
            match turn.role {
                Role::Customer => customer_turn(st, conv, index, &cues, norm.as_str()),
                Role::Agent => {
                    agent_turn(st, conv, index, &cues);
                    findings.extend(disclosures(st, conv, index, &turn.text, &cues));
                }
                Role::System => {}
            }
            timing(st, conv, index, turn, &cues);
        }
        let deduct = engine
            .conversation()
            .map(|c| c.scoring.deduct)
            .unwrap_or_default();
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

fn customer_turn(st: &mut State, conv: &Conversation, index: usize, cues: &[CueHit], norm: &str) {
    st.customer_turns += 1;
    let complaint = has(cues, conv.cue.complaint).map(|h| format!("“{}”", h.matched));
    let repeated = (norm.chars().count() >= 4 && st.recent_customer.iter().any(|t| t == norm))
        .then(|| "a repeated question".to_string());
    if let Some(trigger) = complaint.or(repeated) {
        // A complaint while the last one is still not fully answered (no reply yet, or not yet all of
        // empathy, solution and commitment) is the same grievance: the episode goes on.
        let still_open = st.current.as_ref().is_some_and(|e| {
            e.replies == 0 || e.empathy.is_none() || e.solution.is_none() || e.commitment.is_none()
        });
        if !still_open {
            if let Some(done) = st.current.take() {
                add_episode(&mut st.episodes, close_episode(&done));
            }
            st.current = Some(Episode {
                turn: index,
                trigger,
                replies: 0,
                empathy: None,
                solution: None,
                commitment: None,
                prompt: false,
            });
        }
    }
    if st.recent_customer.len() == RECENT_CUSTOMER_TURNS {
        st.recent_customer.pop_front();
    }
    st.recent_customer.push_back(norm.to_string());
}

fn agent_turn(st: &mut State, conv: &Conversation, index: usize, cues: &[CueHit]) {
    let c = conv.cue;
    let ev = |h: &CueHit| Evidence::new(index, format!("“{}”", h.matched));
    if st.agent_turns == 0 {
        st.greeting = Some(has(cues, c.greeting).map(ev));
    }
    st.agent_turns += 1;
    if st.need_confirmation.is_none() {
        st.need_confirmation = has(cues, c.need_confirmation).map(ev);
    }
    if st.identity.is_none() {
        st.identity = has(cues, c.identity).map(ev);
    }
    match has(cues, c.polite) {
        Some(h) => {
            st.polite_turns += 1;
            st.polite_example.get_or_insert_with(|| ev(h));
        }
        None => {
            st.impolite_example
                .get_or_insert_with(|| Evidence::new(index, "no polite word".into()));
        }
    }
    st.last_agent_closing = Some(has(cues, c.closing).map(ev));
    if let Some(need) = has(cues, c.hold_needed) {
        st.hold_needed += 1;
        match has(cues, c.hold) {
            Some(h) => {
                st.hold_given += 1;
                st.hold_example.get_or_insert_with(|| ev(h));
            }
            None => {
                st.hold_missing.get_or_insert_with(|| ev(need));
            }
        }
    }
    if let Some(e) = has(cues, c.escalation) {
        st.escalations += 1;
        match has(cues, c.time) {
            Some(t) => {
                st.escalations_timed += 1;
                st.escalation_example.get_or_insert_with(|| {
                    Evidence::new(index, format!("“{}” with “{}”", e.matched, t.matched))
                });
            }
            None => {
                st.escalation_untimed.get_or_insert_with(|| ev(e));
            }
        }
    }
    if let Some(ep) = st.current.as_mut() {
        ep.replies += 1;
        let first = |cue: Option<usize>| has(cues, cue).map(|h| (index, h.at, h.matched.clone()));
        if ep.empathy.is_none() {
            ep.empathy = first(c.empathy);
            if ep.empathy.is_some() && ep.replies == 1 {
                ep.prompt = true;
            }
        }
        if ep.solution.is_none() {
            ep.solution = first(c.solution);
        }
        if ep.commitment.is_none() {
            ep.commitment = first(c.commitment);
        }
    }
}

/// One closed episode, judged.
#[derive(Debug, Clone)]
pub(crate) struct EpisodeResult {
    pub empathy: bool,
    pub solution: bool,
    pub commitment: bool,
    pub in_order: bool,
    pub prompt: bool,
    pub score: u32,
    pub evidence: String,
    pub found: Vec<(&'static str, String)>,
    pub missing: Vec<(&'static str, String)>,
}

fn close_episode(ep: &Episode) -> EpisodeResult {
    let pos = |x: &Option<(usize, usize, String)>| x.as_ref().map(|(t, a, _)| (*t, *a));
    let in_order = match (pos(&ep.empathy), pos(&ep.solution), pos(&ep.commitment)) {
        (Some(e), Some(s), Some(c)) => e < s && s < c,
        _ => false,
    };
    let (e, s, c) = (
        ep.empathy.is_some(),
        ep.solution.is_some(),
        ep.commitment.is_some(),
    );
    let score =
        25 * (e as u32 + s as u32 + c as u32) + 15 * in_order as u32 + 10 * ep.prompt as u32;
    let mut parts = vec![format!("complaint at turn {} ({})", ep.turn, ep.trigger)];
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (name, x) in [
        ("empathy", &ep.empathy),
        ("solution", &ep.solution),
        ("commitment", &ep.commitment),
    ] {
        match x {
            Some((t, _, m)) => {
                parts.push(format!("{name} turn {t} “{m}”"));
                found.push((
                    name,
                    format!("turn {t} “{m}” after the complaint at turn {}", ep.turn),
                ));
            }
            None => missing.push((
                name,
                format!(
                    "no {name} after the complaint at turn {} ({})",
                    ep.turn, ep.trigger
                ),
            )),
        }
    }
    if in_order {
        found.push((
            "in_order",
            format!(
                "empathy → solution → commitment after the complaint at turn {}",
                ep.turn
            ),
        ));
    } else if e && s && c {
        let order = |x: &Option<(usize, usize, String)>| x.as_ref().map_or(0, |(t, _, _)| *t);
        missing.push((
            "in_order",
            format!(
                "after the complaint at turn {}: empathy turn {}, solution turn {}, commitment turn {} — not empathy → solution → commitment",
                ep.turn,
                order(&ep.empathy),
                order(&ep.solution),
                order(&ep.commitment)
            ),
        ));
    } else {
        missing.push((
            "in_order",
            format!(
                "after the complaint at turn {}: the sequence is incomplete",
                ep.turn
            ),
        ));
    }
    if ep.prompt {
        found.push((
            "prompt",
            format!(
                "the first reply to the complaint at turn {} shows empathy",
                ep.turn
            ),
        ));
    } else {
        missing.push((
            "prompt",
            format!(
                "the first reply to the complaint at turn {} shows no empathy",
                ep.turn
            ),
        ));
    }
    EpisodeResult {
        empathy: e,
        solution: s,
        commitment: c,
        in_order,
        prompt: ep.prompt,
        score,
        evidence: parts.join("; "),
        found,
        missing,
    }
}

pub(crate) fn add_episode(agg: &mut Episodes, r: EpisodeResult) {
    agg.count += 1;
    agg.empathy += r.empathy as usize;
    agg.solution += r.solution as usize;
    agg.commitment += r.commitment as usize;
    agg.in_order += r.in_order as usize;
    agg.prompt += r.prompt as usize;
    agg.structure_sum += r.score;
    if agg.evidence.len() < MAX_STRUCTURE_EVIDENCE {
        agg.evidence.push(r.evidence);
    }
    for f in r.found {
        if agg.found.len() < 4 * MAX_STRUCTURE_EVIDENCE {
            agg.found.push(f);
        }
    }
    for m in r.missing {
        if agg.missing.len() < 4 * MAX_STRUCTURE_EVIDENCE {
            agg.missing.push(m);
        }
    }
}

fn disclosures(
    st: &mut State,
    conv: &Conversation,
    index: usize,
    text: &str,
    cues: &[CueHit],
) -> Vec<Finding> {
    let mut out = Vec::new();
    if st.disclosed.len() < conv.scoring.disclosure.len() {
        st.disclosed.resize(conv.scoring.disclosure.len(), false);
    }
    for (i, d) in conv.scoring.disclosure.iter().enumerate() {
        let required = conv.cues.index(&format!("disclosure:{}:required", d.id));
        let trigger = conv.cues.index(&format!("disclosure:{}:trigger", d.id));
        if has(cues, required).is_some() {
            st.disclosed[i] = true;
        }
        let Some(t) = has(cues, trigger) else {
            continue;
        };
        if st.disclosed[i] {
            continue;
        }
        let chars = t.span.to_chars(text);
        out.push(Finding {
            rule_id: d.id.clone(),
            category: Category::Disclosure,
            severity: d.severity,
            turn_index: index,
            span: t.span,
            char_start: chars.start,
            char_end: chars.end,
            matched: t.matched.clone(),
            message: d.message.replace("{matched}", &t.matched),
            suggestions: vec![Suggestion {
                span: t.span,
                replacement: format!("{}{}", d.suggest, t.matched),
                applicability: huashu_rules::Applicability::Review,
            }],
            confidence: None,
        });
    }
    out
}

fn timing(st: &mut State, conv: &Conversation, index: usize, turn: &Turn, cues: &[CueHit]) {
    let limits = conv.scoring.timing;
    let (Some(start), Some(end)) = (turn.start_ms, turn.end_ms) else {
        return;
    };
    let t = &mut st.timing;
    if let Some(prev) = t.prev {
        // Silence is the agent's when the customer waits for the agent; the wait for the first reply is
        // judged by `first_response`, and a customer who takes their time is not the agent's fault.
        let agent_owes = turn.role == Role::Agent && t.awaiting_first_response.is_none();
        let gap = start.saturating_sub(prev.end_ms);
        if agent_owes {
            t.gaps_checked += 1;
        }
        if agent_owes && gap > limits.max_silence_ms && !prev.hold && t.silence.is_none() {
            t.silence = Some(Evidence::new(
                index,
                format!(
                    "{:.1} s of silence before this turn, no hold phrase",
                    gap as f64 / 1000.0
                ),
            ));
        }
        if prev.role != turn.role {
            t.pairs_checked += 1;
            let overlap = prev.end_ms.saturating_sub(start);
            if overlap > limits.max_overlap_ms && t.talk_over.is_none() {
                t.talk_over = Some(Evidence::new(
                    index,
                    format!(
                        "starts {:.1} s before the other party finished",
                        overlap as f64 / 1000.0
                    ),
                ));
            }
        }
    }
    match turn.role {
        Role::Customer => {
            if t.first_response.is_none() && t.awaiting_first_response.is_none() {
                t.awaiting_first_response = Some((end, index));
            }
        }
        Role::Agent => {
            if let Some((customer_end, customer_turn)) = t.awaiting_first_response.take() {
                if t.first_response.is_none() {
                    let latency = start.saturating_sub(customer_end);
                    t.first_response = Some((
                        latency <= limits.first_response_ms,
                        Evidence::new(
                            index,
                            format!(
                                "first reply {:.1} s after the customer's turn {customer_turn}",
                                latency as f64 / 1000.0
                            ),
                        ),
                    ));
                }
            }
            let ms = end.saturating_sub(start);
            if ms >= 1000 {
                let chars = turn.text.chars().filter(|c| c.is_alphanumeric()).count() as f64;
                let rate = chars / (ms as f64 / 1000.0);
                t.rates_checked += 1;
                if (rate < limits.min_chars_per_s || rate > limits.max_chars_per_s)
                    && t.rate.is_none()
                {
                    t.rate = Some(Evidence::new(
                        index,
                        format!(
                            "{rate:.1} chars/s (expected {}–{})",
                            limits.min_chars_per_s, limits.max_chars_per_s
                        ),
                    ));
                }
            }
        }
        Role::System => {}
    }
    t.prev = Some(PrevTurn {
        role: turn.role,
        end_ms: end.max(t.prev.map_or(0, |p| p.end_ms)),
        hold: turn.role == Role::Agent && has(cues, conv.cue.hold).is_some(),
    });
}
