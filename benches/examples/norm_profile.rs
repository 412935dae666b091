use huashu::Engine;
#[inline(never)]
fn pass(engine: &Engine, turns: &[String]) -> usize {
    let mut out = huashu::text::Normalized::default();
    turns
        .iter()
        .map(|t| {
            huashu::text::normalize_into(&mut out, t, engine.options());
            out.as_str().len()
        })
        .sum()
}
fn main() {
    let engine = Engine::default_ruleset().expect("default");
    let turns = match std::env::var("TURN") {
        Ok(t) => vec![t; 20_000],
        Err(_) => huashu_benches::generated_turns(20_000, 7),
    };
    println!("{}", pass(&engine, &turns));
}
