//! Runs only `engine.check` over generated turns (for callgrind).
use huashu::{Engine, Role};
fn main() {
    let engine = Engine::default_ruleset().expect("default");
    let turns = huashu_benches::generated_turns(20_000, 7);
    let mut n = 0;
    for t in &turns {
        n += engine.check(Role::Agent, t).len();
    }
    println!("{n}");
}
