//! The phrase automaton: daachorse (char-wise double array, what the engine uses, with and without its
//! q-gram prefilter) vs aho-corasick (byte DFA), all reporting overlapping matches, on normalised Chinese
//! turns; default phrases and 50k lexicon.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder};
use huashu::Engine;
use std::hint::black_box;

fn compare(c: &mut Criterion, name: &str, phrases: Vec<String>, turns: &[String]) {
    let mut phrases = phrases;
    phrases.sort();
    phrases.dedup();
    phrases.retain(|p| !p.is_empty());
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&phrases)
        .or_else(|_| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&phrases)
        })
        .expect("aho-corasick");
    let da: CharwiseDoubleArrayAhoCorasick<u32> =
        CharwiseDoubleArrayAhoCorasick::new(&phrases).expect("daachorse");
    let plain: CharwiseDoubleArrayAhoCorasick<u32> = CharwiseDoubleArrayAhoCorasickBuilder::new()
        .use_prefilter(false)
        .build(&phrases)
        .expect("daachorse");
    let bytes: usize = turns.iter().map(String::len).sum();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("daachorse_overlapping", |b| {
        b.iter(|| {
            turns
                .iter()
                .map(|t| da.find_overlapping_iter(black_box(t.as_str())).count())
                .sum::<usize>()
        })
    });
    g.bench_function("daachorse_overlapping_no_prefilter", |b| {
        b.iter(|| {
            turns
                .iter()
                .map(|t| plain.find_overlapping_iter(black_box(t.as_str())).count())
                .sum::<usize>()
        })
    });
    g.bench_function("aho_corasick_overlapping", |b| {
        b.iter(|| {
            turns
                .iter()
                .map(|t| ac.find_overlapping_iter(black_box(t.as_str())).count())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn automata(c: &mut Criterion) {
    let engine = Engine::default_ruleset().expect("default");
    let turns: Vec<String> = huashu_benches::generated_turns(10_000, 7)
        .iter()
        .map(|t| engine.normalize(t).as_str().to_string())
        .collect();
    let phrases = engine.normalized_phrases();
    compare(c, "automaton_default_phrases", phrases, &turns);
    if let Some(words) = huashu_benches::lexicon(50_000) {
        let phrases = words
            .iter()
            .map(|w| engine.normalize(w).as_str().to_string())
            .collect();
        compare(c, "automaton_50k_lexicon", phrases, &turns);
    }
}

criterion_group!(benches, automata);
criterion_main!(benches);
