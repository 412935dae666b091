//! `placeholder`: no agent turn is a template sent with a field still unfilled (`[价保金额(单件)]`,
//! `《到货时间》`, `{name}`, `XX`). The corpus's anonymisation tags (`[数字x]`, `[订单x]`, `#E-s[数字x]`: the
//! content ends in `x`) and the chat tool's labels (`[商品快照]`, `[子]`) are not placeholders.

use huashu_rules::Cue;

use super::{Check, JudgeCtx, Judged, TurnView, chinese, fail};
use crate::conversation::report::Evidence;

/// Words that name a template field: a bracketed label holding one of them is a value left unfilled.
const FIELD_WORDS: &[&str] = &[
    "金额", "数量", "时间", "日期", "姓名", "名字", "地址", "单号", "编号", "号码", "电话", "名称", "价格",
    "天数", "原因", "型号", "amount", "date", "time", "name", "number", "address", "price", "order",
];

#[derive(Debug, Default)]
pub(crate) struct Placeholder {
    agent_turns: usize,
    found: Option<Evidence>,
}

impl Check for Placeholder {
    const NEEDS: &'static [Cue] = &[];

    fn observe(&mut self, turn: &TurnView<'_>) {
        if !turn.is_agent() {
            return;
        }
        self.agent_turns += 1;
        if self.found.is_none() {
            if let Some(p) = find(turn.text) {
                self.found = Some(Evidence::new(turn.index, format!("“{p}”")));
            }
        }
    }

    fn judge(&self, ctx: &JudgeCtx<'_>) -> Option<Judged> {
        if self.agent_turns == 0 {
            return None;
        }
        match &self.found {
            Some(ev) => fail(
                if chinese(ctx.language) {
                    format!("第{}轮模板字段未填写：{}", ev.turn, ev.text)
                } else {
                    format!("turn {}: template field left unfilled {}", ev.turn, ev.text)
                },
                Some(ev.turn),
            ),
            // Only a failure counts: a chat is not better for lacking a fault that few chats could have, and
            // a point earned by every clean chat would lift routine chats into the high band.
            None => None,
        }
    }
}

/// The first unfilled template field in `text`.
fn find(text: &str) -> Option<String> {
    for (open, close) in [('[', ']'), ('【', '】'), ('《', '》'), ('{', '}'), ('｛', '｝')] {
        let mut rest = text;
        while let Some(i) = rest.find(open) {
            let after = &rest[i + open.len_utf8()..];
            let Some(j) = after.find(close) else { break };
            let inner = &after[..j];
            rest = &after[j..];
            if inner.is_empty() || inner.chars().count() > 16 || inner.contains(open) {
                continue;
            }
            let tag = inner.ends_with('x') || inner.ends_with('X');
            let ident = matches!(open, '{' | '｛')
                && inner.chars().all(|c| c.is_alphanumeric() || c == '_');
            let field = FIELD_WORDS.iter().any(|w| inner.to_lowercase().contains(w));
            if !tag && (ident || field) {
                return Some(format!("{open}{inner}{close}"));
            }
        }
    }
    // XX / ×× standing for a value (XX元, XX月XX日), not part of a longer Latin word (XXL).
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, 'X' | 'x' | '×') {
            let mut j = i;
            while j < chars.len() && chars[j] == c {
                j += 1;
            }
            let before = i.checked_sub(1).map(|k| chars[k]);
            let next = chars.get(j).copied();
            let latin = |ch: Option<char>| ch.is_some_and(|ch| ch.is_ascii_alphanumeric());
            if j - i >= 2 && !latin(before) && !latin(next) {
                return Some(chars[i..j].iter().collect());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find;
    use crate::conversation::checks::test_support::{check, score};

    #[test]
    fn unfilled_fields_but_not_anonymisation_tags() {
        assert_eq!(
            find("应价保 [价保金额(单件)] * [价保商品数量] = [金额x]").as_deref(),
            Some("[价保金额(单件)]")
        );
        assert_eq!(find("预计《到货时间》送达").as_deref(), Some("《到货时间》"));
        assert_eq!(find("Hi {name}, thanks").as_deref(), Some("{name}"));
        assert_eq!(find("退款XX元已到账").as_deref(), Some("XX"));
        assert_eq!(find("[数字x]个工作日 [订单x] [姓名x] #E-s[数字x] [商品快照] [子]"), None);
        assert_eq!(find("XXL码 《快速安装指南》"), None);
        let r = score(&[("agent", "应价保 [价保金额(单件)] = [金额x]")]);
        assert!(!check(&r, "placeholder").passed);
        let r = score(&[("agent", "差价[金额x]已退回")]);
        assert!(r.checks.iter().all(|c| c.id != "placeholder"), "a pass is not scored");
    }
}
