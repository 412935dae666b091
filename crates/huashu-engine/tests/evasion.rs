//! Evasive or sloppy text (issue 14): symbols and punctuation between characters, styled and spoken digits,
//! Latin phrases at word boundaries, doubled characters, ambiguous traditional characters. Every finding's
//! span must be the matched original characters: `text[f.span]` is what the agent typed.

use std::sync::atomic::{AtomicUsize, Ordering};

use huashu_engine::{Engine, Finding, Role, Ruleset};

/// A ruleset with one rule per phrase (ids P000, P001, … in order).
fn engine(phrases: &[&str]) -> Engine {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "huashu-evasion-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let rules = dir.join("rules/forbidden");
    std::fs::create_dir_all(&rules).expect("tmp");
    std::fs::write(
        dir.join("ruleset.toml"),
        "name = \"evasion\"\nversion = \"0.1.0\"\nlanguage = \"zh\"\n",
    )
    .expect("write");
    for (i, p) in phrases.iter().enumerate() {
        std::fs::write(
            rules.join(format!("P{i:03}.toml")),
            format!(
                "id = \"P{i:03}\"\nname = \"p{i}\"\ncategory = \"forbidden\"\nseverity = \"major\"\n\
                 role = \"agent\"\nmessage = \"{{matched}}\"\n\n[match]\nphrases = [{}]\n",
                serde_json::to_string(p).expect("json")
            ),
        )
        .expect("write");
    }
    let rs = Ruleset::load(dir.to_str().expect("utf-8")).expect("load");
    let _ = std::fs::remove_dir_all(&dir);
    Engine::new(rs).expect("compile")
}

/// (rule id, original text of the span) of each finding, checking the span and char offsets agree.
fn hits(e: &Engine, text: &str) -> Vec<(String, String)> {
    e.check(Role::Agent, text)
        .iter()
        .map(|f: &Finding| {
            let s = &text[f.span.start..f.span.end];
            assert_eq!(s, f.matched);
            let chars: String = text
                .chars()
                .skip(f.char_start)
                .take(f.char_end - f.char_start)
                .collect();
            assert_eq!(chars, s);
            (f.rule_id.to_string(), s.to_string())
        })
        .collect()
}

fn found(e: &Engine, text: &str) -> Vec<String> {
    hits(e, text).into_iter().map(|h| h.1).collect()
}

#[test]
fn symbols_and_punctuation_between_characters() {
    let e = engine(&["不知道"]);
    assert_eq!(found(&e, "我不😊知😊道"), ["不😊知😊道"]);
    assert_eq!(found(&e, "我不○知○道啊"), ["不○知○道"]);
    assert_eq!(
        found(&e, "不\u{0301}知\u{FE0F}道"),
        ["不\u{0301}知\u{FE0F}道"]
    );
    assert_eq!(found(&e, "这个我不，知，道"), ["不，知，道"]);
    assert_eq!(found(&e, "不。知。道"), ["不。知。道"]);
    assert_eq!(found(&e, "不、知、道"), ["不、知、道"]);
    assert_eq!(found(&e, "不.知.道"), ["不.知.道"]);
    // A comma after a word is a clause break: no phrase across it.
    let e = engine(&["好的谢谢"]);
    assert!(found(&e, "好的，谢谢").is_empty());
}

#[test]
fn styled_and_spoken_digits() {
    let e = engine(&["fuck"]);
    assert_eq!(found(&e, "Ⓕⓤc⒦ the bad words"), ["Ⓕⓤc⒦"]);
    assert_eq!(found(&e, "𝐅𝐔𝐂𝐊!"), ["𝐅𝐔𝐂𝐊"]);
    let e = engine(&["加微信123456"]);
    assert_eq!(found(&e, "加微信①②③④⑤⑥"), ["加微信①②③④⑤⑥"]);
    assert_eq!(found(&e, "加微信⑴⒉³❹➎𝟔"), ["加微信⑴⒉³❹➎𝟔"]);
    assert_eq!(found(&e, "加微信幺二三四五六"), ["加微信幺二三四五六"]);
    // A card number read out is a digit run for the privacy rules (Luhn-checked).
    let zh = Engine::default_ruleset().expect("zh-CN");
    let text = "您的卡号是六二二二零二零二一二三四五六七九对吧";
    let f = zh.check(Role::Agent, text);
    let card: Vec<&Finding> = f.iter().filter(|f| &*f.rule_id == "V002").collect();
    assert_eq!(card.len(), 1, "{f:?}");
    assert_eq!(
        &text[card[0].span.start..card[0].span.end],
        "六二二二零二零二一二三四五六七九"
    );
    // Words with numerals are not numbers.
    let e = engine(&["1个"]);
    assert!(found(&e, "等一个小时，一下就好，十分感谢").is_empty());
}

#[test]
fn latin_phrases_match_at_word_boundaries() {
    let e = engine(&["av", "ok", "69", "guarantee"]);
    assert!(found(&e, "have a nice day").is_empty());
    assert!(found(&e, "this book").is_empty());
    assert!(found(&e, "695 billion").is_empty());
    assert!(found(&e, "guaranteed").is_empty());
    assert_eq!(found(&e, "好的ok吗"), ["ok"]);
    assert_eq!(found(&e, "OK, fine"), ["OK"]);
    assert_eq!(found(&e, "1av2"), ["av"]);
    assert_eq!(found(&e, "_av_"), ["av"]);
    assert_eq!(found(&e, "total 69"), ["69"]);
    assert_eq!(found(&e, "ＯＫ了"), ["ＯＫ"]);
    assert_eq!(found(&e, "I Guarantee it"), ["Guarantee"]);
    // A phrase that ends in an ideograph needs no boundary there.
    let e = engine(&["vip客户"]);
    assert_eq!(found(&e, "尊敬的vip客户"), ["vip客户"]);
    assert!(found(&e, "svip客户").is_empty());
}

#[test]
fn doubled_characters_match_only_where_the_text_repeats() {
    let e = engine(&["拜拜", "谢谢您", "礼拜"]);
    let h = hits(&e, "下礼拜一再联系");
    assert_eq!(h, [("P002".to_string(), "礼拜".to_string())]);
    assert_eq!(found(&e, "好的拜拜"), ["拜拜"]);
    assert_eq!(found(&e, "好的拜拜拜～"), ["拜拜拜"]);
    assert_eq!(found(&e, "谢谢谢您"), ["谢谢谢您"]);
    assert!(found(&e, "多谢您").is_empty());
    // A phrase without a repeat still matches a stutter.
    let e = engine(&["不知道"]);
    assert_eq!(found(&e, "不不不知道"), ["不不不知道"]);
}

#[test]
fn ambiguous_traditional_characters() {
    let e = engine(&[
        "了解", "反复", "干净", "头发", "发现", "以后", "放松", "着急",
    ]);
    assert_eq!(found(&e, "我瞭解了"), ["瞭解"]);
    assert_eq!(found(&e, "請反覆確認"), ["反覆"]);
    assert_eq!(found(&e, "很乾淨"), ["乾淨"]);
    assert!(found(&e, "乾隆年間").is_empty());
    assert_eq!(found(&e, "頭髮"), ["頭髮"]);
    assert_eq!(found(&e, "發現"), ["發現"]);
    assert_eq!(found(&e, "以後"), ["以後"]);
    assert_eq!(found(&e, "放鬆"), ["放鬆"]);
    assert_eq!(found(&e, "您別著急"), ["著急"]);
    let e = engine(&["干隆"]);
    assert!(found(&e, "乾隆").is_empty());
}

#[test]
fn closing_cue_needs_a_real_goodbye() {
    let e = std::sync::Arc::new(Engine::default_ruleset().expect("zh-CN"));
    let closing = |agent_last: &str| {
        let turns = [
            huashu_engine::Turn::customer("我的快递什么时候到"),
            huashu_engine::Turn::agent(agent_last),
        ];
        let report = e.score(&turns);
        report
            .checks
            .iter()
            .find(|c| c.id == "closing")
            .map(|c| c.passed)
    };
    assert_eq!(closing("预计下礼拜一送到"), Some(false));
    assert_eq!(closing("预计下礼拜一送到，拜拜"), Some(true));
}
