//! Every bundled ruleset loads, compiles and passes its own examples; the committed JSON Schemas are current.

use huashu::rules::{drill_schema, manifest_schema, rule_schema};
use huashu::{Engine, Ruleset, ruleset_tests};

#[test]
fn every_bundled_ruleset_passes_its_examples() {
    let names = Ruleset::builtin_names();
    assert!(names.contains(&"zh-CN"), "{names:?}");
    for name in names {
        let engine =
            Engine::new(Ruleset::builtin(name).expect("bundled ruleset loads")).expect("compiles");
        let outcome = ruleset_tests::run(&engine);
        let report: Vec<String> = outcome.problems.iter().map(ToString::to_string).collect();
        assert!(
            outcome.passed(),
            "{name}: {} problems:\n{}",
            report.len(),
            report.join("\n")
        );
        assert!(
            outcome.rules > 0 && outcome.examples >= 4 * outcome.rules,
            "{name}"
        );
    }
}

#[test]
fn bundled_rulesets_match_their_directories() {
    for name in Ruleset::builtin_names() {
        let dir = huashu_tests::root().join("rulesets").join(name);
        let from_dir = Ruleset::load_dir(&dir).expect("directory loads");
        let embedded = Ruleset::builtin(name).expect("embedded loads");
        let ids = |r: &Ruleset| r.rules.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&from_dir),
            ids(&embedded),
            "{name}: rebuild to re-embed"
        );
    }
}

#[test]
fn committed_schemas_are_current() {
    let dir = huashu_tests::root().join("rulesets/schema");
    for (file, schema) in [
        ("rule.schema.json", rule_schema()),
        ("ruleset.schema.json", manifest_schema()),
        ("drill.schema.json", drill_schema()),
    ] {
        let want = serde_json::to_string_pretty(&schema).expect("json") + "\n";
        let path = dir.join(file);
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want && std::env::var_os("HUASHU_BLESS").is_some() {
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(&path, &want).expect("write schema");
            continue;
        }
        assert_eq!(
            have,
            want,
            "{} is stale: run HUASHU_BLESS=1 cargo test -p huashu-tests --test rulesets",
            path.display()
        );
    }
}

#[test]
fn rule_categories_per_ruleset_are_covered() {
    let rs = Ruleset::builtin("zh-CN").expect("zh-CN");
    for cat in ["forbidden", "promise", "privacy"] {
        let n = rs
            .rules
            .iter()
            .filter(|r| r.category.as_str() == cat)
            .count();
        assert!(n >= 3, "zh-CN has only {n} {cat} rules");
    }
}
