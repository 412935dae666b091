//! `need_confirmation`: the agent restates or confirms what the customer needs (您是想…对吗).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, fail, pass};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct NeedConfirmation {
    first: Option<Evidence>,
}

impl Check for NeedConfirmation {
    const NEEDS: &'static [Cue] = &[Cue::NeedConfirmation];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if turn.is_agent() && self.first.is_none() {
            self.first = turn.cue(Cue::NeedConfirmation).map(|h| turn.quote(h));
        }
    }

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        if ctx.agent_turns == 0 || ctx.customer_turns == 0 {
            return None;
        }
        match &self.first {
            Some(ev) => pass(ev),
            None => fail(
                "the agent never restated or confirmed the customer's need",
                None,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn applies_once_both_have_spoken() {
        assert!(score(&[("agent", "您好")]).checks.iter().all(|c| c.id != "need_confirmation"));
        let r = score(&[("customer", "我要退货"), ("agent", "好的")]);
        assert!(!check(&r, "need_confirmation").passed);
    }
}
