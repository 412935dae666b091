use super::*;
use proptest::prelude::*;

mod per_char;
mod spaces;

fn n(s: &str) -> String {
    normalize(s, &Options::default()).as_str().to_string()
}

/// The options with `sentence_spaces` on.
pub(super) fn spaced() -> Options {
    Options {
        sentence_spaces: true,
        ..Options::default()
    }
}

fn orig<'a>(input: &'a str, needle: &str) -> &'a str {
    orig_with(input, needle, &Options::default())
}

pub(super) fn orig_with<'a>(input: &'a str, needle: &str, opts: &Options) -> &'a str {
    let nz = normalize(input, opts);
    let at = nz.as_str().find(needle).expect("needle in normalised text");
    let span = nz.original_span(at..at + needle.len());
    &input[span.start..span.end]
}

#[test]
fn folds_width_case_and_script() {
    assert_eq!(n("這不是我的問題"), "这不是我的问题");
    assert_eq!(n("ＯＫ，１００％"), "ok,100%");
    assert_eq!(n("I Don't Know"), "i dont know");
}

#[test]
fn removes_inserted_noise() {
    assert_eq!(n("这-不是-我的-问题"), "这不是我的问题");
    assert_eq!(n("不 知 道"), "不知道");
    assert_eq!(n("不*知*道"), "不知道");
    assert_eq!(n("不.知.道"), "不知道");
    assert_eq!(n("3.5%"), "3.5%");
    assert_eq!(n("好的.谢谢"), "好的.谢");
    assert_eq!(n("这.不.是我的问题"), "这不是我的问题");
    assert_eq!(n("不\u{200B}知道"), "不知道");
    assert_eq!(n("6222 0212-3456"), "622202123456");
    assert_eq!(n("I   can  guarantee"), "i can guarantee");
    assert_eq!(n("不知道\n\n你问别人"), "不知道\n您问别人");
}

#[test]
fn collapses_repeats_but_not_digits_or_letters() {
    assert_eq!(n("不不不知道！！！"), "不知道!");
    assert_eq!(n("1000 too"), "1000 too");
}

#[test]
fn number_forms() {
    assert_eq!(n("百分之百没问题"), "100%没问题");
    assert_eq!(n("百分百"), "100%");
    assert_eq!(n("百分之一百无故障"), "100%无故障");
    assert_eq!(n("100 %"), "100%");
    assert_eq!(n("百分之九十"), "百分之九十");
    assert_eq!(n("急甚麼"), "急什么");
}

#[test]
fn english_words_keep_one_space_and_fold_capitals() {
    assert_eq!(n("Hello  There, I Don't KNOW"), "hello there,i dont know");
    assert_eq!(n("Call 12 34 now, OK?"), "call 1234 now,ok?");
    assert_eq!(orig("Hello  There", "o t"), "o  T");
    assert_eq!(orig("I Don't KNOW", "know"), "KNOW");
    // A digit after a letter may be a leet letter; a word with no digit is copied as it is.
    assert_eq!(n("My P4ss is Secret"), "my pass is secret");
}

#[test]
fn spans_point_into_the_original() {
    assert_eq!(orig("這-不是-我的問題", "问题"), "問題");
    assert_eq!(orig("這-不是-我的問題", "这不是"), "這-不是");
    assert_eq!(orig("不 不 知道", "不知道"), "不 不 知道");
    assert_eq!(orig("保证百分之百无故障", "100%"), "百分之百");
    assert_eq!(orig("保证百分之百无故障", "0%无"), "百分之百无");
    assert_eq!(orig("ＡＢＣ", "b"), "Ｂ");
}

#[test]
fn symbols_between_characters_are_noise() {
    assert_eq!(n("不😊知😊道"), "不知道");
    assert_eq!(n("不○知○道"), "不知道");
    assert_eq!(n("不\u{0301}知\u{20E3}道"), "不知道");
    assert_eq!(n("不👍🏻知➡️道"), "不知道");
    assert_eq!(orig("我😊不😊知😊道啊", "不知道"), "不😊知😊道");
    // … and ‰ carry meaning; 〇 is a numeral.
    assert_eq!(n("好的…"), "好的…");
    assert_eq!(n("5‰"), "5‰");
}

#[test]
fn punctuation_between_single_characters_is_noise() {
    assert_eq!(n("不，知，道"), "不知道");
    assert_eq!(n("不。知。道"), "不知道");
    assert_eq!(n("不、知、道"), "不知道");
    assert_eq!(n("不,知,道"), "不知道");
    assert_eq!(n("不！知！道"), "不知道");
    assert_eq!(orig("我不，知，道", "不知道"), "不，知，道");
    // A clause break after a word stays: 好的，谢谢 keeps its comma.
    assert_eq!(n("好的，谢谢"), "好的,谢");
    assert_eq!(n("好的。谢谢"), "好的。谢");
    assert_eq!(n("您好，我是客服"), "您好,我是客服");
    assert_eq!(n("1,2,3"), "1,2,3");
    // A one-character word standing as a clause between two longer ones keeps both its marks.
    assert_eq!(n("好的，亲，这个订单没法改"), "好的,亲,这个订单没法改");
    assert_eq!(n("好的，嗯，我查一下"), "好的,嗯,我查一下");
    assert_eq!(n("親，這個"), "亲,这个");
    // … but not when it is one of a run of single characters.
    assert_eq!(n("亲，不，知，道"), "亲不知道");
    assert_eq!(n("不，嗯，知，道"), "不嗯知道");
}

#[test]
fn styled_digits_and_letters_fold_to_ascii() {
    assert_eq!(n("①⑥⑴⒈¹❶➊𝟔₈⓿"), "1611111680");
    assert_eq!(n("Ⓕⓤc⒦"), "fuck");
    assert_eq!(n("𝐅𝐮𝐜𝐤 𝟔"), "fuck 6");
    assert_eq!(n("🅰🄱"), "ab");
    assert_eq!(orig("卡号①②③④", "1234"), "①②③④");
    assert_eq!(orig("Ⓕⓤc⒦ you", "fuck"), "Ⓕⓤc⒦");
}

#[test]
fn chinese_numerals_in_runs_fold_to_digits() {
    assert_eq!(n("卡号六二二二零二一二"), "卡号62220212");
    assert_eq!(n("幺三八两五〇〇零"), "13825000");
    assert_eq!(n("9⓿二肆⁹₈③⑸⒋➃㈤㊄"), "902498354455");
    assert_eq!(n("六二二二 零二一二"), "62220212");
    // Words with numerals stay words.
    assert_eq!(n("请等一下，一个小时十分钟"), "请等一下,一个小时十分钟");
    assert_eq!(n("三三九乘元功"), "三九乘元功");
    assert_eq!(n("一二三"), "一二三");
    assert_eq!(
        orig("卡号六二二二零二一二谢谢", "62220212"),
        "六二二二零二一二"
    );
    assert_eq!(
        normalize("六二二二零二一二三四五六七八九零", &Options::default()).digit_run(),
        16
    );
}

#[test]
fn collapsed_repeats_are_remembered() {
    let nz = normalize("拜拜，礼拜一", &Options::default());
    assert_eq!(nz.as_str(), "拜,礼拜一");
    assert!(nz.repeated_at(0));
    assert!(!nz.repeated_at(nz.as_str().rfind("拜").unwrap()));
    assert_eq!(nz.repeats(), &[0]);
    let nz = normalize("谢谢谢您", &Options::default());
    assert_eq!(nz.repeats(), &[0]);
    assert_eq!(
        &"谢谢谢您"[nz.original_span(0..3).start..nz.original_span(0..3).end],
        "谢谢谢"
    );
}

#[test]
fn ambiguous_traditional_characters_by_word() {
    assert_eq!(n("瞭解"), "了解");
    assert_eq!(n("反覆"), "反复");
    assert_eq!(n("顛覆"), "颠覆");
    assert_eq!(n("乾淨"), "干净");
    assert_eq!(n("乾隆"), "乾隆");
    assert_eq!(n("頭髮"), "头发");
    assert_eq!(n("發現"), "发现");
    assert_eq!(n("以後"), "以后");
    assert_eq!(n("一隻"), "一只");
    assert_eq!(n("放鬆"), "放松");
    assert_eq!(n("別著急"), "别着急");
    assert_eq!(n("著名"), "著名");
    assert_eq!(n("計畫"), "计划");
    assert_eq!(n("藉口"), "借口");
    // One character for one: the span of 复 is 覆.
    assert_eq!(orig("請反覆確認", "复"), "覆");
}

#[test]
fn span_to_chars() {
    let s = "這不是我的問題";
    assert_eq!(Span::new(3, 9).to_chars(s), 1..3);
}

#[test]
fn a_number_form_spaced_out_is_still_the_number() {
    assert_eq!(n("房贷百 分 之 百核得下来"), "房贷100%核得下来");
    assert_eq!(n("百　分　百 满意"), "100%满意");
    assert_eq!(n("本 金 百 分 之 一 百 保 障"), "本金100%保障");
    // Not across a line: two lines are two utterances.
    assert_eq!(n("百\n分之百"), "百\n分之百");
}

#[test]
fn the_informal_second_person_reads_as_the_polite_one() {
    // 你 and 妳 (Taiwan, to a woman) are 您 in every path: plain runs, traditional text, a repeat.
    assert_eq!(n("你自己去问快递吧"), "您自己去问快递吧");
    assert_eq!(n("妳自己去問快遞"), "您自己去问快递");
    assert_eq!(n("帮你 查 一下，回复妳"), "帮您查一下,回复您");
    // 你们 is the plural of the same word; the alignment stays one character for one.
    let t = "你们的订单";
    let nz = normalize(t, &Options::default());
    assert_eq!(nz.as_str(), "您们的订单");
    assert_eq!(nz.original_span(0..3), Span::new(0, 3));
    let off = Options {
        pronouns: false,
        ..Options::default()
    }; // off: left as written
    assert_eq!(normalize("你好", &off).as_str(), "你好");
}

#[test]
fn options_off_keep_text() {
    let opts = Options {
        width: false,
        case: false,
        traditional: false,
        numbers: false,
        noise: false,
        repeats: false,
        spelling: false,
        mentions: false,
        pronouns: false,
        sentence_spaces: false,
    };
    let s = "@who 這 ＡＢ 百分百!! p4ss 你 a b c";
    assert_eq!(normalize(s, &opts).as_str(), s);
}

fn reference(s: &str, opts: &Options) -> per_char::Normalized {
    let mut n = per_char::Normalized::default();
    per_char::normalize_into(&mut n, s, opts);
    n
}

proptest! {
    #[test]
    fn segments_agree_with_the_per_character_alignment(
        s in "\\PC{0,40}|[ 不知道這問題百分之一甚麼*！!.．a-zA-Z0-9　，,。、…？：；?-]{0,40}|[ 不知道谢拜二六零〇幺两乾隆淨反覆著急😊○①Ⓕ𝟔⒈¹❶，。.,!0-9a-z-]{0,40}|([a-dIP][ ._@$0-57-]){0,20}|([A-Za-z0-9]{1,6}[ ,.'!]{1,2}){0,10}|[ 　好的我帮您查一二六零~😊\t，]{0,40}|[好的谢您你妳這这拜，,。.！!？?、…~ a-c]{0,40}|([好的谢您。，.,!]|[a-d][ .]){0,20}|([A-Za-z0-9]{1,4}( |  | -|- |\t|。 )){0,10}"
    ) {
        // The reference has no mentions or sign-offs (` *A` at the end is a sign-off): unit tests cover them.
        let plain = Options { mentions: false, ..Options::default() };
        // The fast paths are specialised on `repeats` and `width` (clause marks): those off too.
        let off = [Options { repeats: false, ..plain }, Options { width: false, ..plain }];
        for opts in [Options { sentence_spaces: true, ..plain }, plain, off[0], off[1]] {
            let nz = normalize(&s, &opts);
            let r = reference(&s, &opts);
            prop_assert_eq!(nz.as_str(), r.as_str());
            let t = nz.as_str();
            let bounds: Vec<usize> = t.char_indices().map(|(b, _)| b).chain([t.len()]).collect();
            for (i, &a) in bounds.iter().enumerate() {
                for &b in &bounds[i..] {
                    prop_assert_eq!(nz.original_span(a..b), r.original_span(a..b), "{:?} {}..{}", t, a, b);
                }
            }
            let longest = t.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
            prop_assert_eq!(nz.digit_run(), longest);
        }
    }

    #[test]
    fn alignment_is_monotone_and_on_boundaries(s in "\\PC{0,40}|[ 不知道這問題百分之一*！!a-zA-Z0-9　—-]{0,40}") {
        let nz = normalize(&s, &Options::default());
        let t = nz.as_str();
        let mut prev = Span::default();
        for (b, c) in t.char_indices() {
            let span = nz.original_span(b..b + c.len_utf8());
            prop_assert!(span.start <= span.end && span.end <= s.len());
            prop_assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end));
            // Characters follow one another in the original, except those of one form (百分百 → 100%),
            // which all stand for the whole form.
            prop_assert!(span.start >= prev.end || span.start == prev.start, "{:?} after {:?}", span, prev);
            prev = span;
        }
        // Any range at all maps inside the original.
        for a in 0..=t.len() {
            for b in a..=t.len() {
                let span = nz.original_span(a..b);
                prop_assert!(span.start <= span.end && span.end <= s.len());
                prop_assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end));
            }
        }
    }
}

#[test]
fn ascii_fast_path_drops_exactly_the_noise_the_general_path_drops() {
    // The fast path must agree with the general path's tests for every ASCII byte, whatever the case fold.
    for b in 0u8..0x80 {
        let c = fold::fold(b as char, &Options::default());
        let general = is_noise(c) && !(c.is_whitespace() && c != '\n') && !is_clause_break(c);
        assert_eq!(chars::is_ascii_drop(b), general, "byte {b:#04x}");
    }
    assert!(!chars::is_ascii_drop(0x80) && !chars::is_ascii_drop(0xE4));
}

#[test]
fn ascii_symbols_and_spaces_fold_as_before() {
    // Alignment through dropped symbols and kept spaces: spans still point at the original words.
    let input = "[订单x]请您稍等~ ok  Book #E-s[数字x]不~知~道";
    let norm = normalize(input, &Options::default());
    assert_eq!(norm.as_str(), "订单x请您稍等ok book es数字x不知道");
    assert_eq!(orig(input, "ok book"), "ok  Book");
    assert_eq!(orig(input, "不知道"), "不~知~道");
    assert_eq!(orig(input, "es数字x"), "E-s[数字x");
}

#[test]
fn ascii_clause_marks_fold_as_the_full_width_ones() {
    // ASCII marks take the clause-punctuation path: dropped between single characters, kept after a word,
    // collapsed when repeated, and untouched inside numbers.
    assert_eq!(n("不,知,道"), "不知道");
    assert_eq!(n("不，知，道"), "不知道");
    assert_eq!(n("好的,再见!!"), "好的,再见!");
    assert_eq!(n("好的，再见！！"), "好的,再见!");
    assert_eq!(n("年化3.5%. ok?"), "年化3.5%.ok?");
    assert_eq!(orig("好的,,再见", "的,"), "的,,");
}

/// English spelled out to slip past a phrase (issue 14's evasion: digits for letters, spaced and dotted
/// letters), with every span still on the original.
#[test]
fn spelled_out_latin_words_are_read_as_words() {
    let o = Options::default();
    for (raw, want) in [
        ("send me your p a s s w o r d", "send me your password"),
        ("i d.o.n.t know", "i dont know"),
        ("I d o n t know", "i dont know"),
        ("your PASSW0RD pls", "your password pls"),
        (
            "p@ssword and pa$$word, pa55word",
            "password and password,password",
        ),
        ("D0NT", "dont"),
        // Numbers, codes and abbreviations stay as they are.
        (
            "iphone13 and 4x4 order 100375 a1",
            "iphone13 and 4x4 order 100375 a1",
        ),
        ("U.S. e.g. a b", "u.s.e.g.a b"),
        ("不，知，道 p-i-n", "不知道pin"),
    ] {
        let n = normalize(raw, &o);
        assert_eq!(n.as_str(), want, "{raw}");
        // The match of the joined word maps back onto the spelled-out original.
        if let Some(at) = want.find("password") {
            let span = n.original_span(at..at + "password".len());
            let orig = &raw[span.start..span.end];
            assert!(
                orig.starts_with(['p', 'P']) && orig.ends_with(['d', 'D']),
                "{raw}: {orig}"
            );
        }
    }
}

#[test]
fn leading_mentions_are_not_part_of_the_turn() {
    let input = "@sam_k77 @Shop_Help Call your bank.";
    let n = normalize(input, &Options::default());
    assert_eq!(n.as_str(), "call your bank.");
    let span = n.original_span(0..n.as_str().find('.').unwrap());
    assert_eq!(&input[span.start..span.end], "Call your bank");
    let off = Options {
        mentions: false,
        ..Options::default()
    };
    // A mention inside the turn is left to the other folds.
    let inside = "Hi @sam_k77, call your bank.";
    assert_eq!(
        normalize(inside, &Options::default()).as_str(),
        normalize(inside, &off).as_str()
    );
    // Without the fold the handles stay, as words before the sentence.
    assert_eq!(
        normalize(input, &off).as_str(),
        "samk77 shophelp call your bank."
    );
}

#[test]
fn a_dash_between_words_ends_a_clause_and_groups_digits() {
    // Between words or sentences a dash is a clause break, as a comma is.
    assert_eq!(
        n("no question — sellers accept it"),
        "no question,sellers accept it"
    );
    assert_eq!(n("好的——我帮您查"), "好的,我帮您查");
    // Between digits it groups a number, and stays noise: the card number is one digit run.
    assert_eq!(n("6222–0212–3456"), "622202123456");
    assert_eq!(
        normalize("6222–0212–3456", &Options::default()).digit_run(),
        12
    );
    // Between single characters it is noise, as every clause mark there is.
    assert_eq!(n("不—知—道"), "不知道");
}
