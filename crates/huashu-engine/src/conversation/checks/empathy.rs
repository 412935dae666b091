//! `empathy`: after each complaint the agent shows empathy (非常抱歉, 理解您的心情); after a complaint about
//! the agent's own manner, an apology. Empathy that comes only after the agent moved on to the business
//! earns `late_empathy_share` of the points.

use huashu_rules::Cue;

use super::{Check, CheckId, JudgeCtx, Judged};
use crate::conversation::complaints::{self, Episode, EpisodeCtx, Verdict, turn_of};

#[derive(Debug, Default)]
pub(crate) struct Empathy;

impl Check for Empathy {
    const NEEDS: &'static [Cue] = &[Cue::Complaint, Cue::Empathy];

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        complaints::judge(CheckId::Empathy, ctx.episodes)
    }
}

/// The verdict on one complaint.
pub(crate) fn episode(ep: &Episode, cx: &EpisodeCtx) -> Verdict {
    let after = &cx.after;
    // Empathy counts fully before or with the first solution or commitment; after them it is late.
    let business = [turn_of(&ep.solution), turn_of(&ep.commitment)]
        .into_iter()
        .flatten()
        .min();
    match &ep.empathy {
        Some((t, _, m)) => {
            let part = Some(format!("empathy turn {t} “{m}”"));
            match business.filter(|b| b < t) {
                Some(b) => {
                    let share = cx.late_empathy_share;
                    Verdict {
                        outcome: Some((true, share)),
                        part,
                        found: Some(format!(
                            "turn {t} “{m}” {after}, but only after the agent had moved on to the business at turn {b}: {:.0}% of the points",
                            share * 100.0
                        )),
                        missing: None,
                    }
                }
                None => Verdict {
                    outcome: Some((true, 1.0)),
                    part,
                    found: Some(format!("turn {t} “{m}” {after}")),
                    missing: None,
                },
            }
        }
        None if ep.manner => Verdict {
            outcome: Some((false, 0.0)),
            missing: Some(format!(
                "no apology after the complaint about the agent's manner at turn {} ({})",
                ep.turn, ep.trigger
            )),
            ..Verdict::default()
        },
        None => Verdict {
            outcome: Some((false, 0.0)),
            missing: Some(format!("no empathy {after} ({})", ep.trigger)),
            ..Verdict::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn late_empathy_earns_part_of_the_points() {
        let r = score(&[
            ("customer", "我买的空调坏了三次了，你们到底怎么回事？"),
            ("agent", "我马上为您申请上门检测"),
            ("agent", "非常抱歉给您带来不便"),
        ]);
        let c = check(&r, "empathy");
        assert!(c.passed);
        assert!(c.points < c.max as f64, "{c:?}");
        assert!(c.detail.contains("only after the agent had moved on"), "{}", c.detail);
        let r = score(&[("customer", "我买的空调坏了三次了，你们到底怎么回事？"), ("agent", "嗯")]);
        assert!(!check(&r, "empathy").passed);
    }
}
