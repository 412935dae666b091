//! Per-push latency (p50/p99) of a live session and conversations scored per second in batch.
use std::sync::Arc;
use std::time::Instant;

use huashu::Engine;

fn main() {
    let engine = Arc::new(Engine::default_ruleset().expect("default"));
    let convs = huashu_benches::generated_conversations(20_000);
    let mut ns = Vec::new();
    for conv in &convs {
        let mut s = engine.session();
        for t in conv {
            let start = Instant::now();
            std::hint::black_box(s.push_ref(t));
            ns.push(start.elapsed().as_nanos() as u64);
        }
        std::hint::black_box(s.finish());
    }
    ns.sort_unstable();
    let q = |p: f64| ns[((ns.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    println!(
        "push: {} pushes, p50 {:.2} µs, p99 {:.2} µs",
        ns.len(),
        q(0.5),
        q(0.99)
    );
    let start = Instant::now();
    let mut total = 0;
    for _ in 0..3 {
        total += convs
            .iter()
            .map(|c| engine.score(c).score as usize)
            .sum::<usize>();
    }
    let secs = start.elapsed().as_secs_f64() / 3.0;
    println!(
        "batch score: {} conversations of 10 turns in {:.3} s = {:.0} conversations/s ({total})",
        convs.len(),
        secs,
        convs.len() as f64 / secs
    );
}
