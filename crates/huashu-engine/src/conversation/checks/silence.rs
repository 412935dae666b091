//! `silence`: the customer never waits on the agent longer than `[scoring.timing] max_silence_ms` without a
//! hold phrase in the agent's turn before (the wait for the first reply is `first_response`'s).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, timed};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct Silence {
    gaps_checked: usize,
    silence: Option<Evidence>,
}

impl Check for Silence {
    const NEEDS: &'static [Cue] = &[Cue::Hold];

    fn observe(&mut self, turn: &TurnView<'_>) {
        let Some(t) = turn.timing else {
            return;
        };
        let Some(prev) = t.prev else {
            return;
        };
        // Silence is the agent's when the customer waits for the agent; the wait for the first reply is
        // judged by `first_response`, and a customer who takes their time is not the agent's fault.
        let agent_owes = turn.is_agent() && t.awaiting_first_response.is_none();
        if !agent_owes {
            return;
        }
        self.gaps_checked += 1;
        let gap = t.start_ms.saturating_sub(prev.end_ms);
        if gap > turn.scoring.timing.max_silence_ms && !prev.hold && self.silence.is_none() {
            self.silence = Some(Evidence::new(
                turn.index,
                format!(
                    "{:.1} s of silence before this turn, no hold phrase",
                    gap as f64 / 1000.0
                ),
            ));
        }
    }

    fn judge(&self, _: &JudgeCtx<'_>) -> Option<Judged> {
        timed(
            self.gaps_checked,
            &self.silence,
            "no silence over the limit without a hold phrase",
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score_timed};

    #[test]
    fn a_hold_phrase_excuses_the_wait() {
        let turns = [
            ("customer", "在吗", 0, 1000),
            ("agent", "您好", 2000, 3000),
            ("customer", "我的快递到哪了", 4000, 5000),
            ("agent", "好的", 6000, 7000),
            ("agent", "已经到站了", 200_000, 201_000),
        ];
        let r = score_timed(&turns);
        let c = check(&r, "silence");
        assert!(!c.passed);
        assert_eq!(c.turn, Some(4));
        let mut held = turns;
        held[3].1 = "请稍等";
        assert!(check(&score_timed(&held), "silence").passed);
    }
}
