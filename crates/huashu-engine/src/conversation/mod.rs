//! Whole conversations: the scorecard (cue lists, checks, the conversation state and its fold), the
//! empathy → solution → commitment structure score, flow, courtesy, timing and disclosure checks, and the
//! [`Report`]. The streaming `Session` that feeds it turns is `crate::session`; nothing here refers to the
//! engine.
//!
//! Scoring is a pure function of the final turns, folded one turn at a time into a bounded state, so a
//! conversation scored live (pushes, partials, finals) and one scored in batch give the same report.

mod checks;
mod clauses;
mod complaints;
mod cues;
mod questions;
mod report;
mod state;

pub use checks::CheckId;
pub use cues::CueHit;
pub use report::{CheckResult, Evidence, Report, Structure};
pub(crate) use state::State;

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
            if let Some(cap) = spec.cap.filter(|&c| c > 100) {
                return Err(EngineError::Invalid {
                    file: label.clone(),
                    field: format!("scoring.checks.{id}.cap"),
                    message: format!("must be a score from 0 to 100, not {cap}"),
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
