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
/// Recent customer questions remembered to spot a repeated question.
const RECENT_CUSTOMER_TURNS: usize = 3;
/// Distinct character bigrams kept per remembered question (bounds the state on very long turns).
const MAX_BIGRAMS: usize = 96;
/// Characters of a question quoted in evidence.
const QUOTE_CHARS: usize = 24;
/// The complaint-structure checks, in the order of [`Episodes::tally`].
pub(crate) const EPISODE_CHECKS: [&str; 5] =
    ["empathy", "solution", "commitment", "in_order", "prompt"];
/// Weights of those checks in the 0–100 structure summary (of the ones that apply to a complaint).
const STRUCTURE_WEIGHTS: [f64; 5] = [25.0, 25.0, 25.0, 15.0, 10.0];
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
    recent_customer: VecDeque<RecentQuestion>,
    pub questions: Questions,
    pub timing: TimingState,
    disclosed: Vec<bool>,
    pub findings: Vec<Finding>,
    pub findings_total: usize,
    pub deductions: u32,
    pub fatal: Option<Evidence>,
}

/// Customer questions and whether the agent answered them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Questions {
    pub asked: usize,
    pub answered: usize,
    /// The last question, still waiting for an answer: (turn, quoted words).
    pub pending: Option<(usize, String)>,
    pub answered_example: Option<Evidence>,
    /// The first question left unanswered (another question came first, or the customer had to ask again).
    pub unanswered: Option<Evidence>,
}

/// A recent customer question, as character bigrams, for spotting the same question in other words.
#[derive(Debug, Clone)]
struct RecentQuestion {
    turn: usize,
    bigrams: Vec<u64>,
    answered: bool,
}

/// Per-check tally over complaint episodes: how many the check applied to, passed, and the share earned.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub applicable: usize,
    pub passed: usize,
    pub earned: f64,
}

/// Aggregates over complaint episodes that have been closed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Episodes {
    pub count: usize,
    /// One per [`EPISODE_CHECKS`].
    pub tally: [Tally; 5],
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
    /// Only about the agent's own manner (打断我, 你什么态度): an apology answers it, no solution is due.
    manner: bool,
    replies: usize,
    empathy: Option<(usize, usize, String)>,
    solution: Option<(usize, usize, String)>,
    commitment: Option<(usize, usize, String)>,
    /// The problem was fixed in the conversation (已经为您办理好了): nothing is left to follow up.
    resolved: Option<(usize, usize, String)>,
    prompt: bool,
}

impl Episode {
    /// Everything the complaint needs has come, so a new complaint starts a new episode.
    fn answered(&self) -> bool {
        self.replies > 0
            && self.empathy.is_some()
            && (self.manner
                || (self.solution.is_some()
                    && (self.commitment.is_some() || self.resolved.is_some())))
    }
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
            self.state
                .current
                .as_ref()
                .zip(conv)
                .map(|(e, c)| close_episode(e, c)),
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
                Role::Customer => customer_turn(st, conv, index, &cues, &turn.text, norm.as_str()),
                Role::Agent => {
                    // Words of a forbidden finding (不知道, 你自己去查) are no answer.
                    let shirk_chars = findings
                        .iter()
                        .filter(|f| f.category == Category::Forbidden)
                        .map(|f| f.matched.chars().filter(|c| c.is_alphanumeric()).count())
                        .sum();
                    agent_turn(st, conv, index, &cues, norm.as_str(), shirk_chars);
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

fn customer_turn(
    st: &mut State,
    conv: &Conversation,
    index: usize,
    cues: &[CueHit],
    text: &str,
    norm: &str,
) {
    st.customer_turns += 1;
    let c = conv.cue;
    let d = conv.scoring.dialogue;
    // With a `question` cue list, questions are the clauses that ask something; without one, every turn
    // is compared whole (only a verbatim repeat of at least 4 chars used to count).
    let asks: Vec<usize> = match c.question {
        Some(q) => cues.iter().filter(|h| h.cue == q).map(|h| h.at).collect(),
        None => Vec::new(),
    };
    let is_question = !asks.is_empty();
    let grams = if c.question.is_some() {
        bigrams(&question_clauses(norm, &asks))
    } else {
        bigrams(norm)
    };
    let mut repeated = None;
    // The turn of an earlier question, not answered yet, that this one asks again.
    let mut reprompt_of = None;
    if grams.len() >= d.repeat_min_bigrams.max(1) {
        if let Some(earlier) = st.recent_customer.iter_mut().rev().find(|q| {
            q.bigrams.len() >= d.repeat_min_bigrams.max(1)
                && dice(&q.bigrams, &grams) >= d.repeat_similarity
        }) {
            // Only a question asked again after an answer is a grievance (the answer did not settle it);
            // asking again what got no answer yet (after a greeting, a hold) is the customer prompting, and
            // the responsiveness check already counts it.
            if earlier.answered {
                earlier.answered = false;
                st.questions.answered = st.questions.answered.saturating_sub(1);
                st.questions.unanswered.get_or_insert_with(|| {
                    Evidence::new(
                        earlier.turn,
                        format!("asked again at turn {index} (“{}”)", quote(text)),
                    )
                });
                repeated = Some(format!(
                    "the question of turn {} asked again (“{}”)",
                    earlier.turn,
                    quote(text)
                ));
            } else {
                reprompt_of = Some(earlier.turn);
            }
        }
    }
    let problem = has(cues, c.complaint).map(|h| format!("“{}”", h.matched));
    let manner = has(cues, c.complaint_manner).map(|h| format!("“{}”", h.matched));
    // What the customer says outright decides the kind: a complaint about the problem needs a solution; one
    // only about the agent's manner (你先听我说完, even while repeating the question) needs an apology.
    let trigger = match (problem, manner, repeated) {
        (Some(p), _, _) => Some((p, false)),
        (None, Some(m), _) => Some((m, true)),
        (None, None, Some(r)) => Some((r, false)),
        (None, None, None) => None,
    };
    if let Some((trigger, manner)) = trigger {
        // A complaint while the last one is still not fully answered is the same grievance: the episode
        // goes on (and needs a solution once any part of it is about the problem).
        match st.current.as_mut().filter(|e| !e.answered()) {
            Some(open) => open.manner &= manner,
            None => {
                if let Some(done) = st.current.take() {
                    add_episode(&mut st.episodes, close_episode(&done, conv));
                }
                st.current = Some(Episode {
                    turn: index,
                    trigger,
                    manner,
                    replies: 0,
                    empathy: None,
                    solution: None,
                    commitment: None,
                    resolved: None,
                    prompt: false,
                });
            }
        }
    }
    if is_question {
        let q = &mut st.questions;
        let reprompt = reprompt_of.is_some() && q.pending.as_ref().map(|p| p.0) == reprompt_of;
        // The pending question asked again before any answer is still one question, awaiting its answer.
        if !reprompt {
            if let Some((turn, words)) = q.pending.take() {
                q.unanswered.get_or_insert_with(|| {
                    Evidence::new(
                        turn,
                        format!("“{words}” got no answer before the customer's next question at turn {index}"),
                    )
                });
            }
            q.asked += 1;
        }
        q.pending = Some((index, quote(text)));
    }
    if is_question || c.question.is_none() {
        if st.recent_customer.len() == RECENT_CUSTOMER_TURNS {
            st.recent_customer.pop_front();
        }
        st.recent_customer.push_back(RecentQuestion {
            turn: index,
            bigrams: grams,
            answered: false,
        });
    }
}

/// The clauses of a normalised turn that contain one of `asks` (byte offsets of question cues); a clause
/// runs to and includes its closing punctuation, so a `?` cue belongs to the clause it ends.
fn question_clauses(norm: &str, asks: &[usize]) -> String {
    let mut out = String::new();
    let mut start = 0;
    let flush = |from: usize, to: usize, out: &mut String| {
        if asks.iter().any(|&a| a >= from && a < to) {
            out.push_str(&norm[from..to]);
            out.push('|');
        }
    };
    for (i, ch) in norm.char_indices() {
        if is_clause_end(ch) {
            let end = i + ch.len_utf8();
            flush(start, end, &mut out);
            start = end;
        }
    }
    flush(start, norm.len(), &mut out);
    out
}

fn is_clause_end(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | '!'
            | '?'
            | ';'
            | ':'
            | '~'
            | '\n'
            | '，'
            | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | '…'
    )
}

/// Distinct bigrams of adjacent letters, digits or CJK characters (punctuation and spaces break them),
/// sorted, at most [`MAX_BIGRAMS`].
fn bigrams(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            let ch = ch.to_lowercase().next().unwrap_or(ch);
            if let Some(p) = prev {
                out.push(((p as u64) << 32) | ch as u64);
            }
            prev = Some(ch);
        } else {
            prev = None;
        }
    }
    out.sort_unstable();
    out.dedup();
    out.truncate(MAX_BIGRAMS);
    out
}

/// Dice coefficient of two sorted bigram sets: 2·|A∩B| / (|A|+|B|).
fn dice(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

/// The start of a turn, for evidence.
fn quote(text: &str) -> String {
    let t = text.trim();
    let mut q: String = t.chars().take(QUOTE_CHARS).collect();
    if t.chars().count() > QUOTE_CHARS {
        q.push('…');
    }
    q
}

fn agent_turn(
    st: &mut State,
    conv: &Conversation,
    index: usize,
    cues: &[CueHit],
    norm: &str,
    shirk_chars: usize,
) {
    let c = conv.cue;
    if let Some((turn, words)) = st.questions.pending.clone() {
        // An answer has content beyond 嗯/好的 and beyond shirking (不知道, 你自己去查), and is neither a hold
        // nor a "let me look it up" (请稍等, 我帮您查一下): the answer is still to come.
        let filler: usize = cues
            .iter()
            .filter(|h| Some(h.cue) == c.filler)
            .map(|h| h.matched.chars().filter(|ch| ch.is_alphanumeric()).count())
            .sum();
        let content = norm
            .chars()
            .filter(|ch| ch.is_alphanumeric())
            .count()
            .saturating_sub(filler + shirk_chars);
        if has(cues, c.hold).is_none()
            && has(cues, c.hold_needed).is_none()
            && content >= conv.scoring.dialogue.min_answer_chars
        {
            let q = &mut st.questions;
            q.answered += 1;
            q.pending = None;
            q.answered_example.get_or_insert_with(|| {
                Evidence::new(
                    index,
                    format!("answers the question of turn {turn} (“{words}”)"),
                )
            });
            if let Some(last) = st.recent_customer.back_mut() {
                if last.turn == turn {
                    last.answered = true;
                }
            }
        }
    }
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
        if ep.resolved.is_none() {
            ep.resolved = first(c.resolved);
            // A fix made in the conversation is a solution.
            if ep.solution.is_none() {
                ep.solution = ep.resolved.clone();
            }
        }
    }
}

/// One closed episode, judged.
#[derive(Debug, Clone)]
pub(crate) struct EpisodeResult {
    /// Per [`EPISODE_CHECKS`]: None when the check does not apply to this complaint, else (passed, share).
    pub outcome: [Option<(bool, f64)>; 5],
    pub score: u32,
    pub evidence: String,
    pub found: Vec<(&'static str, String)>,
    pub missing: Vec<(&'static str, String)>,
}

type At = Option<(usize, usize, String)>;

fn close_episode(ep: &Episode, conv: &Conversation) -> EpisodeResult {
    let pos = |x: &At| x.as_ref().map(|(t, a, _)| (*t, *a));
    let turn_of = |x: &At| x.as_ref().map(|(t, _, _)| *t);
    let words = |x: &At| {
        x.as_ref()
            .map_or(String::new(), |(t, _, m)| format!("turn {t} “{m}”"))
    };
    let after = format!("after the complaint at turn {}", ep.turn);
    let mut parts = vec![format!("complaint at turn {} ({})", ep.turn, ep.trigger)];
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let mut outcome: [Option<(bool, f64)>; 5] = [None; 5];

    // Empathy counts fully before or with the first solution or commitment; after them it is late.
    let business = [turn_of(&ep.solution), turn_of(&ep.commitment)]
        .into_iter()
        .flatten()
        .min();
    match (&ep.empathy, turn_of(&ep.empathy)) {
        (Some((t, _, m)), Some(et)) => {
            parts.push(format!("empathy turn {t} “{m}”"));
            match business.filter(|b| *b < et) {
                Some(b) => {
                    let share = conv.scoring.dialogue.late_empathy_share;
                    outcome[0] = Some((true, share));
                    found.push((
                        "empathy",
                        format!(
                            "turn {t} “{m}” {after}, but only after the agent had moved on to the business at turn {b}: {:.0}% of the points",
                            share * 100.0
                        ),
                    ));
                }
                None => {
                    outcome[0] = Some((true, 1.0));
                    found.push(("empathy", format!("turn {t} “{m}” {after}")));
                }
            }
        }
        _ if ep.manner => {
            outcome[0] = Some((false, 0.0));
            missing.push((
                "empathy",
                format!(
                    "no apology after the complaint about the agent's manner at turn {} ({})",
                    ep.turn, ep.trigger
                ),
            ));
        }
        _ => {
            outcome[0] = Some((false, 0.0));
            missing.push(("empathy", format!("no empathy {after} ({})", ep.trigger)));
        }
    }
    if ep.manner {
        parts.push("about the agent's manner: an apology is due, no solution".into());
    } else {
        for (k, name, x) in [
            (1, "solution", &ep.solution),
            (2, "commitment", &ep.commitment),
        ] {
            match x {
                Some((t, _, m)) => {
                    parts.push(format!("{name} turn {t} “{m}”"));
                    outcome[k] = Some((true, 1.0));
                    found.push((name, format!("turn {t} “{m}” {after}")));
                }
                // Fixed on the spot: nothing is left to follow up, so no commitment is due.
                None if k == 2 && ep.resolved.is_some() => {
                    parts.push(format!("resolved {}", words(&ep.resolved)));
                }
                None => {
                    outcome[k] = Some((false, 0.0));
                    missing.push((name, format!("no {name} {after} ({})", ep.trigger)));
                }
            }
        }
        let resolved_only = ep.commitment.is_none() && ep.resolved.is_some();
        let in_order = match (pos(&ep.empathy), pos(&ep.solution), pos(&ep.commitment)) {
            (Some(e), Some(s), Some(c)) => e < s && s < c,
            (Some(e), Some(s), None) if resolved_only => e < s,
            _ => false,
        };
        outcome[3] = Some((in_order, if in_order { 1.0 } else { 0.0 }));
        if in_order && resolved_only {
            found.push((
                "in_order",
                format!(
                    "empathy → solution {after}, fixed at {}",
                    words(&ep.resolved)
                ),
            ));
        } else if in_order {
            found.push((
                "in_order",
                format!("empathy → solution → commitment {after}"),
            ));
        } else if ep.empathy.is_some()
            && ep.solution.is_some()
            && (ep.commitment.is_some() || resolved_only)
        {
            let order = |x: &At| turn_of(x).map_or("–".to_string(), |t| t.to_string());
            missing.push((
                "in_order",
                if resolved_only {
                    format!(
                        "{after}: empathy turn {}, solution turn {} — not empathy → solution",
                        order(&ep.empathy),
                        order(&ep.solution)
                    )
                } else {
                    format!(
                        "{after}: empathy turn {}, solution turn {}, commitment turn {} — not empathy → solution → commitment",
                        order(&ep.empathy),
                        order(&ep.solution),
                        order(&ep.commitment)
                    )
                },
            ));
        } else {
            missing.push(("in_order", format!("{after}: the sequence is incomplete")));
        }
    }
    outcome[4] = Some((ep.prompt, if ep.prompt { 1.0 } else { 0.0 }));
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
    let (mut earned, mut possible) = (0.0, 0.0);
    for (o, w) in outcome.iter().zip(STRUCTURE_WEIGHTS) {
        if let Some((_, share)) = o {
            earned += w * share;
            possible += w;
        }
    }
    let score = if possible > 0.0 {
        (100.0 * earned / possible).round() as u32
    } else {
        100
    };
    EpisodeResult {
        outcome,
        score,
        evidence: parts.join("; "),
        found,
        missing,
    }
}

pub(crate) fn add_episode(agg: &mut Episodes, r: EpisodeResult) {
    agg.count += 1;
    for (t, o) in agg.tally.iter_mut().zip(r.outcome) {
        if let Some((passed, share)) = o {
            t.applicable += 1;
            t.passed += passed as usize;
            t.earned += share;
        }
    }
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
            rule_id: Arc::from(d.id.as_str()),
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
                replacement: Arc::from(format!("{}{}", d.suggest, t.matched)),
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
