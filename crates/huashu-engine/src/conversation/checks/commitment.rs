//! `commitment`: after each complaint about the problem the agent commits to a follow-up (我会跟进, 今天
//! 给您回电); none is due when the problem was fixed in the conversation.

use huashu_rules::Cue;

use super::{Check, CheckId, JudgeCtx, Judged};
use crate::conversation::complaints::{self, Episode, EpisodeCtx, Verdict, words};

#[derive(Debug, Default)]
pub(crate) struct Commitment;

impl Check for Commitment {
    const NEEDS: &'static [Cue] = &[Cue::Complaint, Cue::Commitment];

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        complaints::judge(CheckId::Commitment, ctx.episodes)
    }
}

/// The verdict on one complaint.
pub(crate) fn episode(ep: &Episode, cx: &EpisodeCtx) -> Verdict {
    if ep.manner {
        return Verdict::default();
    }
    match &ep.commitment {
        Some((t, _, m)) => Verdict {
            outcome: Some((true, 1.0)),
            part: Some(format!("commitment turn {t} “{m}”")),
            found: Some(format!("turn {t} “{m}” {}", cx.after)),
            missing: None,
        },
        // Fixed on the spot: nothing is left to follow up, so no commitment is due.
        None if ep.resolved.is_some() => Verdict {
            part: Some(format!("resolved {}", words(&ep.resolved))),
            ..Verdict::default()
        },
        None => Verdict {
            outcome: Some((false, 0.0)),
            missing: Some(format!("no commitment {} ({})", cx.after, ep.trigger)),
            ..Verdict::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn when_the_outcome_comes_is_a_commitment() {
        // The corpus anonymises the number: 预计[数字x]小时内审核完毕退款.
        let r = score(&[
            ("customer", "我的退款还没到账，都三天了"),
            ("agent", "非常抱歉，已为您提交申请，预计[数字x]小时内审核完毕退款"),
        ]);
        assert!(check(&r, "commitment").passed, "{:?}", check(&r, "commitment"));
        let none = score(&[
            ("customer", "我的退款还没到账，都三天了"),
            ("agent", "非常抱歉，已为您提交申请，请您耐心等待"),
        ]);
        assert!(!check(&none, "commitment").passed);
    }

    #[test]
    fn a_complaint_needs_a_follow_up() {
        let r = score(&[
            ("customer", "我买的空调坏了三次了，你们到底怎么回事？"),
            ("agent", "非常抱歉给您带来不便，我理解您的心情"),
            ("agent", "我马上为您申请上门检测"),
            ("agent", "我会全程跟进，今天下午五点前给您回电"),
        ]);
        assert!(check(&r, "commitment").passed);
    }
}
