//! `courtesy`: at least half of the agent's turns use a polite word (请, 您, 谢谢), or every complaint was met at
//! once with empathy; below that, points in proportion.

use huashu_rules::Cue;

use super::{Check, CheckId, JudgeCtx, Judged, TurnView, share};
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
        // In a complaint the apology carries the courtesy: the replies after it are the business (the solution,
        // the commitment), so a complaint met at once with empathy every time is not curt.
        let prompt = ctx
            .episodes
            .tally(CheckId::Prompt)
            .is_some_and(|t| ctx.episodes.count > 0 && t.applicable > 0 && t.passed == t.applicable);
        let ok = self.polite_turns * 2 >= agent_turns || prompt;
        let mut detail = format!(
            "{} of {} agent turns use a polite word",
            self.polite_turns, agent_turns
        );
        if prompt && self.polite_turns * 2 < agent_turns {
            detail.push_str("; every complaint was met at once with empathy");
        }
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

    #[test]
    fn a_curt_chat_is_not_in_the_high_band() {
        let turns = |reply: &'static str| {
            [
                ("agent", "您好，很高兴为您服务"),
                ("customer", "我的订单什么时候发货？"),
                ("agent", reply),
                ("customer", "好的"),
                ("agent", "好"),
                ("agent", "还有其他可以帮您的吗，祝您生活愉快"),
            ]
        };
        // Polite in half the agent's turns: nothing caps it.
        let polite = score(&turns("请放心，今天下午就会发出"));
        assert!(check(&polite, "courtesy").passed);
        assert!(polite.score >= 80, "{polite:?}");
        // Polite in under half: zh-CN's `cap = 79` keeps it out of the high band whatever else passed.
        let curt = score(&turns("今天下午就会发出"));
        assert!(!check(&curt, "courtesy").passed);
        assert_eq!(curt.score, 79, "{curt:?}");
    }

    #[test]
    fn a_cap_above_100_is_refused_by_name() {
        let mut rs = huashu_rules::Ruleset::builtin("zh-CN").expect("bundled");
        if let Some(spec) = rs.manifest.scoring.checks.get_mut("courtesy") {
            spec.cap = Some(120);
        }
        let Err(err) = crate::Engine::new(rs) else {
            panic!("a cap of 120 compiled");
        };
        let err = err.to_string();
        assert!(err.contains("scoring.checks.courtesy.cap"), "{err}");
        assert!(err.contains("must be a score from 0 to 100, not 120"), "{err}");
    }
}
