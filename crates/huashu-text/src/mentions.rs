//! A turn's leading @mentions (`@MommaYou2 `, `@AskPayPal @京东客服 `): whom the turn is addressed to on a
//! social or group channel, not what is said. Every agent reply on Twitter opens with one; left in, it
//! stands before the first sentence, and a rule anchored at a sentence start (`^call your bank`) never
//! sees that sentence begin.

use crate::chars::is_cjk;

/// Longest handle taken as a mention, in characters (Twitter allows 15, Weibo 30).
const MAX_HANDLE: usize = 30;

/// Byte length of the mentions that open `input`, with the blanks, commas or colons after them; 0 when it
/// does not open with one. A mention is `@` (or full-width `＠`) and a handle of letters, digits, `_` or
/// ideographs, ended by a blank, a comma, a colon or the end of the turn: `@ 10am` and `@home.` are not.
pub(crate) fn leading(input: &str) -> usize {
    let mut taken = 0;
    let mut rest = input.trim_start();
    loop {
        let Some(after_at) = rest.strip_prefix('@').or_else(|| rest.strip_prefix('＠')) else {
            return taken;
        };
        let handle = after_at
            .char_indices()
            .take_while(|&(i, c)| {
                i < MAX_HANDLE * 4 && (c.is_ascii_alphanumeric() || c == '_' || is_cjk(c))
            })
            .map(|(i, c)| i + c.len_utf8())
            .last()
            .unwrap_or(0);
        let tail = &after_at[handle..];
        let ends = tail
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || matches!(c, ',' | ':' | '，' | '：'));
        if handle == 0 || after_at[..handle].chars().count() > MAX_HANDLE || !ends {
            return taken;
        }
        let gap = tail
            .char_indices()
            .find(|&(_, c)| !(c.is_whitespace() || matches!(c, ',' | ':' | '，' | '：')))
            .map_or(tail.len(), |(i, _)| i);
        rest = &tail[gap..];
        taken = input.len() - rest.len();
    }
}

#[cfg(test)]
mod tests {
    use super::leading;

    #[test]
    fn the_mentions_that_open_a_turn_are_measured() {
        assert_eq!(leading("@MommaYou2 Call your bank."), "@MommaYou2 ".len());
        assert_eq!(leading("  @a_b @c, @d: Hi"), "  @a_b @c, @d: ".len());
        assert_eq!(leading("＠京东客服 您好"), "＠京东客服 ".len());
        assert_eq!(leading("@only"), "@only".len());
    }

    #[test]
    fn anything_else_is_left_alone() {
        for t in [
            "Call your bank.",
            "@ 10am tomorrow",
            "@home.",
            "mail me at x@y.com",
            "Hi @Bob, call your bank",
            "@averyveryveryverylonghandlethatgoesonandon1234 hi",
            "",
        ] {
            assert_eq!(leading(t), 0, "{t}");
        }
    }
}
