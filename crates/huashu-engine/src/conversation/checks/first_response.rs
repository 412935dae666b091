//! `first_response`: the agent's first reply comes within `[scoring.timing] first_response_ms` of the
//! customer's first turn (timed turns only).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct FirstResponse {
    /// (within the limit, what the wait was).
    result: Option<(bool, Evidence)>,
}

impl Check for FirstResponse {
    const NEEDS: &'static [Cue] = &[];

    fn observe(&mut self, turn: &TurnView<'_>) {
        let Some(t) = turn.timing else {
            return;
        };
        let Some((customer_end, customer_turn)) = t.awaiting_first_response else {
            return;
        };
        if !turn.is_agent() || self.result.is_some() {
            return;
        }
        let latency = t.start_ms.saturating_sub(customer_end);
        self.result = Some((
            latency <= turn.scoring.timing.first_response_ms,
            Evidence::new(
                turn.index,
                format!(
                    "first reply {:.1} s after the customer's turn {customer_turn}",
                    latency as f64 / 1000.0
                ),
            ),
        ));
    }

    fn judge(&self, _: &JudgeCtx<'_>) -> Option<Judged> {
        self.result.as_ref().map(|(ok, ev)| Judged {
            passed: *ok,
            share: if *ok { 1.0 } else { 0.0 },
            detail: ev.text.clone(),
            turn: Some(ev.turn),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score_timed};

    #[test]
    fn measures_the_wait_for_the_first_reply() {
        let r = score_timed(&[("customer", "在吗", 0, 1000), ("agent", "您好", 120_000, 121_000)]);
        let c = check(&r, "first_response");
        assert!(!c.passed);
        assert_eq!(c.detail, "first reply 119.0 s after the customer's turn 0");
        let r = score_timed(&[("customer", "在吗", 0, 1000), ("agent", "您好", 3000, 4000)]);
        assert!(check(&r, "first_response").passed);
    }
}
