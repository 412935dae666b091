//! Instruction-count comparison (run under callgrind): engine.check vs raw aho-corasick on the same turns.
use aho_corasick::{AhoCorasick, MatchKind};
use huashu::{Engine, Role};

#[inline(never)]
fn engine_pass(engine: &Engine, turns: &[String]) -> usize {
    turns
        .iter()
        .map(|t| engine.check(Role::Agent, t).len())
        .sum()
}

#[inline(never)]
fn raw_pass(ac: &AhoCorasick, turns: &[String]) -> usize {
    turns.iter().map(|t| ac.find_iter(t.as_str()).count()).sum()
}

fn main() {
    // HUASHU_RULESET=DIR measures a ruleset directory instead of the bundled default.
    let engine = match std::env::var("HUASHU_RULESET") {
        Ok(dir) => Engine::new(huashu::Ruleset::load(&dir).expect("ruleset")).expect("compiles"),
        Err(_) => Engine::default_ruleset().expect("default"),
    };
    // TURN=… measures one turn, repeated; CORPUS=FILE the turns of a file, one per line.
    let turns = match (std::env::var("TURN"), std::env::var("CORPUS")) {
        (Ok(t), _) => vec![t; 20_000],
        (_, Ok(path)) => std::fs::read_to_string(&path)
            .expect("corpus")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
        _ => huashu_benches::generated_turns(20_000, 7),
    };
    let phrases: Vec<String> = engine.normalized_phrases();
    let raw = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&phrases)
        .expect("ac");
    // Warm both (dense DFAs built on first use, regex caches, thread-local scratch), outside the passes
    // callgrind counts.
    for t in &turns {
        std::hint::black_box(engine.check(Role::Agent, t));
    }
    raw_pass(&raw, &turns[..100]);
    // LOOPS=n repeats the engine pass (for a sampling profiler, which needs seconds of it); RAW_LOOPS=n the
    // baseline's.
    let count = |name: &str| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    for _ in 0..count("LOOPS") {
        engine_pass(&engine, &turns);
    }
    for _ in 0..count("RAW_LOOPS") {
        raw_pass(&raw, &turns);
    }
    println!(
        "{} {}",
        engine_pass(&engine, &turns),
        raw_pass(&raw, &turns)
    );
}
