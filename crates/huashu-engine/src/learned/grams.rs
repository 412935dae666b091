//! The features of a learned model: the character 1–3-grams of a normalised turn, each packed into one `u64`
//! (21 bits a character, plus one so that no character packs to zero and n-grams of different lengths never
//! share a key). Training and scoring both read turns through here, so they cannot disagree.

/// One n-gram of a text: its key and its byte range in that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gram {
    pub key: u64,
    pub start: usize,
    pub end: usize,
}

/// Every 1–3-gram of `text`, in order of start, shorter first.
pub fn grams(text: &str) -> Vec<Gram> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::with_capacity(chars.len() * 3);
    for i in 0..chars.len() {
        let mut key = 0u64;
        for (n, &(_, c)) in chars[i..].iter().take(3).enumerate() {
            key = key << 21 | (u64::from(u32::from(c)) + 1);
            let end = chars.get(i + n + 1).map_or(text.len(), |&(b, _)| b);
            out.push(Gram {
                key,
                start: chars[i].0,
                end,
            });
        }
    }
    out
}

/// The distinct keys of `text`'s n-grams, sorted: a turn's features (presence, not counts).
pub fn keys(text: &str) -> Vec<u64> {
    let mut keys: Vec<u64> = grams(text).into_iter().map(|g| g.key).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The n-gram a key stands for (None for a key no text packs to).
pub fn unpack(mut key: u64) -> Option<String> {
    let mut chars = Vec::with_capacity(3);
    while key != 0 {
        let code = u32::try_from((key & 0x1f_ffff).checked_sub(1)?).ok()?;
        chars.push(char::from_u32(code)?);
        key >>= 21;
    }
    (!chars.is_empty() && chars.len() <= 3).then(|| chars.iter().rev().collect())
}

/// The key of an n-gram of 1–3 characters (None otherwise).
pub fn pack(gram: &str) -> Option<u64> {
    let mut key = 0u64;
    let mut n = 0;
    for c in gram.chars() {
        n += 1;
        if n > 3 {
            return None;
        }
        key = key << 21 | (u64::from(u32::from(c)) + 1);
    }
    (n > 0).then_some(key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn grams_of_a_turn() {
        let g = grams("保证a");
        let text: Vec<(String, usize, usize)> = g
            .iter()
            .map(|g| (unpack(g.key).unwrap(), g.start, g.end))
            .collect();
        assert_eq!(
            text,
            vec![
                ("保".into(), 0, 3),
                ("保证".into(), 0, 6),
                ("保证a".into(), 0, 7),
                ("证".into(), 3, 6),
                ("证a".into(), 3, 7),
                ("a".into(), 6, 7),
            ]
        );
    }

    #[test]
    fn keys_pack_and_unpack() {
        for gram in ["\0", "a", "保证", "𠮶a\u{10ffff}", "\t b"] {
            let key = pack(gram).unwrap();
            assert_eq!(unpack(key).as_deref(), Some(gram));
        }
        assert_eq!(pack(""), None);
        assert_eq!(pack("保证金额"), None);
        // Lengths never collide: "\0" packs to 1, not to the empty key.
        assert_ne!(pack("\0\0").unwrap(), pack("\0").unwrap());
        assert_eq!(
            keys("aaa"),
            vec![
                pack("a").unwrap(),
                pack("aa").unwrap(),
                pack("aaa").unwrap()
            ]
        );
    }
}
