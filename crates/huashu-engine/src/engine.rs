//! The engine: a ruleset compiled for turns and for whole conversations. It owns three parts, each with
//! one job and none referring back to the engine: the enforced rules' [`Matcher`], the preview rules'
//! [`Matcher`] (when the ruleset has any), and the [`Scorecard`] (cue lists, compiled as a matcher of their
//! own, and the scoring). The turn matcher lives in `matcher/`; this file only routes.

use std::sync::Arc;

use huashu_rules::{LearnedModel, Role, Rule, Ruleset};
use huashu_text::{Normalized, Options};

use crate::asr::Tolerance;
use crate::conversation::Scorecard;
use crate::error::EngineError;
use crate::finding::Finding;
use crate::learned::Backstop;
use crate::matcher::{Matcher, Withheld};

/// A ruleset compiled for matching and scoring. Immutable, `Send + Sync`, cheap to share behind an
/// [`std::sync::Arc`]; a new ruleset version means a new `Engine`.
pub struct Engine {
    /// The enforced (`status = "active"`) rules.
    matcher: Matcher,
    /// The ruleset's `status = "preview"` rules, compiled apart so that they never hide, nor are hidden
    /// by, an enforced rule's finding, and cost nothing when a ruleset has none.
    previews: Option<Matcher>,
    /// The conversation scorecard: cues, checks, points, must-say items.
    scorecard: Scorecard,
    /// The learned models batch scoring runs after the rules ([`Engine::with_learned`]); none by default.
    backstop: Option<Arc<Backstop>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("matcher", &self.matcher)
            .field("previews", &self.previews)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Compiles `ruleset`.
    ///
    /// # Errors
    /// A regex that does not compile, a phrase or context word that normalises to nothing, or an
    /// automaton too large to build; each names the rule, its file and line. A scorecard that names an
    /// unknown check or cue, or a check without the cue lists it needs.
    pub fn new(ruleset: Ruleset) -> Result<Engine, EngineError> {
        // The scorecard first: its errors are reported before any rule's, as they always were.
        let scorecard = Scorecard::compile(&ruleset)?;
        let Ruleset { manifest, rules } = ruleset;
        let (active, preview): (Vec<Rule>, Vec<Rule>) =
            rules.into_iter().partition(|r| r.status.is_active());
        let previews = if preview.is_empty() {
            None
        } else {
            Some(Matcher::compile(Ruleset {
                manifest: manifest.clone(),
                rules: preview,
            })?)
        };
        let matcher = Matcher::compile(Ruleset {
            manifest,
            rules: active,
        })?;
        Ok(Engine {
            matcher,
            previews,
            scorecard,
            backstop: None,
        })
    }

    /// This engine with `models` run after the rules on every agent turn it scans (none: the rules alone).
    ///
    /// # Errors
    /// Two models with one id, or an n-gram written twice in a model.
    pub fn with_learned(mut self, models: &[LearnedModel]) -> Result<Engine, EngineError> {
        self.backstop = if models.is_empty() {
            None
        } else {
            Some(Arc::new(Backstop::new(models)?))
        };
        Ok(self)
    }

    /// The learned models this engine runs after the rules, if any.
    pub fn learned(&self) -> Option<&Backstop> {
        self.backstop.as_deref()
    }

    /// The bundled default ruleset `zh-CN`, compiled.
    ///
    /// # Errors
    /// Only if the bundled ruleset were broken, which the test suite rules out.
    pub fn default_ruleset() -> Result<Engine, EngineError> {
        Engine::new(Ruleset::builtin("zh-CN")?)
    }

    /// The enforced rules' matcher.
    pub(crate) fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// The conversation scorecard.
    pub(crate) fn scorecard(&self) -> &Scorecard {
        &self.scorecard
    }

    /// The scorecard cues one turn contains, in order of position: `(cue name, the original words)`. Names are
    /// those of `[scoring.cues]` (`empathy`, `solution`, `commitment`, `time`, …) and, for must-say items,
    /// `disclosure:<id>:trigger` / `disclosure:<id>:required`. Empty when the ruleset has no cue lists.
    pub fn cues(&self, role: Role, text: &str) -> Vec<(String, String)> {
        let cues = &self.scorecard.cues;
        let norm = self.normalize(text);
        cues.find(role, text, &norm)
            .into_iter()
            .filter_map(|h| Some((cues.name(h.cue)?.to_string(), h.matched)))
            .collect()
    }

    /// Whether some rule, enforced or preview, looks at the other party's previous turn.
    pub fn wants_previous(&self) -> bool {
        self.matcher.wants_previous() || self.previews.as_ref().is_some_and(Matcher::wants_previous)
    }

    /// The preview rules, compiled (None when the ruleset has none).
    pub fn preview_engine(&self) -> Option<&Matcher> {
        self.previews.as_ref()
    }

    /// This engine's ruleset, preview rules included, with the rules `ids` switched off, compiled anew
    /// (a sidecar session's rule switches).
    ///
    /// # Errors
    /// An id that names no rule of the ruleset.
    pub fn without_rules<S: AsRef<str>>(&self, ids: &[S]) -> Result<Engine, EngineError> {
        let mut rs = self.ruleset().clone();
        if let Some(p) = &self.previews {
            rs.rules.extend(p.ruleset().rules.iter().cloned());
            rs.rules.sort_by(|a, b| a.id.cmp(&b.id));
        }
        rs.disable(ids)?;
        let mut engine = Engine::new(rs)?;
        engine.backstop.clone_from(&self.backstop);
        Ok(engine)
    }

    /// A rule of this engine by id, enforced or preview.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.ruleset()
            .rule(id)
            .or_else(|| self.previews.as_ref().and_then(|p| p.ruleset().rule(id)))
    }

    /// The enforced rules (and the manifest, scorecard included).
    pub fn ruleset(&self) -> &Ruleset {
        self.matcher.ruleset()
    }

    pub fn options(&self) -> &Options {
        self.matcher.options()
    }

    /// Every rule's phrases, normalised as the matcher sees them (what a raw phrase-scan baseline should use).
    pub fn normalized_phrases(&self) -> Vec<String> {
        self.matcher.normalized_phrases()
    }

    /// Normalises `text` with this engine's options.
    pub fn normalize(&self, text: &str) -> Normalized {
        self.matcher.normalize(text)
    }

    /// Findings for a turn a speech recogniser produced with `confidence` (0–1): each finding carries a
    /// confidence, and rules also match at pinyin level as `tolerance` says (a tolerant hit's confidence is
    /// lowered by its edit distance).
    pub fn check_asr(
        &self,
        role: Role,
        text: &str,
        confidence: f32,
        tolerance: Tolerance,
        turn_index: usize,
    ) -> Vec<Finding> {
        self.matcher
            .check_asr(role, text, confidence, tolerance, turn_index)
    }

    /// The compliant rewrite of `text`, or `None` when there is none to offer (see
    /// [`Engine::compliant_rewrite`]).
    pub fn rewrite(&self, role: Role, text: &str) -> Option<String> {
        self.compliant_rewrite(role, text, &self.scan(role, text))
            .ok()
    }

    /// `text` with the safe suggestion of every finding applied, checked again until nothing is left to
    /// apply: a rewrite this engine would flag is never offered. `findings` are this engine's findings on
    /// `text`; a turn without findings is its own rewrite.
    ///
    /// # Errors
    /// [`Withheld`] naming what would still be flagged (a rule with no safe replacement, or a replacement
    /// that leaves the clause non-compliant).
    pub fn compliant_rewrite(
        &self,
        role: Role,
        text: &str,
        findings: &[Finding],
    ) -> Result<String, Withheld> {
        self.matcher.compliant_rewrite(role, text, findings)
    }
}
