//! Whisper's decoding loops, cut back. On noise, music on hold, a language other than the one asked for or
//! a long silence, a greedy decoder at temperature 0 (no fallback: `whisper.rs` bounds the worst case that
//! way) can repeat one short piece until its token budget runs out (`让你让你让你…`, 120 tokens for 11 s of
//! English heard as Mandarin), or a whole sentence over and over. Such text is not what anyone said: a scorecard would count it as a long turn,
//! and a loop of a forbidden phrase would be reported many times over. A piece said more than
//! [`MAX_REPEATS`] times in a row is kept [`KEEP`] times: people do say 好的好的 or 喂喂喂, and a phrase that
//! was said stays in the transcript for the matcher. Digits are never cut: 6222 1111 1111 1111 is a card
//! number read out, and the privacy rules count its digits.

use std::borrow::Cow;

/// Longest piece, in characters, whose repetition counts as a loop: a whole sentence repeated to fill the
/// window (`I can guarantee you 100% return. ` ×10, live, after six seconds of noise) is a loop too.
const MAX_UNIT: usize = 48;
/// A piece said this many times in a row is still speech (喂喂喂, 对对对): only more is a loop.
const MAX_REPEATS: usize = 3;
/// How many times a looped piece stays in the text.
const KEEP: usize = 2;

/// `text` with every run of a piece of up to [`MAX_UNIT`] characters repeated more than [`MAX_REPEATS`]
/// times in a row cut to [`KEEP`] repetitions. Borrowed when there is none.
pub fn collapse_loops(text: &str) -> Cow<'_, str> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= MAX_REPEATS {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        if let Some((unit, reps)) = loop_at(&chars, i) {
            let kept = out.get_or_insert_with(|| chars[..i].iter().collect());
            for _ in 0..KEEP {
                kept.extend(&chars[i..i + unit]);
            }
            i += unit * reps;
            continue;
        }
        if let Some(kept) = &mut out {
            kept.push(chars[i]);
        }
        i += 1;
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

/// The shortest piece starting at `i` that repeats more than [`MAX_REPEATS`] times in a row, with its count.
fn loop_at(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let rest = &chars[i..];
    (1..=MAX_UNIT.min(rest.len() / (MAX_REPEATS + 1))).find_map(|unit| {
        let piece = &rest[..unit];
        if piece.iter().all(|&c| is_numeral(c) || c.is_whitespace()) {
            return None;
        }
        let reps = rest
            .chunks_exact(unit)
            .take_while(|chunk| *chunk == piece)
            .count();
        (reps > MAX_REPEATS).then_some((unit, reps))
    })
}

/// A digit, or a Chinese numeral as a number is read out (六二二二, 幺).
fn is_numeral(c: char) -> bool {
    c.is_numeric() || "零〇一二三四五六七八九十幺两".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decoding_loop_is_cut_to_two_repetitions() {
        let looped = format!("我女儿,我女儿,不想让你,{}让", "让你".repeat(60));
        assert_eq!(collapse_loops(&looped), "我女儿,我女儿,不想让你,让你让你让");
        assert_eq!(
            collapse_loops("谢谢观看。谢谢观看。谢谢观看。谢谢观看。谢谢观看。"),
            "谢谢观看。谢谢观看。"
        );
        assert_eq!(
            collapse_loops("you know you know you know you know you know what"),
            "you know you know what"
        );
        let sentence = "I can guarantee you 100% return. ";
        assert_eq!(
            collapse_loops(&format!("{}and TU 100% return", sentence.repeat(10))),
            format!("{}and TU 100% return", sentence.repeat(2))
        );
    }

    #[test]
    fn speech_that_repeats_a_little_is_left_as_it_is() {
        for said in [
            "好的好的，我帮您查询一下",
            "喂喂喂，您好",
            "哈哈哈",
            "不知道不知道不知道",
            "",
        ] {
            assert!(matches!(collapse_loops(said), Cow::Borrowed(_)), "{said}");
        }
        assert_eq!(collapse_loops("对对对对对"), "对对");
    }

    #[test]
    fn numbers_read_out_keep_every_digit() {
        for said in [
            "卡号是6222021111111111",
            "卡号是六二二二零二一一一一一一一一一一",
            "尾号 0000 0000",
            "幺幺幺幺",
        ] {
            assert!(matches!(collapse_loops(said), Cow::Borrowed(_)), "{said}");
        }
    }

    #[test]
    fn a_looped_forbidden_phrase_stays_for_the_matcher() {
        assert_eq!(
            collapse_loops("我不知道我不知道我不知道我不知道我不知道"),
            "我不知道我不知道"
        );
    }
}
