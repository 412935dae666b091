//! `prompt`: the agent's first reply to each complaint already shows empathy.

use huashu_rules::Cue;

use super::{Check, CheckId, JudgeCtx, Judged};
use crate::conversation::complaints::{self, Episode, EpisodeCtx, Verdict};

#[derive(Debug, Default)]
pub(crate) struct Prompt;

impl Check for Prompt {
    const NEEDS: &'static [Cue] = &[Cue::Complaint, Cue::Empathy];

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        complaints::judge(CheckId::Prompt, ctx.episodes)
    }
}

/// The verdict on one complaint.
pub(crate) fn episode(ep: &Episode, _: &EpisodeCtx) -> Verdict {
    if ep.prompt {
        Verdict {
            outcome: Some((true, 1.0)),
            found: Some(format!(
                "the first reply to the complaint at turn {} shows empathy",
                ep.turn
            )),
            ..Verdict::default()
        }
    } else {
        Verdict {
            outcome: Some((false, 0.0)),
            missing: Some(format!(
                "the first reply to the complaint at turn {} shows no empathy",
                ep.turn
            )),
            ..Verdict::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn the_first_reply_must_show_empathy() {
        let r = score(&[
            ("customer", "我买的空调坏了三次了，你们到底怎么回事？"),
            ("agent", "我马上为您申请上门检测"),
            ("agent", "非常抱歉给您带来不便"),
        ]);
        assert!(!check(&r, "prompt").passed);
    }
}
