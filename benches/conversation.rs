//! Sessions (push latency per turn) and whole-conversation scoring, each next to plain per-turn checks of
//! the same turns (what the conversation layer adds).

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use huashu::{Engine, Role};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let engine = Arc::new(Engine::default_ruleset().expect("default"));
    let convs = huashu_benches::generated_conversations(2_000);
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
