//! Latin words spelled out to slip past a phrase: single letters with the same mark between them
//! (`p a s s w o r d`, `d.o.n.t`, `p-i-n`) are joined, and a digit or `@ $` between two letters is read as the
//! letter it stands for (`passw0rd`, `d0nt`, `p@ssword`, `pa$$word`). Chinese text has its own forms
//! (`不，知，道`, in `fold.rs`); these are the English ones.

/// Marks that may stand between the letters of a spelled-out word.
#[inline]
pub(crate) fn is_letter_gap(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'.' | b'-' | b'_' | b'*' | b'/' | b'+' | b'~' | b'|'
    )
}

/// The letter a digit or `@ $` stands for in a word (`0` → o, `1` → i, `3` → e, `4 @` → a, `5 $` → s,
/// `7` → t), or None.
#[inline(always)]
fn leet(b: u8) -> Option<char> {
    Some(match b {
        b'0' => 'o',
        b'1' => 'i',
        b'3' => 'e',
        b'4' | b'@' => 'a',
        b'5' | b'$' => 's',
        b'7' => 't',
        _ => return None,
    })
}

/// The letter the byte at `i` of `bytes` stands for, when it is one of a run of such bytes with an ASCII
/// letter on both sides (`passw0rd`, `pa55word`; not `iphone13`, `4x4`, `a1`, `a12b`).
#[inline(always)]
pub(crate) fn leet_at(bytes: &[u8], i: usize) -> Option<char> {
    // Nearly every byte that comes here is no such digit, or has no letter before it: settled inline.
    let c = leet(bytes[i])?;
    if i == 0 || !bytes[i - 1].is_ascii_alphabetic() && leet(bytes[i - 1]).is_none() {
        return None;
    }
    leet_in_word(bytes, i).then_some(c)
}

/// Whether the run of [`leet`] bytes around `i` has an ASCII letter on both sides.
#[inline(never)]
fn leet_in_word(bytes: &[u8], i: usize) -> bool {
    let start = bytes[..i]
        .iter()
        .rposition(|&b| leet(b).is_none())
        .map_or(0, |j| j + 1);
    let end = bytes[i..]
        .iter()
        .position(|&b| leet(b).is_none())
        .map_or(bytes.len(), |j| i + j);
    let letter = |j: Option<usize>| {
        j.and_then(|j| bytes.get(j))
            .is_some_and(u8::is_ascii_alphabetic)
    };
    letter(start.checked_sub(1)) && letter(Some(end))
}

/// How much of the run of plain ASCII `turn[start..start + n]` to copy as it is: up to the first byte that
/// [`leet_at`] reads as a letter.
#[inline]
pub(crate) fn plain_before_leet(turn: &[u8], start: usize, n: usize) -> usize {
    // A letter is read only at the start of a run of such digits right after a letter: one test per digit
    // for an order number, not a scan.
    (start..start + n)
        .find(|&i| {
            turn[i].is_ascii_digit()
                && i > 0
                && turn[i - 1].is_ascii_alphabetic()
                && leet_at(turn, i).is_some()
        })
        .map_or(n, |i| i - start)
}

/// A spelled-out word starting at byte `i` of `bytes`: at least three single ASCII letters, each pair with
/// the same one mark between them (`p a s s`, `d.o.n.t`; spaces may be doubled). Returns where it ends and the mark, so that the
/// marks inside it can be dropped. A leading `I` is a word of its own (`I d o n t know`: the run starts at
/// `d`).
pub(crate) fn spelled_out_at(bytes: &[u8], i: usize) -> Option<(usize, u8)> {
    let single = |j: usize| {
        bytes[j].is_ascii_alphabetic()
            && !(j > 0 && bytes[j - 1].is_ascii_alphanumeric())
            && !bytes.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)
    };
    let gap = *bytes.get(i + 1)?;
    if !is_letter_gap(gap) || !single(i) {
        return None;
    }
    // The gap is one mark, or spaces (noise folds a run of them to one anyway).
    let width = |at: usize| {
        let n = bytes[at..].iter().take_while(|&&b| b == gap).count();
        (n == 1 || (n > 1 && gap == b' ')).then_some(n)
    };
    let (mut last, mut count) = (i, 1);
    while let Some(n) = width(last + 1) {
        if last + 1 + n >= bytes.len() || !single(last + 1 + n) {
            break;
        }
        last += 1 + n;
        count += 1;
    }
    let pronoun = matches!(bytes[i], b'I' | b'i') && gap == b' ';
    (count >= 3 && !(pronoun && count >= 4)).then_some((last + 1, gap))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spelled-out words of `s` as the normaliser finds them: (start, end, mark), each searched for
    /// after the last.
    fn gaps(s: &str) -> Vec<(usize, usize, u8)> {
        let b = s.as_bytes();
        let (mut out, mut i) = (Vec::new(), 0);
        while i < b.len() {
            match spelled_out_at(b, i) {
                Some((end, g)) => {
                    out.push((i, end, g));
                    i = end;
                }
                None => i += 1,
            }
        }
        out
    }

    #[test]
    fn spelled_out_words_are_found() {
        assert_eq!(gaps("p a s s"), [(0, 7, b' ')]);
        assert_eq!(gaps("p a s s and x_y_z"), [(0, 7, b' '), (12, 17, b'_')]);
        assert_eq!(spelled_out_at(b"your d.o.n.t.", 5), Some((12, b'.')));
        // A leading I is the pronoun: the word starts after it.
        assert_eq!(spelled_out_at(b"I d o n t know", 0), None);
        assert_eq!(spelled_out_at(b"I d o n t know", 2), Some((9, b' ')));
        assert_eq!(spelled_out_at(b"x-y-z and a b", 0), Some((5, b'-')));
        assert_eq!(spelled_out_at(b"n o  i d e a", 0), Some((12, b' ')));
        assert_eq!(spelled_out_at(b"x--y--z", 0), None);
        // Two letters, mixed marks, or letters inside words are not spelled out.
        assert!(gaps("U.S. and e.g. a b").is_empty());
        assert!(gaps("p a-s.s").is_empty());
        assert!(gaps("ab c d").is_empty());
        assert!(gaps("").is_empty());
    }

    #[test]
    fn digits_between_letters_read_as_letters() {
        let t = b"passw0rd d0nt p@ss pa$$w iphone13 4x4 a1 b2b a12b";
        let read = |i: usize| leet_at(t, i);
        assert_eq!(read(5), Some('o'));
        assert_eq!(read(10), Some('o'));
        assert_eq!(read(15), Some('a'));
        assert_eq!((read(21), read(22)), (Some('s'), Some('s')));
        // Next to a space, a digit that stands for nothing, or the end of the word, a digit stays one.
        assert_eq!((read(31), read(32)), (None, None));
        assert_eq!((read(34), read(36)), (None, None));
        assert_eq!(read(39), None);
        assert_eq!(read(42), None);
        assert_eq!((read(46), read(47)), (None, None));
        assert_eq!(plain_before_leet(t, 0, 8), 5);
        assert_eq!(plain_before_leet(t, 25, 8), 8);
    }
}
