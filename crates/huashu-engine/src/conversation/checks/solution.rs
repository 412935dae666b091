//! `solution`: after each complaint about the problem the agent offers a solution (为您申请退款); a fix made
//! in the conversation counts. A complaint only about the agent's manner needs none.

use huashu_rules::Cue;

use super::{Check, CheckId, JudgeCtx, Judged};
use crate::conversation::complaints::{self, Episode, EpisodeCtx, Verdict};

#[derive(Debug, Default)]
pub(crate) struct Solution;

impl Check for Solution {
    const NEEDS: &'static [Cue] = &[Cue::Complaint, Cue::Solution];

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        complaints::judge(CheckId::Solution, ctx.episodes)
    }
}

/// The verdict on one complaint.
pub(crate) fn episode(ep: &Episode, cx: &EpisodeCtx) -> Verdict {
    if ep.manner {
        return Verdict {
            part: Some("about the agent's manner: an apology is due, no solution".into()),
            ..Verdict::default()
        };
    }
    match &ep.solution {
        Some((t, _, m)) => Verdict {
            outcome: Some((true, 1.0)),
            part: Some(format!("solution turn {t} “{m}”")),
            found: Some(format!("turn {t} “{m}” {}", cx.after)),
            missing: None,
        },
        None => Verdict {
            outcome: Some((false, 0.0)),
            missing: Some(format!("no solution {} ({})", cx.after, ep.trigger)),
            ..Verdict::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn steps_the_customer_can_take_are_a_solution() {
        let r = score(&[
            // A fault said with a grievance (a bare 坏了 is a report the customer may not press).
            ("customer", "我买的锅坏了，这质量太差了"),
            ("agent", "非常抱歉，您点击订单号进入申请售后页面，提交换新就可以了"),
        ]);
        assert!(check(&r, "solution").passed, "{:?}", check(&r, "solution"));
    }

    #[test]
    fn a_complaint_needs_a_solution() {
        let r = score(&[
            ("customer", "我买的空调坏了三次了，你们到底怎么回事？"),
            ("agent", "非常抱歉给您带来不便"),
        ]);
        let c = check(&r, "solution");
        assert!(!c.passed);
        assert!(c.detail.starts_with("no solution after the complaint at turn 0"), "{}", c.detail);
    }
}
