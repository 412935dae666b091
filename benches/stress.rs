//! A 50,000-phrase stress ruleset from a real 65k-word Chinese lexicon (../shared/corpora; skipped when
//! absent), engine vs raw aho-corasick on the same phrases.

use aho_corasick::{AhoCorasick, MatchKind};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use huashu::{Engine, Role};
use std::hint::black_box;

fn stress(c: &mut Criterion) {
    let Some(words) = huashu_benches::lexicon(50_000) else {
        eprintln!("skipped: ../shared/corpora/houbb_sensitive_word_dict_v20240407.txt absent");
        return;
    };
    let engine =
        Engine::new(huashu_benches::stress_ruleset(&words)).expect("stress ruleset compiles");
    let phrases: Vec<String> = words
        .iter()
        .map(|w| engine.normalize(w).as_str().to_string())
        .filter(|w| !w.is_empty())
        .collect();
    let raw = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&phrases)
        .expect("baseline automaton");
    let turns = huashu_benches::generated_turns(5_000, 11);
    let bytes: usize = turns.iter().map(String::len).sum();

    let mut g = c.benchmark_group("stress_50k");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
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
    g.finish();
}

criterion_group!(benches, stress);
criterion_main!(benches);
