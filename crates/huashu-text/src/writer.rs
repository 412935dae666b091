//! [`Writer`]: how the normaliser writes its text and the segments that align it with the original.

use crate::align::{Normalized, Seg};

/// Writes the normalised text and its segments. Characters emitted unchanged are not copied one by one but
/// as a run, when something else has to be written.
pub(crate) struct Writer<'a> {
    pub(crate) out: &'a mut Normalized,
    pub(crate) input: &'a str,
    /// Start (in `input`) of the run of unchanged characters not yet copied; it reaches the current char and
    /// lies at the end of the last segment, whose `end` is set when the run is copied.
    pub(crate) run: Option<usize>,
    /// Current run of ASCII digits in the output, and the output position just past it.
    pub(crate) digits: usize,
    pub(crate) digits_end: usize,
}

impl Writer<'_> {
    /// Byte offset in the output of the character that starts at input byte `s`.
    #[inline(always)]
    pub(crate) fn pos(&self, s: usize) -> usize {
        self.out.text.len() + self.run.map_or(0, |r| s - r)
    }

    /// Opens a segment for a char written at output `pos` from original `s..e`, or extends the last one.
    #[inline(always)]
    fn align(&mut self, pos: usize, s: usize, e: usize, same_len: bool) {
        let segs = &mut self.out.segs;
        if let Some(g) = segs.last_mut() {
            if same_len && !g.atomic && g.orig as usize + (pos - g.norm as usize) == s {
                g.end = e as u32;
                return;
            }
        }
        segs.push(Seg {
            norm: pos as u32,
            orig: s as u32,
            end: e as u32,
            atomic: !same_len,
        });
    }

    /// Emits `c` for the original `raw` at `s..e`.
    #[inline(always)]
    pub(crate) fn emit(&mut self, c: char, raw: char, s: usize, e: usize) {
        if c == raw {
            self.copy(s, e);
        } else {
            self.push(c, s, e);
        }
    }

    /// Emits the original char at `s..e` unchanged: it joins the run being copied, or starts one.
    #[inline(always)]
    pub(crate) fn copy(&mut self, s: usize, e: usize) {
        if self.run.is_none() {
            let pos = self.out.text.len();
            self.align(pos, s, e, true);
            self.run = Some(s);
        }
    }

    /// Writes `c` (not a copy of the original) for original `s..e`.
    #[inline(always)]
    pub(crate) fn push(&mut self, c: char, s: usize, e: usize) {
        self.flush(s);
        let pos = self.out.text.len();
        self.align(pos, s, e, c.len_utf8() == e - s);
        self.out.text.push(c);
    }

    /// Writes the space kept between two words for the whitespace at original `s..e`. Out of line: inlined,
    /// its one test (is the whitespace one byte long) was computed on every round of the normaliser's loop.
    #[inline(never)]
    pub(crate) fn push_space(&mut self, s: usize, e: usize) {
        self.push(' ', s, e);
    }

    /// Writes a multi-character form for original `s..e`, as one unit.
    pub(crate) fn push_form(&mut self, to: &str, s: usize, e: usize) {
        self.flush(s);
        self.out.segs.push(Seg {
            norm: self.out.text.len() as u32,
            orig: s as u32,
            end: e as u32,
            atomic: true,
        });
        for c in to.chars() {
            if c.is_ascii_digit() {
                self.digit(self.out.text.len());
            }
            self.out.text.push(c);
        }
    }

    /// The last emitted char also stands for the repeat at original `s..e`.
    #[inline(always)]
    pub(crate) fn extend_last(&mut self, s: usize, e: usize) {
        self.flush(s);
        let text = &self.out.text;
        let last_char = text.len() - text.chars().next_back().map_or(0, char::len_utf8);
        if self.out.repeats.last() != Some(&(last_char as u32)) {
            self.out.repeats.push(last_char as u32);
        }
        let Some(g) = self.out.segs.last_mut() else {
            return;
        };
        if g.atomic && (g.norm as usize) < last_char {
            // The repeat belongs to the form's last character only (甚麼麼: 么 spans both 麼, 什 does not).
            let orig = g.orig;
            self.out.segs.push(Seg {
                norm: last_char as u32,
                orig,
                end: e as u32,
                atomic: true,
            });
        } else {
            g.end = e as u32;
        }
    }

    /// Copies the pending run of unchanged characters, which ends at `end`.
    #[inline(always)]
    pub(crate) fn flush(&mut self, end: usize) {
        if let Some(start) = self.run.take() {
            self.out.text.push_str(&self.input[start..end]);
            if let Some(g) = self.out.segs.last_mut() {
                g.end = end as u32;
            }
        }
    }

    /// Length of the run of ASCII digits that ends at output position `pos`.
    #[inline]
    pub(crate) fn digits_before(&self, pos: usize) -> usize {
        if self.digits_end == pos && pos > 0 {
            self.digits
        } else {
            0
        }
    }

    /// Counts an ASCII digit written at output position `pos`.
    #[inline(always)]
    pub(crate) fn digit(&mut self, pos: usize) {
        self.digits = if pos == self.digits_end && pos > 0 {
            self.digits + 1
        } else {
            1
        };
        self.digits_end = pos + 1;
        self.out.digits = self.out.digits.max(self.digits);
    }
}
