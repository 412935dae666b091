//! `sentence_spaces`: whitespace between two sentences of ideographs is a clause break, whitespace between
//! single characters stays noise.

use super::{orig_with, spaced};
use crate::{Options, normalize};

fn n(s: &str) -> String {
    normalize(s, &Options::default()).as_str().to_string()
}

/// Normalised with `sentence_spaces` on.
fn ns(s: &str) -> String {
    normalize(s, &spaced()).as_str().to_string()
}

/// The original text behind the first `needle` of the text normalised with `sentence_spaces` on.
fn origs<'a>(input: &'a str, needle: &str) -> &'a str {
    orig_with(input, needle, &spaced())
}

#[test]
fn a_space_between_two_sentences_is_a_clause_break() {
    // Two stretches of two or more ideographs on either side: the space reads as a comma.
    assert_eq!(
        ns("行的 我这边帮您查询 您稍候"),
        "行的,我这边帮您查询,您稍候"
    );
    // Off (the default), the space is dropped as all inserted whitespace is.
    assert_eq!(n("行的 我这边帮您查询 您稍候"), "行的我这边帮您查询您稍候");
    assert_eq!(ns("这个没听说过 建议咨询厂家"), "这个没听说过,建议咨询厂家");
    // The comma stands for the space, so spans on either side of it stay exact.
    let input = "行的 我这边帮您查询";
    let nz = normalize(input, &spaced());
    let comma = nz.as_str().find(',').unwrap();
    let span = nz.original_span(comma..comma + 1);
    assert_eq!(&input[span.start..span.end], " ");
    assert_eq!(origs(input, "我这边"), "我这边");
    assert_eq!(origs(input, "行的,我"), "行的 我");
    // A run of whitespace is one break, mapped to its first char; the ideographic space and a tab too.
    assert_eq!(ns("收到了   马上处理"), "收到了,马上处理");
    assert_eq!(origs("收到了   马上处理", "了,马"), "了   马");
    assert_eq!(ns("收到了\u{3000}马上处理"), "收到了,马上处理");
    assert_eq!(origs("收到了\u{3000}马上处理", ","), "\u{3000}");
    assert_eq!(ns("收到了\t马上处理"), "收到了,马上处理");
    // A symbol or an emoji next to the space does not hide it.
    assert_eq!(ns("您稍候~ 马上回来"), "您稍候,马上回来");
    assert_eq!(ns("您稍候 😊马上回来"), "您稍候,马上回来");
    // Nothing before the first sentence or after the last one.
    assert_eq!(ns("  您好 请讲  "), "您好,请讲");
    // A sentence that starts with the char the last one ended with is not collapsed into it.
    assert_eq!(ns("您好好 好的呢"), "您好,好的呢");
    assert_eq!(origs("您好好 好的呢", ",好"), " 好");
    assert_eq!(n("您好好 好的呢"), "您好的呢");
    // A mark already there is not doubled.
    assert_eq!(ns("您好， 请讲"), "您好,请讲");
    assert_eq!(ns("您好 ，请讲"), "您好,请讲");
    assert_eq!(ns("您好\n 请讲"), "您好\n请讲");
}

#[test]
fn a_space_between_single_characters_is_still_noise() {
    assert_eq!(ns("我 不 清 楚"), "我不清楚");
    assert_eq!(ns("稳 赚 不 赔 ５％"), "稳赚不赔5%");
    assert_eq!(origs("他说 不 清 楚", "不清楚"), "不 清 楚");
    // One side a single character: the space is dropped as before.
    assert_eq!(ns("好 我查一下"), "好我查一下");
    assert_eq!(ns("我查一下 好"), "我查一下好");
    assert_eq!(ns("我 不清楚"), "我不清楚");
    // Spaced single characters and then a sentence: the single character before the space decides.
    assert_eq!(ns("不 知 道 您问别人"), "不知道您问别人");
    // Numerals read out in groups stay one run of digits, with or without words before them.
    assert_eq!(ns("尾号是 三九五七 二零一八"), "尾号是39572018");
    assert_eq!(
        origs("尾号是 三九五七 二零一八", "39572018"),
        "三九五七 二零一八"
    );
    // A placeholder tag for a number or a name after the space goes on the sentence, as a number would.
    assert_eq!(ns("审核中 [数字x]天了"), "审核中数字x天了");
    assert_eq!(ns("已经联系了 [姓名x]师傅"), "已经联系了姓名x师傅");
    // Short numerals are words: a sentence.
    assert_eq!(ns("等一下 一会儿回您"), "等一下,一会儿回您");
    // English words keep their space; a space between ideographs and Latin letters is dropped as before.
    assert_eq!(ns("ok 好的 thank you"), "ok好的thank you");
    assert_eq!(ns("型号 iphone 没货了"), "型号iphone没货了");
}

#[test]
fn a_space_before_qingwen_ends_a_sentence_whatever_the_switch() {
    // 请问 opens a question of its own: the courtesy question that closes a turn is not the sentence before it.
    for s in [n, ns] {
        assert_eq!(
            s("我们不知道哦 请问还有别的问题吗"),
            "我们不知道哦.请问还有别的问题吗"
        );
        assert_eq!(
            s("這個不清楚 請問還有其他問題嗎"),
            "这个不清楚.请问还有其他问题吗"
        );
        // After a mark already there, or at the start of the turn, nothing is added.
        assert_eq!(s("好的， 请问是哪个订单"), "好的,请问是哪个订单");
        assert_eq!(s(" 请问是哪个订单"), "请问是哪个订单");
    }
    // The mark stands for the first whitespace char, as a clause break does.
    assert_eq!(origs("我们不知道哦  请问还有别的问题吗", "."), " ");
}
