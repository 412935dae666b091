//! Corpora and rulesets for the benchmarks (no real chats are copied into the repo).

use huashu::Turn;
use huashu::rules::{Category, Match, RoleScope, Rule, Ruleset, Severity, Source};

pub use huashu_tools::sample::generated_turns;

/// Conversations of 10 timed turns: a customer turn (complaint, delivery question, thanks) then a generated
/// agent turn, five times, `agent_turns / 5` conversations in all.
pub fn generated_conversations(agent_turns: usize) -> Vec<Vec<Turn>> {
    let agent = generated_turns(agent_turns, 3);
    let customer = [
        "我买的空调坏了三次了，你们到底怎么回事？",
        "快递怎么还没到",
        "好的谢谢",
        "我要投诉",
    ];
    agent
        .chunks(5)
        .enumerate()
        .map(|(i, chunk)| {
            let mut clock = 0;
            let mut turns = Vec::new();
            for (j, a) in chunk.iter().enumerate() {
                turns.push(
                    Turn::customer(customer[(i + j) % customer.len()])
                        .with_times(clock, clock + 3_000),
                );
                turns.push(Turn::agent(a.clone()).with_times(clock + 5_000, clock + 11_000));
                clock += 12_000;
            }
            turns
        })
        .collect()
}

/// The houbb lexicon in `../shared/corpora` (65k real Chinese words), when present.
pub fn lexicon(limit: usize) -> Option<Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora/houbb_sensitive_word_dict_v20240407.txt");
    let text = std::fs::read_to_string(path).ok()?;
    let mut words: Vec<String> = text
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    words.truncate(limit);
    Some(words)
}

/// A stress ruleset: the default manifest with one rule per 1,000 lexicon phrases.
pub fn stress_ruleset(phrases: &[String]) -> Ruleset {
    let mut rs = Ruleset::builtin("zh-CN").expect("zh-CN");
    rs.manifest.allow.clear();
    rs.manifest.scoring = Default::default();
    rs.rules = phrases
        .chunks(1000)
        .enumerate()
        .map(|(i, chunk)| Rule {
            id: format!("S{i:03}"),
            name: "stress".into(),
            category: Category::Forbidden,
            severity: Severity::Minor,
            role: RoleScope::Agent,
            status: huashu::Status::Active,
            message: "{matched}".into(),
            why: String::new(),
            tip: None,
            matcher: Match {
                phrases: chunk.to_vec(),
                ..Match::default()
            },
            suggest: Vec::new(),
            example: Vec::new(),
            source: Source::default(),
        })
        .collect();
    rs
}
