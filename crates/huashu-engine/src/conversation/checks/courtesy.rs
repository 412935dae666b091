//! `courtesy`: at least half of the agent's turns use a polite word (请, 您, 谢谢); below that, points in
//! proportion.

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, share};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct Courtesy {
    polite_turns: usize,
    polite_example: Option<Evidence>,
    impolite_example: Option<Evidence>,
}

impl Check for Courtesy {
    const NEEDS: &'static [Cue] = &[Cue::Polite];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if !turn.is_agent() {
            return;
        }
        match turn.cue(Cue::Polite) {
            Some(h) => {
                self.polite_turns += 1;
                self.polite_example.get_or_insert_with(|| turn.quote(h));
            }
            None => {
                self.impolite_example
                    .get_or_insert_with(|| Evidence::new(turn.index, "no polite word".into()));
            }
        }
    }

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        let agent_turns = ctx.agent_turns;
        if agent_turns == 0 {
            return None;
        }
        let ok = self.polite_turns * 2 >= agent_turns;
        let detail = format!(
            "{} of {} agent turns use a polite word",
            self.polite_turns, agent_turns
        );
        let ev = if ok {
            self.polite_example.as_ref()
        } else {
            self.impolite_example.as_ref()
        };
        Some(Judged {
            passed: ok,
            share: if ok {
                1.0
            } else {
                share(self.polite_turns * 2, agent_turns)
            },
            detail: match ev {
                Some(e) => format!("{detail} ({e})"),
                None => detail,
            },
            turn: ev.map(|e| e.turn),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn half_the_agent_turns_must_be_polite() {
        let r = score(&[("agent", "好"), ("agent", "行"), ("agent", "谢谢您")]);
        let c = check(&r, "courtesy");
        assert!(!c.passed);
        assert!(c.detail.starts_with("1 of 3 agent turns use a polite word"), "{}", c.detail);
        assert!(c.points > 0.0);
    }
}
