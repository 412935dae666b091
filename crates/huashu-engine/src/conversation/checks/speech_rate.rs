//! `speech_rate`: the agent speaks between `[scoring.timing] min_chars_per_s` and `max_chars_per_s` (timed
//! agent turns of at least a second).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, timed};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct SpeechRate {
    rates_checked: usize,
    rate: Option<Evidence>,
}

impl Check for SpeechRate {
    const NEEDS: &'static [Cue] = &[];

    fn observe(&mut self, turn: &TurnView<'_>) {
        let Some(t) = turn.timing else {
            return;
        };
        if !turn.is_agent() {
            return;
        }
        let ms = t.end_ms.saturating_sub(t.start_ms);
        if ms < 1000 {
            return;
        }
        let limits = turn.scoring.timing;
        let chars = turn.text.chars().filter(|c| c.is_alphanumeric()).count() as f64;
        let rate = chars / (ms as f64 / 1000.0);
        self.rates_checked += 1;
        if (rate < limits.min_chars_per_s || rate > limits.max_chars_per_s) && self.rate.is_none() {
            self.rate = Some(Evidence::new(
                turn.index,
                format!(
                    "{rate:.1} chars/s (expected {}–{})",
                    limits.min_chars_per_s, limits.max_chars_per_s
                ),
            ));
        }
    }

    fn judge(&self, _: &JudgeCtx<'_>) -> Option<Judged> {
        timed(
            self.rates_checked,
            &self.rate,
            "agent speech rate within range",
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score_timed};

    #[test]
    fn too_fast_fails() {
        let r = score_timed(&[("agent", "您好很高兴为您服务请问有什么可以帮您", 0, 1000)]);
        let c = check(&r, "speech_rate");
        assert!(!c.passed);
        assert!(c.detail.contains("chars/s"), "{}", c.detail);
    }
}
