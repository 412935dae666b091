//! Traditional → simplified, one character at a time (OpenCC's TSCharacters table, Apache-2.0).
//!
//! Character-level conversion keeps the normalised text aligned one-to-one with the original. The handful of
//! traditional characters with two simplified forms (乾 干/乾, 覆 覆/复, 瞭 了/瞭, 藉 借/藉, 畫 画/划, 著 着/著)
//! are resolved by the word around them ([`AMBIGUOUS`], after OpenCC's TSPhrases, Apache-2.0): still one
//! character for one, so the alignment stays one-to-one.

use std::sync::OnceLock;

static TABLE: &str = include_str!("../data/TSCharacters.txt");

/// Dense lookup for the BMP ideograph block, where almost every traditional character lives, and a sorted
/// list for the rest; built once, read without locks.
pub(crate) struct T2s {
    dense: Vec<char>,
    sparse: Vec<(char, char)>,
    /// Bit per BMP code point (word `u >> 6`, bit `u & 63`): a CJK ideograph that normalises to itself
    /// (with and without the traditional fold), and is not 百 or 甚, which may start a form, nor a Chinese
    /// numeral, an informal 你 or 妳 (`Options::pronouns`) or an ambiguous traditional character (see
    /// `AMBIGUOUS`). The normaliser copies runs
    /// of these. A fixed 1024-word table, so that indexing it with a 10-bit value needs no check. Not 、。,
    /// which may separate single characters (不。知。道): the clause punctuation path takes them.
    plain: [Box<[u64; PLAIN_WORDS]>; 2],
    /// `plain` again, by lead bytes: word `(b0 << 8 | b1) - 0xE300` for a character of three bytes
    /// `b0 b1 b2` with `b0` in 0xE3..=0xE9, bit `b2 & 63`. Its index is the character's first two bytes read
    /// as one number, so the run loop neither masks nor shifts them (one test rules out any other lead).
    lead: [Box<[u64; LEAD_WORDS]>; 2],
}

const DENSE_START: u32 = 0x3400;
pub(crate) const PLAIN_WORDS: usize = 0x10000 / 64;
/// Words of `lead`: 256 for each lead byte 0xE3..=0xE9.
pub(crate) const LEAD_WORDS: usize = 7 * 256;
const DENSE_END: u32 = 0xA000;

pub(crate) fn table() -> &'static T2s {
    static T: OnceLock<T2s> = OnceLock::new();
    T.get_or_init(|| {
        let mut dense: Vec<char> = (DENSE_START..DENSE_END)
            .map(|u| char::from_u32(u).unwrap_or('\u{FFFD}'))
            .collect();
        let mut sparse = Vec::new();
        for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
            let mut parts = line.split('\t');
            let (Some(from), Some(to)) = (parts.next(), parts.next()) else {
                continue;
            };
            let (Some(f), Some(t)) = (
                single_char(from),
                to.split(' ').next().and_then(single_char),
            ) else {
                continue;
            };
            let u = f as u32;
            if (DENSE_START..DENSE_END).contains(&u) {
                dense[(u - DENSE_START) as usize] = t;
            } else {
                sparse.push((f, t));
            }
        }
        sparse.sort_unstable();
        let mut plain = [Box::new([0u64; PLAIN_WORDS]), Box::new([0u64; PLAIN_WORDS])];
        for &(c, default, _) in AMBIGUOUS {
            dense[(c as u32 - DENSE_START) as usize] = default;
        }
        for u in DENSE_START..DENSE_END {
            if !matches!(u, 0x3400..=0x4DBF | 0x4E00..=0x9FFF) || u == 0x767E || u == 0x751A {
                continue;
            }
            // Chinese numerals may be read as digits (a card number said aloud); ambiguous characters
            // look at their word: neither can be copied blindly.
            let c = char::from_u32(u).unwrap_or('\u{FFFD}');
            if crate::chars::numeral_digit(c).is_some() || crate::chars::pronoun(c) != c {
                continue;
            }
            if AMBIGUOUS.iter().any(|a| a.0 == c) {
                plain[0][(u >> 6) as usize] |= 1 << (u & 63);
                continue;
            }
            let (word, bit) = ((u >> 6) as usize, u & 63);
            plain[0][word] |= 1 << bit;
            if dense[(u - DENSE_START) as usize] as u32 == u {
                plain[1][word] |= 1 << bit;
            }
        }
        let mut lead = [Box::new([0u64; LEAD_WORDS]), Box::new([0u64; LEAD_WORDS])];
        for (l, p) in lead.iter_mut().zip(&plain) {
            for b0 in 0xE3..=0xE9usize {
                for b1 in 0x80..=0xBFusize {
                    l[((b0 - 0xE3) << 8) | b1] = p[((b0 & 0x0F) << 6) | (b1 & 0x3F)];
                }
            }
        }
        T2s {
            dense,
            sparse,
            plain,
            lead,
        }
    })
}

/// Traditional characters with two simplified forms: (character, its usual form, the words (written with
/// simplified neighbours) in which it takes the other form, and that form).
#[allow(clippy::type_complexity)]
pub(crate) static AMBIGUOUS: &[(char, char, &[(&str, char)])] = &[
    (
        '乾',
        '干',
        &[
            ("乾隆", '乾'),
            ("乾坤", '乾'),
            ("乾卦", '乾'),
            ("乾元", '乾'),
            ("乾清", '乾'),
            ("乾陵", '乾'),
            ("乾道", '乾'),
        ],
    ),
    (
        '覆',
        '覆',
        &[
            ("反覆", '复'),
            ("答覆", '复'),
            ("回覆", '复'),
            ("批覆", '复'),
            ("函覆", '复'),
            ("覆信", '复'),
            ("覆函", '复'),
            ("覆核", '复'),
            ("覆查", '复'),
            ("覆审", '复'),
            ("覆议", '复'),
            ("覆电", '复'),
            ("覆命", '复'),
            ("覆述", '复'),
        ],
    ),
    ('瞭', '了', &[("瞭望", '瞭'), ("瞭哨", '瞭')]),
    (
        '藉',
        '藉',
        &[
            ("藉口", '借'),
            ("藉故", '借'),
            ("藉助", '借'),
            ("藉机", '借'),
            ("藉此", '借'),
            ("藉由", '借'),
            ("凭藉", '借'),
        ],
    ),
    (
        '畫',
        '画',
        &[
            ("计畫", '划'),
            ("规畫", '划'),
            ("策畫", '划'),
            ("企畫", '划'),
            ("畫分", '划'),
            ("筹畫", '划'),
        ],
    ),
    (
        '著',
        '著',
        &[
            ("著急", '着'),
            ("著想", '着'),
            ("著手", '着'),
            ("著落", '着'),
            ("著凉", '着'),
            ("著迷", '着'),
            ("接著", '着'),
            ("随著", '着'),
            ("跟著", '着'),
            ("看著", '着'),
            ("等著", '着'),
            ("听著", '着'),
            ("说著", '着'),
            ("试著", '着'),
            ("忙著", '着'),
            ("睡著", '着'),
            ("沿著", '着'),
            ("朝著", '着'),
            ("向著", '着'),
            ("为著", '着'),
            ("穿著", '着'),
            ("带著", '着'),
            ("拿著", '着'),
            ("有著", '着'),
            ("本著", '着'),
            ("顺著", '着'),
            ("意味著", '着'),
        ],
    ),
];

/// The simplified form of the ambiguous character `raw` at `s..e` of `input`, by the word around it; `None`
/// if `raw` is not ambiguous. Neighbours are compared after the character fold (反覆 and 反覆 alike).
#[inline(always)]
pub(crate) fn resolve(input: &str, s: usize, e: usize, raw: char) -> Option<char> {
    // Every traditional character comes here: the test for the six is kept inline.
    let &(_, default, words) = AMBIGUOUS.iter().find(|a| a.0 == raw)?;
    Some(resolve_in(input, s, e, raw, default, words))
}

/// [`resolve`] for an ambiguous `raw`: the form its word asks for, or `default`.
#[inline(never)]
fn resolve_in(
    input: &str,
    s: usize,
    e: usize,
    raw: char,
    default: char,
    words: &[(&str, char)],
) -> char {
    let t = table();
    for &(word, to) in words {
        let at = word.chars().position(|c| c == raw).unwrap_or(0);
        let mut before = word.chars().take(at).collect::<Vec<_>>().into_iter().rev();
        let after = word.chars().skip(at + 1);
        let back_ok = before
            .by_ref()
            .zip(
                input[..s]
                    .chars()
                    .rev()
                    .map(Some)
                    .chain(std::iter::repeat(None)),
            )
            .all(|(w, c)| c.is_some_and(|c| t.get(c) == w || c == w));
        let ahead_ok = after
            .zip(input[e..].chars().map(Some).chain(std::iter::repeat(None)))
            .all(|(w, c)| c.is_some_and(|c| t.get(c) == w || c == w));
        if back_ok && ahead_ok {
            return to;
        }
    }
    default
}

fn single_char(s: &str) -> Option<char> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// The simplified form of `c`, or `c` itself.
pub fn to_simplified(c: char) -> char {
    if (c as u32) < DENSE_START {
        return c;
    }
    table().get(c)
}

impl T2s {
    /// The bitset of plain ideographs (see `plain`) when traditional characters are folded or not.
    pub(crate) fn plain(&self, traditional: bool) -> &[u64; PLAIN_WORDS] {
        &self.plain[usize::from(traditional)]
    }

    /// The same bitset by lead bytes (see `lead`).
    pub(crate) fn lead(&self, traditional: bool) -> &[u64; LEAD_WORDS] {
        &self.lead[usize::from(traditional)]
    }

    /// The simplified form of the ideograph `u` (U+3400..U+9FFF, the dense block).
    #[inline(always)]
    pub(crate) fn ideograph(&self, u: u32) -> char {
        self.dense
            .get(u.wrapping_sub(DENSE_START) as usize)
            .copied()
            .unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    #[inline]
    pub(crate) fn get(&self, c: char) -> char {
        let u = c as u32;
        if u < DENSE_START {
            return c;
        }
        let t = self;
        if u < DENSE_END {
            return t.dense[(u - DENSE_START) as usize];
        }
        match t.sparse.binary_search_by_key(&c, |p| p.0) {
            Ok(i) => t.sparse[i].1,
            Err(_) => c,
        }
    }
}
