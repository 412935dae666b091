//! Counts heap allocations per checked turn (clean and flagged turns separately).
#![allow(unsafe_code)]
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use huashu::{Engine, Role};

struct Counting;
static N: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        N.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        N.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static G: Counting = Counting;

fn main() {
    let engine = Engine::default_ruleset().expect("default");
    let turns = huashu_benches::generated_turns(2_000, 7);
    let _ = engine.check(Role::Agent, "warm up");
    let (mut clean, mut clean_allocs, mut bad, mut bad_allocs) = (0, 0, 0, 0);
    for t in &turns {
        let before = N.load(Ordering::Relaxed);
        let f = engine.check(Role::Agent, t);
        let a = N.load(Ordering::Relaxed) - before;
        if f.is_empty() {
            clean += 1;
            clean_allocs += a
        } else {
            bad += 1;
            bad_allocs += a
        }
        if a > 0 && f.is_empty() && clean < 40 {
            println!("{a} allocs on clean {t}");
        }
    }
    println!(
        "clean {clean} turns {:.1} allocs/turn; flagged {bad} turns {:.1} allocs/turn",
        clean_allocs as f64 / clean as f64,
        bad_allocs as f64 / bad.max(1) as f64
    );
}
