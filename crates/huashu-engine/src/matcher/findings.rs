//! Findings: a rule's hit, or a must-say item's trigger, becomes a [`Finding`] with spans into the ORIGINAL
//! text, its message and its suggestions. Each rule and each must-say item is compiled once into a
//! [`Template`], and [`Template::finding`] is the one constructor: enforced, preview and disclosure findings
//! cannot drift apart in shape (char offsets, message substitution, shared ids).

use std::sync::Arc;

use huashu_rules::{Applicability, Category, Disclosure, Mask, Rule, Severity};
use huashu_text::{Normalized, Span};

use huashu_rules::Role;

use super::Matcher;
use super::mask::apply_mask;
use super::scan::{Dropped, Hit, HitScratch};
use crate::asr::Tolerance;
use crate::context::Exchange;
use crate::exchange::LastExchange;
use crate::finding::{DroppedBy, Finding, NearMiss, Suggestion};

/// What every finding of one rule (or must-say item) shares, prepared when the ruleset is compiled.
#[derive(Debug)]
pub(crate) struct Template {
    /// The rule id, shared by every finding of the rule (a finding clones the `Arc`, not the string).
    id: Arc<str>,
    category: Category,
    severity: Severity,
    /// The message split at each `{matched}` (more than one part when it quotes the match), so that a
    /// finding's message is joined rather than searched and replaced.
    message: Vec<String>,
    suggestions: Vec<(Replacement, Applicability)>,
}

/// How one suggestion replaces the matched words.
#[derive(Debug)]
enum Replacement {
    /// Fixed words, shared by every finding (empty: the suggestion deletes the words).
    Fixed(Arc<str>),
    /// The matched words, redacted.
    Mask(Mask),
    /// Words to say before the matched ones (a disclosure: "广告：" + the recommendation).
    Prefix(String),
}

impl Template {
    pub(crate) fn rule(rule: &Rule) -> Template {
        Template {
            id: Arc::from(rule.id.as_str()),
            category: rule.category,
            severity: rule.severity,
            message: split(&rule.message),
            suggestions: rule
                .suggest
                .iter()
                .map(|s| {
                    let r = match (&s.replace, s.mask) {
                        (Some(r), _) => Replacement::Fixed(Arc::from(r.as_str())),
                        (None, Some(mask)) => Replacement::Mask(mask),
                        (None, None) => Replacement::Fixed(Arc::from("")),
                    };
                    (r, s.applicability)
                })
                .collect(),
        }
    }

    /// A must-say item of `[scoring]`: its finding sits on the trigger's words and suggests saying the
    /// required words first, for review (the wording depends on the product).
    pub(crate) fn disclosure(d: &Disclosure) -> Template {
        Template {
            id: Arc::from(d.id.as_str()),
            category: Category::Disclosure,
            severity: d.severity,
            message: split(&d.message),
            suggestions: vec![(
                Replacement::Prefix(d.suggest.clone()),
                Applicability::Review,
            )],
        }
    }

    /// The finding on the bytes `span` of `text` (the original turn). `cursor` is a (byte, char) offset
    /// pair of `text` at or before the span: findings come in order of position, so character offsets are
    /// counted on from the previous one rather than from the start of the turn each time.
    pub(crate) fn finding(
        &self,
        text: &str,
        span: Span,
        turn_index: usize,
        cursor: &mut (usize, usize),
    ) -> Finding {
        if cursor.0 > span.start {
            *cursor = (0, 0);
        }
        let char_start = cursor.1 + text[cursor.0..span.start].chars().count();
        *cursor = (span.start, char_start);
        let char_end = char_start + text[span.start..span.end].chars().count();
        let matched = text[span.start..span.end].to_string();
        Finding {
            rule_id: Arc::clone(&self.id),
            category: self.category,
            severity: self.severity,
            turn_index,
            span,
            char_start,
            char_end,
            message: message(&self.message, &matched),
            suggestions: self.suggestions(span, &matched),
            matched,
            confidence: None,
        }
    }

    fn suggestions(&self, span: Span, matched: &str) -> Vec<Suggestion> {
        self.suggestions
            .iter()
            .map(|(r, applicability)| Suggestion {
                span,
                replacement: match r {
                    Replacement::Fixed(r) => Arc::clone(r),
                    Replacement::Mask(mask) => Arc::from(apply_mask(matched, *mask)),
                    Replacement::Prefix(p) => Arc::from(format!("{p}{matched}")),
                },
                applicability: *applicability,
            })
            .collect()
    }
}

impl Matcher {
    /// The findings for `hits` (sorted by position) of the turn `text`, normalised as `norm`. A turn from a
    /// speech recogniser (`asr`) gives each finding a confidence, lowered for a tolerant hit by its edits.
    pub(super) fn findings(
        &self,
        hits: &[Hit],
        text: &str,
        norm: &Normalized,
        turn_index: usize,
        asr: Option<(f32, Tolerance)>,
    ) -> Vec<Finding> {
        let mut cursor = (0, 0);
        hits.iter()
            .map(|&h| {
                let span = norm.original_span(h.start..h.end);
                let template = &self.rules[h.rule as usize].template;
                let mut f = template.finding(text, span, turn_index, &mut cursor);
                if let Some((c, _)) = asr {
                    let c = if c.is_finite() {
                        c.clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let penalty = if h.syllables == 0 {
                        1.0
                    } else {
                        1.0 - h.cost as f32 / (2 * h.syllables) as f32
                    };
                    f.confidence = Some((c * penalty).clamp(0.0, 1.0));
                }
                f
            })
            .collect()
    }
}

impl Matcher {
    /// The matches of this matcher's rules in the turn that are no finding, each with what dropped it
    /// (the first condition that does, in the order the matcher tries them), in the order they were found.
    /// A rule that needs words in the last exchange is searched here even without them, so that its
    /// matches show why they do not count. Not on the hot path: fresh buffers, a second normalisation.
    pub fn near_misses(&self, role: Role, text: &str, exchange: LastExchange<'_>) -> Vec<NearMiss> {
        if text.is_empty() {
            return Vec::new();
        }
        let norm = self.normalize(text);
        let (previous, own) = self.exchange_normalised(exchange);
        let exchange = Exchange {
            previous: previous.as_ref().map(Normalized::as_str),
            own: own.as_ref().map(Normalized::as_str),
        };
        let mut hits = HitScratch::explaining();
        let t = norm.as_str();
        let digits = Some(norm.digit_run());
        self.hits_in(
            &mut hits,
            role,
            t,
            norm.repeats(),
            exchange,
            digits,
            true,
            Tolerance::Off,
        );
        let words = |r: std::ops::Range<usize>| {
            let span = norm.original_span(r);
            text[span.start..span.end].to_string()
        };
        hits.dropped
            .iter()
            .map(|(h, why)| {
                let span = norm.original_span(h.start..h.end);
                let found =
                    self.rules[h.rule as usize]
                        .template
                        .finding(text, span, 0, &mut (0, 0));
                let dropped_by = match why {
                    Dropped::Checksum => DroppedBy::Checksum,
                    Dropped::Context(b) => DroppedBy::Context {
                        condition: b.condition,
                        words: b.word.clone().map(words),
                    },
                    Dropped::Exchange(condition) => DroppedBy::Exchange { condition },
                    Dropped::Allowed(s, e) => DroppedBy::AllowList {
                        words: words(*s..*e),
                    },
                    Dropped::Overlap(rule) => DroppedBy::Overlap {
                        rule_id: Arc::from(self.ruleset.rules[*rule as usize].id.as_str()),
                    },
                };
                NearMiss {
                    rule_id: found.rule_id,
                    category: found.category,
                    span,
                    char_start: found.char_start,
                    char_end: found.char_end,
                    matched: found.matched,
                    dropped_by,
                }
            })
            .collect()
    }
}

/// `text` split at each `{matched}`.
fn split(text: &str) -> Vec<String> {
    text.split("{matched}").map(str::to_string).collect()
}

/// A message with the matched text put in place of each `{matched}` (`parts` is the message split there).
fn message(parts: &[String], matched: &str) -> String {
    let Some((first, rest)) = parts.split_first() else {
        return String::new();
    };
    let len = parts.iter().map(String::len).sum::<usize>() + rest.len() * matched.len();
    let mut out = String::with_capacity(len);
    out.push_str(first);
    for part in rest {
        out.push_str(matched);
        out.push_str(part);
    }
    out
}
