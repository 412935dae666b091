//! Every citation of ARCHITECTURE.md in the repository's code, scripts and docs names a section that exists:
//! `ARCHITECTURE.md §N`, `ARCHITECTURE.md, "Section"` or `ARCHITECTURE.md (section)` must match the start of
//! one of its headings (case-insensitive; `§N` a heading numbered `N.`).

use std::fs;
use std::path::{Path, PathBuf};

const ROOTS: &[&str] = &[
    "crates", "bindings", "scripts", "docs", "tests", "benches", "fuzz", "examples",
];
const EXTENSIONS: &[&str] = &["rs", "py", "pyi", "sh", "md", "toml", "js", "html"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if !matches!(name.as_ref(), "target" | "node_modules" | ".venv" | "cases") {
                walk(&p, out);
            }
        } else if p
            .extension()
            .is_some_and(|x| EXTENSIONS.contains(&x.to_string_lossy().as_ref()))
        {
            out.push(p);
        }
    }
}

/// The section a citation starting right after `ARCHITECTURE.md` names, if it names one.
fn cited(rest: &str) -> Option<String> {
    let rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    if let Some(n) = rest.strip_prefix('§') {
        let digits: String = n
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return Some(format!("{digits}."));
    }
    let (open, close) = match rest.chars().next()? {
        '"' => ('"', '"'),
        '(' => ('(', ')'),
        _ => return None,
    };
    let inner = &rest[open.len_utf8()..];
    let end = inner.find(close)?;
    // A parenthesis that is not a section name (a path, a sentence) is not a citation.
    let name = inner[..end].trim();
    (!name.is_empty() && !name.contains('/') && name.split_whitespace().count() <= 4)
        .then(|| name.to_string())
}

#[test]
fn architecture_citations_name_existing_sections() {
    let root = root();
    let arch = fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let headings: Vec<String> = arch
        .lines()
        .filter_map(|l| l.strip_prefix("## ").or_else(|| l.strip_prefix("### ")))
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut files = vec![root.join("README.md")];
    for r in ROOTS {
        walk(&root.join(r), &mut files);
    }
    let mut bad = Vec::new();
    let mut seen = 0;
    // This file quotes the forms it checks.
    files.retain(|f| !f.ends_with("tests/citations.rs"));
    for f in files {
        let Ok(text) = fs::read_to_string(&f) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            // A citation may wrap: read on into the next line.
            let next = text.lines().nth(i + 1).unwrap_or("");
            let joined = format!("{line} {}", next.trim_start_matches(['/', '!', '#', ' ']));
            for (at, _) in line.match_indices("ARCHITECTURE.md") {
                let Some(section) = cited(&joined[at + "ARCHITECTURE.md".len()..]) else {
                    continue;
                };
                seen += 1;
                let s = section.to_lowercase();
                if !headings.iter().any(|h| h.starts_with(&s)) {
                    bad.push(format!("{}:{}: cites {section:?}", f.display(), i + 1));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "citations of missing ARCHITECTURE.md sections:\n{}",
        bad.join("\n")
    );
    assert!(seen > 0, "no citation found: is the walk right?");
}

#[test]
fn citation_forms() {
    assert_eq!(cited(" §5 of the design"), Some("5.".into()));
    assert_eq!(
        cited(", \"Output contract\")"),
        Some("Output contract".into())
    );
    assert_eq!(cited(" (audio) and"), Some("audio".into()));
    assert_eq!(cited("](ARCHITECTURE.md)."), None);
}
