//! Rough per-stage cost of a turn (for profiling; criterion figures are in benches/).
use std::time::Instant;

use aho_corasick::{AhoCorasick, MatchKind};
use huashu::{Engine, Role};

fn main() {
    let engine = Engine::default_ruleset().expect("default");
    let turns = huashu_benches::generated_turns(20_000, 7);
    let norms: Vec<String> = turns
        .iter()
        .map(|t| engine.normalize(t).as_str().to_string())
        .collect();
    let phrases: Vec<String> = engine
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
    let regexes: Vec<String> = engine
        .ruleset()
        .rules
        .iter()
        .flat_map(|r| r.matcher.regex.clone())
        .collect();
    let set = regex::RegexSet::new(&regexes).expect("set");
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&phrases)
        .expect("ac");
    let raw = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&phrases)
        .expect("ac");
    let time = |name: &str, f: &mut dyn FnMut() -> usize| {
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..5 {
            n += f();
        }
        println!(
            "{name:20} {:>8.0} ns/turn  ({n})",
            t.elapsed().as_nanos() as f64 / (5 * turns.len()) as f64
        );
    };
    time("engine.check", &mut || {
        turns
            .iter()
            .map(|t| engine.check(Role::Agent, t).len())
            .sum()
    });
    time("normalize", &mut || {
        turns.iter().map(|t| engine.normalize(t).char_len()).sum()
    });
    time("ac overlapping", &mut || {
        norms
            .iter()
            .map(|t| ac.find_overlapping_iter(t.as_str()).count())
            .sum()
    });
    time("raw ac", &mut || {
        turns
            .iter()
            .map(|t| raw.find_iter(t.as_str()).count())
            .sum()
    });
    time("regex set", &mut || {
        norms.iter().map(|t| set.matches(t).iter().count()).sum()
    });
    println!("{} phrases, {} regexes", phrases.len(), regexes.len());
}
