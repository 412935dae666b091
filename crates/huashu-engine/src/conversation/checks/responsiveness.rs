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
            // The customer spoke and asked nothing: nothing was left unanswered. Judged passed rather than left
            // out, so that greeting and closing alone do not make the whole score of a short chat.
            return (ctx.customer_turns > 0 && ctx.agent_turns > 0).then(|| Judged {
                passed: true,
                share: 1.0,
                detail: "the customer asked no question".into(),
                turn: None,
            });
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
    fn a_how_question_is_answered_by_steps_or_by_doing_it() {
        let done = score(&[
            ("customer", "这个订单怎么退款？"),
            ("agent", "我给您处理一下，退款到账会短信告知您"),
        ]);
        assert!(check(&done, "responsiveness").passed);
        let place = score(&[
            ("customer", "发票怎么开？"),
            ("agent", "您可以在订单详情页申请开具电子发票"),
        ]);
        assert!(check(&place, "responsiveness").passed);
        let neither = score(&[("customer", "发票怎么开？"), ("agent", "发票是可以开的呢")]);
        let c = check(&neither, "responsiveness");
        assert!(!c.passed);
        assert!(c.detail.contains("no steps for a how-question"), "{}", c.detail);
    }

    #[test]
    fn an_offer_of_more_help_answers_nothing() {
        // The 有 of 还有什么可以帮您 is no yes to 有联系方式么.
        let r = score(&[
            ("customer", "有联系方式么?"),
            ("agent", "请问还有什么可以帮您呢?怠慢之处请您谅解呢"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(!c.passed);
        assert!(c.detail.contains("no yes or no"), "{}", c.detail);
        // A link is where to look.
        let r = score(&[("customer", "从哪里可以看月响应时间"), ("agent", "[链接x] 您查看下的呢")]);
        assert!(check(&r, "responsiveness").passed);
    }

    #[test]
    fn nothing_asked_leaves_nothing_unanswered() {
        let r = score(&[("customer", "快递收到了，谢谢"), ("agent", "不客气，祝您生活愉快")]);
        let c = check(&r, "responsiveness");
        assert!(c.passed);
        assert_eq!(c.points, f64::from(c.max));
        assert_eq!(c.detail, "the customer asked no question");
    }

    #[test]
    fn a_thin_reply_the_customer_asks_past_earns_nothing() {
        let r = score(&[
            ("customer", "退款什么时候能到账？"),
            ("agent", "原路退回的"),
            ("customer", "我就是想知道退款什么时候能到账"),
            ("agent", "嗯"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(!c.passed);
        assert_eq!(c.points, 0.0, "{c:?}");
    }

    #[test]
    fn a_reply_without_the_time_asked_for_is_half_an_answer() {
        let r = score(&[("customer", "什么时候能到账？"), ("agent", "原路退回的")]);
        let c = check(&r, "responsiveness");
        assert!(!c.passed);
        assert!((c.points - f64::from(c.max) / 2.0).abs() < 1e-9, "{c:?}");
    }
    #[test]
    fn a_closing_offer_answers_nothing() {
        let r = score(&[
            ("customer", "什么时候能修好？"),
            ("agent", "会在三天内维修完成"),
            ("customer", "麻烦亲帮忙加快一些哦"),
            ("agent", "请问还有其他还可以帮到您的吗?"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(!c.passed, "{c:?}");
        assert!(c.detail.starts_with("1 of 2 customer question(s) answered"), "{}", c.detail);
        assert!(!check(&r, "early_closing").passed);
    }

    #[test]
    fn a_request_is_answered_by_agreeing_not_by_a_stall() {
        let agreed = score(&[("customer", "尽量帮我发一个稍微熟点的"), ("agent", "嗯嗯 亲")]);
        assert!(check(&agreed, "responsiveness").passed);
        let stalled = score(&[("customer", "能帮忙催一下啊"), ("agent", "建议您耐心等待下呢")]);
        let c = check(&stalled, "responsiveness");
        assert!(!c.passed, "{c:?}");
        // The 可以 of an offer of help agrees to nothing.
        let offer = score(&[
            ("customer", "帮我查下这两个订单是否开票了"),
            ("agent", "您好，请问有什么问题我可以帮您处理或解决呢?"),
        ]);
        assert!(!check(&offer, "responsiveness").passed);
    }

    #[test]
    fn a_stall_is_no_substance_even_the_first_time() {
        // 请您耐心等待 / 为您留言催促: half an answer the first time, none again.
        let once = score(&[
            ("customer", "我的快递到哪了？"),
            ("agent", "还请您耐心等待一下呢，小妹这边为您留言催促"),
        ]);
        let c = check(&once, "responsiveness");
        assert!(!c.passed);
        assert!((c.points - f64::from(c.max) / 2.0).abs() < 1e-9, "{c:?}");
        assert!(c.detail.contains("stalls without news"), "{}", c.detail);
        let again = score(&[
            ("customer", "我的快递到哪了？"),
            ("agent", "还请您耐心等待一下呢"),
            ("customer", "到底到哪了，今天能到吗"),
            ("agent", "已经帮您催一下了，请您耐心等待"),
        ]);
        let c = check(&again, "responsiveness");
        assert_eq!(c.points, 0.0, "{c:?}");
        // With news besides the chasing (a time), the stall answers.
        let news = score(&[
            ("customer", "我的快递到哪了？"),
            ("agent", "请您耐心等待，已经到您当地的站点了，今天下午会送到"),
        ]);
        assert!(check(&news, "responsiveness").passed);
    }

    #[test]
    fn the_customer_answering_a_question_back_leaves_nothing_unanswered() {
        let r = score(&[
            ("customer", "我的订单什么时候发货？"),
            ("agent", "请问是这个订单吗？"),
            ("customer", "是的，能今天发吗？"),
            ("agent", "今天下午就会发出"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(c.passed, "{c:?}");
        assert!(c.detail.starts_with("1 of 1 customer question(s) answered"), "{}", c.detail);
        // After the question back, the customer's new question is what needs answering: a yes answers it.
        let r = score(&[
            ("customer", "云南啥时候有货"),
            ("agent", "具体到货时间暂时无法查询，请问您要哪个颜色呢？"),
            ("customer", "其它的颜色也没有吗?"),
            ("agent", "有的 [链接x]"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(!c.detail.contains("no time or date"), "{}", c.detail);
        // Without the question back, the first question was left for a new one.
        let r = score(&[
            ("customer", "我的订单什么时候发货？"),
            ("agent", "好的亲"),
            ("customer", "能今天发吗？"),
            ("agent", "今天下午就会发出"),
        ]);
        assert!(!check(&r, "responsiveness").passed);
    }

    #[test]
    fn a_hold_after_the_answer_does_not_hide_it() {
        // 还请您耐心等待 closes the turn: the time came first and answers.
        let r = score(&[
            ("customer", "取消了钱要大概什么时候才可以退"),
            ("agent", "储蓄卡3-5个工作日，信用卡5-7个工作日 还请您耐心等待啦"),
        ]);
        assert!(check(&r, "responsiveness").passed, "{:?}", check(&r, "responsiveness"));
        // A hold and nothing else is still no answer, whichever way round.
        let r = score(&[
            ("customer", "什么时候发货？"),
            ("agent", "好的，请稍等，正在为您查询"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(!c.passed);
        assert_eq!(c.points, 0.0, "{c:?}");
    }

    #[test]
    fn a_nudge_asks_nothing_new() {
        // ? after a hold prompts for the pending answer; it is not a second question left unanswered.
        let r = score(&[
            ("customer", "空调送来了发票在哪里开"),
            ("agent", "还请您稍等，正在为您查询~"),
            ("customer", "?"),
            ("agent", "您可以在订单详情页申请开具电子发票"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(c.passed, "{c:?}");
        assert!(c.detail.starts_with("1 of 1 customer question(s) answered"), "{}", c.detail);
    }

    #[test]
    fn a_question_asked_again_after_its_answer_is_not_unanswered() {
        // zh-CN: asking again after an answer is no grievance (the customer missed the reply); answered again,
        // every question is answered.
        let r = score(&[
            ("customer", "我的会员下个月到期，现在续费是从到期以后开始算吗"),
            ("agent", "是的亲，直接叠加的"),
            ("customer", "我的会员下个月到期，现在续费是从到期以后开始算吗"),
            ("agent", "是的，从到期日再延长一年"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(c.passed, "{c:?}");
        // The repeat is no new question: a bare 嗯 to it leaves nothing unanswered, and the question counts once.
        let r = score(&[
            ("customer", "我的会员下个月到期，现在续费是从到期以后开始算吗"),
            ("agent", "是的亲，直接叠加的"),
            ("customer", "我的会员下个月到期，现在续费是从到期以后开始算吗"),
            ("agent", "嗯"),
        ]);
        let c = check(&r, "responsiveness");
        assert!(c.passed, "{c:?}");
        assert!(c.detail.starts_with("1 of 1"), "{}", c.detail);
        // A question the agent never answered, asked again, still waits for its answer.
        let r = score(&[
            ("customer", "我的会员下个月到期，现在续费是从到期以后开始算吗"),
            ("agent", "嗯"),
            ("customer", "我的会员下个月到期，现在续费是从到期以后开始算吗"),
            ("agent", "嗯"),
        ]);
        assert!(!check(&r, "responsiveness").passed);
    }
}
