//! Huashu rulesets as data: the model, the loader, the JSON Schema and the bundled rulesets.
//!
//! A ruleset is a directory with a `ruleset.toml` and one TOML file per rule (see `docs/rules.md`).
//! Loading never panics; every error names the file, the line and the field.

pub mod classes;
mod cue;
mod drill;
mod embedded;
mod error;
mod learned;
mod load;
mod model;
mod rule;
mod validate;

pub use cue::Cue;
pub use drill::{
    Branch, Drill, DrillExample, REQUIREMENT_CUES, Step, drill_schema, known_requirement,
};
pub use error::RulesetError;
pub use learned::LearnedModel;
pub use model::{
    CheckSpec, Deductions, Dialogue, Disclosure, Manifest, Normalization, Scoring, Timing,
};
pub use rule::{
    Applicability, Category, Example, Mask, Match, Role, RoleScope, Rule, Severity, Source, Status,
    Suggest, Validate,
};
pub use validate::MAX_WINDOW;

/// A loaded ruleset: its manifest and its rules (inherited ones included), sorted by id.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruleset {
    pub manifest: Manifest,
    pub rules: Vec<Rule>,
}

impl Ruleset {
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Switches the rules `ids` off (a CLI `--disable`, a sidecar session), leaving the others as loaded.
    ///
    /// # Errors
    /// An id that names no rule of this ruleset: a typo would otherwise leave the rule on unnoticed.
    pub fn disable<S: AsRef<str>>(&mut self, ids: &[S]) -> Result<(), RulesetError> {
        for id in ids {
            let id = id.as_ref();
            if self.rule(id).is_none() {
                return Err(RulesetError::UnknownRule {
                    id: id.to_string(),
                    ruleset: self.version_tag(),
                });
            }
        }
        self.rules
            .retain(|r| !ids.iter().any(|id| id.as_ref() == r.id));
        Ok(())
    }

    /// `name@version`, stamped on reports.
    pub fn version_tag(&self) -> String {
        format!("{}@{}", self.manifest.name, self.manifest.version)
    }
}

/// JSON Schema of a rule file, for editors (`#:schema` in TOML).
pub fn rule_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Rule)).unwrap_or_default()
}

/// JSON Schema of `ruleset.toml`.
pub fn manifest_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Manifest)).unwrap_or_default()
}
