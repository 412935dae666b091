//! What one character or a short form folds to: width, case and script ([`fold`]), noise between single
//! characters, Chinese numerals read as digits in a run, and multi-character forms (百分之百 → 100%).

use crate::Options;
use crate::chars::{is_cjk, is_noise, numeral_digit, styled_ascii};
use crate::t2s;

/// Width, case and script folding of one character.
#[inline]
pub(crate) fn fold(c: char, opts: &Options) -> char {
    // Fast paths: ASCII and the CJK ideograph blocks are nearly all of the text.
    if c.is_ascii() {
        return if opts.case { c.to_ascii_lowercase() } else { c };
    }
    if is_cjk(c) {
        return if opts.traditional {
            t2s::to_simplified(c)
        } else {
            c
        };
    }
    let mut c = c;
    if opts.width {
        c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => styled_ascii(c).unwrap_or(c),
        };
    }
    if opts.case {
        if c.is_ascii() {
            c = c.to_ascii_lowercase();
        } else if c.is_uppercase() {
            let mut lower = c.to_lowercase();
            if let (Some(l), None) = (lower.next(), lower.next()) {
                c = l;
            }
        }
    }
    if opts.traditional {
        c = t2s::to_simplified(c);
    }
    c
}

/// Whether the punctuation mark at `s..e` (folded: `c`) separates single CJK characters (不.知.道, 不，知，道,
/// 不。知。道): a mark of the same kind also stands on the other side of one of its neighbours. Inserted
/// noise, not the end of a clause: 好的，谢谢 and 好的.谢谢 keep theirs.
#[inline(always)]
pub(crate) fn separates_single_chars(input: &str, s: usize, e: usize, c: char) -> bool {
    may_separate(input.as_bytes(), s, e) && separated_single_chars(input, s, e, c)
}

/// A cheap test on bytes that rules out most marks after a word (好的，谢谢) before [`separated_single_chars`]
/// decodes any character: when both neighbours are three-byte characters, a mark must start right after the
/// next one or end right before the previous one. Anything else is left to the full test, but for a mark at
/// either end of the text, which has no neighbour there and so separates nothing.
#[inline(always)]
pub(crate) fn may_separate(bytes: &[u8], s: usize, e: usize) -> bool {
    // A mark that opens or ends the turn has no neighbour on one side (a turn's final ？ came here every time).
    if s == 0 || e >= bytes.len() {
        return false;
    }
    let three = |i: usize| bytes.get(i).is_some_and(|b| (0xE3..=0xE9).contains(b));
    if s < 3 || !three(s - 3) || !three(e) {
        return true;
    }
    let ascii_mark = |b: u8| b.is_ascii_punctuation() || b == b'\r';
    let lead_of_mark = |b: u8| matches!(b, 0xE2 | 0xE3 | 0xEF);
    bytes
        .get(e + 3)
        .is_some_and(|&b| ascii_mark(b) || lead_of_mark(b))
        || (s >= 4 && ascii_mark(bytes[s - 4]))
        || (s >= 6 && lead_of_mark(bytes[s - 6]))
}

/// [`separates_single_chars`] without the byte pre-test (the per-character alignment oracle uses it).
#[inline(never)]
pub(crate) fn separated_single_chars(input: &str, s: usize, e: usize, c: char) -> bool {
    if c == '\n' {
        return false;
    }
    let kind = |c: char| match c {
        '.' | '．' | '。' => '.',
        // a dash between words is read as a comma (lib.rs, `dash`)
        ',' | '，' | '、' | '–' | '—' | '―' => ',',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    let mark = kind(c);
    let mut back = input[..s].chars().rev();
    let mut ahead = input[e..].chars();
    let (b1, a1) = (back.next(), ahead.next());
    let cjk = |c: Option<char>| c.is_some_and(is_cjk);
    if !(cjk(b1) && cjk(a1)) {
        return false;
    }
    let same = |c: Option<char>| c.is_some_and(|c| kind(c) == mark);
    let (b2, a2) = (back.next(), ahead.next());
    // A one-character word that stands as a clause of its own (好的，亲，这个订单…, 好的，嗯，我查一下) sits
    // between two marks too, next to a longer clause: only a run of single characters (不，知，道) is noise.
    // A character with a mark or the text's edge beyond it stands alone.
    let alone = |far: Option<char>| far.is_none() || same(far);
    let word_beside_clause = |single: Option<char>, far: Option<char>, other_far: Option<char>| {
        single.is_some_and(standalone) && alone(far) && !alone(other_far)
    };
    (same(b2) || same(a2)) && !word_beside_clause(a1, a2, b2) && !word_beside_clause(b1, b2, a2)
}

/// One-character words a chat agent writes as a clause of their own: an address (亲) or an interjection.
fn standalone(c: char) -> bool {
    "亲親嗯恩哦噢喔哈啊呀唉哎诶欸额呃".contains(c)
}

/// Whether the whitespace that starts at input byte `ws` (the first of a run; the next character to emit
/// starts at `s`) stands between two sentences (行的 这边帮您核实): at least two ideographs on each side of it,
/// symbols such as `~` or an emoji next to the space skipped, but not a bracket opening a placeholder tag (`[数字x]`,
/// which stands for a number or a name, never starts a sentence). Whitespace between single characters (不 知 道)
/// is inserted noise, as punctuation there is ([`separates_single_chars`]); so is a space inside a number
/// read out in numerals (卡号 六二二二 零二一二: `numbers` on, the stretch after it starts a digit run).
#[inline(never)]
pub(crate) fn space_ends_clause(
    input: &str,
    ws: usize,
    s: usize,
    numbers: bool,
    table: Option<&t2s::T2s>,
) -> bool {
    let cjk = |c: Option<char>| c.is_some_and(is_cjk);
    // A tag that stands for a number or a name (状态 [数字x]天了) goes on the sentence, as the number would.
    if input[ws..s].contains(['[', '［']) {
        return false;
    }
    let mut ahead = input[s..].chars();
    let (a1, a2) = (ahead.next(), ahead.next());
    if !(cjk(a1) && cjk(a2)) {
        return false;
    }
    let mut back = input[..ws].chars().rev().skip_while(|&c| is_noise(c));
    if !(cjk(back.next()) && cjk(back.next())) {
        return false;
    }
    let Some(a1) = a1 else { return false };
    let first = table.map_or(a1, |t| t.get(a1));
    !(numbers
        && numeral_digit(first).is_some()
        && numeral_in_run(input, s + a1.len_utf8(), first, 0, table).is_some())
}

/// The digit for Chinese numeral `c` (folded; its original ends at input byte `e`) when it is part of a run
/// of at least [`NUMERAL_RUN`] numerals and digits — `before` ASCII digits just written, then the numerals
/// and digits (of any style, spaces and noise between them skipped) that follow. A lone numeral stays a
/// word: 一下, 一个, 十分, 三三九乘.
#[inline(always)]
pub(crate) fn numeral_in_run(
    input: &str,
    e: usize,
    c: char,
    before: usize,
    table: Option<&t2s::T2s>,
) -> Option<char> {
    // Every ideograph off the plain path comes here (traditional ones too): the numeral test is kept inline.
    let d = numeral_digit(c)?;
    numeral_run(input, e, d, before, table)
}

/// [`numeral_in_run`] for a numeral that stands for `d`.
#[inline(never)]
fn numeral_run(
    input: &str,
    e: usize,
    d: char,
    before: usize,
    table: Option<&t2s::T2s>,
) -> Option<char> {
    let mut n = before + 1;
    if n < NUMERAL_RUN {
        // Most numerals are words (一下, 一个): an ideograph copied as it is (`plain`: no numeral among
        // them) right after one ends the run before any decoding.
        if let [b0 @ 0xE4..=0xE9, b1, _, ..] = input.as_bytes()[e..] {
            let word = (usize::from(b0 & 0x0F) << 6) | usize::from(b1 & 0x3F);
            let bit = u32::from(input.as_bytes()[e + 2] & 0x3F);
            if (t2s::table().plain(table.is_some())[word] >> bit) & 1 == 1 {
                return None;
            }
        }
        for x in input[e..].chars() {
            let x = table.map_or(x, |t| t.get(x));
            let digit = x.is_ascii_digit()
                || numeral_digit(x).is_some()
                || ('０'..='９').contains(&x)
                || styled_ascii(x).is_some_and(|a| a.is_ascii_digit());
            if digit {
                n += 1;
                if n >= NUMERAL_RUN {
                    break;
                }
            } else if !(x.is_whitespace() && x != '\n' || is_noise(x)) {
                break;
            }
        }
    }
    (n >= NUMERAL_RUN).then_some(d)
}

/// Numerals and digits in a row from which Chinese numerals are read as digits.
pub(crate) const NUMERAL_RUN: usize = 4;

/// Multi-character forms written one way and matched another: number forms and regional variants that a
/// character table cannot express. Returns the byte length of the form at the start of `s` and its canonical text.
pub(crate) fn form_at(s: &str) -> Option<(usize, &'static str)> {
    const FORMS: &[(&str, &str)] = &[
        ("百分之一百", "100%"),
        ("百分之百", "100%"),
        ("百分百", "100%"),
        ("甚麼", "什么"),
        ("甚么", "什么"),
    ];
    FORMS
        .iter()
        .find_map(|(form, to)| spaced_prefix(s, form).map(|len| (len, *to)))
}

/// Byte length of `form` at the start of `s`, with spaces allowed between its characters (百 分 之 百: a
/// transcript's or a careless typist's spacing, which the noise fold drops everywhere else); None when it is
/// not there.
fn spaced_prefix(s: &str, form: &str) -> Option<usize> {
    let mut at = 0;
    for (i, c) in form.chars().enumerate() {
        if i > 0 {
            let rest = &s[at..];
            at += rest.len() - rest.trim_start_matches([' ', '\u{3000}', '\t']).len();
        }
        if !s[at..].starts_with(c) {
            return None;
        }
        at += c.len_utf8();
    }
    Some(at)
}
