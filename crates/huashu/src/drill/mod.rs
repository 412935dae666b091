//! Running a practice drill (`huashu_rules::Drill`): the customer's lines one by one, each reply judged by the
//! drill's ruleset (findings, scorecard cues), immediate feedback, and a summary with one tip per weakness.
//! One code path for `huashu drill` and the sidecar's practice API.
//!
//! Step score = 100 × (requirements met ÷ requirements) − the ruleset's deduction per finding, clamped to 0–100;
//! 0 when a finding has a category the step forbids. Drill score = mean of the step scores. A critical finding
//! fails the drill whatever the score.

use std::sync::Arc;

use serde::Serialize;

use crate::rules::{Category, Drill, Severity};
use crate::{CheckId, Cue, Engine, Finding, Role, Session, Turn};

mod words;
pub use words::Words;

/// The cues every feedback shows, present or not.
pub const STRUCTURE: [Cue; 3] = [Cue::Empathy, Cue::Solution, Cue::Commitment];

/// One finding as feedback shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FindingNote {
    pub rule: String,
    pub category: String,
    pub severity: String,
    pub matched: String,
    pub message: String,
    /// The compliant wording for this span, if the rule has one.
    pub suggestion: Option<String>,
}

impl From<&Finding> for FindingNote {
    fn from(f: &Finding) -> Self {
        FindingNote {
            rule: f.rule_id.to_string(),
            category: f.category.as_str().to_string(),
            severity: f.severity.as_str().to_string(),
            matched: f.matched.clone(),
            message: f.message.clone(),
            suggestion: f.suggestions.first().map(|s| s.replacement.to_string()),
        }
    }
}

/// Whether a reply carried a cue or met a requirement, and the words that did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Presence {
    pub name: String,
    /// What a trainee reads for `name` ([`Words::label`], in the ruleset's language): the CLI and the console show this, never a list of
    /// their own.
    pub label: String,
    pub present: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
}

/// Immediate feedback on one reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Feedback {
    /// 0-based step.
    pub step: usize,
    pub customer: String,
    pub reply: String,
    pub findings: Vec<FindingNote>,
    /// The reply with the safe suggestions applied (equal to the reply when nothing was found).
    pub rewrite: String,
    /// Empathy / solution / commitment, present or not.
    pub structure: Vec<Presence>,
    /// The step's requirements (`order` included), met or not.
    pub requirements: Vec<Presence>,
    pub step_score: u32,
    /// Mean over the steps answered so far.
    pub running_score: u32,
    /// The step's model answer, if the drill has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the customer says next (the next step's line or a branch's reaction); `None` after the last step
    /// unless a branch reacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub done: bool,
}

/// One coaching tip for one weakness (a missed requirement or a rule that fired).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Tip {
    pub weakness: String,
    pub tip: String,
}

/// The verdict of a whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    pub drill: String,
    pub name: String,
    pub score: u32,
    pub pass_mark: u32,
    pub passed: bool,
    pub fatal: bool,
    pub steps: Vec<u32>,
    pub tips: Vec<Tip>,
}

/// A drill in progress.
#[derive(Debug)]
#[non_exhaustive]
pub struct DrillRun {
    drill: Arc<Drill>,
    engine: Arc<Engine>,
    session: Session,
    step: usize,
    /// The customer's line the trainee is answering now.
    prompt: String,
    scores: Vec<u32>,
    fatal: bool,
    weaknesses: Vec<String>,
    words: &'static Words,
}

/// Error when replying to a finished drill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the drill is finished")]
pub struct Finished;

impl DrillRun {
    /// Starts `drill`, judged by `engine` (which should be the drill's ruleset).
    pub fn new(drill: Arc<Drill>, engine: Arc<Engine>) -> DrillRun {
        let prompt = drill
            .steps
            .first()
            .map(|s| s.customer.clone())
            .unwrap_or_default();
        let words = Words::for_language(&engine.ruleset().manifest.language);
        DrillRun {
            words,
            session: engine.session(),
            drill,
            engine,
            step: 0,
            prompt,
            scores: Vec::new(),
            fatal: false,
            weaknesses: Vec::new(),
        }
    }

    pub fn drill(&self) -> &Drill {
        &self.drill
    }

    /// The customer's current line; `None` when every step is answered.
    pub fn prompt(&self) -> Option<&str> {
        (!self.is_done()).then_some(self.prompt.as_str())
    }

    /// 0-based index of the step being answered.
    pub fn step(&self) -> usize {
        self.step
    }

    pub fn is_done(&self) -> bool {
        self.step >= self.drill.steps.len()
    }

    /// Mean of the step scores so far (100 before the first reply).
    pub fn running_score(&self) -> u32 {
        if self.scores.is_empty() {
            return 100;
        }
        let sum: u32 = self.scores.iter().sum();
        (f64::from(sum) / self.scores.len() as f64).round() as u32
    }

    /// Judges the trainee's reply to the current line and moves on.
    ///
    /// # Errors
    /// [`Finished`] when every step is already answered.
    pub fn reply(&mut self, text: &str) -> Result<Feedback, Finished> {
        let Some(step) = self.drill.steps.get(self.step).cloned() else {
            return Err(Finished);
        };
        let customer = std::mem::take(&mut self.prompt);
        self.session.push(Turn::customer(customer.clone()));
        let findings = self.session.push(Turn::agent(text)).findings;
        let cues = self.engine.cues(Role::Agent, text);
        let first = |name: &str| -> Option<(usize, &str)> {
            let key = match name.strip_prefix("disclosure:") {
                Some(id) => format!("disclosure:{id}:required"),
                None => name.to_string(),
            };
            cues.iter()
                .enumerate()
                .find(|(_, (n, _))| *n == key)
                .map(|(i, (_, m))| (i, m.as_str()))
        };
        let presence = |name: &str| {
            let hit = first(name);
            Presence {
                name: name.to_string(),
                label: self.words.label(name).to_string(),
                present: hit.is_some(),
                matched: hit.map(|(_, m)| m.to_string()),
            }
        };
        let structure: Vec<Presence> = STRUCTURE.iter().map(|c| presence(c.name())).collect();
        let mut requirements: Vec<Presence> = step.require.iter().map(|n| presence(n)).collect();
        if !step.order.is_empty() {
            let positions: Vec<Option<usize>> = step
                .order
                .iter()
                .map(|n| first(n).map(|(i, _)| i))
                .collect();
            let ok =
                positions.iter().all(Option::is_some) && positions.windows(2).all(|w| w[0] <= w[1]);
            requirements.push(Presence {
                name: "order".into(),
                label: self.words.label("order").to_string(),
                present: ok,
                matched: ok.then(|| step.order.join(" → ")),
            });
        }
        let met = requirements.iter().filter(|r| r.present).count();
        let base = if requirements.is_empty() {
            100.0
        } else {
            100.0 * met as f64 / requirements.len() as f64
        };
        let deduct = self.engine.ruleset().manifest.scoring.deduct;
        let lost: u32 = findings
            .iter()
            .map(|f| deduct.for_severity(f.severity))
            .sum();
        let forbidden = findings.iter().any(|f| step.forbid.contains(&f.category));
        let step_score = if forbidden {
            0
        } else {
            (base.round() as u32).saturating_sub(lost).min(100)
        };
        if findings.iter().any(|f| f.severity == Severity::Critical) {
            self.fatal = true;
        }
        for r in requirements.iter().filter(|r| !r.present) {
            self.note(&r.name);
        }
        for f in &findings {
            self.note(&f.rule_id);
        }
        self.scores.push(step_score);
        let reaction = step.branches.iter().find(|b| {
            if let Some(c) = &b.has {
                first(c).is_some()
            } else if let Some(c) = &b.lacks {
                first(c).is_none()
            } else if let Some(c) = &b.finding {
                findings
                    .iter()
                    .any(|f| c == "any" || Category::parse(c) == Some(f.category))
            } else {
                false
            }
        });
        self.step += 1;
        let next = match (reaction, self.drill.steps.get(self.step)) {
            (Some(b), _) => Some(b.customer.clone()),
            (None, Some(s)) => Some(s.customer.clone()),
            (None, None) => None,
        };
        if !self.is_done() {
            self.prompt = next.clone().unwrap_or_default();
        }
        let rewrite = crate::apply_suggestions(text, &findings);
        Ok(Feedback {
            step: self.step - 1,
            customer,
            reply: text.to_string(),
            findings: findings.iter().map(FindingNote::from).collect(),
            rewrite,
            structure,
            requirements,
            step_score,
            running_score: self.running_score(),
            model: step.model.clone(),
            next,
            done: self.is_done(),
        })
    }

    fn note(&mut self, weakness: &str) {
        if !self.weaknesses.iter().any(|w| w == weakness) {
            self.weaknesses.push(weakness.to_string());
        }
    }

    /// The verdict so far (unanswered steps count as 0 and fail the drill).
    pub fn summary(&self) -> Summary {
        let mut steps = self.scores.clone();
        steps.resize(self.drill.steps.len(), 0);
        let score = if steps.is_empty() {
            0
        } else {
            (f64::from(steps.iter().sum::<u32>()) / steps.len() as f64).round() as u32
        };
        let passed = self.is_done() && !self.fatal && score >= self.drill.pass_mark;
        Summary {
            drill: self.drill.id.clone(),
            name: self.drill.name.clone(),
            score,
            pass_mark: self.drill.pass_mark,
            passed,
            fatal: self.fatal,
            steps,
            tips: self
                .weaknesses
                .iter()
                .map(|w| Tip {
                    weakness: w.clone(),
                    tip: self.tip_for(w),
                })
                .collect(),
        }
    }

    /// The drill's own tip, else the ruleset's (scorecard check, must-say item or rule), else a plain one.
    fn tip_for(&self, weakness: &str) -> String {
        if let Some(t) = self.drill.tips.get(weakness) {
            return t.clone();
        }
        let ruleset = self.engine.ruleset();
        let scoring = &ruleset.manifest.scoring;
        // The check that judges a cue a drill asks for (`order` is the drill's own word for `in_order`).
        let check = match Cue::from_name(weakness) {
            Some(Cue::Time | Cue::Escalation) => CheckId::EscalationTime.name(),
            Some(Cue::Polite) => CheckId::Courtesy.name(),
            _ if weakness == "order" => CheckId::InOrder.name(),
            _ => weakness,
        };
        if let Some(t) = scoring
            .checks
            .get(check)
            .map(|c| c.tip.clone())
            .filter(|t| !t.is_empty())
        {
            return t;
        }
        let disclosure_id = weakness.strip_prefix("disclosure:").unwrap_or(weakness);
        if let Some(d) = scoring.disclosure.iter().find(|d| d.id == disclosure_id) {
            return d.tip.clone();
        }
        if let Some(rule) = ruleset.rule(weakness) {
            let say = rule.suggest.first().and_then(|s| s.replace.as_deref());
            return self.words.rule_tip(rule.tip.as_deref(), &rule.name, say);
        }
        self.words.must_have(weakness)
    }
}
