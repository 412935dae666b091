//! The project's words (ARCHITECTURE.md, "Names"): **scan** a turn (`Engine::scan`, `huashu scan`, Python
//! `scan`, HTTP `POST /v1/scan`), **test** a ruleset (`huashu test-ruleset`, `huashu::ruleset_tests`), and
//! **check** only for the scorecard's conversation checks. `Engine::check` and `POST /v1/check` are the older
//! names of the turn scan and stay as aliases.

use huashu_rules::Role;

use crate::{Engine, Finding};

impl Engine {
    /// Findings for one turn, sorted by position; never overlapping. (`check` is the older name.)
    pub fn scan(&self, role: Role, text: &str) -> Vec<Finding> {
        self.check(role, text)
    }

    /// As [`Engine::scan`], with the other party's turn just before this one (`previous`, as said; for an
    /// agent turn the customer's last turn). Rules with `only_after_turn_has` fire only when it holds one
    /// of their words, so they never fire through [`Engine::scan`]; every other rule finds the same.
    pub fn scan_after(&self, role: Role, text: &str, previous: Option<&str>) -> Vec<Finding> {
        self.check_turn_after(role, text, previous, 0)
    }

    /// The preview rules' findings for one turn with the other party's previous turn (see
    /// [`Engine::scan_after`]).
    pub fn previews_after(&self, role: Role, text: &str, previous: Option<&str>) -> Vec<Finding> {
        self.previews_turn_after(role, text, previous, 0)
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
