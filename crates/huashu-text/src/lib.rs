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
//! let n = normalize("這-不 是我的問題", &Options::default());
//! assert_eq!(n.as_str(), "这不是我的问题");
//! // "问题" in the normalised text is "問題" in the original.
//! let span = n.original_span(n.as_str().find("问题").unwrap()..n.as_str().len());
//! assert_eq!(&"這-不 是我的問題"[span.start..span.end], "問題");
//! // With `sentence_spaces`, a space between two stretches of words ends a clause, as a comma would.
//! let opts = Options { sentence_spaces: true, ..Options::default() };
//! assert_eq!(normalize("收到 這邊核實一下", &opts).as_str(), "收到,这边核实一下");
//! assert_eq!(normalize("收到 這邊核實一下", &Options::default()).as_str(), "收到这边核实一下");
//! ```

mod align;
mod chars;
mod fast;
mod fold;
mod mentions;
mod span;
mod spelling;
mod t2s;
mod writer;

pub use chars::{
    is_cjk, is_clause_break, is_noise, is_sentence_break, numeral_digit, styled_ascii,
};

pub use align::Normalized;
pub use span::Span;

use chars::is_ascii_drop;
use fast::{clause_punct, decode, plain_ascii, plain_ideographs};
use fold::{fold, form_at, numeral_in_run, separates_single_chars, space_ends_clause};
use spelling::{is_letter_gap, leet_at, plain_before_leet, spelled_out_at};
use writer::Writer;

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
    /// Latin words spelled out to slip past a phrase: single letters with one mark between them joined
    /// (`p a s s w o r d`, `d.o.n.t` → `password`, `dont`), a digit or `@ $` between letters read as a letter
    /// (`passw0rd`, `p@ss`, `pa55word`).
    pub spelling: bool,
    /// The frame of a social-channel reply dropped: the @mentions that open it (`@MommaYou2 `, `@京东客服 `)
    /// and the sign-off that ends it (`^JD`, `-Mike`, `1/2`) — who it is to and from, not what is said (a
    /// rule anchored at a sentence start or a turn's end would never see the sentence begin or end).
    pub mentions: bool,
    /// 你 and 妳 read as 您: the same second person, told apart only by politeness, and a rule judges what is
    /// said to the customer, not which of the two the agent typed (你自己去问 and 您自己去问 push the work back
    /// alike; 回复你 and 回复您 promise the same step). Rule text is written with 您.
    pub pronouns: bool,
    /// Whitespace between two stretches of two or more ideographs (行的 这边帮您核实) read as the clause break it
    /// stands for: a `,` whose span is the whitespace. Whitespace between single characters (不 知 道) is still
    /// noise. Off by default: a ruleset written for spaces dropped (its exemptions reaching across them) opts in.
    pub sentence_spaces: bool,
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
            spelling: true,
            mentions: true,
            pronouns: true,
            sentence_spaces: false,
        }
    }
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

/// As [`normalize`], reusing `out`'s buffers (the hot path normalises every turn into one scratch value).
pub fn normalize_into(out: &mut Normalized, input: &str, opts: &Options) {
    // A reply's closing sign-off is cut off before anything reads the text: offsets stay those of `input`.
    let input = if opts.mentions && mentions::may_be_signed(input) {
        &input[..mentions::signed_end(input)]
    } else {
        input
    };
    out.text.clear();
    out.segs.clear();
    out.digits = 0;
    out.repeats.clear();
    out.text.reserve(input.len());
    let t2s = t2s::table();
    let table = opts.traditional.then_some(t2s);
    let lead = t2s.lead(opts.traditional);
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
    // A spelled-out word being read (`p a s s`): where it ends and the mark between its letters, dropped.
    let mut spelled: Option<(usize, u8)> = None;
    let mut next = if opts.mentions && mentions::may_open_with_one(bytes) {
        mentions::leading(input)
    } else {
        0
    };
    'round: while next < bytes.len() {
        let mut s = next;
        if let Some((end, gap)) = spelled {
            if s >= end {
                spelled = None;
            } else if bytes[s] == gap {
                next = s + 1;
                w.flush(s);
                continue;
            }
        }
        // A space between two sentences of ideographs (行的 这边帮您核实) is a clause break, tested only where
        // an ideograph (or another char of three or more bytes) follows a space, and only with the switch on;
        // a space before 请问 always ends a sentence (below).
        if bytes[s] >= 0xE3 {
            if let Some(space) = pending_space {
                if let Some(mark) = sentence_space(&mut w, space, last, s, opts, table) {
                    last = Some(mark);
                    pending_space = None;
                }
            }
        }
        // The common Chinese path, kept in one inner loop: runs of ideographs that stay as they are (copied
        // as one run), the repeats that stop them (谢谢) and the clause marks between them (，？！：；… and their
        // ASCII forms). Nothing the round's tests above read changes in it (a spelled-out word is ASCII only
        // and ended before any of these; no space is pending after them), so a turn's marks do not each pay
        // a new round. Anything else leaves for the general path below, at the char where the loop stopped.
        // A round that starts on ASCII (English text) tries only a clause mark, as before.
        if bytes[s] >= 0x80 {
            loop {
                let (n, end_char, repeat) = match bytes.get(s) {
                    Some(&b) if b >= 0x80 => {
                        let prev = last.map_or(u32::MAX, |c| c as u32);
                        if opts.repeats {
                            plain_ideographs::<true>(&bytes[s..], lead, prev)
                        } else {
                            plain_ideographs::<false>(&bytes[s..], lead, prev)
                        }
                    }
                    _ => (0, 0, false),
                };
                if n > 0 {
                    next = s + n;
                    w.copy(s, next);
                    last = char::from_u32(end_char);
                    pending_space = None;
                    s = next;
                }
                if repeat {
                    // A plain ideograph repeating the last one: what the general path would do with it.
                    next = s + 3;
                    pending_space = None;
                    w.extend_last(s, next);
                    s = next;
                    continue;
                }
                if s == bytes.len() {
                    break 'round;
                }
                let Some((c, same, len)) = clause_punct(&bytes[s..], opts.width) else {
                    break;
                };
                next = s + len;
                pending_space = None;
                last = clause_mark(&mut w, opts, last, (c, same), s, next);
                s = next;
            }
        } else if let Some((c, same, len)) = clause_punct(&bytes[s..], opts.width) {
            next = s + len;
            pending_space = None;
            last = clause_mark(&mut w, opts, last, (c, same), s, next);
            continue;
        }
        if opts.spelling {
            let b = bytes[s];
            if b.is_ascii_alphabetic() {
                if spelled.is_none() && bytes.get(s + 1).copied().is_some_and(is_letter_gap) {
                    spelled = spelled_out_at(bytes, s);
                }
            } else if let Some(c) = leet_at(bytes, s) {
                next = s + 1;
                pending_space = None;
                w.push(c, s, next);
                last = Some(c);
                continue;
            }
        }
        // ASCII symbols and spaces between words: what the general path below would do with them, without
        // decoding and folding them first (neither case nor width changes them, and neither is a clause
        // break, so only the noise tests apply).
        if opts.noise {
            match bytes[s] {
                b' ' => {
                    next = s + 1;
                    space(&mut w, s, &mut last, &mut pending_space);
                    continue;
                }
                b if is_ascii_drop(b) => {
                    next = s + 1;
                    w.flush(s);
                    continue;
                }
                _ => {}
            }
        }
        // An ASCII letter: what the general path below would do with it, without decoding and folding it
        // (a letter is never noise, a clause break or a repeat). In English text every word took the general
        // path for its first letter, and every capital for itself: a third of an English turn's cost.
        let b = bytes[s];
        if b.is_ascii_alphabetic() {
            // A space between two words stays, as one space.
            if let Some((ws, we)) = pending_space.take() {
                if last.is_some_and(|l| l.is_ascii_alphanumeric()) {
                    w.push_space(ws, we);
                    last = Some(' ');
                }
            }
            if opts.case && b.is_ascii_uppercase() {
                let c = char::from(b.to_ascii_lowercase());
                next = s + 1;
                w.push(c, s, next);
                last = Some(c);
                continue;
            }
        }
        // Order numbers, amounts, codes: a run of ASCII digits and letters that stay as they are is copied
        // as one run too (a space before it takes the general path, which decides whether it stays).
        if pending_space.is_none() {
            let (mut n, digits) = plain_ascii(&bytes[s..], !opts.case);
            if digits && opts.spelling && n > 1 {
                n = plain_before_leet(bytes, s, n);
            }
            if n > 0 {
                if digits {
                    let pos = w.pos(s);
                    for (k, b) in bytes[s..s + n].iter().enumerate() {
                        if b.is_ascii_digit() {
                            w.digit(pos + k);
                        }
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
                if opts.pronouns {
                    c = chars::pronoun(c);
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
        let c = if opts.noise && chars::is_dash(c) {
            dash(input, last, e)
        } else {
            c
        };
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
                w.push_space(ws, we);
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

/// What a dash (—, –) at original `..e`, seen after `last`, stands for: between two digits it groups a number
/// (6222–0212–…, 1–3 days) and stays noise; elsewhere it ends a clause as a comma does (no question — sellers
/// always accept it; 好的——我帮您查), so that what follows is not read as the same clause. Between single
/// characters (不—知—道) the comma is then noise, as every clause mark there is.
#[inline]
fn dash(input: &str, last: Option<char>, e: usize) -> char {
    let digit_after = input[e..].starts_with(|d: char| d.is_ascii_digit());
    if last.is_some_and(|l| l.is_ascii_digit()) && digit_after {
        '—'
    } else {
        ','
    }
}

/// Writes the clause mark at original `s..e`, folded to `c` (`same`: unchanged), seen after `last`; returns
/// the new `last`. Clause punctuation is never noise and folds to itself or (full width) to ASCII, so it needs
/// none of the general path's tests: only whether it separates single characters (不，知，道) or repeats.
#[inline(always)]
fn clause_mark(
    w: &mut Writer<'_>,
    opts: &Options,
    last: Option<char>,
    (c, same): (char, bool),
    s: usize,
    e: usize,
) -> Option<char> {
    if opts.noise && last.is_some_and(is_cjk) && separates_single_chars(w.input, s, e, c) {
        w.flush(s);
        return last;
    }
    if opts.repeats && last == Some(c) {
        w.extend_last(s, e);
        return last;
    }
    if same {
        w.copy(s, e);
    } else {
        w.push(c, s, e);
    }
    Some(c)
}

/// An ASCII space at input byte `s`, seen after `last`. One space between two words (a letter after it)
/// stays as itself: copied with the words' run instead of ending it and being written on its own when the
/// letter comes (what the ASCII-letter path of the loop would do, with the same segment); any other is held
/// as pending. Out of line: inlined, it cost the Chinese turns' loop registers (+0.9 % on real turns).
#[inline(never)]
fn space(
    w: &mut Writer<'_>,
    s: usize,
    last: &mut Option<char>,
    pending_space: &mut Option<(usize, usize)>,
) {
    let between_words = pending_space.is_none()
        && last.is_some_and(|l| l.is_ascii_alphanumeric())
        && w.input
            .as_bytes()
            .get(s + 1)
            .is_some_and(u8::is_ascii_alphabetic);
    if between_words {
        w.copy(s, s + 1);
        *last = Some(' ');
    } else {
        w.flush(s);
        pending_space.get_or_insert((s, s + 1));
    }
}

/// Whether the whitespace `space` (original byte range of its first char), seen after `last` and before the
/// char at input byte `s`, stands between two sentences; if so it is written as the mark returned. A space
/// before 请问 always does, as a full stop: 请问 opens a question of its own, and the courtesy question that
/// closes a turn (请问还有别的问题吗) is not the sentence of what came before it (我们不知道哦 … had taken its 吗
/// as its own). With `sentence_spaces`, a space between two sentences of ideographs ([`space_ends_clause`])
/// is a clause break, a `,`. Rare (only after whitespace, only before a char of three or more bytes), so kept
/// out of the loop.
#[inline(never)]
fn sentence_space(
    w: &mut Writer<'_>,
    (ws, we): (usize, usize),
    last: Option<char>,
    s: usize,
    opts: &Options,
    table: Option<&t2s::T2s>,
) -> Option<char> {
    let after_words = last.is_some_and(|c| !is_clause_break(c));
    let mark = if after_words && ["请问", "請問"].iter().any(|q| w.input[s..].starts_with(q)) {
        '.'
    } else if opts.sentence_spaces
        && last.is_some_and(is_cjk)
        && space_ends_clause(w.input, ws, s, opts.numbers, table)
    {
        ','
    } else {
        return None;
    };
    w.push(mark, ws, we);
    Some(mark)
}

#[cfg(test)]
mod tests;
