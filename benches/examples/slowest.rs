//! Which turns make the p99: each turn of `CORPUS` (one per line; generated turns without it) timed as the
//! least of `REPS` runs (default 20), so one slow spell of a shared machine does not make a turn slow. Prints
//! p50/p99 per turn, the time per length band, and the `TOP` (default 20) slowest turns with their length.
use std::time::Instant;

use huashu::{Engine, Role};

fn main() {
    let engine = match std::env::var("HUASHU_RULESET") {
        Ok(dir) => Engine::new(huashu::Ruleset::load(&dir).expect("ruleset")).expect("compiles"),
        Err(_) => Engine::default_ruleset().expect("default"),
    };
    let turns: Vec<String> = match std::env::var("CORPUS") {
        Ok(path) => std::fs::read_to_string(&path)
            .expect("corpus")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
        Err(_) => huashu_benches::generated_turns(20_000, 7),
    };
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (reps, top) = (env("REPS", 20), env("TOP", 20));
    for t in &turns {
        std::hint::black_box(engine.check(Role::Agent, t));
    }
    let mut ns = vec![u64::MAX; turns.len()];
    // Rounds over the whole corpus rather than repeats of one turn: a turn is timed with the caches the
    // turns before it left, as in `huashu bench`.
    for _ in 0..reps {
        for (t, best) in turns.iter().zip(ns.iter_mut()) {
            let s = Instant::now();
            std::hint::black_box(engine.check(Role::Agent, std::hint::black_box(t)));
            *best = (*best).min(s.elapsed().as_nanos() as u64);
        }
    }
    let mut order: Vec<usize> = (0..turns.len()).collect();
    order.sort_unstable_by_key(|&i| ns[i]);
    let at = |q: f64| ns[order[((order.len() as f64 - 1.0) * q).round() as usize]] as f64 / 1e3;
    println!("p50 {:.2} µs, p99 {:.2} µs", at(0.5), at(0.99));
    for (lo, hi) in [
        (0, 64),
        (64, 128),
        (128, 256),
        (256, 512),
        (512, usize::MAX),
    ] {
        let band: Vec<usize> = (0..turns.len())
            .filter(|&i| (lo..hi).contains(&turns[i].len()))
            .collect();
        let bytes: usize = band.iter().map(|&i| turns[i].len()).sum();
        let time: u64 = band.iter().map(|&i| ns[i]).sum();
        let hi = if hi == usize::MAX {
            String::new()
        } else {
            hi.to_string()
        };
        println!(
            "{lo}..{hi} bytes: {} turns, {:.1} MB/s, {:.1}% of the time",
            band.len(),
            bytes as f64 / time.max(1) as f64 * 1e3,
            100.0 * time as f64 / ns.iter().sum::<u64>().max(1) as f64
        );
    }
    for &i in order.iter().rev().take(top) {
        println!(
            "{:8.2} µs {:4} B  {}",
            ns[i] as f64 / 1e3,
            turns[i].len(),
            turns[i]
        );
    }
}
