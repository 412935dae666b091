//! The compliant rewrite: every finding's safe suggestion applied, checked again, and offered only when
//! every finding had one and nothing is flagged any more. An agent who presses "use it" must never send a sentence that still breaks
//! a rule, so a rewrite that does is withheld with the reason.

use std::sync::Arc;

use huashu_rules::Role;

use super::Matcher;
use crate::finding::{Finding, apply_suggestions};

/// Rounds of apply-and-check: a replacement may reveal a second finding (two rules on one clause), but a
/// rewrite that has not settled after this many is not one to offer.
const MAX_ROUNDS: usize = 3;

/// Why no rewrite is offered for a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Withheld {
    /// The rules that would still fire on the best rewrite found.
    pub rules: Vec<Arc<str>>,
    /// One sentence for people: which rule, on which words, and why it cannot be rewritten.
    pub reason: String,
}

impl std::fmt::Display for Withheld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Withheld {}

pub(crate) fn settle(
    matcher: &Matcher,
    role: Role,
    text: &str,
    findings: &[Finding],
) -> Result<String, Withheld> {
    if findings.is_empty() {
        return Ok(text.to_string());
    }
    let mut current = text.to_string();
    let mut left: Vec<Finding> = findings.to_vec();
    for _ in 0..MAX_ROUNDS {
        // A finding with no safe replacement keeps its words in any rewrite; one that then passes the check
        // does so only because another replacement changed its context (这个我帮您核实一下，没法帮您查: the
        // agent's new step exempts the refusal left beside it). Such a rewrite is not offered.
        if left.iter().any(|f| f.safe_suggestion().is_none()) {
            let fixed: Vec<Finding> = left
                .into_iter()
                .filter(|f| f.safe_suggestion().is_none())
                .collect();
            return Err(withheld(&fixed));
        }
        let next = apply_suggestions(&current, &left);
        if next == current {
            break;
        }
        let again = matcher.check(role, &next);
        if again.is_empty() {
            return Ok(next);
        }
        current = next;
        left = again;
    }
    Err(withheld(&left))
}

fn withheld(left: &[Finding]) -> Withheld {
    let parts: Vec<String> = left
        .iter()
        .map(|f| {
            if f.safe_suggestion().is_some() {
                format!(
                    "{} still fires on “{}” after its replacement",
                    f.rule_id, f.matched
                )
            } else {
                format!("{} on “{}” has no safe replacement", f.rule_id, f.matched)
            }
        })
        .collect();
    Withheld {
        rules: left.iter().map(|f| f.rule_id.clone()).collect(),
        reason: format!("no compliant rewrite: {}", parts.join("; ")),
    }
}
