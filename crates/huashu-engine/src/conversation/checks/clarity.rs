//! `clarity`: no reply of the agent leaves the customer puzzled. The customer's next message after a reply with
//! content says they did not follow it (什么意思, 没看懂, 不明白, or a message that opens with “?”): the reply
//! did not say clearly what the customer needed (a curt 是的 to the wrong question, a half sentence, a policy
//! without what it means for them). A “?” after a hold or an offer of help is the customer prompting a wait, not
//! puzzlement, and is not counted. Only a failure counts, as with `placeholder`: a chat is not better for
//! lacking a fault most chats do not have.

use huashu_rules::Cue;
use huashu_text::Span;

use super::{Check, JudgeCtx, Judged, TurnView, chinese, fail};
use crate::conversation::clauses::{clause_end, clause_start, content_chars, quote, union};
use crate::conversation::report::Evidence;

/// Characters of its own an agent turn needs, beyond holds, filler, offers of help and polite words, to be a
/// reply the customer could be puzzled by.
const REPLY_CHARS: usize = 3;

#[derive(Debug, Default)]
pub(crate) struct Clarity {
    /// The last turn was an agent reply with content (not only a hold, filler or an offer of help).
    replied: bool,
    agent_turns: usize,
    puzzled: Option<Evidence>,
}

impl Check for Clarity {
    const NEEDS: &'static [Cue] = &[Cue::Puzzled];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if turn.is_agent() {
            self.agent_turns += 1;
            self.replied = reply_chars(turn) >= REPLY_CHARS;
            return;
        }
        if !std::mem::take(&mut self.replied) || self.puzzled.is_some() {
            return;
        }
        if let Some(h) = turn.cue(Cue::Puzzled) {
            let words = if !h.matched.chars().any(char::is_alphanumeric) {
                quote(turn.text)
            } else {
                h.matched.clone()
            };
            self.puzzled = Some(Evidence::new(turn.index, format!("“{words}”")));
        }
    }

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        if self.agent_turns == 0 {
            return None;
        }
        let ev = self.puzzled.as_ref()?;
        fail(
            if chinese(ctx.language) {
                format!("第{}轮客户没看懂上一句答复：{}", ev.turn, ev.text)
            } else {
                format!("turn {}: the customer did not follow the reply {}", ev.turn, ev.text)
            },
            Some(ev.turn),
        )
    }
}

/// Letters and digits of an agent turn outside its holds (the whole clause: 还请您稍等，正在为您查询), filler,
/// offers of help and polite words.
fn reply_chars(turn: &TurnView<'_>) -> usize {
    let clause = |h: Span| Span {
        start: clause_start(turn.text, h.start),
        end: clause_end(turn.text, h.end),
    };
    let skip_whole = [Cue::Hold, Cue::HoldNeeded].map(|c| turn.cue_index.get(c));
    let skip = [Cue::Filler, Cue::Greeting, Cue::Closing, Cue::Polite].map(|c| turn.cue_index.get(c));
    let spans = union(turn.cues.iter().filter_map(|h| {
        if skip_whole.contains(&Some(h.cue)) {
            Some(clause(h.span))
        } else if skip.contains(&Some(h.cue)) {
            Some(h.span)
        } else {
            None
        }
    }));
    let all = Span {
        start: 0,
        end: turn.text.len(),
    };
    content_chars(turn.text, all, &spans)
}

#[cfg(test)]
mod tests {
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn a_customer_who_did_not_follow_the_reply() {
        let r = score(&[
            ("customer", "这个面霜晚上用还是早上用"),
            ("agent", "按顺序"),
            ("customer", "什么意思？"),
            ("agent", "早晚都可以用，洁面后先用水乳再用面霜"),
        ]);
        let c = check(&r, "clarity");
        assert!(!c.passed, "{c:?}");
        assert!(c.detail.contains("什么意思"), "{}", c.detail);
        let r = score(&[
            ("customer", "能开专票吗"),
            ("agent", "您要改成增票是吗 改成"),
            ("customer", "? 你在说什么"),
        ]);
        assert!(!check(&r, "clarity").passed);
    }

    #[test]
    fn a_prompt_during_a_hold_or_a_clear_chat_is_not_scored() {
        // “?” while the agent looks something up prompts the wait; it is not puzzlement at a reply.
        let r = score(&[
            ("customer", "我的快递今天能到吗"),
            ("agent", "还请您稍等，正在为您查询~"),
            ("customer", "??"),
            ("agent", "今天下午会给您送到的，请留意电话"),
            ("customer", "好的谢谢"),
        ]);
        assert!(r.checks.iter().all(|c| c.id != "clarity"), "{:?}", r.checks);
        // A pass is not scored: only a failure counts.
        let r = score(&[
            ("customer", "退款多久到账"),
            ("agent", "原路退回，储蓄卡一般3到5个工作日到账"),
            ("customer", "好的，明白了"),
        ]);
        assert!(r.checks.iter().all(|c| c.id != "clarity"), "{:?}", r.checks);
    }
}
