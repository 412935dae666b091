//! Whole conversations: the streaming [`Session`], the empathy → solution → commitment structure score,
//! flow, courtesy, timing and disclosure checks, and the scorecard [`Report`].
//!
//! Scoring is a pure function of the final turns, folded one turn at a time into a bounded state, so a
//! conversation scored live (pushes, partials, finals) and one scored in batch give the same report.

mod cues;
mod report;
mod session;

pub use cues::{CUE_NAMES, CueHit};
pub use report::{CheckResult, Evidence, Report, Structure};
pub use session::{Session, TurnUpdate};

use huashu_rules::{CheckSpec, Ruleset, Scoring};

use crate::error::EngineError;
use cues::Cues;

/// The scorecard items the engine knows how to judge; their points come from the ruleset.
pub const CHECK_IDS: &[(&str, &[&str])] = &[
    ("greeting", &["greeting"]),
    ("need_confirmation", &["need_confirmation"]),
    ("identity", &["identity"]),
    ("responsiveness", &["question"]),
    ("empathy", &["complaint", "empathy"]),
    ("solution", &["complaint", "solution"]),
    ("commitment", &["complaint", "commitment"]),
    (
        "in_order",
        &["complaint", "empathy", "solution", "commitment"],
    ),
    ("prompt", &["complaint", "empathy"]),
    ("closing", &["closing"]),
    ("courtesy", &["polite"]),
    ("hold", &["hold", "hold_needed"]),
    ("escalation_time", &["escalation", "time"]),
    ("first_response", &[]),
    ("silence", &["hold"]),
    ("talk_over", &[]),
    ("speech_rate", &[]),
];

/// A ruleset's conversation scorer, compiled.
#[derive(Debug)]
pub(crate) struct Conversation {
    pub(crate) cues: Cues,
    pub(crate) scoring: Scoring,
    /// (check id, spec), in the order of [`CHECK_IDS`].
    pub(crate) checks: Vec<(&'static str, CheckSpec)>,
    pub(crate) cue: CueIndex,
}

/// Where each named cue sits in the compiled cue list (None when the ruleset has no such cue).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CueIndex {
    pub complaint: Option<usize>,
    pub complaint_manner: Option<usize>,
    pub empathy: Option<usize>,
    pub solution: Option<usize>,
    pub commitment: Option<usize>,
    pub greeting: Option<usize>,
    pub need_confirmation: Option<usize>,
    pub identity: Option<usize>,
    pub closing: Option<usize>,
    pub polite: Option<usize>,
    pub hold: Option<usize>,
    pub hold_needed: Option<usize>,
    pub escalation: Option<usize>,
    pub time: Option<usize>,
    pub resolved: Option<usize>,
    pub question: Option<usize>,
    pub filler: Option<usize>,
}

impl Conversation {
    pub(crate) fn compile(ruleset: &Ruleset) -> Result<Conversation, EngineError> {
        let label = format!("{} ruleset.toml", ruleset.manifest.name);
        let scoring = ruleset.manifest.scoring.clone();
        let cues = Cues::compile(&ruleset.manifest, &label)?;
        let mut checks = Vec::new();
        for (id, spec) in &scoring.checks {
            let Some((known, needs)) = CHECK_IDS.iter().find(|(k, _)| k == id) else {
                return Err(EngineError::Invalid {
                    file: label.clone(),
                    field: format!("scoring.checks.{id}"),
                    message: format!(
                        "unknown check (known: {})",
                        CHECK_IDS
                            .iter()
                            .map(|(k, _)| *k)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            };
            if let Some(missing) = needs.iter().find(|c| cues.index(c).is_none()) {
                return Err(EngineError::Invalid {
                    file: label.clone(),
                    field: format!("scoring.checks.{id}"),
                    message: format!("needs the cue list `scoring.cues.{missing}`"),
                });
            }
            checks.push((*known, spec.clone()));
        }
        checks.sort_by_key(|(id, _)| CHECK_IDS.iter().position(|(k, _)| k == id));
        let cue = CueIndex {
            complaint: cues.index("complaint"),
            complaint_manner: cues.index("complaint_manner"),
            empathy: cues.index("empathy"),
            solution: cues.index("solution"),
            commitment: cues.index("commitment"),
            greeting: cues.index("greeting"),
            need_confirmation: cues.index("need_confirmation"),
            identity: cues.index("identity"),
            closing: cues.index("closing"),
            polite: cues.index("polite"),
            hold: cues.index("hold"),
            hold_needed: cues.index("hold_needed"),
            escalation: cues.index("escalation"),
            time: cues.index("time"),
            resolved: cues.index("resolved"),
            question: cues.index("question"),
            filler: cues.index("filler"),
        };
        let d = scoring.dialogue;
        for (field, v) in [
            ("late_empathy_share", d.late_empathy_share),
            ("repeat_similarity", d.repeat_similarity),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(EngineError::Invalid {
                    file: label.clone(),
                    field: format!("scoring.dialogue.{field}"),
                    message: format!("must be between 0 and 1, not {v}"),
                });
            }
        }
        Ok(Conversation {
            cues,
            scoring,
            checks,
            cue,
        })
    }
}

impl crate::Engine {
    /// The scorecard cues one turn contains, in order of position: `(cue name, the original words)`. Names are
    /// those of `[scoring.cues]` (`empathy`, `solution`, `commitment`, `time`, …) and, for must-say items,
    /// `disclosure:<id>:trigger` / `disclosure:<id>:required`. Empty when the ruleset has no scorecard.
    pub fn cues(&self, role: huashu_rules::Role, text: &str) -> Vec<(String, String)> {
        let Some(conv) = self.conversation() else {
            return Vec::new();
        };
        let norm = self.normalize(text);
        conv.cues
            .find(role, text, &norm)
            .into_iter()
            .filter_map(|h| Some((conv.cues.name(h.cue)?.to_string(), h.matched)))
            .collect()
    }

    /// A streaming session on this engine.
    pub fn session(self: &std::sync::Arc<Self>) -> Session {
        Session::new(std::sync::Arc::clone(self))
    }

    /// Scores a whole conversation in one go: the same report a session fed these final turns gives.
    pub fn score(self: &std::sync::Arc<Self>, turns: &[crate::Turn]) -> Report {
        let mut session = self.session();
        for t in turns {
            session.push_ref(t);
        }
        session.finish()
    }

    /// As [`Engine::score`] for a transcribed call: `confidences[i]` is the recogniser's confidence in
    /// `turns[i]` (missing ones count as 1), and rules match tolerantly as `tolerance` says.
    pub fn score_asr(
        self: &std::sync::Arc<Self>,
        turns: &[crate::Turn],
        confidences: &[f32],
        tolerance: crate::Tolerance,
    ) -> Report {
        let mut session = self.session();
        for (i, t) in turns.iter().enumerate() {
            session.push_asr(t, confidences.get(i).copied().unwrap_or(1.0), tolerance);
        }
        session.finish()
    }
}
