#![no_main]
//! Any rule file text gives a rule or an error naming the file and line — never a panic; so does any learned
//! model file text, and a model that parses compiles or says why.

use huashu::learned::Backstop;
use huashu::{Engine, LearnedModel, Ruleset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    match Ruleset::parse_rule("rules/forbidden/F999.toml", s) {
        Ok(rule) => {
            let mut rs = Ruleset::builtin("zh-CN").expect("bundled");
            rs.rules = vec![rule];
            let _ = Engine::new(rs);
        }
        Err(e) => assert!(e.to_string().contains("F999.toml")),
    }
    match LearnedModel::parse("learned/promise.tsv", s) {
        Ok(model) => {
            if let Ok(b) = Backstop::new(&[model]) {
                let scores = b.scores("we guarantee it will never fail");
                assert!(scores.iter().all(|p| (0.0..=1.0).contains(p) || p.is_nan()));
            }
        }
        Err(e) => assert!(e.to_string().contains("learned/promise.tsv:")),
    }
});
