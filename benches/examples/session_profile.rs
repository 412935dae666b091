//! Session pushes over generated conversations (for callgrind).
use std::sync::Arc;

use huashu::{Engine, Turn};

fn main() {
    let engine = Arc::new(Engine::default_ruleset().expect("default"));
    let agent = huashu_benches::generated_turns(4_000, 3);
    let mut n = 0;
    for chunk in agent.chunks(5) {
        let mut s = engine.session();
        for a in chunk {
            n += s
                .push(Turn::customer("快递怎么还没到，我要投诉"))
                .findings
                .len();
            n += s.push(Turn::agent(a.clone())).findings.len();
        }
        n += s.finish().score as usize;
    }
    println!("{n}");
}
