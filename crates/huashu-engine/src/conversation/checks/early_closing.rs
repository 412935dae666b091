//! `early_closing`: the agent does not close (还有其他可以帮您的吗, asking for the rating) while the customer's
//! last turn still asks for something: a question the agent's turn left unanswered, or a complaint met with
//! neither empathy nor a solution.

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, chinese, fail};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct EarlyClosing {
    /// The customer's last turn, when it asked or complained.
    asking: Option<usize>,
    closings: usize,
    early: Option<(Evidence, usize)>,
}

impl Check for EarlyClosing {
    const NEEDS: &'static [Cue] = &[Cue::Closing, Cue::Question];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if !turn.is_agent() {
            if turn.role == huashu_rules::Role::Customer {
                let asks = [Cue::Question, Cue::Complaint, Cue::Report]
                    .iter()
                    .any(|&c| turn.cue(c).is_some());
                self.asking = asks.then_some(turn.index);
            }
            return;
        }
        let Some(h) = turn.cue(Cue::Closing) else {
            return;
        };
        self.closings += 1;
        let open = self
            .asking
            .filter(|&a| turn.open_question == Some(a) || turn.open_complaint == Some(a));
        if let (Some(a), None) = (open, &self.early) {
            self.early = Some((turn.quote(h), a));
        }
    }

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        if self.closings == 0 {
            return None;
        }
        match &self.early {
            Some((ev, asked)) => fail(
                if chinese(ctx.language) {
                    format!(
                        "第{}轮{}结束对话，而客户第{}轮的诉求还没有回应",
                        ev.turn, ev.text, asked
                    )
                } else {
                    format!(
                        "turn {} closes ({}) while the customer's turn {} still asks for action",
                        ev.turn, ev.text, asked
                    )
                },
                Some(ev.turn),
            ),
            // Only a failure counts: a chat is not better for lacking a fault that few chats could have, and
            // a point earned by every clean chat would lift routine chats into the high band.
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn closing_on_an_open_question_fails() {
        let r = score(&[
            ("customer", "我的快递什么时候能到？"),
            ("agent", "请问还有其他可以帮您的吗？"),
        ]);
        assert!(!check(&r, "early_closing").passed);
        let r = score(&[
            ("customer", "我的快递什么时候能到？"),
            ("agent", "明天下午送到，请问还有其他可以帮您的吗？"),
        ]);
        assert!(r.checks.iter().all(|c| c.id != "early_closing"), "a pass is not scored");
    }
}
