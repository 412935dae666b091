//! Text normalisation for Huashu, with an alignment back to the original text.
//!
//! Rules are written once and must match whatever an agent (or a speech recogniser) typed: traditional or
//! simplified characters, full-width letters, spaces or symbols inserted between characters, stuttered
//! characters, `百分之百` for `100%`. [`normalize`] folds all of these into one canonical form and keeps, for
//! every character it emits, the byte range of the original text it came from, so that a match found in the
//! normalised text can be reported as a [`Span`] of the original.
//!
//! ```
//! use huashu_text::{normalize, Options};
//! let n = normalize("這-不是 我的問題", &Options::default());
//! assert_eq!(n.as_str(), "这不是我的问题");
//! // "问题" in the normalised text is "問題" in the original.
//! let span = n.original_span(n.as_str().find("问题").unwrap()..n.as_str().len());
//! assert_eq!(&"這-不是 我的問題"[span.start..span.end], "問題");
//! ```

mod chars;
mod t2s;

pub use chars::{
    is_cjk, is_clause_break, is_noise, is_sentence_break, numeral_digit, styled_ascii,
};

use std::ops::Range;

/// A byte range into a text. Always on `char` boundaries of the text it was made for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The same span in characters of `text` (the text it points into).
    pub fn to_chars(&self, text: &str) -> Range<usize> {
        let start = text[..self.start].chars().count();
        let end = start + text[self.start..self.end].chars().count();
        start..end
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// Which folds [`normalize`] applies. All on by default; a ruleset may switch some off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Full-width ASCII and the ideographic space to half width.
    pub width: bool,
    /// Lower case.
    pub case: bool,
    /// Traditional Chinese characters to simplified (OpenCC character table).
    pub traditional: bool,
    /// `百分之百`, `百分百`, `百分之一百` to `100%`; regional variants such as `甚麼` to `什么`.
    pub numbers: bool,
    /// Drop whitespace and symbols inserted between characters (a single space between two ASCII words stays).
    pub noise: bool,
    /// Collapse a run of the same CJK character or punctuation mark to one.
    pub repeats: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: true,
            case: true,
            traditional: true,
            numbers: true,
            noise: true,
            repeats: true,
        }
    }
}

/// A normalised text and where each of its characters came from in the original.
///
/// The alignment is kept as segments rather than one entry per character: a stretch of characters that
/// map one to one onto the original, byte for byte (nearly all of a Chinese turn, traditional characters
/// included), is one segment, so normalising a clean turn writes one or two entries instead of one per
/// character.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    text: String,
    segs: Vec<Seg>,
    digits: usize,
    /// Normalised byte offsets (ascending) of the characters a collapsed repeat was folded into (谢谢 → 谢):
    /// a phrase written with a doubled character matches only where the text had one.
    repeats: Vec<u32>,
}

/// A stretch of the normalised text and the original it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seg {
    /// Byte offset in the normalised text where the segment starts.
    norm: u32,
    /// Byte offset in the original where the segment starts.
    orig: u32,
    /// Original end of the segment's last character, past any repeats collapsed into it.
    end: u32,
    /// One unit (a multi-character form such as 百分之百, or a character whose byte length changed such as
    /// a full-width letter): any part of it maps to all of `orig..end`. Otherwise the segment is linear:
    /// normalised byte `norm + k` came from original byte `orig + k`.
    atomic: bool,
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

/// Normalises `input` as described in the crate docs. Never fails; every input, however odd, gives a
/// normalised text whose alignment points inside `input` on char boundaries.
pub fn normalize(input: &str, opts: &Options) -> Normalized {
    let mut out = Normalized {
        text: String::with_capacity(input.len()),
        segs: Vec::with_capacity(4),
        digits: 0,
        repeats: Vec::new(),
    };
    normalize_into(&mut out, input, opts);
    out
}

/// Writes the normalised text and its segments. Characters emitted unchanged are not copied one by one but
/// as a run, when something else has to be written.
struct Writer<'a> {
    out: &'a mut Normalized,
    input: &'a str,
    /// Start (in `input`) of the run of unchanged characters not yet copied; it reaches the current char and
    /// lies at the end of the last segment, whose `end` is set when the run is copied.
    run: Option<usize>,
    /// Current run of ASCII digits in the output, and the output position just past it.
    digits: usize,
    digits_end: usize,
}

impl Writer<'_> {
    /// Byte offset in the output of the character that starts at input byte `s`.
    #[inline(always)]
    fn pos(&self, s: usize) -> usize {
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
    fn emit(&mut self, c: char, raw: char, s: usize, e: usize) {
        if c == raw {
            self.copy(s, e);
        } else {
            self.push(c, s, e);
        }
    }

    /// Emits the original char at `s..e` unchanged: it joins the run being copied, or starts one.
    #[inline(always)]
    fn copy(&mut self, s: usize, e: usize) {
        if self.run.is_none() {
            let pos = self.out.text.len();
            self.align(pos, s, e, true);
            self.run = Some(s);
        }
    }

    /// Writes `c` (not a copy of the original) for original `s..e`.
    #[inline(always)]
    fn push(&mut self, c: char, s: usize, e: usize) {
        self.flush(s);
        let pos = self.out.text.len();
        self.align(pos, s, e, c.len_utf8() == e - s);
        self.out.text.push(c);
    }

    /// Writes a multi-character form for original `s..e`, as one unit.
    fn push_form(&mut self, to: &str, s: usize, e: usize) {
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
    fn extend_last(&mut self, s: usize, e: usize) {
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
    fn flush(&mut self, end: usize) {
        if let Some(start) = self.run.take() {
            self.out.text.push_str(&self.input[start..end]);
            if let Some(g) = self.out.segs.last_mut() {
                g.end = end as u32;
            }
        }
    }

    /// Length of the run of ASCII digits that ends at output position `pos`.
    #[inline]
    fn digits_before(&self, pos: usize) -> usize {
        if self.digits_end == pos && pos > 0 {
            self.digits
        } else {
            0
        }
    }

    /// Counts an ASCII digit written at output position `pos`.
    #[inline(always)]
    fn digit(&mut self, pos: usize) {
        self.digits = if pos == self.digits_end && pos > 0 {
            self.digits + 1
        } else {
            1
        };
        self.digits_end = pos + 1;
        self.out.digits = self.out.digits.max(self.digits);
    }
}

/// As [`normalize`], reusing `out`'s buffers (the hot path normalises every turn into one scratch value).
pub fn normalize_into(out: &mut Normalized, input: &str, opts: &Options) {
    out.text.clear();
    out.segs.clear();
    out.digits = 0;
    out.repeats.clear();
    out.text.reserve(input.len());
    let table = opts.traditional.then(t2s::table);
    let plain = t2s::table().plain(opts.traditional);
    let mut w = Writer {
        out,
        input,
        run: None,
        digits: 0,
        digits_end: 0,
    };
    // First whitespace char (original byte range) seen since the last emitted char, if any.
    let mut pending_space: Option<(usize, usize)> = None;
    let mut last: Option<char> = None;
    let bytes = input.as_bytes();
    let mut next = 0;
    while next < bytes.len() {
        let mut s = next;
        // Fastest path: a stretch of ideographs that stay as they are is copied as one run.
        let prev = last.map_or(u32::MAX, |c| c as u32);
        let (n, end_char) = plain_ideographs(&bytes[s..], plain, prev, opts.repeats);
        if n > 0 {
            next = s + n;
            w.copy(s, next);
            last = char::from_u32(end_char);
            pending_space = None;
            s = next;
        }
        // Clause punctuation (，？！：；…) comes between nearly every run of ideographs (so it is tried right
        // after one, in the same round); it is never noise and folds to itself or (full width) to ASCII, so
        // it needs none of the general path's tests.
        if let Some((c, same)) = clause_punct(&bytes[s..], opts.width) {
            next = s + 3;
            pending_space = None;
            if opts.noise && last.is_some_and(is_cjk) && separates_single_chars(input, s, next, c) {
                w.flush(s);
                continue;
            }
            if opts.repeats && last == Some(c) {
                w.extend_last(s, next);
                continue;
            }
            last = Some(c);
            if same {
                w.copy(s, next);
            } else {
                w.push(c, s, next);
            }
            continue;
        }
        if n > 0 {
            continue;
        }
        // Order numbers, amounts, codes: a run of ASCII digits and letters that stay as they are is copied
        // as one run too (a space before it takes the general path, which decides whether it stays).
        if pending_space.is_none() {
            let n = plain_ascii(&bytes[s..], !opts.case);
            if n > 0 {
                let pos = w.pos(s);
                for (k, b) in bytes[s..s + n].iter().enumerate() {
                    if b.is_ascii_digit() {
                        w.digit(pos + k);
                    }
                }
                next = s + n;
                w.copy(s, next);
                last = Some(char::from(bytes[next - 1]));
                continue;
            }
        }
        // Fast path: nearly every character of a Chinese turn is an ideograph of the BMP blocks, three bytes
        // long; 百 and 甚 take the general path, where they may start a form.
        if let [b0 @ 0xE3..=0xE9, b1, b2, ..] = bytes[s..] {
            let u =
                (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
            if matches!(u, 0x3400..=0x4DBF | 0x4E00..=0x9FFF) && u != 0x767E && u != 0x751A {
                next = s + 3;
                let mut c = match table {
                    Some(t) => t.ideograph(u),
                    None => char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER),
                };
                pending_space = None;
                // Only numerals and ambiguous characters come here without a fold to do (`plain`).
                if opts.numbers {
                    if let Some(d) =
                        numeral_in_run(input, next, c, w.digits_before(w.pos(s)), table)
                    {
                        let pos = w.pos(s);
                        w.digit(pos);
                        w.push(d, s, next);
                        last = Some(d);
                        continue;
                    }
                }
                if table.is_some() {
                    if let Some(r) =
                        char::from_u32(u).and_then(|raw| t2s::resolve(input, s, next, raw))
                    {
                        c = r;
                    }
                }
                if opts.repeats && last == Some(c) {
                    w.extend_last(s, next);
                    continue;
                }
                last = Some(c);
                if c as u32 == u {
                    w.copy(s, next);
                } else {
                    w.push(c, s, next);
                }
                continue;
            }
        }
        let (raw, e) = decode(input, bytes, s);
        next = e;
        if is_cjk(raw) {
            if opts.numbers && (raw == '百' || raw == '甚') {
                if let Some((len, to)) = form_at(&input[s..]) {
                    next = s + len;
                    pending_space = None;
                    w.push_form(to, s, s + len);
                    last = to.chars().last();
                    continue;
                }
            }
            let c = table.map_or(raw, |t| t.get(raw));
            pending_space = None;
            if opts.repeats && last == Some(c) {
                w.extend_last(s, e);
                continue;
            }
            last = Some(c);
            w.emit(c, raw, s, e);
            continue;
        }
        let c = fold(raw, opts);
        if opts.noise
            && is_clause_break(c)
            && last.is_some_and(is_cjk)
            && separates_single_chars(input, s, e, c)
        {
            w.flush(s);
            continue;
        }
        if opts.numbers && c == '〇' {
            if let Some(d) = numeral_in_run(input, e, c, w.digits_before(w.pos(s)), table) {
                pending_space = None;
                let pos = w.pos(s);
                w.digit(pos);
                w.push(d, s, e);
                last = Some(d);
                continue;
            }
        }
        if opts.noise {
            if c.is_whitespace() && c != '\n' {
                w.flush(s);
                pending_space.get_or_insert((s, e));
                continue;
            }
            if is_noise(c) {
                w.flush(s);
                continue;
            }
        }
        if let Some((ws, we)) = pending_space.take() {
            // Spaces separate English words but not the groups of a long number.
            let word = |x: char| x.is_ascii_alphanumeric();
            if last.is_some_and(|l| word(l) && !(l.is_ascii_digit() && c.is_ascii_digit()))
                && word(c)
            {
                w.push(' ', ws, we);
                last = Some(' ');
            }
        }
        if opts.repeats && last == Some(c) && (is_cjk(c) || is_clause_break(c)) {
            w.extend_last(s, e);
            continue;
        }
        if c.is_ascii_digit() {
            let pos = w.pos(s);
            w.digit(pos);
        }
        w.emit(c, raw, s, e);
        last = Some(c);
    }
    w.flush(input.len());
}

/// Byte length of the run of ideographs at the start of `bytes` that normalise to themselves
/// (`plain`, a bitset over the BMP) and do not repeat the one before (`prev` before the run; `u32::MAX` when
/// repeats are kept). Returns the last one too. Kept small so that the loop lives in registers.
#[inline]
fn plain_ideographs(
    bytes: &[u8],
    plain: &[u64; t2s::PLAIN_WORDS],
    mut prev: u32,
    repeats: bool,
) -> (usize, u32) {
    // Without the repeat fold, `prev` is made unequal to any code point.
    let no_repeat = if repeats { 0 } else { 0x8000_0000 };
    prev |= no_repeat;
    let mut i = 0;
    // Three bytes at a time: each chunk is checked once, and the 10-bit word index needs no bounds check.
    for chunk in bytes.chunks_exact(3) {
        let (b0, b1, b2) = (chunk[0], chunk[1], chunk[2]);
        if !(0xE3..=0xE9).contains(&b0) {
            break;
        }
        let word = (usize::from(b0 & 0x0F) << 6) | usize::from(b1 & 0x3F);
        let bit = u32::from(b2 & 0x3F);
        let u = ((word as u32) << 6) | bit;
        if (plain[word] >> bit) & 1 == 0 || u == prev {
            break;
        }
        prev = u | no_repeat;
        i += 3;
    }
    (i, prev & !no_repeat)
}

/// Byte length of the run of ASCII digits, lower-case letters and `%` at the start of `bytes` (upper-case
/// letters too when `upper` is set): characters that no fold changes, that are never noise and never collapse.
#[inline]
fn plain_ascii(bytes: &[u8], upper: bool) -> usize {
    bytes
        .iter()
        .position(|&b| {
            !(b.is_ascii_digit()
                || b.is_ascii_lowercase()
                || b == b'%'
                || (upper && b.is_ascii_uppercase()))
        })
        .unwrap_or(bytes.len())
}

/// The clause punctuation mark at the start of `bytes`, as the general path would normalise it, and whether
/// that is the mark itself: 、。… stay; ，：；！？ fold to ASCII when `width` is on.
#[inline(always)]
fn clause_punct(bytes: &[u8], width: bool) -> Option<(char, bool)> {
    match bytes {
        [0xE3, 0x80, 0x81, ..] => Some(('、', true)),
        [0xE3, 0x80, 0x82, ..] => Some(('。', true)),
        [0xE2, 0x80, 0xA6, ..] => Some(('…', true)),
        [0xEF, 0xBC, b2, ..] if width => match b2 {
            0x81 => Some(('!', false)),
            0x8C => Some((',', false)),
            0x9A => Some((':', false)),
            0x9B => Some((';', false)),
            0x9F => Some(('?', false)),
            _ => None,
        },
        _ => None,
    }
}

/// The char of `input` (valid UTF-8) that starts at byte `s`, and where it ends; ASCII without the general
/// decoder's bookkeeping.
#[inline(always)]
fn decode(input: &str, bytes: &[u8], s: usize) -> (char, usize) {
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

/// Width, case and script folding of one character.
#[inline]
fn fold(c: char, opts: &Options) -> char {
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
#[inline]
fn separates_single_chars(input: &str, s: usize, e: usize, c: char) -> bool {
    may_separate(input.as_bytes(), s, e) && separated_single_chars(input, s, e, c)
}

/// A cheap test on bytes that rules out most marks after a word (好的，谢谢) before [`separated_single_chars`]
/// decodes any character: when both neighbours are three-byte characters, a mark must start right after the
/// next one or end right before the previous one. Anything else is left to the full test.
#[inline(always)]
fn may_separate(bytes: &[u8], s: usize, e: usize) -> bool {
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
fn separated_single_chars(input: &str, s: usize, e: usize, c: char) -> bool {
    if c == '\n' {
        return false;
    }
    let kind = |c: char| match c {
        '.' | '．' | '。' => '.',
        ',' | '，' | '、' => ',',
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
    same(back.next()) || same(ahead.next())
}

/// The digit for Chinese numeral `c` (folded; its original ends at input byte `e`) when it is part of a run
/// of at least [`NUMERAL_RUN`] numerals and digits — `before` ASCII digits just written, then the numerals
/// and digits (of any style, spaces and noise between them skipped) that follow. A lone numeral stays a
/// word: 一下, 一个, 十分, 三三九乘.
fn numeral_in_run(
    input: &str,
    e: usize,
    c: char,
    before: usize,
    table: Option<&t2s::T2s>,
) -> Option<char> {
    let d = numeral_digit(c)?;
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
const NUMERAL_RUN: usize = 4;

/// Multi-character forms written one way and matched another: number forms and regional variants that a
/// character table cannot express. Returns the byte length of the form at the start of `s` and its canonical text.
fn form_at(s: &str) -> Option<(usize, &'static str)> {
    const FORMS: &[(&str, &str)] = &[
        ("百分之一百", "100%"),
        ("百分之百", "100%"),
        ("百分百", "100%"),
        ("甚麼", "什么"),
        ("甚么", "什么"),
    ];
    FORMS
        .iter()
        .find(|(form, _)| s.starts_with(form))
        .map(|(form, to)| (form.len(), *to))
}

#[cfg(test)]
mod tests;
