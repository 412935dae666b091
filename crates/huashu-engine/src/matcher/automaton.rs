//! The phrase automaton: every pattern of a matcher (phrases, regex literals, allow-list words) in one
//! char-wise Aho-Corasick automaton that reports every overlapping match — by end, then longest first, the
//! order of daachorse's `find_overlapping_iter`, which it replaced — with the value each pattern was given.
//!
//! What a character costs:
//! - its code is read off its UTF-8 bytes (no decoding) in a two-level `u16` table: one block of 64 codes
//!   for each block of 64 chars some pattern uses, so the table a Chinese turn touches is a few kilobytes, not
//!   one entry for every char up to the largest;
//! - the depth-1 state of code `c` is state `c`: every transition into depth 0 or 1 (the root's, and every
//!   failure that ends there) is the default, one load from `shallow`;
//! - a goto is one slot of a double array holding what the next step needs (the target's base, output and
//!   mask). A state's 32-bit mask has the bit `code % 32` of each of its gotos: a clear bit skips the slot,
//!   which would most often be a cache miss, and most characters of a turn have no goto;
//! - a state whose failure is the root, or is complete and has no gotos, is *complete*: without a goto the
//!   default applies. Only the others (`INCOMPLETE` in the base) follow their failure link, read from
//!   `fails`; no transition of a failure is copied into a state (tried: copying up to 4 or 16 of them cut
//!   1–2 % of the walk's instructions for 1.5–2× the slots).

/// One slot of the double array: the transition on code `c` of the state with base `b` is slot `b + c` when
/// its `check` is `b`. A state is known by its base (every state with gotos or a failure to follow has its
/// own; 0 is the root's and that of every complete state without gotos).
#[derive(Debug, Clone, Copy)]
struct Slot {
    check: u32,
    /// The target state's base.
    base: u32,
    /// The target state's first output (index into `outputs`, 0 for none).
    out: u32,
    /// The target state's [`mask`].
    mask: u32,
}

/// What a step needs of the state it enters.
#[derive(Debug, Clone, Copy, Default)]
struct Target {
    base: u32,
    out: u32,
    mask: u32,
}

/// One bit per code modulo 32 of a state's gotos: a code whose bit is clear has none, and its slot (a
/// likely cache miss) is not read.
fn mask(codes: &[(u32, u32)]) -> u32 {
    codes.iter().fold(0, |m, &(c, _)| m | 1 << (c & 31))
}

/// A free slot's check: no state has this base.
const FREE: u32 = u32::MAX;
/// The flag of an incomplete state's base: a code without a goto of the state's is not the default, but
/// the failure's transition (the failure's base and mask are in `fails`).
const INCOMPLETE: u32 = 1 << 31;

/// One pattern reported at a state, and the next (shorter) one reported with it.
#[derive(Debug, Clone, Copy)]
struct Output {
    value: u32,
    /// The pattern's length in bytes.
    len: u32,
    /// The next output (0 for none).
    next: u32,
}

/// Why an automaton was not built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BuildError {
    Empty,
    Duplicate(String),
    TooManyChars,
    TooLarge,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Empty => write!(f, "an automaton pattern is empty"),
            BuildError::Duplicate(p) => write!(f, "automaton pattern {p:?} is given twice"),
            BuildError::TooManyChars => {
                write!(
                    f,
                    "the automaton's patterns use more than 65,535 characters"
                )
            }
            BuildError::TooLarge => write!(f, "the automaton has more than 2^31 transitions"),
        }
    }
}

/// The compiled automaton (see the module documentation).
pub(crate) struct Automaton {
    /// Per 64 chars of the Basic Multilingual Plane (`c >> 6`), their block in `codes`; block 0 holds only
    /// `unknown`.
    blocks: Box<[u16; 1024]>,
    /// Per char of the plane, its code.
    codes: Vec<[u16; 64]>,
    /// Chars beyond the plane and their codes, sorted.
    astral: Vec<(char, u16)>,
    /// The code of a char no pattern has: one no state has a transition on.
    unknown: u16,
    /// Per code, the depth-1 state the code leads to from the root, or the root.
    shallow: Vec<Target>,
    slots: Vec<Slot>,
    /// Per base of an incomplete state, its failure's base and mask.
    fails: Vec<(u32, u32)>,
    /// Index 0 is unused (0 means no output).
    outputs: Vec<Output>,
    patterns: usize,
}

impl std::fmt::Debug for Automaton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Automaton")
            .field("patterns", &self.patterns)
            .field("codes", &self.shallow.len())
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Automaton {
    /// Builds the automaton of `patterns`, each with its value.
    ///
    /// # Errors
    /// An empty or repeated pattern, more than 65,535 distinct characters, or more transitions than a `u32`
    /// indexes.
    pub(crate) fn build<'a>(
        patterns: impl IntoIterator<Item = (&'a str, u32)>,
    ) -> Result<Automaton, BuildError> {
        let patterns: Vec<(&str, u32)> = patterns.into_iter().collect();
        if patterns.iter().any(|(p, _)| p.is_empty()) {
            return Err(BuildError::Empty);
        }
        let (code_of, first_codes) = alphabet(&patterns)?;
        let alphabet = code_of.len();
        let unknown = alphabet as u16 + 1;
        let (blocks, codes, astral) = code_table(&code_of, unknown);
        let code = |c: char| lookup(&blocks, &codes, &astral, unknown, c);

        // The trie: node 0 is the root, node c (1..=first_codes) the depth-1 node of code c.
        let mut children: Vec<Vec<(u32, u32)>> = vec![Vec::new(); first_codes + 1];
        let mut terminal: Vec<Option<(u32, u32)>> = vec![None; first_codes + 1];
        for &(p, value) in &patterns {
            let mut chars = p.chars();
            let mut node = chars.next().map_or(0, code) as usize;
            for c in chars {
                let c = code(c);
                node = match children[node].binary_search_by_key(&c, |&(k, _)| k) {
                    Ok(i) => children[node][i].1 as usize,
                    Err(i) => {
                        let next = children.len();
                        children[node].insert(i, (c, next as u32));
                        children.push(Vec::new());
                        terminal.push(None);
                        next
                    }
                };
            }
            if terminal[node].replace((value, p.len() as u32)).is_some() {
                return Err(BuildError::Duplicate(p.to_string()));
            }
        }
        let nodes = children.len();
        if nodes >= (u32::MAX / 2) as usize {
            return Err(BuildError::TooLarge);
        }

        // Breadth first: failure links, outputs, and which nodes are complete.
        let mut fail = vec![0u32; nodes];
        let mut out = vec![0u32; nodes];
        let mut outputs = vec![Output {
            value: 0,
            len: 0,
            next: 0,
        }];
        let mut complete = vec![true; nodes];
        // Where node `f` goes on code `c`.
        let delta = |mut f: usize, c: u32, complete: &[bool], fail: &[u32]| loop {
            if let Ok(i) = children[f].binary_search_by_key(&c, |&(k, _)| k) {
                return children[f][i].1;
            }
            if complete[f] {
                return if c as usize <= first_codes { c } else { 0 };
            }
            f = fail[f] as usize;
        };
        let mut order: Vec<u32> = (1..=first_codes as u32).collect();
        let mut at = 0;
        while at < order.len() {
            let node = order[at] as usize;
            at += 1;
            let f = fail[node] as usize;
            out[node] = match terminal[node] {
                Some((value, len)) => {
                    outputs.push(Output {
                        value,
                        len,
                        next: out[f],
                    });
                    (outputs.len() - 1) as u32
                }
                None => out[f],
            };
            // The root's gotos are the defaults, not in `children`.
            complete[node] = complete[f] && children[f].is_empty();
            for &(c, child) in &children[node] {
                fail[child as usize] = delta(f, c, &complete, &fail);
                order.push(child);
            }
        }

        // Bases (an incomplete node needs one even without gotos: it indexes `fails`) and the double array.
        let mut place = Placer::default();
        let mut base = vec![0u32; nodes];
        let mut codes_of = Vec::new();
        for &node in &order {
            let node = node as usize;
            codes_of.clear();
            codes_of.extend(children[node].iter().map(|&(c, _)| c));
            if !codes_of.is_empty() || !complete[node] {
                base[node] = place.base_for(&codes_of)?;
                if !complete[node] {
                    base[node] |= INCOMPLETE;
                }
            }
        }
        let mut slots = vec![
            Slot {
                check: FREE,
                base: 0,
                out: 0,
                mask: 0,
            };
            place.used.len().max(place.bases.len()) + alphabet + 2
        ];
        let mut fails = vec![(0u32, 0u32); place.bases.len()];
        let masks: Vec<u32> = children.iter().map(|t| mask(t)).collect();
        for &node in &order {
            let node = node as usize;
            let b = base[node];
            let at = (b & !INCOMPLETE) as usize;
            if !complete[node] {
                let f = fail[node] as usize;
                fails[at] = (base[f], masks[f]);
            }
            for &(c, target) in &children[node] {
                slots[at + c as usize] = Slot {
                    check: b,
                    base: base[target as usize],
                    out: out[target as usize],
                    mask: masks[target as usize],
                };
            }
        }
        let mut shallow = vec![Target::default(); alphabet + 2];
        for c in 1..=first_codes {
            shallow[c] = Target {
                base: base[c],
                out: out[c],
                mask: masks[c],
            };
        }
        Ok(Automaton {
            blocks,
            codes,
            astral,
            unknown,
            shallow,
            slots,
            fails,
            outputs,
            patterns: patterns.len(),
        })
    }

    /// The code of the char of the plane whose block of 64 is `block` and whose offset in it is `low`.
    #[inline(always)]
    fn plane_code(&self, block: usize, low: u8) -> u32 {
        u32::from(self.codes[usize::from(self.blocks[block & 1023])][usize::from(low & 63)])
    }

    /// The code of a char beyond the plane.
    #[cold]
    fn astral_code(&self, c: char) -> u32 {
        lookup(&self.blocks, &self.codes, &self.astral, self.unknown, c)
    }

    /// Calls `found(start, end, value)` for every match in `text`: by end, then longest first; `start` and
    /// `end` are byte offsets.
    #[inline]
    pub(crate) fn for_each_match(&self, text: &str, mut found: impl FnMut(usize, usize, u32)) {
        let bytes = text.as_bytes();
        let mut rest = bytes;
        let (mut base, mut mask) = (0u32, 0u32);
        // The text is UTF-8: a char's code is read off its bytes, without decoding it.
        while !rest.is_empty() {
            let code;
            (code, rest) = match rest {
                [b0, tail @ ..] if *b0 < 0x80 => (self.plane_code(usize::from(b0 >> 6), *b0), tail),
                [b0, b1, b2, tail @ ..] if *b0 >= 0xe0 && *b0 < 0xf0 => (
                    self.plane_code(usize::from(b0 & 0xf) << 6 | usize::from(b1 & 0x3f), *b2),
                    tail,
                ),
                [b0, b1, tail @ ..] if *b0 < 0xe0 => {
                    (self.plane_code(usize::from(b0 & 0x1f), *b1), tail)
                }
                _ => {
                    let at = bytes.len() - rest.len();
                    let c = text[at..].chars().next().unwrap_or_default();
                    (self.astral_code(c), &rest[c.len_utf8().min(rest.len())..])
                }
            };
            let out;
            loop {
                let at = (base & !INCOMPLETE) as usize;
                if mask & 1 << (code & 31) != 0 {
                    // A slot beyond every base + code is never read: `slots` is padded by the alphabet's
                    // size.
                    let slot = self.slots[at + code as usize];
                    if slot.check == base {
                        (base, out, mask) = (slot.base, slot.out, slot.mask);
                        break;
                    }
                }
                if base & INCOMPLETE == 0 {
                    let t = self.shallow[code as usize];
                    (base, out, mask) = (t.base, t.out, t.mask);
                    break;
                }
                (base, mask) = self.fails[at];
            }
            if out != 0 {
                let end = bytes.len() - rest.len();
                let mut o = out;
                while o != 0 {
                    let Output { value, len, next } = self.outputs[o as usize];
                    found(end - len as usize, end, value);
                    o = next;
                }
            }
        }
    }
}

/// Codes for every char of `patterns`, sorted by char: those that start a pattern first (1..=the count
/// returned second), then the rest; within each, the more patterns use a char the smaller its code.
fn alphabet(patterns: &[(&str, u32)]) -> Result<(Vec<(char, u32)>, usize), BuildError> {
    // Per char of the plane (and in a map beyond it): whether it starts a pattern, and how often it is used.
    let mut plane = vec![(false, 0u32); 0x10000];
    let mut astral: std::collections::HashMap<char, (bool, u32)> = std::collections::HashMap::new();
    for (p, _) in patterns {
        for (i, c) in p.chars().enumerate() {
            let f = match plane.get_mut(c as usize) {
                Some(f) => f,
                None => astral.entry(c).or_default(),
            };
            f.0 |= i == 0;
            f.1 += 1;
        }
    }
    let mut chars: Vec<(char, bool, u32)> = plane
        .iter()
        .enumerate()
        .filter(|(_, f)| f.1 > 0)
        .filter_map(|(c, f)| Some((char::from_u32(c as u32)?, f.0, f.1)))
        .chain(astral.into_iter().map(|(c, (f, n))| (c, f, n)))
        .collect();
    chars.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    if chars.len() + 1 >= usize::from(u16::MAX) {
        return Err(BuildError::TooManyChars);
    }
    let first = chars.iter().filter(|c| c.1).count();
    let mut codes: Vec<(char, u32)> = chars
        .iter()
        .enumerate()
        .map(|(i, &(c, _, _))| (c, i as u32 + 1))
        .collect();
    codes.sort_unstable();
    Ok((codes, first))
}

/// The two-level code table of `code_of` (see [`Automaton::codes`]), and its chars beyond the plane.
#[allow(clippy::type_complexity)]
fn code_table(
    code_of: &[(char, u32)],
    unknown: u16,
) -> (Box<[u16; 1024]>, Vec<[u16; 64]>, Vec<(char, u16)>) {
    let mut blocks = Box::new([0u16; 1024]);
    let mut codes = vec![[unknown; 64]];
    let mut astral = Vec::new();
    for &(ch, code) in code_of {
        let (c, code) = (ch as usize, code as u16);
        if c >= 0x10000 {
            astral.push((ch, code));
            continue;
        }
        if blocks[c >> 6] == 0 {
            blocks[c >> 6] = codes.len() as u16;
            codes.push([unknown; 64]);
        }
        codes[usize::from(blocks[c >> 6])][c & 63] = code;
    }
    (blocks, codes, astral)
}

/// The code of `c` in a code table.
fn lookup(
    blocks: &[u16; 1024],
    codes: &[[u16; 64]],
    astral: &[(char, u16)],
    unknown: u16,
    c: char,
) -> u32 {
    let c32 = c as usize;
    u32::from(if c32 < 0x10000 {
        codes[usize::from(blocks[c32 >> 6])][c32 & 63]
    } else {
        astral
            .binary_search_by_key(&c, |&(a, _)| a)
            .map_or(unknown, |i| astral[i].1)
    })
}

/// Finds each state's base: the first free one, from the lowest free slot on, whose slots for the state's
/// codes are all free.
#[derive(Default)]
struct Placer {
    used: Vec<bool>,
    /// Bases taken.
    bases: Vec<bool>,
    /// Below this every slot is used, or has been tried too often to be worth trying again.
    front: usize,
    /// Failed tries per slot near the front.
    tries: Vec<u8>,
    /// Below this every base is taken.
    lonely: usize,
}

/// Free slots tried as the first code's before a state is placed at the end.
const CANDIDATES: usize = 1024;
/// Failed tries after which a slot no longer holds the front back.
const GIVE_UP: u8 = 32;

impl Placer {
    fn take(&mut self, base: usize) {
        if self.bases.len() <= base {
            self.bases.resize(base + 1, false);
        }
        self.bases[base] = true;
    }

    fn base_for(&mut self, trans: &[u32]) -> Result<u32, BuildError> {
        let Some(&first) = trans.first() else {
            // No transitions: any base no other state has.
            self.lonely = self.lonely.max(1);
            while self.bases.get(self.lonely).copied().unwrap_or(false) {
                self.lonely += 1;
            }
            self.take(self.lonely);
            return Ok(self.lonely as u32);
        };
        let first = first as usize;
        let mut p = self.front;
        let mut tried = 0;
        let base = loop {
            if p >= self.used.len() || tried >= CANDIDATES {
                // Past every used slot: the first base that is free and positive.
                let mut b = (self.used.len().max(p)).saturating_sub(first).max(1);
                while self.bases.get(b).copied().unwrap_or(false) {
                    b += 1;
                }
                break b;
            }
            if !self.used[p] {
                tried += 1;
                if p > first {
                    let b = p - first;
                    if !self.bases.get(b).copied().unwrap_or(false)
                        && trans
                            .iter()
                            .all(|&c| !self.used.get(b + c as usize).copied().unwrap_or(false))
                    {
                        break b;
                    }
                }
                self.tries[p] = self.tries[p].saturating_add(1);
            }
            p += 1;
        };
        let top = base + trans.last().map_or(0, |&t| t as usize);
        if top >= (u32::MAX / 2) as usize {
            return Err(BuildError::TooLarge);
        }
        if self.used.len() <= top {
            self.used.resize(top + 1, false);
            self.tries.resize(top + 1, 0);
        }
        for &c in trans {
            self.used[base + c as usize] = true;
        }
        self.take(base);
        while self.front < self.used.len()
            && (self.used[self.front] || self.tries[self.front] >= GIVE_UP)
        {
            self.front += 1;
        }
        Ok(base as u32)
    }
}

#[cfg(test)]
mod tests;
