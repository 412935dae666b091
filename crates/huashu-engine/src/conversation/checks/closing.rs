//! `closing`: the agent's last turn closes the conversation (还有什么可以帮您, 祝您生活愉快).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, fail, pass};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct Closing {
    /// The agent's last turn so far: its closing, if any.
    last: Option<Option<Evidence>>,
}

impl Check for Closing {
    const NEEDS: &'static [Cue] = &[Cue::Closing];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if turn.is_agent() {
            self.last = Some(turn.cue(Cue::Closing).map(|h| turn.quote(h)));
        }
    }

    fn judge(&self, _: &JudgeCtx<'_>) -> Option<Judged> {
        match &self.last {
            None => None,
            Some(Some(ev)) => pass(ev),
            Some(None) => fail("the agent's last turn has no closing", None),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn judges_the_last_agent_turn() {
        let r = score(&[("agent", "祝您生活愉快"), ("agent", "好的")]);
        assert!(!check(&r, "closing").passed);
        let r = score(&[("agent", "好的"), ("agent", "祝您生活愉快")]);
        assert!(check(&r, "closing").passed);
    }
}
