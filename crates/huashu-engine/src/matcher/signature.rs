//! A turn's character signature: which characters and character pairs it holds, as bits of a small
//! table, so that a regex's weak literal sets ([`crate::anchors::Gate::weak`]) can be checked in a few
//! instructions before the regex runs. The automaton cannot carry those sets: their single characters
//! (瘦, 批, 赔, 过) occur in most real turns and would wake it everywhere. Like a Bloom filter, the test can
//! say "present" wrongly (the regex then runs, as it did before), never "absent" wrongly.

/// Bits of the signature table (4,096: a turn's few dozen characters and pairs fill under 2 % of it).
const BITS: u32 = 12;
const WORDS: usize = 1 << (BITS - 6);

/// The signature of one turn, built on first need and reused by every regex the turn wakes.
#[derive(Clone)]
pub(super) struct Signature {
    bits: [u64; WORDS],
}

impl Default for Signature {
    fn default() -> Self {
        Signature { bits: [0; WORDS] }
    }
}

/// A character as its UTF-8 bytes packed big-endian into a `u32` (what [`Signature::fill`] reads off the
/// text without decoding it). A NUL is 0, which the signature skips: no literal of a rule begins with one.
#[inline]
fn packed(c: char) -> u32 {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .fold(0, |acc, b| acc << 8 | u32::from(b))
}

/// Where a literal lives in the table: its first character alone, or its first two characters.
#[inline]
fn key_one(c: u32) -> u32 {
    c.wrapping_mul(0x9E37_79B1) >> (32 - BITS)
}

#[inline]
fn key_two(a: u32, b: u32) -> u32 {
    (a.wrapping_mul(0x85EB_CA77) ^ b).wrapping_mul(0x9E37_79B1) >> (32 - BITS)
}

/// A literal set as the keys of its literals: the set may be present when one of them is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WeakSet {
    keys: Box<[u16]>,
}

impl WeakSet {
    /// The keys of `literals` (UTF-8; None for a set with a literal that is not, or is empty: such a set
    /// cannot be checked this way and is not used; None too for a set with a literal that opens with two
    /// ASCII characters, or is one: such a set is in nearly every turn).
    pub(super) fn new(literals: &[Vec<u8>]) -> Option<WeakSet> {
        let mut keys = Vec::with_capacity(literals.len());
        for lit in literals {
            // A literal that opens with two ASCII characters ("i ", "we", "th", "?") is keyed by a pair that
            // nearly every English turn holds: such sets rejected 2.5 % of the English regexes they were asked
            // about, and filling the signature for them cost 7.8 % of an English turn.
            if lit.iter().take(2).all(u8::is_ascii) {
                return None;
            }
            let mut chars = std::str::from_utf8(lit).ok()?.chars();
            let first = chars.next().filter(|&c| c != '\0')?;
            let key = match chars.next().filter(|&c| c != '\0') {
                Some(second) => key_two(packed(first), packed(second)),
                None => key_one(packed(first)),
            };
            keys.push(key as u16);
        }
        keys.sort_unstable();
        keys.dedup();
        Some(WeakSet { keys: keys.into() })
    }
}

impl Signature {
    /// Fills the signature with the characters and character pairs of `t`.
    pub(super) fn fill(&mut self, t: &str) {
        self.bits = [0; WORDS];
        // A character is keyed by its UTF-8 bytes packed into a `u32` ([`packed`]), read byte by byte: no
        // decoding, no bounds checks (the signature is filled on most real turns, as F030's words are
        // in a third of them).
        let (mut cur, mut prev) = (0u32, 0u32);
        for &b in t.as_bytes() {
            if b & 0xC0 == 0x80 {
                cur = cur << 8 | u32::from(b);
                continue;
            }
            if cur != 0 {
                self.add(prev, cur);
                prev = cur;
            }
            cur = u32::from(b);
        }
        if cur != 0 {
            self.add(prev, cur);
        }
    }

    /// Sets the keys of the character `c` and of the pair `prev`·`c` (none when `prev` is 0).
    #[inline]
    fn add(&mut self, prev: u32, c: u32) {
        self.set(key_one(c));
        if prev != 0 {
            self.set(key_two(prev, c));
        }
    }

    #[inline]
    fn set(&mut self, key: u32) {
        self.bits[(key >> 6) as usize] |= 1 << (key & 63);
    }

    #[inline]
    fn has(&self, key: u16) -> bool {
        self.bits[usize::from(key >> 6)] >> (key & 63) & 1 == 1
    }

    /// Whether the turn may hold a literal of every set (false: it holds none of some set's literals).
    #[inline]
    pub(super) fn may_hold_all(&self, sets: &[WeakSet]) -> bool {
        sets.iter().all(|s| s.keys.iter().any(|&k| self.has(k)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> WeakSet {
        let lits: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        WeakSet::new(&lits).expect("UTF-8 literals")
    }

    #[test]
    fn a_set_is_present_when_one_literal_is() {
        let mut sig = Signature::default();
        sig.fill("保证三天瘦下来");
        assert!(sig.may_hold_all(&[set(&["美白", "瘦"])]));
        assert!(sig.may_hold_all(&[set(&["三天", "一周"]), set(&["瘦"])]));
        // Every literal of a set is absent: the regex cannot match.
        assert!(!sig.may_hold_all(&[set(&["美白", "长高", "祛斑"])]));
        assert!(!sig.may_hold_all(&[set(&["瘦"]), set(&["批", "赔"])]));
        // A pair is keyed as a pair: 瘦 and 白 apart are not 白瘦.
        assert!(!sig.may_hold_all(&[set(&["白瘦"])]));
    }

    #[test]
    fn no_literal_of_a_turn_is_ever_missed() {
        let turns = [
            "这个商品支持7天无理由退货，需要保证附件完整哦",
            "跟您保证我们会尽快为您审核处理的，请您放心",
            "您的退款已到账,100%放心",
            "",
        ];
        let mut sig = Signature::default();
        for t in turns {
            sig.fill(t);
            let chars: Vec<char> = t.chars().collect();
            // Literals that open with two ASCII characters make no set (see the test below).
            let used = |w: &str| WeakSet::new(&[w.as_bytes().to_vec()]);
            for i in 0..chars.len() {
                let one = chars[i].to_string();
                if let Some(s) = used(&one) {
                    assert!(sig.may_hold_all(&[s]), "{one} in {t}");
                }
                if let Some(next) = chars.get(i + 1) {
                    let two: String = [chars[i], *next, '尾'].iter().collect();
                    if let Some(s) = used(&two) {
                        assert!(sig.may_hold_all(&[s]), "{two} in {t}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_set_with_a_common_ascii_opening_is_not_used() {
        let lits = |words: &[&str]| -> Vec<Vec<u8>> {
            words.iter().map(|w| w.as_bytes().to_vec()).collect()
        };
        assert_eq!(WeakSet::new(&lits(&["i dont know", "idk"])), None);
        assert_eq!(WeakSet::new(&lits(&["?"])), None);
        // One such literal makes the whole set present in nearly every turn.
        assert_eq!(WeakSet::new(&lits(&["保证", "ok"])), None);
        // A Latin letter before a Chinese character is keyed as a pair.
        assert!(WeakSet::new(&lits(&["a货", "保证"])).is_some());
    }

    #[test]
    fn a_set_that_is_not_utf8_is_not_used() {
        assert_eq!(WeakSet::new(&[vec![0xE4, 0xBF]]), None);
        // The signature skips NUL, so a literal that begins with one could be missed.
        assert_eq!(WeakSet::new(&[b"\0a".to_vec()]), None);
        assert_eq!(WeakSet::new(&[Vec::new()]), None);
    }
}
