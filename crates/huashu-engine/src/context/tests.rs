use super::*;

fn words(list: &[&str]) -> Words {
    Words::new(list.iter().map(|w| w.to_string()).collect())
}

#[test]
fn latin_and_digit_words_match_only_as_words() {
    // Short and long lists alike keep the boundaries.
    for w in [words(&["he", "if"]), words(&["he", "if", "甲", "乙", "丙"])] {
        assert!(!w.found_in_all("the check said so, verify it"));
        assert!(w.found_in_all("so he said"));
        assert!(w.found_in_all("only if you"));
        assert!(w.found_in_all("他说he"));
        // The end of a Latin word may run on: a stem.
        assert!(w.found_in_all("so heard"));
        // A region cut inside a word is still inside that word.
        let t = "other";
        assert!(!w.found_in(t, 2..t.len()));
    }
    let digits = words(&["7天", "50"]);
    assert!(!digits.found_in_all("17天"));
    assert!(!digits.found_in_all("500元"));
    assert!(digits.found_in_all("50元"));
    assert!(digits.found_in_all("支持7天无理由"));
    assert!(digits.found_in_all("a7天"));
    // Ideographs have no boundaries.
    assert!(words(&["放心"]).found_in_all("您放心吧"));
}

#[test]
fn an_exemption_followed_by_an_inability_does_not_count() {
    let mut w = words(&["我看", "我查"]);
    w.exempting = true;
    assert!(!w.found_in_all("这个我看不出来"));
    assert!(!w.found_in_all("我这边查不到"));
    assert!(w.found_in_all("我查一下"));
    assert!(w.found_in_all("我看不如这样"));
    // The agent named alone: its predicate is read past 这边, an adverb and a short verb.
    let mut w = words(&["我", "这边"]);
    w.exempting = true;
    assert!(!w.found_in_all("我这边弄不了"));
    assert!(!w.found_in_all("我们也处理不了"));
    assert!(!w.found_in_all("这边实在没法改"));
    assert!(w.found_in_all("我这边帮您改"));
    assert!(w.found_in_all("我帮您问问，不了解的地方再说"));
    // Other exemption words keep only the narrow test: a reason may state what cannot be done.
    let mut w = words(&["因为"]);
    w.exempting = true;
    assert!(w.found_in_all("因为系统不能修改地址"));
}

#[test]
fn a_word_the_agent_says_of_itself_holds_with_the_place_it_names_itself_by() {
    let w = words(&["我看看", "我们会"]);
    assert!(w.found_in_all("我这边看看能不能弄"));
    assert!(w.found_in_all("我这里看看"));
    assert!(w.found_in_all("我们这边会尽快处理"));
    assert!(!w.found_in_all("这边看看"));
    assert!(!words(&["我"]).found_in_all("这边"));
}

#[test]
fn an_exemption_that_bu_negates_does_not_count() {
    let list = || vec!["可以".to_string(), "需要".to_string(), "因为".to_string()];
    for w in [
        Words::exempting(list()),
        Words::exempting(vec!["可以".to_string()]),
    ] {
        assert!(!w.found_in_all("这个不可以的哦"));
        assert!(w.found_in_all("这个可以退的"));
        // Another, unnegated occurrence still counts, and it is the one reported.
        let t = "不可以换，但可以退";
        assert_eq!(
            w.found_at(t, 0..t.len()),
            Some(t.find("但").unwrap() + 3..t.len() - 3)
        );
    }
    assert!(!Words::exempting(list()).found_in_all("不需要您操作"));
    // An inability negates the step after it too: 没法帮您问 is no step of the agent's.
    let step = Words::exempting(vec!["帮您".to_string()]);
    for t in [
        "我也没法帮您问",
        "这边无法帮您查",
        "不能帮您改",
        "没办法帮您联系",
    ] {
        assert!(!step.found_in_all(t), "{t}");
    }
    assert!(step.found_in_all("没法改地址，我帮您申请拦截"));
    // The customer's words restated (您说…) are not the agent's words to the customer (跟您说了…).
    let restated = Words::exempting(vec!["您说".to_string()]);
    assert!(restated.found_in_all("您说的验证码是哪个"));
    assert!(!restated.found_in_all("早跟您说了，验证码念给我"));
    assert!(!restated.found_in_all("我和您说过"));
    // Other words that open with the customer are still the agent's step after 给 (给您登记).
    assert!(Words::exempting(vec!["您".to_string()]).found_in_all("我先给您登记"));
    // Other lists read the word as written.
    assert!(Words::new(list()).found_in_all("这个不可以的哦"));
}

#[test]
fn affixes_keep_the_far_end_a_boundary() {
    let after = Affixes::new(vec!["you".into(), "d".into(), "12".into()], false);
    assert_eq!(after.starting("ok you", 3), Some(3..6));
    // A Latin word's end runs on (a stem); digits do not.
    assert_eq!(after.starting("ok your", 3), Some(3..6));
    assert_eq!(after.starting("guaranteed now", 9), Some(9..10));
    assert_eq!(after.starting("no 12 ", 3), Some(3..5));
    assert_eq!(after.starting("no 123", 3), None);
    let before = Affixes::new(vec!["not".into()], true);
    assert_eq!(before.ending("not sure", 3), Some(0..3));
    assert_eq!(before.ending("cannot sure", 6), None);
}

#[test]
fn windows_stop_at_clause_breaks() {
    assert_eq!(clause_tail("我们不能,保证", 6), "保证");
    assert_eq!(clause_tail("我们不能保证", 3), "能保证");
    assert_eq!(clause_head("收益,稳赚", 6), "收益");
    assert_eq!(sentence_tail("好的。我们不能,"), "我们不能,");
    assert_eq!(sentence_head("因为缺货,建议您!好"), "因为缺货,建议您!");
    // A decimal point is not the end of a sentence or clause.
    assert_eq!(
        sentence_head("收益率12.5%,现在买正合适.好"),
        "收益率12.5%,现在买正合适."
    );
    assert_eq!(sentence_tail("好.年化4.5%的"), "年化4.5%的");
    assert_eq!(clause_head("4.5%的收益,", 8), "4.5%的收益");
}
