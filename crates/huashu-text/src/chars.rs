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
