//! `responsiveness`: every customer question gets an answer. The questions are folded in `../questions.rs`
//! (shared with complaint episodes: a question asked again after an answer is a complaint).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, share};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct Responsiveness;

impl Check for Responsiveness {
    const NEEDS: &'static [Cue] = &[Cue::Question];

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        let q = ctx.questions;
        if q.asked == 0 {
            return None;
        }
        let passed = q.answered == q.asked;
        let mut detail = format!(
            "{} of {} customer question(s) answered",
            q.answered, q.asked
        );
        let unanswered = q.unanswered.clone().or_else(|| {
            q.pending
                .as_ref()
                .map(|(turn, words)| match &q.pending_why {
                    Some(w) => Evidence::new(
                        *turn,
                        format!("“{words}” has no answer (turn {}: {})", w.turn, w.text),
                    ),
                    None => Evidence::new(*turn, format!("“{words}” has no answer")),
                })
        });
        let ev = if passed {
            q.answered_example.as_ref()
        } else {
            unanswered.as_ref()
        };
        if let Some(e) = ev {
            detail.push_str(&format!(" ({e})"));
        }
        // A reply without the substance asked for (a when-question answered with no time) is half an answer:
        // the customer heard something, but not what they needed.
        let thin = q.thin + usize::from(q.pending.is_some() && q.pending_thin);
        Some(Judged {
            passed,
            share: (share(q.answered, q.asked) + 0.5 * share(thin, q.asked)).min(1.0),
            detail,
            turn: ev.map(|e| e.turn),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn a_question_left_without_answer_fails() {
        let r = score(&[("customer", "什么时候发货？"), ("agent", "嗯")]);
        let c = check(&r, "responsiveness");
        assert!(!c.passed);
        assert!(c.detail.starts_with("0 of 1 customer question(s) answered"), "{}", c.detail);
        let r = score(&[("customer", "什么时候发货？"), ("agent", "今天下午就会从仓库发出")]);
        assert!(check(&r, "responsiveness").passed);
    }

    #[test]
    fn a_reply_without_the_time_asked_for_is_half_an_answer() {
        let r = score(&[("customer", "什么时候能到账？"), ("agent", "原路退回的")]);
        let c = check(&r, "responsiveness");
        assert!(!c.passed);
        assert!((c.points - f64::from(c.max) / 2.0).abs() < 1e-9, "{c:?}");
    }
}
