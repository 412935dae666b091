//! Equivalence check for normaliser changes: prints, for every line of stdin, the normalised text, the
//! original span of every normalised character, the longest digit run and the repeats, one line each, so
//! that two builds' outputs can be compared byte for byte (`diff`). HUASHU_RULESET=DIR takes that ruleset's
//! options instead of the bundled default's.
use std::io::{BufRead, Write};

fn main() {
    let engine = match std::env::var("HUASHU_RULESET") {
        Ok(dir) => {
            huashu::Engine::new(huashu::Ruleset::load(&dir).expect("ruleset")).expect("compiles")
        }
        Err(_) => huashu::Engine::default_ruleset().expect("default"),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut norm = huashu::text::Normalized::default();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("UTF-8 lines");
        huashu::text::normalize_into(&mut norm, &line, engine.options());
        let t = norm.as_str();
        let spans: Vec<String> = t
            .char_indices()
            .map(|(i, c)| {
                let s = norm.original_span(i..i + c.len_utf8());
                format!("{}-{}", s.start, s.end)
            })
            .collect();
        writeln!(
            out,
            "{t}\t{}\t{}\t{:?}",
            spans.join(","),
            norm.digit_run(),
            norm.repeats()
        )
        .expect("stdout");
    }
}
