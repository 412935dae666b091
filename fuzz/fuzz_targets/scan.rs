#![no_main]
//! Scanning any text never panics, findings never overlap and their spans are exact — the learned models'
//! findings included.

use std::sync::OnceLock;

use huashu::{Engine, LearnedModel, Role, apply_suggestions};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let models = LearnedModel::load_all("zh-CN").expect("bundled models");
        Engine::default_ruleset()
            .expect("default ruleset")
            .with_learned(&models)
            .expect("bundled models compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let findings = engine().check(Role::Agent, s);
    let mut end = 0;
    for f in &findings {
        assert!(f.span.start >= end, "findings overlap");
        assert_eq!(&s[f.span.start..f.span.end], f.matched);
        let chars: String = s.chars().skip(f.char_start).take(f.char_end - f.char_start).collect();
        assert_eq!(chars, f.matched);
        end = f.span.end;
    }
    let _ = apply_suggestions(s, &findings);
});
