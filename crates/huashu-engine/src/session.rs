//! The streaming session: turns arrive one by one (ASR partials may be revised), findings come back at once,
//! and the conversation state stays bounded however long the call runs. The session is the loop only: it
//! checks each turn with the engine's matcher and folds it into the scorecard's state
//! (`conversation/state.rs`), which knows nothing of the engine.

use std::sync::Arc;

use huashu_rules::Role;

use crate::asr::Tolerance;
use crate::context::Exchange;
use crate::conversation::{CheckId, Report, State};
use crate::engine::Engine;
use crate::exchange::LastExchange;
use crate::finding::{Finding, Turn};

/// What a push or a revision returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The last final turn of each party (agent, customer), as said: the previous turn a rule with
    /// `only_after_turn_has` looks at. Buffers reused from turn to turn.
    last: [Option<String>; 2],
    /// The same turns normalised (each turn is normalised once when it is folded in), so that the next
    /// turn's rules read them without normalising them again.
    last_norm: [String; 2],
    /// For each party's last turn, the other party's last turn before it (the turn it answered), as said
    /// and normalised: with `last`, the last exchange that `only_after_exchange_has` looks at.
    answered: [Option<String>; 2],
    answered_norm: [String; 2],
}

/// Where a party's last turn is kept in [`Session::last`]; a system turn is nobody's previous turn.
fn party(role: Role) -> Option<usize> {
    match role {
        Role::Agent => Some(0),
        Role::Customer => Some(1),
        Role::System => None,
    }
}

/// The party whose last turn a turn of `role` answers.
fn other(role: Role) -> Option<Role> {
    match role {
        Role::Agent => Some(Role::Customer),
        Role::Customer => Some(Role::Agent),
        Role::System => None,
    }
}

impl Session {
    pub fn new(engine: Arc<Engine>) -> Session {
        Session {
            engine,
            state: State::default(),
            partial: None,
            last: [None, None],
            last_norm: [String::new(), String::new()],
            answered: [None, None],
            answered_norm: [String::new(), String::new()],
        }
    }

    /// The other party's last final turn before a turn of `role` (for an agent turn, the customer's last
    /// turn, however many agent turns came since; None before the other party has spoken, or for a system
    /// turn). This is what rules with `only_after_turn_has` / `unless_after_turn_has` see.
    pub fn previous(&self, role: Role) -> Option<&str> {
        let other = party(other(role)?)?;
        self.last[other].as_deref()
    }

    /// This party's own turn that [`Session::previous`] answered: for an agent turn, the agent's last turn
    /// before the customer's last turn (这边发送验证码…可以吗 before 可以). None when the other party spoke
    /// first or has not spoken. Rules with `only_after_exchange_has` look at it with the previous turn.
    pub fn own_previous(&self, role: Role) -> Option<&str> {
        let other = party(other(role)?)?;
        self.answered[other].as_deref()
    }

    /// The last exchange a turn of `role` would follow now: [`Session::previous`] and
    /// [`Session::own_previous`], what the session's own turns are checked after.
    pub fn last_exchange(&self, role: Role) -> LastExchange<'_> {
        LastExchange {
            previous: self.previous(role),
            own_previous: self.own_previous(role),
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
        let findings =
            self.engine
                .scan_turn(turn.role, &turn.text, self.last_exchange(turn.role), index);
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
    pub fn report(&self) -> Report {
        self.state
            .report(self.engine.scorecard(), self.engine.ruleset())
    }

    /// The coaching tips of the failed checks among `wanted`, in scorecard order: the same pairs as
    /// `report().tips()` restricted to `wanted`, without building a report (a live session asks after every
    /// final turn).
    pub fn tips_for(&self, wanted: impl Fn(CheckId) -> bool) -> Vec<(CheckId, String)> {
        self.state
            .tips_for(self.engine.scorecard(), self.engine.ruleset(), wanted)
    }

    /// Ends the conversation. A pending partial is dropped (only finals count).
    pub fn finish(self) -> Report {
        self.report()
    }

    /// Checks a final turn against the rules and folds it into the conversation state.
    fn fold(&mut self, turn: &Turn, asr: Option<(f32, Tolerance)>) -> Vec<Finding> {
        let engine = &self.engine;
        let index = self.state.turns;
        let norm = engine.normalize(&turn.text);
        let o = other(turn.role).and_then(party);
        let previous = o
            .filter(|&p| self.last[p].is_some())
            .map(|p| self.last_norm[p].as_str());
        let own = o
            .filter(|&p| self.answered[p].is_some())
            .map(|p| self.answered_norm[p].as_str());
        let mut findings = engine.matcher().check_normalized_asr(
            turn.role,
            &turn.text,
            &norm,
            Exchange { previous, own },
            index,
            asr,
        );
        if engine.learned().is_some() {
            let exchange = LastExchange {
                previous: o.and_then(|p| self.last[p].as_deref()),
                own_previous: o.and_then(|p| self.answered[p].as_deref()),
            };
            engine.add_learned(turn.role, &turn.text, &norm, exchange, index, &mut findings);
        }
        if let (Some(at), Some(o)) = (party(turn.role), o) {
            // This turn answers the other party's last turn: keep it as the question of the exchange.
            match &self.last[o] {
                Some(said) => {
                    let answered = self.answered[at].get_or_insert_with(String::new);
                    answered.clear();
                    answered.push_str(said);
                    self.answered_norm[at].clear();
                    self.answered_norm[at].push_str(&self.last_norm[o]);
                }
                None => self.answered[at] = None,
            }
            let last = self.last[at].get_or_insert_with(String::new);
            last.clear();
            last.push_str(&turn.text);
            self.last_norm[at].clear();
            self.last_norm[at].push_str(norm.as_str());
        }
        self.state
            .observe(engine.scorecard(), turn, &norm, findings)
    }
}

impl Engine {
    /// A streaming session on this engine.
    pub fn session(self: &Arc<Self>) -> Session {
        Session::new(Arc::clone(self))
    }

    /// Scores a whole conversation in one go: the same report a session fed these final turns gives.
    pub fn score(self: &Arc<Self>, turns: &[Turn]) -> Report {
        let mut session = self.session();
        for t in turns {
            session.push_ref(t);
        }
        session.finish()
    }

    /// As [`Engine::score`] for a transcribed call: `confidences[i]` is the recogniser's confidence in
    /// `turns[i]` (missing ones count as 1), and rules match tolerantly as `tolerance` says.
    pub fn score_asr(
        self: &Arc<Self>,
        turns: &[Turn],
        confidences: &[f32],
        tolerance: Tolerance,
    ) -> Report {
        let mut session = self.session();
        for (i, t) in turns.iter().enumerate() {
            session.push_asr(t, confidences.get(i).copied().unwrap_or(1.0), tolerance);
        }
        session.finish()
    }
}
