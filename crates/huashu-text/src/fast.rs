//! The normaliser's fast paths over raw bytes: runs of ideographs that stay as they are, plain ASCII, clause
//! punctuation, and UTF-8 decoding of one character. Kept small so that its loops live in registers.

use crate::t2s;

/// Byte length of the run of ideographs at the start of `bytes` that normalise to themselves
/// (`lead`, the plain bitset by lead bytes) and do not repeat the one before (`prev` before the run; `u32::MAX` when
/// there is none). Returns the last one too, and whether the run stopped at a plain ideograph that repeats
/// it (谢谢: the general path would only fold it into the one before). Kept small so that the loop lives in
/// registers; `REPEATS` (the repeat fold) is a constant, so that without it the loop has no test for it.
#[inline]
pub(crate) fn plain_ideographs<const REPEATS: bool>(
    bytes: &[u8],
    lead: &[u64; t2s::LEAD_WORDS],
    prev: u32,
) -> (usize, u32, bool) {
    // The repeat test compares last bytes first: the one before's (`prev`'s, then the previous
    // character's in the run) is kept, and only when it matches are the whole characters compared.
    // (Building each character's code point for the test cost more than the rest of the loop.) `prev`'s
    // last byte is taken as if it were three bytes long: when it is not, a match only costs the full test.
    let mut last_byte = 0x80 | (prev & 0x3F) as u8;
    let mut rest = bytes;
    // Three bytes at a time; the first two, read as one number, index `lead` (any other lead byte falls
    // outside it).
    while let [b0, b1, b2, tail @ ..] = rest {
        let row = usize::from(u16::from_be_bytes([*b0, *b1]).wrapping_sub(0xE300));
        let Some(word) = lead.get(row) else {
            break;
        };
        if (word >> (b2 & 0x3F)) & 1 == 0 {
            break;
        }
        if REPEATS && *b2 == last_byte {
            let n = bytes.len() - rest.len();
            let u = code_point(*b0, *b1, *b2);
            let before = if n == 0 {
                prev
            } else {
                code_point(bytes[n - 3], bytes[n - 2], bytes[n - 1])
            };
            if u == before {
                return (n, u, true);
            }
        }
        last_byte = *b2;
        rest = tail;
    }
    let n = bytes.len() - rest.len();
    // The last one, read off its bytes (the loop did not keep it).
    match bytes[..n] {
        [.., b0, b1, b2] => (n, code_point(b0, b1, b2), false),
        _ => (0, prev, false),
    }
}

/// The code point of a three-byte UTF-8 character.
#[inline(always)]
fn code_point(b0: u8, b1: u8, b2: u8) -> u32 {
    (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F)
}

/// Byte length of the run of ASCII digits, lower-case letters and `%` at the start of `bytes` (upper-case
/// letters too when `upper` is set): characters that no fold changes, that are never noise and never collapse.
/// And whether the run holds a digit: most runs are words, which need no digit bookkeeping and hold no
/// leetspeak (a leet letter in such a run is always a digit).
#[inline]
pub(crate) fn plain_ascii(bytes: &[u8], upper: bool) -> (usize, bool) {
    let plain = if upper { PLAIN | UPPER } else { PLAIN };
    let mut seen = 0;
    let n = bytes
        .iter()
        .position(|&b| {
            let class = ASCII_CLASS[usize::from(b)];
            seen |= class;
            class & plain == 0
        })
        .unwrap_or(bytes.len());
    // The byte that stopped the run is never a digit (digits are plain).
    (n, seen & DIGIT != 0)
}

/// Classes of [`ASCII_CLASS`]: a byte `plain_ascii` takes whatever the options, an upper-case letter, a digit.
const PLAIN: u8 = 1;
const UPPER: u8 = 2;
const DIGIT: u8 = 4;

/// The class of every byte value for [`plain_ascii`]: one load per character instead of four range tests
/// (an English turn is mostly such runs).
static ASCII_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x80 {
        let c = b as u8;
        table[b] = if c.is_ascii_digit() {
            PLAIN | DIGIT
        } else if c.is_ascii_lowercase() || c == b'%' {
            PLAIN
        } else if c.is_ascii_uppercase() {
            UPPER
        } else {
            0
        };
        b += 1;
    }
    table
};

/// The clause punctuation mark at the start of `bytes`, as the general path would normalise it, whether
/// that is the mark itself, and its length in bytes: 、。… and ASCII `,:;.!?` stay; ，：；！？ fold to ASCII when
/// `width` is on. (The ASCII marks are as common as the full-width ones in real chats, and took the general
/// path's decode and class tests.)
#[inline(always)]
pub(crate) fn clause_punct(bytes: &[u8], width: bool) -> Option<(char, bool, usize)> {
    match bytes {
        [b @ (b',' | b':' | b';' | b'.' | b'!' | b'?'), ..] => Some((char::from(*b), true, 1)),
        [0xE3, 0x80, 0x81, ..] => Some(('、', true, 3)),
        [0xE3, 0x80, 0x82, ..] => Some(('。', true, 3)),
        [0xE2, 0x80, 0xA6, ..] => Some(('…', true, 3)),
        [0xEF, 0xBC, b2, ..] if width => match b2 {
            0x81 => Some(('!', false, 3)),
            0x8C => Some((',', false, 3)),
            0x9A => Some((':', false, 3)),
            0x9B => Some((';', false, 3)),
            0x9F => Some(('?', false, 3)),
            _ => None,
        },
        _ => None,
    }
}

/// The char of `input` (valid UTF-8) that starts at byte `s`, and where it ends; ASCII without the general
/// decoder's bookkeeping.
#[inline(always)]
pub(crate) fn decode(input: &str, bytes: &[u8], s: usize) -> (char, usize) {
    match bytes[s..] {
        [b0 @ 0..=0x7F, ..] => (b0 as char, s + 1),
        _ => {
            let c = input[s..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            (c, s + c.len_utf8().max(1))
        }
    }
}
