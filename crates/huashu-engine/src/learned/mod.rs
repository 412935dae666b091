//! The learned backstop: a ruleset's learned models ([`LearnedModel`], `learned/*.tsv`) run after the rules
//! on an agent's turn. A model scores the turn's character n-grams; a turn that reaches the model's threshold
//! and has no rule finding of the model's category gets one finding, on the clause that weighs most. Rules
//! say which words and why; the model finds the wordings no rule lists (held-out figures: docs/learned.md).
//! Batch scoring turns it on (`huashu scan`, `score`, `eval`); an engine has none unless given one, so live
//! assist and the latency benchmark run the rules alone.

mod grams;
mod train;

use std::collections::HashMap;
use std::sync::Arc;

use huashu_rules::{Applicability, Category, LearnedModel, Severity};
use huashu_text::{Normalized, Span};

use crate::error::EngineError;
use crate::finding::{Finding, Suggestion};

pub use grams::{Gram, grams, keys, pack, unpack};
pub use train::{Example, Settings, train};

/// A ruleset's learned models, compiled.
#[derive(Debug, Clone)]
pub struct Backstop {
    models: Vec<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    id: Arc<str>,
    category: Category,
    threshold: f32,
    bias: f32,
    message: String,
    suggestion: Option<Arc<str>>,
    weights: HashMap<u64, f32>,
}

impl Compiled {
    fn score(&self, keys: &[u64]) -> f32 {
        let sum: f32 = keys.iter().filter_map(|k| self.weights.get(k)).sum();
        sigmoid(self.bias + sum)
    }
}

/// The logistic function, as the trainer uses it.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl Backstop {
    /// Compiles `models`.
    ///
    /// # Errors
    /// Two models with one id, or an n-gram written twice in one model, naming the file.
    pub fn new(models: &[LearnedModel]) -> Result<Backstop, EngineError> {
        let mut compiled: Vec<Compiled> = Vec::with_capacity(models.len());
        for m in models {
            if compiled.iter().any(|c| *c.id == *m.id) {
                return Err(EngineError::Invalid {
                    file: m.file.clone(),
                    field: "id".into(),
                    message: format!("`{}` is the id of another learned model", m.id),
                });
            }
            let mut weights = HashMap::with_capacity(m.weights.len());
            for (gram, w) in &m.weights {
                let key = pack(gram).ok_or_else(|| EngineError::Invalid {
                    file: m.file.clone(),
                    field: "weights".into(),
                    message: format!("`{gram}` is not an n-gram of 1 to 3 characters"),
                })?;
                if weights.insert(key, *w).is_some() {
                    return Err(EngineError::Invalid {
                        file: m.file.clone(),
                        field: "weights".into(),
                        message: format!("`{gram}` is written twice"),
                    });
                }
            }
            compiled.push(Compiled {
                id: m.id.as_str().into(),
                category: m.category,
                threshold: m.threshold,
                bias: m.bias,
                message: m.message.clone(),
                suggestion: m.suggestion.as_deref().map(Arc::from),
                weights,
            });
        }
        Ok(Backstop { models: compiled })
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The models' ids and categories.
    pub fn models(&self) -> impl Iterator<Item = (&str, Category)> {
        self.models.iter().map(|m| (&*m.id, m.category))
    }

    /// Each model's score (0–1) of a normalised turn, in the order of [`Backstop::models`].
    pub fn scores(&self, normalized: &str) -> Vec<f32> {
        let keys = keys(normalized);
        self.models.iter().map(|m| m.score(&keys)).collect()
    }

    /// The models' findings on an agent's turn `text` (normalised: `norm`) that the rules' `findings` leave
    /// room for: one per model whose score reaches its threshold, for a category no rule found in the turn
    /// and `exempted` does not clear (asked only then), on the clause that weighs most among those no finding
    /// touches. Appended to `findings`, which stay sorted by position and never overlap.
    pub(crate) fn add_findings(
        &self,
        text: &str,
        norm: &Normalized,
        turn_index: usize,
        findings: &mut Vec<Finding>,
        exempted: impl Fn(Category) -> bool,
    ) {
        // A turn the rules already flagged in every model's category needs no n-grams at all.
        if self
            .models
            .iter()
            .all(|m| findings.iter().any(|f| f.category == m.category))
        {
            return;
        }
        let keys = keys(norm.as_str());
        let mut added = false;
        for m in &self.models {
            if findings.iter().any(|f| f.category == m.category) {
                continue;
            }
            let score = m.score(&keys);
            if score < m.threshold || exempted(m.category) {
                continue;
            }
            let Some(span) = best_clause(m, text, norm, findings) else {
                continue;
            };
            let char_start = text[..span.start].chars().count();
            let matched = text[span.start..span.end].to_string();
            let char_end = char_start + matched.chars().count();
            findings.push(Finding {
                rule_id: m.id.clone(),
                category: m.category,
                severity: Severity::Minor,
                turn_index,
                span,
                char_start,
                char_end,
                matched,
                message: m.message.replace("{score}", &format!("{score:.2}")),
                suggestions: m
                    .suggestion
                    .iter()
                    .map(|s| Suggestion {
                        span,
                        replacement: s.clone(),
                        applicability: Applicability::Review,
                    })
                    .collect(),
                confidence: None,
            });
            added = true;
        }
        if added {
            findings.sort_by_key(|f| (f.span.start, f.span.end));
        }
    }
}

/// A clause boundary in normalised text: sentence and clause punctuation (normalisation writes a clause break
/// as `,`), not the marks inside a word or number.
fn breaks(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() && !matches!(c, '%' | '\'' | '-' | '_' | '@' | '#')
}

/// The original span of the clause of `norm` whose n-grams weigh most for `m`, among the clauses no finding
/// overlaps; None when every clause is taken.
fn best_clause(m: &Compiled, text: &str, norm: &Normalized, findings: &[Finding]) -> Option<Span> {
    let normalized = norm.as_str();
    let mut clauses = Vec::new();
    let mut start = 0;
    for (i, c) in normalized.char_indices() {
        if breaks(c) {
            clauses.push(start..i);
            start = i + c.len_utf8();
        }
    }
    clauses.push(start..normalized.len());
    let grams = grams(normalized);
    let mut best: Option<(bool, f32, Span)> = None;
    for clause in clauses {
        let trimmed = trim(normalized, clause);
        if trimmed.is_empty() {
            continue;
        }
        let span = norm.original_span(trimmed.clone());
        let span = trim_span(text, span);
        if span.start >= span.end
            || findings
                .iter()
                .any(|f| f.span.start < span.end && span.start < f.span.end)
        {
            continue;
        }
        let weight: f32 = grams
            .iter()
            .filter(|g| g.start >= trimmed.start && g.end <= trimmed.end)
            .filter_map(|g| m.weights.get(&g.key))
            .sum();
        // A clause of one or two characters (不会, 好的) is an answer, not the words that carry the meaning: it is
        // the span only when no longer clause is free.
        let worded = normalized[trimmed].chars().nth(2).is_some();
        if best
            .as_ref()
            .is_none_or(|(b_worded, w, _)| (worded, weight) > (*b_worded, *w))
        {
            best = Some((worded, weight, span));
        }
    }
    best.map(|(_, _, span)| span)
}

fn trim(s: &str, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let inner = &s[r.clone()];
    let start = r.start + (inner.len() - inner.trim_start().len());
    let end = r.start + inner.trim_end().len();
    start..end.max(start)
}

fn trim_span(text: &str, span: Span) -> Span {
    let Some(inner) = text.get(span.start..span.end) else {
        return span;
    };
    let start = span.start + (inner.len() - inner.trim_start().len());
    let end = span.start + inner.trim_end().len();
    Span::new(start, end.max(start))
}

#[cfg(test)]
mod tests;
