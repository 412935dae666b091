//! A rule whose regex starts at the turn start (`^…`) is tried once, anchored at the start, and not at all
//! when the words before its trigger cannot reach back to the start: the findings are those of the plain
//! regex, and nothing is found where it finds nothing.

use huashu_engine::{Engine, Role};
use huashu_rules::Ruleset;

const PATTERN: &str =
    "^((亲|您好|嗯)[,.!]?)*(我|我们)?(也|都)*(?P<hit>(不知道|不清楚|查不到))(呢|哦)*[,.!]*$";

/// zh-CN's manifest with one rule, `S1`, whose only regex is [`PATTERN`].
fn engine() -> Engine {
    let mut manifest = Ruleset::builtin("zh-CN").expect("zh-CN").manifest;
    manifest.scoring = Default::default();
    manifest.allow.clear();
    let toml = format!(
        "id = \"S1\"\nname = \"t\"\ncategory = \"forbidden\"\nseverity = \"major\"\nmessage = \"m {{matched}}\"\n\
         [match]\nregex = ['{PATTERN}']\n"
    );
    let rule = Ruleset::parse_rule("rules/forbidden/S1.toml", &toml).expect("rule parses");
    Engine::new(Ruleset {
        manifest,
        rules: vec![rule],
    })
    .expect("compiles")
}

/// The `hit` spans the plain regex finds in the normalised turn, mapped back to the original.
fn by_regex(engine: &Engine, text: &str) -> Vec<(usize, usize)> {
    let norm = engine.normalize(text);
    let re = regex::Regex::new(PATTERN).expect("pattern");
    re.captures_iter(norm.as_str())
        .filter_map(|c| c.name("hit"))
        .map(|m| {
            let span = norm.original_span(m.range());
            (span.start, span.end)
        })
        .collect()
}

#[test]
fn a_start_anchored_rule_finds_what_its_regex_finds() {
    let e = engine();
    for (text, expect) in [
        ("不知道", Some("不知道")),
        ("亲，我们也查不到哦！", Some("查不到")),
        ("您好，嗯，我都不清楚呢", Some("不清楚")),
        // The words before the trigger do not reach back to the start of the turn.
        ("截图看不清楚", None),
        ("这个我不知道", None),
        // They do, but the turn goes on after it.
        ("不知道您还有其他问题吗", None),
        ("亲，不知道，您问问商家", None),
        ("", None),
    ] {
        let found = e.scan(Role::Agent, text);
        let spans: Vec<(usize, usize)> = found.iter().map(|f| (f.span.start, f.span.end)).collect();
        assert_eq!(spans, by_regex(&e, text), "{text}");
        assert_eq!(found.first().map(|f| f.matched.as_str()), expect, "{text}");
    }
}
