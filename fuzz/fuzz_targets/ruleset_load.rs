#![no_main]
//! Any rule file text gives a rule or an error naming the file and line — never a panic.

use huashu::{Engine, Ruleset};
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
});
