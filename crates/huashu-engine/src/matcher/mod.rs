//! One compiled rule set and the turn it checks: [`Matcher`]. An [`crate::Engine`] holds three of them
//! (enforced rules, preview rules, scorecard cues); a matcher knows nothing of conversations, so nothing
//! here refers back to the engine.
//!
//! | module | job |
//! |---|---|
//! | `compile` | a rule set → automaton, gated regexes, contexts, finding templates |
//! | `automaton` | the phrase automaton: every overlapping match of many patterns in one pass over a turn |
//! | `scan` | one normalised turn → hits (automaton, regexes, tolerant matches, context, allow-list) |
//! | `overlaps` | across rules, which hit is reported where two overlap |
//! | `findings` | hit → [`Finding`]: original spans, message, suggestions (disclosures too) |
//! | `mask` | redaction of matched words ([`apply_mask`]) |
//! | `signature` | a turn's characters as a bit table, for the regexes' weak literal sets |
//! | `rewrite` | the compliant rewrite: safe suggestions applied and checked again by the matcher, or [`Withheld`] |

mod automaton;
mod compile;
pub(crate) mod findings;
mod mask;
mod overlaps;
mod rewrite;
mod scan;
mod shared;
mod signature;

pub use mask::apply_mask;
pub use rewrite::Withheld;

use std::sync::Arc;

use huashu_rules::{Role, Ruleset};
use huashu_text::{Normalized, Options, normalize, normalize_into};

use crate::asr::{Tolerance, TolerantPhrases};
use crate::context::Exchange;
use crate::exchange::LastExchange;
use crate::finding::Finding;
use compile::{CompiledRegex, CompiledRule, Owner};
use scan::{SCRATCH, Scratch};

/// One rule set compiled for matching turns: its findings, and nothing about conversations. Immutable and
/// `Send + Sync`.
pub struct Matcher {
    ruleset: Arc<Ruleset>,
    opts: Options,
    rules: Vec<CompiledRule>,
    /// One automaton over every rule's normalised phrases and every regex's literal anchors; reports
    /// overlapping matches so that two rules sharing text both see it.
    phrases: Option<automaton::Automaton>,
    /// Pattern id of `phrases` → the rules that own that phrase and the regexes it anchors (reached through
    /// the automaton's value, [`compile::PatternValue`]).
    owners: Vec<Owner>,
    /// Every pattern's anchored regexes, one run per pattern (see [`compile::Anchor`]).
    anchors: Vec<compile::Anchor>,
    regexes: Vec<CompiledRegex>,
    /// Per regex, its `need` bits: read for every regex a turn's literals wake, so kept apart from the
    /// (large) compiled regexes.
    needs: Vec<u8>,
    /// Regexes with no literal anchor: they run on every turn their rule applies to (if its digits allow).
    unanchored: Vec<u32>,
    /// Chinese phrases as pinyin, for tolerant matching of transcribed turns.
    tolerant: TolerantPhrases,
    /// Some rule looks at the other party's previous turn (`only_after_turn_has`, `unless_after_turn_has`)
    /// or the last exchange (`…_after_exchange_has`): only then is a previous turn normalised.
    wants_previous: bool,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("ruleset", &self.ruleset.version_tag())
            .field("rules", &self.rules.len())
            .field("patterns", &self.owners.len())
            .field("regexes", &self.regexes.len())
            .field("unanchored", &self.unanchored.len())
            .finish_non_exhaustive()
    }
}

impl Matcher {
    /// The rules this matcher was compiled from.
    pub fn ruleset(&self) -> &Ruleset {
        &self.ruleset
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Normalises `text` with this matcher's options.
    pub fn normalize(&self, text: &str) -> Normalized {
        normalize(text, &self.opts)
    }

    /// Every rule's phrases, normalised as the matcher sees them (what a raw phrase-scan baseline should use).
    pub fn normalized_phrases(&self) -> Vec<String> {
        self.ruleset
            .rules
            .iter()
            .flat_map(|r| r.matcher.phrases.iter())
            .map(|p| self.normalize(p).as_str().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    }

    /// Findings for one turn on its own, sorted by position; never overlapping. The compliant rewrite checks
    /// its result with this: a rewrite is judged without the exchange (docs/rules.md).
    pub fn check(&self, role: Role, text: &str) -> Vec<Finding> {
        self.scan_turn(role, text, LastExchange::default(), 0)
    }

    /// Whether some rule looks at the other party's previous turn or the last exchange; when none does,
    /// the turns of a [`LastExchange`] given to [`Matcher::scan_turn`] are not even normalised.
    pub fn wants_previous(&self) -> bool {
        self.wants_previous
    }

    /// Findings for one turn after `exchange`, stamped with `turn_index` (see [`crate::Engine::scan_turn`]).
    pub fn scan_turn(
        &self,
        role: Role,
        text: &str,
        exchange: LastExchange<'_>,
        turn_index: usize,
    ) -> Vec<Finding> {
        if text.is_empty() {
            return Vec::new();
        }
        // Nearly every turn has no exchange a rule looks at: its path moves no (empty) normalised turns around.
        if self.wants_previous && (exchange.previous.is_some() || exchange.own_previous.is_some()) {
            return self.scan_turn_after(role, text, exchange, turn_index);
        }
        self.scan_turn_normalised(role, text, Exchange::default(), turn_index)
    }

    /// [`Matcher::scan_turn`] for a turn whose last exchange some rule looks at: that exchange normalised.
    #[inline(never)]
    fn scan_turn_after(
        &self,
        role: Role,
        text: &str,
        exchange: LastExchange<'_>,
        turn_index: usize,
    ) -> Vec<Finding> {
        let (previous, own) = self.exchange_normalised(exchange);
        let normalised = Exchange {
            previous: previous.as_ref().map(Normalized::as_str),
            own: own.as_ref().map(Normalized::as_str),
        };
        self.scan_turn_normalised(role, text, normalised, turn_index)
    }

    /// [`Matcher::scan_turn`] with the last exchange already normalised.
    fn scan_turn_normalised(
        &self,
        role: Role,
        text: &str,
        normalised: Exchange<'_>,
        turn_index: usize,
    ) -> Vec<Finding> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let Scratch { norm, hits } = &mut *scratch;
                normalize_into(norm, text, &self.opts);
                self.hits_in(
                    hits,
                    role,
                    norm.as_str(),
                    norm.repeats(),
                    normalised,
                    Some(norm.digit_run()),
                    true,
                    Tolerance::Off,
                );
                // Most turns are clean: no findings to collect.
                if hits.kept.is_empty() {
                    return Vec::new();
                }
                self.findings(&hits.kept, text, norm, turn_index, None)
            }
            // Re-entered on this thread (a caller checking from inside a check): fresh buffers.
            Err(_) => self.check_normalized_asr(
                role,
                text,
                &self.normalize(text),
                normalised,
                turn_index,
                None,
            ),
        })
    }

    /// The last exchange normalised, where some rule looks at it (None otherwise: nothing reads it).
    fn exchange_normalised(
        &self,
        exchange: LastExchange<'_>,
    ) -> (Option<Normalized>, Option<Normalized>) {
        let norm_of =
            |t: Option<&str>| t.filter(|_| self.wants_previous).map(|p| self.normalize(p));
        (norm_of(exchange.previous), norm_of(exchange.own_previous))
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
        if text.is_empty() {
            return Vec::new();
        }
        let norm = self.normalize(text);
        self.check_normalized_asr(
            role,
            text,
            &norm,
            Exchange::default(),
            turn_index,
            Some((confidence, tolerance)),
        )
    }

    /// As [`Matcher::scan_turn`] on a text (and exchange) already normalised with this
    /// matcher's options (a session normalises each turn once for findings, cues and questions).
    pub(crate) fn check_normalized_asr(
        &self,
        role: Role,
        text: &str,
        norm: &Normalized,
        previous: Exchange<'_>,
        turn_index: usize,
        asr: Option<(f32, Tolerance)>,
    ) -> Vec<Finding> {
        let tolerance = asr.map_or(Tolerance::Off, |(_, t)| t);
        let digits = Some(norm.digit_run());
        let wanted = |rule: u32| self.rules[rule as usize].role.applies_to(role);
        if let Some(repaired) = self.tolerant.repair(norm.as_str(), tolerance, &wanted) {
            // The repaired transcript has the byte layout of `norm`, so its hits are spans of the heard text.
            // A homophone costs nothing, as it does for phrases.
            return self.with_hits_in(
                role,
                &repaired,
                norm.repeats(),
                previous,
                digits,
                true,
                tolerance,
                |hits| self.findings(hits, text, norm, turn_index, asr),
            );
        }
        self.with_hits(role, norm, previous, digits, true, tolerance, |hits| {
            self.findings(hits, text, norm, turn_index, asr)
        })
    }

    /// `text` with the safe suggestion of every finding applied, checked again by this matcher until
    /// nothing is left to apply (see [`crate::Engine::compliant_rewrite`]).
    ///
    /// # Errors
    /// [`Withheld`] naming what would still be flagged.
    pub fn compliant_rewrite(
        &self,
        role: Role,
        text: &str,
        findings: &[Finding],
    ) -> Result<String, Withheld> {
        rewrite::settle(self, role, text, findings)
    }

    /// Every rule's hits in `norm` as (rule index, byte range of the normalised text), context applied;
    /// overlaps across rules kept. Scorecard cues use this: an empathy cue may share words with a solution
    /// cue.
    pub(crate) fn cue_hits(
        &self,
        role: Role,
        norm: &Normalized,
    ) -> Vec<(usize, std::ops::Range<usize>)> {
        self.with_hits(
            role,
            norm,
            Exchange::default(),
            None,
            false,
            Tolerance::Off,
            |hits| {
                hits.iter()
                    .map(|h| (h.rule as usize, h.start..h.end))
                    .collect()
            },
        )
    }
}
