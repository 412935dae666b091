//! Whole conversations: the streaming [`Session`], the empathy → solution → commitment structure score,
//! flow, courtesy, timing and disclosure checks, and the scorecard [`Report`].
//!
//! Scoring is a pure function of the final turns, folded one turn at a time into a bounded state, so a
//! conversation scored live (pushes, partials, finals) and one scored in batch give the same report.

mod checks;
mod complaints;
mod cues;
mod questions;
mod report;
mod session;

pub use checks::CheckId;
pub use cues::CueHit;
pub use report::{CheckResult, Evidence, Report, Structure};
pub use session::{Session, TurnUpdate};

use huashu_rules::{CheckSpec, Cue, Ruleset, Scoring};

use crate::error::EngineError;
use crate::matcher::findings::Template;
use cues::Cues;

/// A ruleset's conversation scorecard, compiled: the cue lists (a matcher of their own, see [`Cues`]), the
/// scoring, the checks it scores and its must-say items. Every engine has one (a ruleset without
/// `[scoring]` scores with the defaults).
#[derive(Debug)]
pub(crate) struct Scorecard {
    pub(crate) cues: Cues,
    pub(crate) scoring: Scoring,
    /// The checks the ruleset scores, in scorecard order ([`CheckId::ALL`]).
    pub(crate) checks: Vec<(CheckId, CheckSpec)>,
    pub(crate) cue: CueIndex,
    /// The must-say items, in `scoring.disclosure` order.
    pub(crate) disclosures: Vec<DisclosureItem>,
}

/// A must-say item, compiled: where its cues sit in the cue list, and the template of its finding (built by
/// the same code as every rule's finding).
#[derive(Debug)]
pub(crate) struct DisclosureItem {
    pub(crate) trigger: Option<usize>,
    pub(crate) required: Option<usize>,
    pub(crate) template: Template,
}

/// Where each named cue sits in the compiled cue list (None when the ruleset has no such cue).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CueIndex([Option<usize>; Cue::ALL.len()]);

impl CueIndex {
    pub(crate) fn get(&self, cue: Cue) -> Option<usize> {
        self.0[cue as usize]
    }
}

impl Scorecard {
    pub(crate) fn compile(ruleset: &Ruleset) -> Result<Scorecard, EngineError> {
        let label = format!("{} ruleset.toml", ruleset.manifest.name);
        let scoring = ruleset.manifest.scoring.clone();
        let cues = Cues::compile(&ruleset.manifest, &label)?;
        let mut checks = Vec::new();
        for (id, spec) in &scoring.checks {
            let Some(known) = CheckId::from_name(id) else {
                return Err(EngineError::Invalid {
                    file: label.clone(),
                    field: format!("scoring.checks.{id}"),
                    message: format!(
                        "unknown check (known: {})",
                        CheckId::ALL
                            .iter()
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            };
            if let Some(missing) = known
                .needs()
                .iter()
                .find(|c| cues.index(c.name()).is_none())
            {
                return Err(EngineError::Invalid {
                    file: label.clone(),
                    field: format!("scoring.checks.{id}"),
                    message: format!("needs the cue list `scoring.cues.{missing}`"),
                });
            }
            checks.push((known, spec.clone()));
        }
        checks.sort_by_key(|(id, _)| *id);
        let cue = CueIndex(Cue::ALL.map(|c| cues.index(c.name())));
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
        let disclosures = scoring
            .disclosure
            .iter()
            .map(|d| DisclosureItem {
                trigger: cues.index(&format!("disclosure:{}:trigger", d.id)),
                required: cues.index(&format!("disclosure:{}:required", d.id)),
                template: Template::disclosure(d),
            })
            .collect();
        Ok(Scorecard {
            cues,
            scoring,
            checks,
            cue,
            disclosures,
        })
    }
}

impl crate::Engine {
    /// The scorecard cues one turn contains, in order of position: `(cue name, the original words)`. Names are
    /// those of `[scoring.cues]` (`empathy`, `solution`, `commitment`, `time`, …) and, for must-say items,
    /// `disclosure:<id>:trigger` / `disclosure:<id>:required`. Empty when the ruleset has no cue lists.
    pub fn cues(&self, role: huashu_rules::Role, text: &str) -> Vec<(String, String)> {
        let conv = self.scorecard();
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
