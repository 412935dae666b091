//! A long session stays within bounded memory (own test binary: the allocator counts this process only).
#![allow(unsafe_code)] // the counting allocator below

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use huashu_engine::{Engine, Role, Turn};
use huashu_rules::Ruleset;

/// Counts live heap bytes so the test can see whether a session grows with its length.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CUSTOMER: &[&str] = &[
    "我买的空调坏了三次了，你们到底怎么回事？",
    "我要投诉",
    "好的谢谢",
    "请问怎么退货",
];
const AGENT: &[&str] = &[
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "非常抱歉给您带来不便，我理解您的心情",
    "这不是我的问题，你自己看说明书",
    "请您稍等，我帮您查询一下",
    "有本事你去投诉啊",
];

#[test]
fn ten_thousand_turns_stay_within_bounded_memory() {
    let engine = std::sync::Arc::new(
        Engine::new(Ruleset::builtin("zh-CN").expect("zh-CN")).expect("compiles"),
    );
    let mut session = engine.session();
    let mut clock = 0u64;
    let mut push = |session: &mut huashu_engine::Session, i: usize| {
        let (role, text) = if i % 2 == 0 {
            (Role::Customer, CUSTOMER[i % CUSTOMER.len()])
        } else {
            (Role::Agent, AGENT[i % AGENT.len()])
        };
        let t = Turn::new(role, text).with_times(clock, clock + 2_000);
        clock += 2_500;
        session.push(t);
    };
    for i in 0..1_000 {
        push(&mut session, i);
    }
    let after_1k = LIVE.load(Ordering::Relaxed);
    for i in 1_000..10_000 {
        push(&mut session, i);
    }
    let after_10k = LIVE.load(Ordering::Relaxed);
    let report = session.finish();
    assert_eq!(report.turns, 10_000);
    assert!(
        report.findings_total > report.findings.len(),
        "findings beyond the cap are counted, not kept"
    );
    // Nine thousand more turns may not grow the session by more than a few kilobytes (other tests running in
    // this process allocate too, so allow some slack).
    let growth = after_10k - after_1k;
    assert!(
        growth < 64 * 1024,
        "session grew by {growth} bytes over 9,000 turns"
    );
}
