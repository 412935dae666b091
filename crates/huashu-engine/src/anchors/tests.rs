use super::*;

fn strs(v: Vec<Vec<u8>>) -> Vec<String> {
    v.into_iter()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

#[test]
fn prefix_literals_anchor_a_regex() {
    assert_eq!(strs(anchors("(保证|承诺)").unwrap()), ["保证", "承诺"]);
    // Two-character anchors on either side are as good; the smaller set wins.
    assert_eq!(strs(anchors("(保证|承诺).{0,6}收益").unwrap()), ["收益"]);
    assert_eq!(
        strs(anchors("密码(是|为)[0-9a-z]{4,}").unwrap()),
        ["密码为", "密码是"]
    );
}

#[test]
fn suffix_literals_when_the_prefix_is_open() {
    assert_eq!(strs(anchors(".{0,4}不赔").unwrap()), ["不赔"]);
}

#[test]
fn required_inner_literal_beats_one_character_affixes() {
    assert_eq!(
        strs(anchors("(我|小妹)?(也)?不知道(了|呀|呢)?").unwrap()),
        ["不知道"]
    );
    let set = strs(anchors("[我你]?(保证|承诺)[^,]{0,6}(收益|回报)").unwrap());
    assert!(
        set == ["保证", "承诺"] || set == ["回报", "收益"],
        "{set:?}"
    );
}

#[test]
fn prefix_and_suffix_both_gate_a_regex() {
    let g = gate("(保证|担保)[^,]{0,4}(不会坏|坏不了|不出故障)");
    assert_eq!(g.sets.len(), 2, "{g:?}");
    let mut all: Vec<Vec<String>> = g.sets.into_iter().map(strs).collect();
    all.iter_mut().for_each(|set| set.sort());
    all.sort();
    assert_eq!(
        all,
        [vec!["不会坏", "不出故障", "坏不了"], vec!["保证", "担保"]]
    );
}

#[test]
fn number_patterns_are_gated_on_a_digit_run_not_on_single_digits() {
    let g = gate("(?:^|[^0-9])(?P<hit>[3-69][0-9]{15,18}|3[47][0-9]{13})(?:[^0-9]|$)");
    assert_eq!(g.digits, 15);
    assert!(g.sets.is_empty(), "{g:?}");
    assert_eq!(gate("[1-9][0-9]{5}(?:18|19|20)[0-9]{2}x?").digits, 10);
    assert_eq!(gate("密码(是|为)[a-z0-9]{4,20}").digits, 0);
    assert_eq!(gate("(1|22)[0-9]?3").digits, 2);
    assert_eq!(gate("(1|22)[0-9]?3").min_len, 2);
    assert_eq!(gate("(的|呢)*").min_len, 0);
    assert_eq!(longest_digit_run("尾号0123，订单12345a6"), 5);
}

#[test]
fn a_literal_between_optional_words_bounds_the_search() {
    let g = gate("(我们|小妹)?(真的|也)*(不知道|不晓得)(的|呢)*");
    let w = g.window.expect("window");
    assert_eq!(strs(g.sets[w.set].clone()), ["不晓得", "不知道"]);
    let t = "您好，我们也不知道呢，请稍等";
    let at = t.find("不知道").unwrap();
    assert_eq!(&t[w.before.run_before(t, at)..at], "我们也");
    let end = at + "不知道".len();
    assert_eq!(&t[end..w.after.run_after(t, end)], "呢");
    // A class after the literal reaches to the next comma.
    let g = gate("(我|你)*(保证|担保)[^,]{0,6}");
    let w = g.window.expect("window");
    let t = "好的,我保证明天到货,谢谢";
    let end = t.find("保证").unwrap() + "保证".len();
    assert_eq!(&t[end..w.after.run_after(t, end)], "明天到货");
    // A prefix set is tried anchored instead; no window.
    assert!(gate("(保证|担保).{0,4}收益").window.is_none());
}

#[test]
fn a_set_drops_the_literals_that_hold_a_shorter_one() {
    // The extractor's prefixes are trigger × optional verb; the anchored starts are the triggers'.
    let g = gate("(保证|肯定)(能|会)?[^,]{0,4}(批下来|通过)");
    let p = g.prefix.expect("prefix");
    assert_eq!(strs(g.sets[p].clone()), ["保证", "肯定"]);
    // 瘦下来 holds 瘦: after the single trigger 包 the outcome set is the single 瘦 and two words, small
    // enough to gate the regex too, so a turn with 包 alone does not run it.
    let g = gate("包(能|会)?[^,]{0,4}(瘦下来|瘦|变白|美白)");
    assert_eq!(g.sets.len(), 2, "{g:?}");
    let p = g.prefix.expect("prefix");
    let outcome: Vec<String> = strs(g.sets[1 - p].clone());
    assert_eq!(outcome, ["变白", "瘦", "美白"]);
    // A set that another chosen set implies is not taken: 保证 is in every 保证能|保证会.
    assert!(
        g.sets
            .iter()
            .all(|s| s.len() < 10 && s.iter().all(|l| l.len() <= 6))
    );
}

#[test]
fn a_window_reaches_into_groups() {
    // Before, only a top-level concatenation had a window; this one is inside the `hit` group.
    let g = gate("(?P<hit>(请|麻烦)?(您|你|亲)?(现在|先)*(联系|找)(商家|卖家|售后客服))(吧|呢)*");
    assert_eq!(g.prefix, None);
    let w = g.window.expect("window");
    let t = "好的，您先找商家吧，谢谢";
    let lit = strs(g.sets[w.set].clone())
        .into_iter()
        .find(|l| t.contains(l.as_str()))
        .expect("a window literal in the turn");
    let at = t.find(lit.as_str()).unwrap();
    let end = at + lit.len();
    let window = &t[w.before.run_before(t, at)..w.after.run_after(t, end)];
    assert_eq!(window, "您先找商家吧");
}

#[test]
fn a_window_around_a_shortened_set_covers_the_longer_literals() {
    // The gate keeps 会 of 不会|会; a match of 不会 starts before the 会 seen, so the window takes the
    // set's own characters on both sides.
    let g = gate("[我你他]*(不会|会)[^,]{0,2}理");
    let w = g.window.expect("window");
    assert_eq!(strs(g.sets[w.set].clone()), ["会"]);
    let t = "好,我不会处理";
    let at = t.find('会').unwrap();
    assert_eq!(&t[w.before.run_before(t, at)..at], "我不");
}

#[test]
fn no_anchor_for_patterns_that_can_start_anywhere() {
    assert!(anchors(r"\w+").is_none());
    assert!(anchors("(a)?").is_none());
}

#[test]
fn a_hit_group_around_the_whole_pattern_is_the_whole_match() {
    assert!(hit_is_whole("(?P<hit>(确保|保证)[^,]{0,10}?(送到|送达))"));
    assert!(hit_is_whole("^(?P<hit>不会(再)?配送)$"));
    assert!(hit_is_whole("((?P<hit>卡号))"));
    // Context outside the group, or another group beside it, is not part of the hit.
    assert!(!hit_is_whole("(^|[,.])(?P<hit>没法)(的|呢)*"));
    assert!(!hit_is_whole("(?P<hit>没法)呢"));
    assert!(!hit_is_whole("(?P<hit>没法)|不行"));
    assert!(!hit_is_whole("(?P<other>没法)"));
    assert!(!hit_is_whole("(unclosed"));
}

#[test]
fn a_set_too_common_for_the_automaton_is_kept_as_a_weak_set() {
    // The outcomes hold the single 瘦: not selective after a two-character trigger, so the automaton waits
    // for the trigger alone, and the outcome set is checked in the turn before the regex runs.
    let g = gate("(保证|一定)(能|会)?[^,]{0,4}(美白|瘦|长高)");
    assert_eq!(g.sets.len(), 1, "{g:?}");
    assert_eq!(strs(g.sets[0].clone()), ["一定", "保证"]);
    assert_eq!(g.weak.len(), 1, "{g:?}");
    assert_eq!(strs(g.weak[0].clone()), ["瘦", "美白", "长高"]);
    // A set the chosen one implies is no weak set either: 保证 is in every 保证能|保证会.
    assert!(
        g.weak
            .iter()
            .all(|w| !w.iter().any(|l| l.starts_with("保证".as_bytes())))
    );
    // Two selective sets leave nothing weak.
    assert!(gate("(保证|担保)[^,]{0,4}(不会坏|坏不了)").weak.is_empty());
}

#[test]
fn a_pattern_that_starts_at_the_turn_start_is_start_anchored() {
    assert!(gate("^(亲|您好)?(不知道)(呢)*$").start_anchored);
    assert!(gate("^((亲|嗯)[,.]?)*(我们)?(?P<hit>(查不到|不知道))").start_anchored);
    // A start that some match does without, or a line start, is no turn start.
    assert!(!gate("(^|我)不知道").start_anchored);
    assert!(!gate("(^亲)?不知道").start_anchored);
    assert!(!gate("(?m)^不知道").start_anchored);
    assert!(!gate("不知道$").start_anchored);
}

#[test]
fn a_leading_clause_mark_bounds_the_window() {
    let g = gate("(^|[,.!?]|es数字x)[^,.!?]{0,8}?(?P<hit>不知道)(呢)?");
    let w = g.window.expect("window");
    assert_eq!(w.lead.words, ["es数字x"]);
    let start = |t: &'static str| &t[w.start(t, t.find("不知道").unwrap())..];
    // The run of the other characters stops at the mark; the window takes the mark a match starts on.
    assert_eq!(start("好的,我真的不知道呢"), ",我真的不知道呢");
    assert_eq!(start("我不知道"), "我不知道");
    // Characters of a word of the lead are run characters here: the run goes on through it.
    assert_eq!(start("好的,es数字x我不知道"), ",es数字x我不知道");
    assert_eq!(start("一,二,三,四.不知道"), ".不知道");
    // Or the lead's word that ends where the run starts.
    let w = gate("(^|[,.]|es数字x)(我|你)?(?P<hit>不知道)")
        .window
        .expect("window");
    let t = "好的es数字x我不知道";
    assert_eq!(
        &t[w.start(t, t.find("不知道").unwrap())..],
        "es数字x我不知道"
    );
    // Without the turn's start among them, the alternatives are characters of the run as before.
    let w = gate("([,.]|啊)[^,.]{0,8}?(?P<hit>不知道)")
        .window
        .expect("window");
    assert_eq!(w.lead, Lead::default());
}
