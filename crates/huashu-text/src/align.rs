//! [`Normalized`]: the normalised text and its alignment back to the original, kept as segments, and the
//! mapping of a normalised range to the original's [`Span`].

use std::ops::Range;

use crate::span::Span;

/// A normalised text and where each of its characters came from in the original.
///
/// The alignment is kept as segments rather than one entry per character: a stretch of characters that
/// map one to one onto the original, byte for byte (nearly all of a Chinese turn, traditional characters
/// included), is one segment, so normalising a clean turn writes one or two entries instead of one per
/// character.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    pub(crate) text: String,
    pub(crate) segs: Vec<Seg>,
    pub(crate) digits: usize,
    /// Normalised byte offsets (ascending) of the characters a collapsed repeat was folded into (谢谢 → 谢):
    /// a phrase written with a doubled character matches only where the text had one.
    pub(crate) repeats: Vec<u32>,
}

/// A stretch of the normalised text and the original it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seg {
    /// Byte offset in the normalised text where the segment starts.
    pub(crate) norm: u32,
    /// Byte offset in the original where the segment starts.
    pub(crate) orig: u32,
    /// Original end of the segment's last character, past any repeats collapsed into it.
    pub(crate) end: u32,
    /// One unit (a multi-character form such as 百分之百, or a character whose byte length changed such as
    /// a full-width letter): any part of it maps to all of `orig..end`. Otherwise the segment is linear:
    /// normalised byte `norm + k` came from original byte `orig + k`.
    pub(crate) atomic: bool,
}

impl Normalized {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Number of characters in the normalised text.
    pub fn char_len(&self) -> usize {
        self.text.chars().count()
    }

    /// Longest run of consecutive ASCII digits in the normalised text (number rules skip turns without one
    /// long enough).
    pub fn digit_run(&self) -> usize {
        self.digits
    }

    /// Normalised byte offsets, ascending, of the characters that stand for a collapsed repeat (谢谢 → 谢,
    /// 拜拜 → 拜).
    pub fn repeats(&self) -> &[u32] {
        &self.repeats
    }

    /// Whether the character at normalised byte `b` stands for a collapsed repeat.
    pub fn repeated_at(&self, b: usize) -> bool {
        self.repeats.binary_search(&(b as u32)).is_ok()
    }

    /// Maps a byte range of the normalised text to the byte range of the original text it came from. A
    /// position inside a character counts as that character; an empty or out-of-range input gives an empty
    /// span at the nearest position.
    pub fn original_span(&self, norm: Range<usize>) -> Span {
        let len = self.text.len();
        if self.segs.is_empty() {
            return Span::default();
        }
        if norm.start >= len {
            let at = self.end_of_original();
            return Span::new(at, at);
        }
        let a = floor_char_boundary(&self.text, norm.start);
        let (_, first) = self.seg_at(a);
        let start = if first.atomic {
            first.orig as usize
        } else {
            first.orig as usize + (a - first.norm as usize)
        };
        if norm.end <= norm.start {
            return Span::new(start, start);
        }
        let b = floor_char_boundary(&self.text, norm.end.min(len) - 1);
        let b_end = b + self.text[b..].chars().next().map_or(1, char::len_utf8);
        let (i, last) = self.seg_at(b);
        let last_end = self.segs.get(i + 1).map_or(len, |n| n.norm as usize);
        let end = if last.atomic || b_end >= last_end {
            last.end as usize
        } else {
            last.orig as usize + (b_end - last.norm as usize)
        };
        Span::new(start, end.max(start))
    }

    /// The segment holding normalised byte `b` (a char boundary inside the text).
    fn seg_at(&self, b: usize) -> (usize, Seg) {
        let i = self
            .segs
            .partition_point(|g| g.norm as usize <= b)
            .saturating_sub(1);
        (i, self.segs[i])
    }

    fn end_of_original(&self) -> usize {
        self.segs.last().map_or(0, |g| g.end as usize)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
