//! The automaton against a naive reference: every pattern tried at every end, longest first.

use proptest::prelude::*;

use super::{Automaton, BuildError};

/// Every (start, end, value) of `patterns` in `text`, ordered as the automaton reports them: by end, then
/// longest first.
fn naive(patterns: &[(&str, u32)], text: &str) -> Vec<(usize, usize, u32)> {
    let mut found = Vec::new();
    let ends = text
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .collect::<Vec<_>>();
    for end in ends {
        let mut here: Vec<(usize, usize, u32)> = patterns
            .iter()
            .filter(|(p, _)| text[..end].ends_with(p))
            .map(|&(p, v)| (end - p.len(), end, v))
            .collect();
        here.sort_by_key(|&(start, _, _)| start);
        found.extend(here);
    }
    found
}

fn walk(patterns: &[(&str, u32)], text: &str) -> Vec<(usize, usize, u32)> {
    let automaton = Automaton::build(patterns.iter().copied()).expect("builds");
    let mut found = Vec::new();
    automaton.for_each_match(text, |start, end, value| found.push((start, end, value)));
    found
}

fn same(patterns: &[(&str, u32)], text: &str) {
    assert_eq!(
        walk(patterns, text),
        naive(patterns, text),
        "{patterns:?} in {text:?}"
    );
}

#[test]
fn overlapping_matches_are_all_reported() {
    let patterns = [("退款", 1), ("款项", 2), ("退款项目", 3)];
    assert_eq!(
        walk(&patterns, "申请退款项目"),
        vec![(6, 12, 1), (9, 15, 2), (6, 18, 3)]
    );
    same(&patterns, "退款项退款项目款项");
}

#[test]
fn a_suffix_of_another_pattern_is_reported_after_it() {
    let patterns = [("不知道", 1), ("知道", 2), ("道", 3)];
    assert_eq!(
        walk(&patterns, "我不知道"),
        vec![(3, 12, 1), (6, 12, 2), (9, 12, 3)]
    );
    same(&patterns, "知道不知道道");
}

#[test]
fn failure_chains_find_the_longest_suffix_that_goes_on() {
    // In "abcabd" the walk is at "abcab" when d comes: it must fail to "ab" and take "abd".
    let patterns = [
        ("abcabx", 1),
        ("abd", 2),
        ("bcab", 3),
        ("cabd", 4),
        ("b", 5),
    ];
    same(&patterns, "abcabd");
    same(&patterns, "abcabcabdxabcabx");
    same(&[("aaa", 1), ("aa", 2), ("a", 3)], "aaaaa");
}

#[test]
fn chars_outside_every_pattern_reset_the_walk() {
    let patterns = [("您好", 1), ("好的", 2), ("ok", 3)];
    assert_eq!(walk(&patterns, "您😀好"), vec![]);
    same(&patterns, "您好😀好的 ok é您好的");
    same(&[("😀好", 7), ("é", 8)], "a😀好é😀");
}

#[test]
fn an_empty_text_has_no_match() {
    assert_eq!(walk(&[("您好", 1)], ""), vec![]);
}

#[test]
fn empty_and_repeated_patterns_are_refused() {
    assert_eq!(
        Automaton::build([("a", 1), ("", 2)]).err(),
        Some(BuildError::Empty)
    );
    assert_eq!(
        Automaton::build([("ab", 1), ("ab", 2)]).err(),
        Some(BuildError::Duplicate("ab".into()))
    );
}

#[test]
fn one_char_patterns_and_mixed_widths() {
    let patterns = [("a", 1), ("é", 2), ("好", 3), ("a好", 4), ("é好a", 5)];
    same(&patterns, "aé好aé好a好");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Small alphabets of one-, two-, three- and four-byte chars make long failure chains and shared
    /// suffixes common.
    #[test]
    fn matches_the_naive_reference(
        patterns in proptest::collection::btree_set("[ab好é😀]{1,5}", 1..12),
        text in "[ab好é😀c]{0,40}",
    ) {
        let patterns: Vec<(&str, u32)> = patterns.iter().map(String::as_str).zip(1..).collect();
        prop_assert_eq!(walk(&patterns, &text), naive(&patterns, &text));
    }
}
