//! The normaliser's fast paths over raw bytes: runs of ideographs that stay as they are, plain ASCII, clause
//! punctuation, and UTF-8 decoding of one character. Kept small so that its loops live in registers.

use crate::t2s;

/// Byte length of the run of ideographs at the start of `bytes` that normalise to themselves
/// (`plain`, a bitset over the BMP) and do not repeat the one before (`prev` before the run; `u32::MAX` when
/// there is none). Returns the last one too, and whether the run stopped at a plain ideograph that repeats
/// it (谢谢: the general path would only fold it into the one before). Kept small so that the loop lives in
/// registers; `REPEATS` (the repeat fold) is a constant, so that without it the loop has no test for it.
#[inline]
pub(crate) fn plain_ideographs<const REPEATS: bool>(
    bytes: &[u8],
    plain: &[u64; t2s::PLAIN_WORDS],
    mut prev: u32,
) -> (usize, u32, bool) {
    let mut rest = bytes;
    // Three bytes at a time; the 10-bit word index needs no bounds check.
    while let [b0, b1, b2, tail @ ..] = rest {
        if !(0xE3..=0xE9).contains(b0) {
            break;
        }
        let word = (usize::from(b0 & 0x0F) << 6) | usize::from(b1 & 0x3F);
        let bit = u32::from(b2 & 0x3F);
        if (plain[word] >> bit) & 1 == 0 {
            break;
        }
        if REPEATS {
            let u = ((word as u32) << 6) | bit;
            if u == prev {
                return (bytes.len() - rest.len(), prev, true);
            }
            prev = u;
        }
        rest = tail;
    }
    let n = bytes.len() - rest.len();
    if !REPEATS && n > 0 {
        // The last one, read off its bytes (the loop did not keep it).
        let [b0, b1, b2] = [bytes[n - 3], bytes[n - 2], bytes[n - 1]];
        prev = (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
    }
    (n, prev, false)
}

/// Byte length of the run of ASCII digits, lower-case letters and `%` at the start of `bytes` (upper-case
/// letters too when `upper` is set): characters that no fold changes, that are never noise and never collapse.
/// And whether the run holds a digit: most runs are words, which need no digit bookkeeping and hold no
/// leetspeak (a leet letter in such a run is always a digit).
#[inline]
pub(crate) fn plain_ascii(bytes: &[u8], upper: bool) -> (usize, bool) {
    let mut digit = false;
    let n = bytes
        .iter()
        .position(|&b| {
            let d = b.is_ascii_digit();
            digit |= d;
            !(d || b.is_ascii_lowercase() || b == b'%' || (upper && b.is_ascii_uppercase()))
        })
        .unwrap_or(bytes.len());
    (n, digit)
}

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
