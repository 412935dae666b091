//! `in_order`: after each complaint about the problem, empathy comes before the solution and the solution
//! before the commitment (or the fix).

use huashu_rules::Cue;

use super::{Check, CheckId, JudgeCtx, Judged};
use crate::conversation::complaints::{self, At, Episode, EpisodeCtx, Verdict, turn_of, words};

#[derive(Debug, Default)]
pub(crate) struct InOrder;

impl Check for InOrder {
    const NEEDS: &'static [Cue] = &[Cue::Complaint, Cue::Empathy, Cue::Solution, Cue::Commitment];

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        complaints::judge(CheckId::InOrder, ctx.episodes)
    }
}

/// The verdict on one complaint.
pub(crate) fn episode(ep: &Episode, cx: &EpisodeCtx) -> Verdict {
    if ep.manner {
        return Verdict::default();
    }
    let after = &cx.after;
    let pos = |x: &At| x.as_ref().map(|(t, a, _)| (*t, *a));
    let resolved_only = ep.commitment.is_none() && ep.resolved.is_some();
    let in_order = match (pos(&ep.empathy), pos(&ep.solution), pos(&ep.commitment)) {
        (Some(e), Some(s), Some(c)) => e < s && s < c,
        (Some(e), Some(s), None) if resolved_only => e < s,
        _ => false,
    };
    let outcome = Some((in_order, if in_order { 1.0 } else { 0.0 }));
    if in_order && resolved_only {
        return Verdict {
            outcome,
            found: Some(format!(
                "empathy → solution {after}, fixed at {}",
                words(&ep.resolved)
            )),
            ..Verdict::default()
        };
    }
    if in_order {
        return Verdict {
            outcome,
            found: Some(format!("empathy → solution → commitment {after}")),
            ..Verdict::default()
        };
    }
    let missing = if ep.empathy.is_some()
        && ep.solution.is_some()
        && (ep.commitment.is_some() || resolved_only)
    {
        let order = |x: &At| turn_of(x).map_or("–".to_string(), |t| t.to_string());
        if resolved_only {
            format!(
                "{after}: empathy turn {}, solution turn {} — not empathy → solution",
                order(&ep.empathy),
                order(&ep.solution)
            )
        } else {
            format!(
                "{after}: empathy turn {}, solution turn {}, commitment turn {} — not empathy → solution → commitment",
                order(&ep.empathy),
                order(&ep.solution),
                order(&ep.commitment)
            )
        }
    } else {
        format!("{after}: the sequence is incomplete")
    };
    Verdict {
        outcome,
        missing: Some(missing),
        ..Verdict::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn solution_before_empathy_is_out_of_order() {
        let r = score(&[
            ("customer", "我买的空调坏了三次了，你们到底怎么回事？"),
            ("agent", "我马上为您申请上门检测"),
            ("agent", "非常抱歉给您带来不便"),
            ("agent", "我会全程跟进，今天下午五点前给您回电"),
        ]);
        let c = check(&r, "in_order");
        assert!(!c.passed);
        assert!(c.detail.contains("not empathy → solution → commitment"), "{}", c.detail);
    }
}
