//! What the engine reports for one turn.

use huashu_rules::{Applicability, Category, Role, Severity};
use huashu_text::Span;
use serde::Serialize;
use std::sync::Arc;

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Turn {
    pub role: Role,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
}

impl Turn {
    pub fn new(role: Role, text: impl Into<String>) -> Turn {
        Turn {
            role,
            text: text.into(),
            start_ms: None,
            end_ms: None,
        }
    }

    pub fn agent(text: impl Into<String>) -> Turn {
        Turn::new(Role::Agent, text)
    }

    pub fn customer(text: impl Into<String>) -> Turn {
        Turn::new(Role::Customer, text)
    }

    pub fn with_times(mut self, start_ms: u64, end_ms: u64) -> Turn {
        self.start_ms = Some(start_ms);
        self.end_ms = Some(end_ms);
        self
    }

    /// Times that may be absent (as read from input): `Turn` is `#[non_exhaustive]`, so code outside this
    /// crate builds turns with `new`/`agent`/`customer` and these.
    pub fn with_optional_times(mut self, start_ms: Option<u64>, end_ms: Option<u64>) -> Turn {
        self.start_ms = start_ms;
        self.end_ms = end_ms;
        self
    }
}

/// A compliant replacement for a finding's span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Suggestion {
    /// Bytes of the original text this replaces (the finding's span).
    pub span: Span,
    /// Shared with the rule (a fixed replacement) or made for this finding (a mask).
    pub replacement: Arc<str>,
    pub applicability: Applicability,
}

/// A rule that fired on a turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// Shared with the rule: a finding does not copy it.
    pub rule_id: Arc<str>,
    pub category: Category,
    pub severity: Severity,
    /// Index of the turn in its conversation (0 for a single scanned turn).
    pub turn_index: usize,
    /// Bytes of the ORIGINAL text.
    pub span: Span,
    /// Characters of the original text: `text.chars().skip(start).take(end - start)` is `matched`.
    pub char_start: usize,
    pub char_end: usize,
    /// The original text of the span.
    pub matched: String,
    pub message: String,
    pub suggestions: Vec<Suggestion>,
    /// On a transcribed turn: how sure we are the words were said, in [0, 1] (the recogniser's confidence,
    /// lowered for a tolerant match by its edit distance). `None` on text turns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

// `confidence` is never NaN (clamped where it is set), so equality stays an equivalence.
impl Eq for Finding {}

impl Finding {
    /// The suggestion `rewrite` applies, if any: the first safe one.
    pub fn safe_suggestion(&self) -> Option<&Suggestion> {
        self.suggestions
            .iter()
            .find(|s| s.applicability == Applicability::Safe)
    }
}

/// Applies the first safe suggestion of each finding to `text`. Findings must point into `text` and not
/// overlap (what [`crate::Engine::check`] returns); any that do not are skipped, never panicking.
pub fn apply_suggestions(text: &str, findings: &[Finding]) -> String {
    let mut edits: Vec<&Suggestion> = findings
        .iter()
        .filter_map(Finding::safe_suggestion)
        .collect();
    edits.sort_by_key(|s| (s.span.start, s.span.end));
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for s in edits {
        let ok = s.span.start >= at
            && s.span.end <= text.len()
            && text.is_char_boundary(s.span.start)
            && text.is_char_boundary(s.span.end);
        if !ok {
            continue;
        }
        out.push_str(&text[at..s.span.start]);
        out.push_str(&s.replacement);
        at = s.span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// A rule's match that is no finding, and why: what `huashu eval` shows for a false negative, so that whoever
/// tunes a rule sees which exemption (or checksum, allow-list word, overlap) kept it quiet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NearMiss {
    pub rule_id: Arc<str>,
    pub category: Category,
    /// Byte range of the matched words in the original turn.
    pub span: Span,
    pub char_start: usize,
    pub char_end: usize,
    pub matched: String,
    pub dropped_by: DroppedBy,
}

/// Why a match is no finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DroppedBy {
    /// The matched number fails its checksum (ID card, Luhn).
    Checksum,
    /// A context condition of the rule, named as rule files name it (`unless_turn_has`, …), and the words of
    /// the turn that met it (None for a word the sentence must hold and lacks: `only_if_sentence_has`).
    Context {
        condition: &'static str,
        words: Option<String>,
    },
    /// A condition on the last exchange (`only_after_turn_has`, `unless_after_exchange_has`, …).
    Exchange { condition: &'static str },
    /// The match lies inside an allow-list word of the ruleset.
    AllowList { words: String },
    /// Another rule's finding overlaps it and was reported instead.
    Overlap { rule_id: Arc<str> },
}

impl DroppedBy {
    /// Whether the turn itself met an exemption of the rule (an `unless_*` word, an allow-list word, a number
    /// failing its checksum): the rule judged the wording compliant. Not a missing required word, a missing
    /// previous turn, or another rule's finding.
    pub fn is_exemption(&self) -> bool {
        match self {
            DroppedBy::Checksum | DroppedBy::AllowList { .. } => true,
            DroppedBy::Context { condition, words } => {
                words.is_some() && condition.starts_with("unless")
            }
            DroppedBy::Exchange { condition } => condition.starts_with("unless"),
            DroppedBy::Overlap { .. } => false,
        }
    }
}

impl std::fmt::Display for DroppedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DroppedBy::Checksum => write!(f, "checksum fails"),
            DroppedBy::Context {
                condition,
                words: Some(w),
            } => write!(f, "{condition} “{w}”"),
            DroppedBy::Context {
                condition,
                words: None,
            } => write!(f, "{condition}: none in the sentence"),
            DroppedBy::Exchange { condition } => write!(f, "{condition} (last exchange)"),
            DroppedBy::AllowList { words } => write!(f, "allow-list “{words}”"),
            DroppedBy::Overlap { rule_id } => write!(f, "overlaps {rule_id}'s finding"),
        }
    }
}
