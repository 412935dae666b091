//! `identity`: the agent checks who the customer is (核实身份), when the ruleset's domain requires it
//! (`require_identity = true`).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, fail, pass};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct Identity {
    first: Option<Evidence>,
}

impl Check for Identity {
    const NEEDS: &'static [Cue] = &[Cue::Identity];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if turn.is_agent() && self.first.is_none() {
            self.first = turn.cue(Cue::Identity).map(|h| turn.quote(h));
        }
    }

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        if ctx.agent_turns == 0 || !ctx.scoring.require_identity {
            return None;
        }
        match &self.first {
            Some(ev) => pass(ev),
            None => fail("no identity check", None),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score_with};

    #[test]
    fn applies_only_where_required() {
        let turns = [("customer", "我要查账单"), ("agent", "好的")];
        let r = score_with("zh-CN-finance", &turns);
        assert!(!check(&r, "identity").passed);
        let r = score_with("zh-CN", &turns);
        assert!(r.checks.iter().all(|c| c.id != "identity"));
    }
}
