//! Character classes the normaliser and the matcher's context checks share.

/// CJK unified ideographs (basic, extension A, compatibility) — the characters whose runs collapse.
#[inline]
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// The ASCII noise characters as a bit set: `-_*~|/\\^#&+=<>()[]{}"'`@$` and control characters but `\n`.
const ASCII_NOISE: u128 = {
    let mut set = 0u128;
    let chars = b"-_*~|/\\^#&+=<>()[]{}\"'`@$";
    let mut i = 0;
    while i < chars.len() {
        set |= 1u128 << chars[i];
        i += 1;
    }
    let mut c = 0;
    while c < 0x20 {
        if c != b'\n' {
            set |= 1u128 << c;
        }
        c += 1;
    }
    set | (1u128 << 0x7F)
};

/// The ASCII characters the normaliser drops on sight (with `noise` on): noise that is neither whitespace
/// (a space may separate two English words) nor clause punctuation (which may stay). Real turns carry many
/// (`[数字x]`, `~`, `#E-s`), and each took the general path's decode, fold and class tests before.
const ASCII_DROP: u128 = {
    let mut set = ASCII_NOISE;
    let keep = b"\t\n\x0B\x0C\r ,:.!?;";
    let mut i = 0;
    while i < keep.len() {
        set &= !(1u128 << keep[i]);
        i += 1;
    }
    set
};

/// `ASCII_DROP` as a table over every byte value: one load per character (a shift of a `u128` by a
/// variable amount takes several instructions).
static ASCII_DROP_TABLE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x80 {
        table[b] = ASCII_DROP & (1u128 << b) != 0;
        b += 1;
    }
    table
};

/// Whether the ASCII byte `b` is noise to drop whatever surrounds it (see `ASCII_DROP`); false for any
/// byte of 0x80 and above.
#[inline(always)]
pub(crate) fn is_ascii_drop(b: u8) -> bool {
    ASCII_DROP_TABLE[usize::from(b)]
}

/// Characters an agent (or an obfuscator) puts between characters that carry no meaning for matching:
/// symbols, quotes, brackets, zero-width and control characters. Clause punctuation is not noise.
#[inline]
pub fn is_noise(c: char) -> bool {
    if c.is_ascii() {
        return ASCII_NOISE & (1u128 << (c as u32)) != 0;
    }
    if is_cjk(c) {
        return false;
    }
    matches!(
        c,
        '-' | '_'
            | '*'
            | '~'
            | '·'
            | '•'
            | '|'
            | '/'
            | '\\'
            | '^'
            | '#'
            | '&'
            | '+'
            | '='
            | '<'
            | '>'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '"'
            | '\''
            | '`'
            | '@'
            | '$'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '「'
            | '」'
            | '『'
            | '』'
            | '【'
            | '】'
            | '《'
            | '》'
            | '〈'
            | '〉'
            | '〔'
            | '〕'
            | '（'
            | '）'
            | '—'
            | '–'
            | '－'
            | '～'
            | '〜'
            | '・'
            | '×'
            | '※'
            | '☆'
            | '★'
            | '♥'
            | '❤'
            | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{FE0F}' | '\u{FE0E}'
    ) || (c.is_control() && c != '\n')
        || is_symbol(c)
}

/// Emoji, pictographs, shapes, arrows, dingbats, combining marks and variation selectors: put between the
/// characters of a phrase (不😊知😊道, 不○知○道) they carry nothing for matching. Styled digits and letters in
/// these blocks (❶, ➊, 🅰) are folded to ASCII before this is asked.
#[inline]
fn is_symbol(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F // combining diacritical marks
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F // combining marks (keycap ⃣)
        | 0x2010..=0x2015 | 0x2020..=0x2025 | 0x2027 | 0x2032..=0x205E // dashes, daggers, bullets, primes, ‹› (not … or ‰)
        | 0x2190..=0x21FF // arrows
        | 0x2200..=0x22FF // mathematical operators (∵ ∴ ∞)
        | 0x2300..=0x23FF // technical (⌚ ⏰)
        | 0x2500..=0x27BF // box drawing, blocks, shapes (○ ■ ◆ △), misc symbols (☀ ☎), dingbats (✔ ✨)
        | 0x27F0..=0x27FF | 0x2900..=0x297F | 0x2B00..=0x2BFF // arrows
        | 0x3030 | 0x303D | 0x3297 | 0x3299 // 〰 〽 ㊗ ㊙
        | 0xFE00..=0xFE0F // variation selectors
        | 0x1F000..=0x1FAFF // mahjong, cards, enclosed supplements, emoji, pictographs, skin tones
        | 0xE0020..=0xE007F // tag characters (flag sequences)
        | 0xE0100..=0xE01EF // variation selectors supplement
    )
}

/// The ASCII digit or letter a styled form stands for: circled ①Ⓕⓕ, parenthesised ⑴⒜, with a full stop ⒈,
/// negative or double circled ⓿❶➊⓵, superscript and subscript ¹₈, mathematical alphanumerics 𝐅𝟔, enclosed
/// supplements 🄰🅐🅰, circled and parenthesised ideograph numerals ㈤㊄. Only single characters: ⑩ and the
/// like stay as they are.
#[inline]
pub fn styled_ascii(c: char) -> Option<char> {
    let u = c as u32;
    let digit = |d: u32| char::from_digit(d, 10);
    let upper = |k: u32| char::from_u32(u32::from(b'A') + k);
    let lower = |k: u32| char::from_u32(u32::from(b'a') + k);
    match u {
        0xB2 => Some('2'),
        0xB3 => Some('3'),
        0xB9 => Some('1'),
        0x2070 => Some('0'),
        0x2074..=0x2079 => digit(u - 0x2070),
        0x2080..=0x2089 => digit(u - 0x2080),
        0x2460..=0x2468 => digit(u - 0x2460 + 1), // ①
        0x2474..=0x247C => digit(u - 0x2474 + 1), // ⑴
        0x2488..=0x2490 => digit(u - 0x2488 + 1), // ⒈
        0x249C..=0x24B5 => lower(u - 0x249C),     // ⒜
        0x24B6..=0x24CF => upper(u - 0x24B6),     // Ⓐ
        0x24D0..=0x24E9 => lower(u - 0x24D0),     // ⓐ
        0x24EA | 0x24FF => Some('0'),             // ⓪ ⓿
        0x24F5..=0x24FD => digit(u - 0x24F5 + 1), // ⓵
        0x2776..=0x277E => digit(u - 0x2776 + 1), // ❶
        0x2780..=0x2788 => digit(u - 0x2780 + 1), // ➀
        0x278A..=0x2792 => digit(u - 0x278A + 1), // ➊
        0x3220..=0x3228 => digit(u - 0x3220 + 1), // ㈠
        0x3280..=0x3288 => digit(u - 0x3280 + 1), // ㊀
        0x1D400..=0x1D6A3 => {
            // Mathematical alphanumerics: 13 styles of A–Z a–z (the holes are unassigned).
            let k = (u - 0x1D400) % 52;
            if k < 26 { upper(k) } else { lower(k - 26) }
        }
        0x1D7CE..=0x1D7FF => digit((u - 0x1D7CE) % 10),
        0x1F100 => Some('0'),
        0x1F101..=0x1F10A => digit(u - 0x1F101),
        0x1F110..=0x1F129 => upper(u - 0x1F110), // 🄐
        0x1F130..=0x1F149 => upper(u - 0x1F130), // 🄰
        0x1F150..=0x1F169 => upper(u - 0x1F150), // 🅐
        0x1F170..=0x1F189 => upper(u - 0x1F170), // 🅰
        _ => None,
    }
}

/// The digit a Chinese numeral stands for when it is read out as part of a number (a card or phone number
/// said aloud: 六二二二零二, 幺 for 1, 两 for 2, financial 壹贰叁…). Simplified forms; traditional ones are
/// folded first.
#[inline]
pub fn numeral_digit(c: char) -> Option<char> {
    Some(match c {
        '〇' | '零' => '0',
        '一' | '幺' | '壹' => '1',
        '二' | '两' | '贰' => '2',
        '三' | '叁' => '3',
        '四' | '肆' => '4',
        '五' | '伍' => '5',
        '六' | '陆' => '6',
        '七' | '柒' => '7',
        '八' | '捌' => '8',
        '九' | '玖' => '9',
        _ => return None,
    })
}

/// A dash between words or clauses (en dash, em dash, horizontal bar): see `dash` in lib.rs.
#[inline]
pub(crate) fn is_dash(c: char) -> bool {
    matches!(c, '–' | '—' | '―')
}

/// Ends a clause: context windows (`unless_before`, `unless_after`) never look past one.
#[inline]
pub fn is_clause_break(c: char) -> bool {
    matches!(c, ',' | ':' | '、' | '，' | '：') || is_sentence_break(c)
}

/// Ends a sentence: `unless_sentence_has` / `only_if_sentence_has` look no further.
#[inline]
pub fn is_sentence_break(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | ';' | '。' | '！' | '？' | '；' | '…' | '\n' | '\r'
    )
}

/// 您 for the second person's informal forms (你, and 妳 as Taiwan writes it to a woman), `c` otherwise: see
/// [`crate::Options::pronouns`].
#[inline(always)]
pub(crate) fn pronoun(c: char) -> char {
    if matches!(c, '你' | '妳') { '您' } else { c }
}
