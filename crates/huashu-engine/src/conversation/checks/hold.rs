//! `hold`: before going to look something up (我帮您查一下), the agent asks the customer to hold (请稍等).

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, chinese, fail, pass};
use crate::conversation::report::Evidence;

#[derive(Debug, Default)]
pub(crate) struct Hold {
    needed: usize,
    given: usize,
    missing: Option<Evidence>,
    example: Option<Evidence>,
    /// The agent's last turn put the customer on hold: the next look-up is the same wait.
    held: bool,
}

impl Check for Hold {
    const NEEDS: &'static [Cue] = &[Cue::Hold, Cue::HoldNeeded];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if !turn.is_agent() {
            return;
        }
        let hold = turn.cue(Cue::Hold);
        let held = std::mem::replace(&mut self.held, hold.is_some());
        let Some(need) = turn.cue(Cue::HoldNeeded) else {
            return;
        };
        self.needed += 1;
        match hold {
            Some(h) => {
                self.given += 1;
                self.example.get_or_insert_with(|| turn.quote(h));
            }
            // 请稍等，我帮您查一下 → (the customer adds a detail) → 帮您查看一下: the customer is already waiting on the
            // hold of the agent's previous turn; one hold covers the wait.
            None if held => self.given += 1,
            None => {
                self.missing.get_or_insert_with(|| turn.quote(need));
            }
        }
    }

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        if self.needed == 0 {
            return None;
        }
        // The hold phrase is named in the ruleset's language.
        let hold = if chinese(ctx.language) {
            "请稍等"
        } else {
            "a hold phrase"
        };
        match &self.missing {
            None => self.example.as_ref().and_then(pass),
            Some(ev) => fail(
                format!("turn {}: {} without {hold} first", ev.turn, ev.text),
                Some(ev.turn),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score, score_with};

    #[test]
    fn a_look_up_needs_a_hold_first() {
        let r = score(&[("customer", "我的快递到哪了"), ("agent", "我帮您查一下")]);
        let c = check(&r, "hold");
        assert!(!c.passed);
        assert_eq!(c.turn, Some(1));
        let r = score(&[("customer", "我的快递到哪了"), ("agent", "请稍等，我帮您查一下")]);
        assert!(check(&r, "hold").passed);
    }

    /// A look-up in the turn after a hold is the same wait; after an answer, a new look-up needs its own hold.
    #[test]
    fn one_hold_covers_the_wait() {
        let r = score(&[
            ("customer", "我的快递到哪了"),
            ("agent", "请稍等，我帮您查一下"),
            ("customer", "是昨天下的单"),
            ("agent", "好的，帮您查看一下"),
        ]);
        assert!(check(&r, "hold").passed);
        let r = score(&[
            ("customer", "我的快递到哪了"),
            ("agent", "请稍等，我帮您查一下"),
            ("agent", "快递已经到站点了"),
            ("customer", "那发票呢"),
            ("agent", "我帮您查一下"),
        ]);
        let c = check(&r, "hold");
        assert!(!c.passed);
        assert_eq!(c.turn, Some(4));
    }

    /// Reports of a ruleset in another language carry no Chinese wording of their own.
    #[test]
    fn english_reports_have_no_chinese_wording() {
        let r = score_with(
            "en",
            &[
                ("customer", "Where is my order?"),
                ("agent", "Let me check that for you."),
                ("agent", "There is nothing we can do about it."),
            ],
        );
        assert!(!check(&r, "hold").passed);
        let json = serde_json::to_string(&r).unwrap_or_default();
        let cjk: String = json
            .chars()
            .filter(|c| ('\u{3400}'..='\u{9fff}').contains(c))
            .collect();
        assert!(cjk.is_empty(), "Chinese in an en report: {cjk} in {json}");
    }
}
