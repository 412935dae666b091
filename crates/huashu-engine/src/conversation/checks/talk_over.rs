//! `talk_over`: no turn starts more than `[scoring.timing] max_overlap_ms` before the other party finished.

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, timed};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct TalkOver {
    pairs_checked: usize,
    talk_over: Option<Evidence>,
}

impl Check for TalkOver {
    const NEEDS: &'static [Cue] = &[];

    fn observe(&mut self, turn: &TurnView<'_>) {
        let Some(t) = turn.timing else {
            return;
        };
        let Some(prev) = t.prev.filter(|p| p.role != turn.role) else {
            return;
        };
        self.pairs_checked += 1;
        let overlap = prev.end_ms.saturating_sub(t.start_ms);
        if overlap > turn.scoring.timing.max_overlap_ms && self.talk_over.is_none() {
            self.talk_over = Some(Evidence::new(
                turn.index,
                format!(
                    "starts {:.1} s before the other party finished",
                    overlap as f64 / 1000.0
                ),
            ));
        }
    }

    fn judge(&self, _: &JudgeCtx<'_>) -> Option<Judged> {
        timed(self.pairs_checked, &self.talk_over, "no talk-over")
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score_timed};

    #[test]
    fn starting_before_the_other_party_finished() {
        let r = score_timed(&[("customer", "在吗", 0, 10_000), ("agent", "您好", 2000, 3000)]);
        let c = check(&r, "talk_over");
        assert!(!c.passed);
        assert_eq!(c.detail, "starts 8.0 s before the other party finished");
    }
}
