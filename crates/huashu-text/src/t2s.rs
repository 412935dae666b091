//! Traditional → simplified, one character at a time (OpenCC's TSCharacters table, Apache-2.0).
//!
//! Character-level conversion keeps the normalised text aligned one-to-one with the original; phrase-level
//! conversion (OpenCC's TSPhrases) would only matter for a handful of ambiguous characters.

use std::sync::OnceLock;

static TABLE: &str = include_str!("../data/TSCharacters.txt");

/// Dense lookup for the BMP ideograph block, where almost every traditional character lives, and a sorted
/// list for the rest; built once, read without locks.
pub(crate) struct T2s {
    dense: Vec<char>,
    sparse: Vec<(char, char)>,
    /// Bit per BMP code point (word `u >> 6`, bit `u & 63`): a CJK ideograph that normalises to itself
    /// (with and without the traditional fold), and is not 百 or 甚, which may start a form; and the
    /// ideographic comma and full stop (、。), which normalise to themselves too. The normaliser copies runs
    /// of these. A fixed 1024-word table, so that indexing it with a 10-bit value needs no check.
    plain: [Box<[u64; PLAIN_WORDS]>; 2],
}

const DENSE_START: u32 = 0x3400;
pub(crate) const PLAIN_WORDS: usize = 0x10000 / 64;
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
        for u in DENSE_START..DENSE_END {
            if !matches!(u, 0x3400..=0x4DBF | 0x4E00..=0x9FFF) || u == 0x767E || u == 0x751A {
                continue;
            }
            let (word, bit) = ((u >> 6) as usize, u & 63);
            plain[0][word] |= 1 << bit;
            if dense[(u - DENSE_START) as usize] as u32 == u {
                plain[1][word] |= 1 << bit;
            }
        }
        for u in ['、', '。'].map(u32::from) {
            let (word, bit) = ((u >> 6) as usize, u & 63);
            plain[0][word] |= 1 << bit;
            plain[1][word] |= 1 << bit;
        }
        T2s {
            dense,
            sparse,
            plain,
        }
    })
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
