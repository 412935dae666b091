//! Rust source read as tokens, enough to follow modules and paths: comments and literals blanked, `mod`
//! declarations (and whether they are `#[cfg(test)]`), the first segments of a path or use tree.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String, usize),
    Punct(&'static str),
}

pub fn is(t: Option<&Tok>, p: &str) -> bool {
    matches!(t, Some(Tok::Punct(q)) if *q == p)
}

pub fn ident(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Ident(s, _)) => Some(s),
        _ => None,
    }
}

/// `src` with comments, string and char literals replaced by spaces (newlines kept, for line numbers).
pub fn blank(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let keep = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(i + k).copied().unwrap_or('\0');
        if at(0) == '/' && at(1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at(0) == '/' && at(1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    keep(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if (at(0) == 'r' || (at(0) == 'b' && at(1) == 'r'))
            && !c
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
            && {
                let s = if at(0) == 'b' { 2 } else { 1 };
                let hashes = (s..).take_while(|k| at(*k) == '#').count();
                at(s + hashes) == '"'
            }
        {
            let s = if at(0) == 'b' { 2 } else { 1 };
            let hashes = (s..).take_while(|k| at(*k) == '#').count();
            i += s + hashes + 1;
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while i < c.len() && !c[i..].starts_with(&close) {
                keep(&mut out, c[i]);
                i += 1;
            }
            i += close.len();
        } else if at(0) == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = c.get(i) {
                    keep(&mut out, ch);
                }
                i += 1;
            }
            i += 1;
        } else if at(0) == '\'' && (at(1) == '\\' || (at(1) != '\'' && at(2) == '\'')) {
            // A char literal; a lifetime (`'a`) has no closing quote right after one character.
            i += 1;
            while i < c.len() && c[i] != '\'' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

pub fn tokens(src: &str) -> Vec<Tok> {
    const PUNCT: [&str; 11] = ["::", "{", "}", ",", ";", "*", "(", ")", "#", "[", "]"];
    let mut out = Vec::new();
    let mut line = 1;
    let mut rest = src;
    while let Some(ch) = rest.chars().next() {
        if ch.is_alphabetic() || ch == '_' {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push(Tok::Ident(rest[..end].to_string(), line));
            rest = &rest[end..];
        } else if let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) {
            out.push(Tok::Punct(p));
            rest = &rest[p.len()..];
        } else {
            if ch == '\n' {
                line += 1;
            } else if !ch.is_whitespace() {
                out.push(Tok::Punct("other"));
            }
            rest = &rest[ch.len_utf8()..];
        }
    }
    out
}

/// Each `mod name;` of a file, with the inline modules around it, and whether it is test code.
pub fn mod_decls(toks: &[Tok]) -> Vec<(Vec<String>, String, bool)> {
    let mut out = Vec::new();
    walk_modules(toks, |i, inline, test| {
        if ident(toks.get(i)) == Some("mod")
            && is(toks.get(i + 2), ";")
            && let Some(name) = ident(toks.get(i + 1))
        {
            out.push((inline.to_vec(), name.to_string(), test || cfg_test(toks, i)));
        }
    });
    out
}

/// Whether the item whose keyword is `toks[i]` has `#[cfg(test)]` among its attributes.
pub fn cfg_test(toks: &[Tok], i: usize) -> bool {
    let mut j = i;
    // Visibility: `pub`, `pub(crate)`, `pub(in path)`.
    while j > 0
        && (ident(toks.get(j - 1)).is_some()
            || is(toks.get(j - 1), "(")
            || is(toks.get(j - 1), ")"))
    {
        if ident(toks.get(j - 1)) == Some("pub") {
            j -= 1;
            break;
        }
        j -= 1;
    }
    while j > 0 && is(toks.get(j - 1), "]") {
        let Some(open) = (0..j - 1)
            .rev()
            .find(|&k| is(toks.get(k), "[") && is(toks.get(k.wrapping_sub(1)), "#"))
        else {
            return false;
        };
        let attr: Vec<String> = toks[open + 1..j - 1]
            .iter()
            .map(|t| match t {
                Tok::Ident(s, _) => s.clone(),
                Tok::Punct(p) => (*p).to_string(),
            })
            .collect();
        if attr == ["cfg", "(", "test", ")"] {
            return true;
        }
        j = open - 1;
    }
    false
}

/// Calls `f(i, inline, test)` for every token with the inline modules (`mod x { … }`) it is inside, and
/// whether one of them is `#[cfg(test)]`.
pub fn walk_modules(toks: &[Tok], mut f: impl FnMut(usize, &[String], bool)) {
    let mut depth = 0usize;
    // (depth of the module's brace, whether it is test code)
    let mut stack: Vec<(usize, bool)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for i in 0..toks.len() {
        f(i, &names, stack.last().is_some_and(|s| s.1));
        if is(toks.get(i), "{") {
            depth += 1;
            if i >= 2 && ident(toks.get(i - 2)) == Some("mod") {
                let test = stack.last().is_some_and(|s| s.1) || cfg_test(toks, i - 2);
                stack.push((depth, test));
                names.push(ident(toks.get(i - 1)).unwrap_or("?").to_string());
            }
        } else if is(toks.get(i), "}") {
            if stack.last().is_some_and(|s| s.0 == depth) {
                stack.pop();
                names.pop();
            }
            depth = depth.saturating_sub(1);
        }
    }
}

/// The first segment of the path at `toks[at]`, or of each item of a `{…}` group there.
pub fn first_segments(toks: &[Tok], at: usize) -> Vec<String> {
    if let Some(s) = ident(toks.get(at)) {
        return vec![s.to_string()];
    }
    if !is(toks.get(at), "{") {
        return Vec::new();
    }
    let (mut out, mut depth, mut item_start) = (Vec::new(), 0, true);
    for t in &toks[at..] {
        match t {
            Tok::Punct("{") => {
                depth += 1;
                if depth > 1 {
                    item_start = false;
                }
            }
            Tok::Punct("}") => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Punct(",") if depth == 1 => item_start = true,
            Tok::Ident(s, _) if item_start && depth == 1 => {
                if s != "self" {
                    out.push(s.clone());
                }
                item_start = false;
            }
            _ => item_start = false,
        }
    }
    out
}

/// Calls `f(path, visible name)` for each leaf of a use tree.
pub fn use_leaves(toks: &[Tok], prefix: &[String], f: &mut impl FnMut(&[String], &str)) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Ident(s, _) if s == "as" => {
                if let Some(alias) = ident(toks.get(i + 1)) {
                    f(&path, alias);
                }
                return;
            }
            Tok::Ident(s, _) => path.push(s.clone()),
            Tok::Punct("{") => {
                let mut depth = 0;
                let mut start = i + 1;
                for j in i..toks.len() {
                    match toks[j] {
                        Tok::Punct("{") => depth += 1,
                        Tok::Punct("}") | Tok::Punct(",") if depth == 1 => {
                            use_leaves(&toks[start..j], &path, f);
                            start = j + 1;
                            if toks[j] == Tok::Punct("}") {
                                return;
                            }
                        }
                        Tok::Punct("}") => depth -= 1,
                        _ => {}
                    }
                }
                return;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(leaf) = path.last().filter(|_| path.len() > prefix.len()) {
        f(&path, leaf);
    }
}
