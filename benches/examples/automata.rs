//! aho-corasick (byte DFA) vs daachorse (char-wise double array) on normalised Chinese turns.
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use daachorse::CharwiseDoubleArrayAhoCorasick;
use huashu::Engine;

fn main() {
    let engine = Engine::default_ruleset().expect("default");
    let turns = huashu_benches::generated_turns(20_000, 7);
    let norms: Vec<String> = turns
        .iter()
        .map(|t| engine.normalize(t).as_str().to_string())
        .collect();
    let mut phrases: Vec<String> = engine
        .ruleset()
        .rules
        .iter()
        .flat_map(|r| {
            r.matcher
                .phrases
                .iter()
                .map(|p| engine.normalize(p).as_str().to_string())
        })
        .collect();
    if let Some(path) = std::env::args().nth(1) {
        phrases = std::fs::read_to_string(path)
            .expect("lexicon")
            .lines()
            .map(|l| engine.normalize(l.trim()).as_str().to_string())
            .filter(|l| !l.is_empty())
            .take(50_000)
            .collect();
    }
    phrases.sort();
    phrases.dedup();
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&phrases)
        .or_else(|_| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&phrases)
        })
        .expect("ac");
    let da: CharwiseDoubleArrayAhoCorasick<u32> =
        CharwiseDoubleArrayAhoCorasick::new(&phrases).expect("daachorse");
    let time = |name: &str, f: &mut dyn FnMut() -> usize| {
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..5 {
            n += f();
        }
        println!(
            "{name:28} {:>8.0} ns/turn  ({n})",
            t.elapsed().as_nanos() as f64 / (5 * turns.len()) as f64
        );
    };
    for _ in 0..2 {
        time("aho-corasick overlapping", &mut || {
            norms
                .iter()
                .map(|t| ac.find_overlapping_iter(t.as_str()).count())
                .sum()
        });
        time("daachorse overlapping", &mut || {
            norms
                .iter()
                .map(|t| da.find_overlapping_iter(t.as_str()).count())
                .sum()
        });
    }
    println!("{} patterns", phrases.len());
}
