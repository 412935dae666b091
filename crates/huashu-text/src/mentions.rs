//! What frames a reply on a social channel and is not part of what it says: the @mentions that open it
//! (`@MommaYou2 `, `@AskPayPal @京东客服 `: whom it is addressed to) and the sign-off that ends it (`^JD`,
//! `*MS`, `/FC`, `-Mike`: who wrote it; `1/2`: which part of a thread it is). Every agent reply on
//! Twitter opens with a mention and four in ten end with a sign-off; left in, they stand before the first
//! sentence and after the last, and a rule anchored at a sentence start (`^call your bank`) or a turn's
//! end never sees that sentence begin or end.

use crate::chars::is_cjk;

/// Longest handle taken as a mention, in characters (Twitter allows 15, Weibo 30).
const MAX_HANDLE: usize = 30;

/// Whether `bytes` may open with a mention: the one test every turn pays (`@`, the lead byte of `＠`, or
/// a blank before one); the rest is kept out of the normaliser's loop.
#[inline(always)]
pub(crate) fn may_open_with_one(bytes: &[u8]) -> bool {
    matches!(
        bytes.first(),
        Some(b'@' | 0xEF | b' ' | b'\t' | b'\r' | b'\n')
    )
}

/// Whether `input` may end with a sign-off (it ends in an ASCII letter, digit or blank).
#[inline(always)]
pub(crate) fn may_be_signed(input: &str) -> bool {
    input
        .as_bytes()
        .last()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b.is_ascii_whitespace())
}

/// Byte length of the mentions that open `input`, with the blanks, commas or colons after them; 0 when it
/// does not open with one. A mention is `@` (or full-width `＠`) and a handle of letters, digits, `_` or
/// ideographs, ended by a blank, a comma, a colon or the end of the turn: `@ 10am` and `@home.` are not.
#[inline(never)]
pub(crate) fn leading(input: &str) -> usize {
    let mut taken = 0;
    // Runs on every turn: ASCII trimming only (a Unicode blank before a mention is left alone).
    let mut rest = input.trim_ascii_start();
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

/// Longest signed name or initials taken as a sign-off.
const MAX_SIGNATURE: usize = 10;

/// Byte length of `input` without the sign-offs that end it (and the blanks before them): `^ * /` and 1 to
/// 4 capitals (`^JD`), `-` and a capitalised name of up to 10 letters (`-Mike`), or a thread part (`1/2`),
/// each after a blank; else the length without trailing blanks.
#[inline(never)]
pub(crate) fn signed_end(input: &str) -> usize {
    // Runs on every turn: ASCII trimming and byte tests only.
    let mut end = input.trim_ascii_end().len();
    // A sign-off and a thread part, in either order.
    for _ in 0..2 {
        let bytes = &input.as_bytes()[..end];
        // Each ends in an ASCII letter or digit: most turns (every one that ends in 。) stop here, as this
        // runs on every turn.
        if !bytes.last().is_some_and(u8::is_ascii_alphanumeric) {
            break;
        }
        let Some(word) = bytes
            .iter()
            .rev()
            .take(MAX_SIGNATURE + 2)
            .position(u8::is_ascii_whitespace)
        else {
            break;
        };
        // Just past an ASCII blank: a char boundary.
        let start = end - word;
        let last = &input[start..end];
        if !(is_signature(last) || is_thread_part(last)) {
            break;
        }
        end = input[..start].trim_ascii_end().len();
    }
    end
}

fn is_signature(word: &str) -> bool {
    let Some((mark, name)) = word.split_at_checked(1) else {
        return false;
    };
    let letters = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic());
    match mark {
        // Initials: `^QA`, `*SR`, `/FC` (a lower-case `/help` is a command, `*hugs` an action).
        "^" | "*" | "/" => {
            letters && name.len() <= 4 && name.bytes().all(|b| b.is_ascii_uppercase())
        }
        // A name: `-Mike`, `-UV`.
        "-" => letters && name.len() <= MAX_SIGNATURE && name.as_bytes()[0].is_ascii_uppercase(),
        _ => false,
    }
}

fn is_thread_part(word: &str) -> bool {
    let Some((part, of)) = word.split_once('/') else {
        return false;
    };
    let number = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    number(part) && number(of) && part.parse::<u8>().ok() <= of.parse::<u8>().ok() && of != "1"
}

#[cfg(test)]
mod tests {
    use super::{leading, signed_end};

    #[test]
    fn the_sign_offs_that_end_a_reply_are_measured() {
        for (t, kept) in [
            ("We hope this helps ^JD", "We hope this helps"),
            ("Relax *MS ", "Relax"),
            ("Just give us a shout /FC", "Just give us a shout"),
            ("Take care! -Mike", "Take care!"),
            (
                "Open the link: https://x.example/a 1/2",
                "Open the link: https://x.example/a",
            ),
            ("Select the product. ^QA 2/2", "Select the product."),
        ] {
            assert_eq!(&t[..signed_end(t)], kept, "{t}");
        }
    }

    #[test]
    fn an_ending_that_is_said_stays() {
        for t in [
            "Add 1/2 cup",
            "That is 3/2 of it",
            "the e-mail -not sent",
            "use the /help",
            "sends you *hugs",
            "ask for\u{3000}^JDX1",
            "x^2",
            "^JD",
            "No",
            "",
        ] {
            assert_eq!(signed_end(t), t.trim_end().len(), "{t}");
        }
    }

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
