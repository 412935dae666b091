//! Sessions (push latency per turn) and whole-conversation scoring, each next to plain per-turn checks of
//! the same turns (what the conversation layer adds).

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use huashu::{Engine, Role, Turn};
use std::hint::black_box;

fn conversations() -> Vec<Vec<Turn>> {
    let agent = huashu_benches::generated_turns(2_000, 3);
    let customer = [
        "我买的空调坏了三次了，你们到底怎么回事？",
        "快递怎么还没到",
        "好的谢谢",
        "我要投诉",
    ];
    agent
        .chunks(5)
        .enumerate()
        .map(|(i, chunk)| {
            let mut clock = 0;
            let mut turns = Vec::new();
            for (j, a) in chunk.iter().enumerate() {
                turns.push(
                    Turn::customer(customer[(i + j) % customer.len()])
                        .with_times(clock, clock + 3_000),
                );
                turns.push(Turn::agent(a.clone()).with_times(clock + 5_000, clock + 11_000));
                clock += 12_000;
            }
            turns
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let engine = Arc::new(Engine::default_ruleset().expect("default"));
    let convs = conversations();
    let turns: usize = convs.iter().map(Vec::len).sum();

    let mut g = c.benchmark_group("conversation");
    g.throughput(Throughput::Elements(turns as u64));
    g.bench_function("session_push", |b| {
        b.iter(|| {
            let mut n = 0;
            for conv in &convs {
                let mut s = engine.session();
                for t in conv {
                    n += s.push_ref(black_box(t)).findings.len();
                }
                n += s.finish().score as usize;
            }
            n
        })
    });
    g.bench_function("score_batch", |b| {
        b.iter(|| {
            convs
                .iter()
                .map(|c| engine.score(black_box(c)).score as usize)
                .sum::<usize>()
        })
    });
    g.bench_function("baseline_check_each_turn", |b| {
        b.iter(|| {
            convs
                .iter()
                .flatten()
                .map(|t| engine.check(black_box(t.role), &t.text).len())
                .sum::<usize>()
        })
    });
    g.finish();
    let _ = Role::Agent;
}

criterion_group!(benches, bench);
criterion_main!(benches);
