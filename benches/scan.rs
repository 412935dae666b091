//! The default ruleset over generated agent turns: the full engine (normalise + match + context +
//! suggestions), normalisation alone, and a raw aho-corasick scan of the same phrases, in the same run.

use aho_corasick::{AhoCorasick, MatchKind};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use huashu::{Engine, Role};
use std::hint::black_box;

fn scan(c: &mut Criterion) {
    let engine = Engine::default_ruleset().expect("default ruleset");
    let turns = huashu_benches::generated_turns(10_000, 7);
    let bytes: usize = turns.iter().map(String::len).sum();
    let phrases: Vec<String> = engine.normalized_phrases();
    let raw = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&phrases)
        .expect("baseline automaton");

    let mut g = c.benchmark_group("default_ruleset");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("engine_check", |b| {
        b.iter(|| {
            turns
                .iter()
                .map(|t| engine.check(Role::Agent, black_box(t)).len())
                .sum::<usize>()
        })
    });
    g.bench_function("raw_aho_corasick", |b| {
        b.iter(|| {
            turns
                .iter()
                .map(|t| raw.find_iter(black_box(t.as_str())).count())
                .sum::<usize>()
        })
    });
    g.bench_function("normalize_only", |b| {
        b.iter(|| {
            turns
                .iter()
                .map(|t| engine.normalize(black_box(t)).char_len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
