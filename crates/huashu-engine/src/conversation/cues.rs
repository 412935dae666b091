//! Cue lists from `[scoring.cues]` (and disclosure triggers), compiled with the same matcher as rules.

use huashu_rules::{
    Category, Cue, Manifest, Match, Role, RoleScope, Rule, Ruleset, Scoring, Severity, Source,
};
use huashu_text::Normalized;

use crate::error::EngineError;
use crate::matcher::Matcher;

/// One cue found in a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CueHit {
    /// Index into the compiled cue list (see [`Cues::name`]).
    pub cue: usize,
    /// Byte offset in the normalised turn, for ordering cues within one turn.
    pub at: usize,
    /// Bytes of the original turn.
    pub span: huashu_text::Span,
    /// Original text of the cue.
    pub matched: String,
}

#[derive(Debug)]
pub struct Cues {
    matcher: Matcher,
    names: Vec<String>,
}

impl Cues {
    pub fn compile(manifest: &Manifest, label: &str) -> Result<Cues, EngineError> {
        let scoring: &Scoring = &manifest.scoring;
        let mut rules = Vec::new();
        // A cue is found in one turn, with no previous turn to look at: a condition on it could never hold.
        let looks_back = |field: String, m: &Match| -> Result<(), EngineError> {
            if m.only_after_turn_has.is_empty()
                && m.unless_after_turn_has.is_empty()
                && m.only_after_exchange_has.is_empty()
                && m.unless_after_exchange_has.is_empty()
            {
                return Ok(());
            }
            Err(EngineError::Invalid {
                file: label.to_string(),
                field,
                message: "`only_after_turn_has` / `unless_after_turn_has` belong to rules, as do `…_after_exchange_has`; a cue list cannot use them".into(),
            })
        };
        for (name, m) in &scoring.cues {
            looks_back(format!("scoring.cues.{name}"), m)?;
        }
        for d in &scoring.disclosure {
            looks_back(format!("scoring.disclosure.{}.trigger", d.id), &d.trigger)?;
            looks_back(format!("scoring.disclosure.{}.required", d.id), &d.required)?;
        }
        let mut add = |name: String, m: &Match| {
            rules.push(Rule {
                id: name.clone(),
                name,
                category: Category::Structure,
                severity: Severity::Info,
                role: RoleScope::Any,
                status: huashu_rules::Status::Active,
                message: String::new(),
                why: String::new(),
                tip: None,
                matcher: m.clone(),
                suggest: Vec::new(),
                example: Vec::new(),
                source: Source {
                    file: label.to_string(),
                    text: String::new(),
                },
            });
        };
        for (name, m) in &scoring.cues {
            if Cue::from_name(name).is_none() {
                return Err(EngineError::Invalid {
                    file: label.to_string(),
                    field: format!("scoring.cues.{name}"),
                    message: format!(
                        "unknown cue (known: {})",
                        Cue::ALL.map(Cue::name).join(", ")
                    ),
                });
            }
            if !m.phrases.is_empty() || !m.regex.is_empty() {
                add(name.clone(), m);
            }
        }
        for d in &scoring.disclosure {
            add(format!("disclosure:{}:trigger", d.id), &d.trigger);
            add(format!("disclosure:{}:required", d.id), &d.required);
        }
        let ruleset = Ruleset {
            manifest: Manifest {
                allow: Vec::new(),
                extends: Vec::new(),
                scoring: Scoring::default(),
                ..manifest.clone()
            },
            rules,
        };
        // Rules are sorted by id in a ruleset; keep `names` in the same order.
        let mut ruleset = ruleset;
        ruleset.rules.sort_by(|a, b| a.id.cmp(&b.id));
        let names = ruleset.rules.iter().map(|r| r.id.clone()).collect();
        Ok(Cues {
            matcher: Matcher::compile(ruleset)?,
            names,
        })
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The name of cue `i` (`empathy`, …, or `disclosure:<id>:trigger|required`).
    pub fn name(&self, i: usize) -> Option<&str> {
        self.names.get(i).map(String::as_str)
    }

    /// Cues in one turn, in order of position.
    pub fn find(&self, role: Role, text: &str, norm: &Normalized) -> Vec<CueHit> {
        let mut hits: Vec<CueHit> = self
            .matcher
            .cue_hits(role, norm)
            .into_iter()
            .map(|(cue, r)| {
                let span = norm.original_span(r.clone());
                CueHit {
                    cue,
                    at: r.start,
                    span,
                    matched: text[span.start..span.end].to_string(),
                }
            })
            .collect();
        hits.sort_by_key(|h| (h.at, h.cue));
        hits
    }
}
