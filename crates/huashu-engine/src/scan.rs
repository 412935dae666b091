//! Scanning one turn: the engine's turn API, one method per job — [`Engine::scan_turn`] for the enforced
//! rules, [`Engine::previews_turn`] for the preview rules — each taking the turn's [`LastExchange`]. The
//! project's words (ARCHITECTURE.md, "Names"): **scan** a turn (`Engine::scan`, `huashu scan`, Python `scan`,
//! HTTP `POST /v1/scan`), **test** a ruleset (`huashu test-ruleset`, `huashu::ruleset_tests`), and **check**
//! only for the scorecard's conversation checks. `Engine::check` and `POST /v1/check` are the older names of
//! the turn scan and stay as aliases.

use huashu_rules::{Category, Role};

use crate::{Engine, Finding, LastExchange, NearMiss};

impl Engine {
    /// Findings for one turn on its own, sorted by position; never overlapping (see [`Engine::scan_turn`]).
    pub fn scan(&self, role: Role, text: &str) -> Vec<Finding> {
        self.scan_turn(role, text, LastExchange::default(), 0)
    }

    /// Findings for one turn after `exchange`, sorted by position, never overlapping, each stamped with
    /// `turn_index`. Rules with `only_after_turn_has` (`only_after_exchange_has`) fire only when the previous
    /// turn (the exchange) holds one of their words, so never after an empty exchange; every other rule
    /// finds the same whatever the exchange.
    #[inline]
    pub fn scan_turn(
        &self,
        role: Role,
        text: &str,
        exchange: LastExchange<'_>,
        turn_index: usize,
    ) -> Vec<Finding> {
        let mut findings = self.matcher().scan_turn(role, text, exchange, turn_index);
        if self.learned().is_some() {
            self.add_learned(
                role,
                text,
                &self.normalize(text),
                exchange,
                turn_index,
                &mut findings,
            );
        }
        findings
    }

    /// The learned models' findings on a turn (normalised: `norm`), added to the rules' `findings` (see
    /// [`crate::learned::Backstop`]): agent turns only, nothing without models. A scanned turn and a final
    /// turn of a session both come here.
    pub(crate) fn add_learned(
        &self,
        role: Role,
        text: &str,
        norm: &huashu_text::Normalized,
        exchange: LastExchange<'_>,
        turn_index: usize,
        findings: &mut Vec<Finding>,
    ) {
        let Some(backstop) = self.learned().filter(|_| role == Role::Agent) else {
            return;
        };
        // Asked only when a model passes its threshold (rare): a rule of its category matched here and was kept
        // quiet by an exemption (a next step, the customer's words restated, an allow-list word, a failed
        // checksum) — the rules have judged this wording, and the model does not overrule them.
        let exempted = |category: Category| {
            self.near_misses(role, text, exchange)
                .iter()
                .any(|m| m.category == category && m.dropped_by.is_exemption())
        };
        backstop.add_findings(text, norm, turn_index, findings, exempted);
    }

    /// The preview rules' findings for one turn on its own (empty when the ruleset has none): reported
    /// apart, never counted in scores, fatal items or rewrites.
    pub fn previews(&self, role: Role, text: &str) -> Vec<Finding> {
        self.previews_turn(role, text, LastExchange::default(), 0)
    }

    /// As [`Engine::scan_turn`] for the preview rules (empty when the ruleset has none).
    pub fn previews_turn(
        &self,
        role: Role,
        text: &str,
        exchange: LastExchange<'_>,
        turn_index: usize,
    ) -> Vec<Finding> {
        self.preview_engine()
            .map_or_else(Vec::new, |p| p.scan_turn(role, text, exchange, turn_index))
    }

    /// The enforced rules' matches in a turn that are no finding, each with what dropped it (an exemption
    /// word, a checksum, the last exchange, an allow-list word, another rule's finding): for whoever tunes
    /// rules (`huashu eval` lists them under each false negative). Slower than a scan: not for live traffic.
    pub fn near_misses(&self, role: Role, text: &str, exchange: LastExchange<'_>) -> Vec<NearMiss> {
        self.matcher().near_misses(role, text, exchange)
    }

    /// The older name of [`Engine::scan`] (ARCHITECTURE.md, "Names").
    #[inline]
    pub fn check(&self, role: Role, text: &str) -> Vec<Finding> {
        self.scan(role, text)
    }

    /// The older form of [`Engine::scan_turn`] with the previous turn only (docs/rules.md named it).
    pub fn scan_after(&self, role: Role, text: &str, previous: Option<&str>) -> Vec<Finding> {
        self.scan_turn(
            role,
            text,
            LastExchange {
                previous,
                own_previous: None,
            },
            0,
        )
    }

    /// The older form of [`Engine::scan_turn`] (docs/rules.md named it); note `own` comes before `previous`.
    pub fn check_turn_after_exchange(
        &self,
        role: Role,
        text: &str,
        own: Option<&str>,
        previous: Option<&str>,
        turn_index: usize,
    ) -> Vec<Finding> {
        self.scan_turn(
            role,
            text,
            LastExchange {
                previous,
                own_previous: own,
            },
            turn_index,
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scan_is_check() {
        let engine = Engine::default_ruleset().unwrap();
        for text in [
            "这不是我的问题，你自己看说明书",
            "您好，请问有什么可以帮您？",
            "",
        ] {
            assert_eq!(
                engine.scan(Role::Agent, text),
                engine.check(Role::Agent, text)
            );
        }
    }
}
