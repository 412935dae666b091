//! `escalation_time`: a case handed on (转交, 升级处理) comes with a time (24小时内).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, fail, pass};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct EscalationTime {
    escalations: usize,
    timed: usize,
    untimed: Option<Evidence>,
    example: Option<Evidence>,
}

impl Check for EscalationTime {
    const NEEDS: &'static [Cue] = &[Cue::Escalation, Cue::Time];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if !turn.is_agent() {
            return;
        }
        let Some(e) = turn.cue(Cue::Escalation) else {
            return;
        };
        self.escalations += 1;
        match turn.cue(Cue::Time) {
            Some(t) => {
                self.timed += 1;
                self.example.get_or_insert_with(|| {
                    Evidence::new(turn.index, format!("“{}” with “{}”", e.matched, t.matched))
                });
            }
            None => {
                self.untimed.get_or_insert_with(|| turn.quote(e));
            }
        }
    }

    fn judge(&self, _: &JudgeCtx<'_>) -> Option<Judged> {
        if self.escalations == 0 {
            return None;
        }
        match &self.untimed {
            None => self.example.as_ref().and_then(pass),
            Some(ev) => fail(
                format!("turn {}: {} with no time given", ev.turn, ev.text),
                Some(ev.turn),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::score;

    #[test]
    fn applies_only_to_escalations() {
        let r = score(&[("customer", "你好"), ("agent", "您好")]);
        assert!(r.checks.iter().all(|c| c.id != "escalation_time"));
    }
}
