//! `greeting`: the agent's first turn greets the customer (您好, 很高兴为您服务).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, fail, pass};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct Greeting {
    /// The agent's first turn, once there is one: its greeting, if any.
    first: Option<Option<Evidence>>,
}

impl Check for Greeting {
    const NEEDS: &'static [Cue] = &[Cue::Greeting];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if turn.is_agent() && turn.agent_turns_before == 0 {
            self.first = Some(turn.cue(Cue::Greeting).map(|h| turn.quote(h)));
        }
    }

    fn judge(&self, _: &JudgeCtx<'_>) -> Option<Judged> {
        match &self.first {
            None => None,
            Some(Some(ev)) => pass(ev),
            Some(None) => fail("the agent's first turn has no greeting", None),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn judges_the_first_agent_turn_only() {
        let r = score(&[("customer", "在吗"), ("agent", "您好，很高兴为您服务")]);
        assert!(check(&r, "greeting").passed);
        let r = score(&[("agent", "什么事"), ("agent", "您好")]);
        let c = check(&r, "greeting");
        assert!(!c.passed);
        assert_eq!(c.detail, "the agent's first turn has no greeting");
        assert!(score(&[("customer", "在吗")]).checks.iter().all(|c| c.id != "greeting"));
    }
}
