use super::*;
use proptest::prelude::*;

fn n(s: &str) -> String {
    normalize(s, &Options::default()).as_str().to_string()
}

fn orig<'a>(input: &'a str, needle: &str) -> &'a str {
    let nz = normalize(input, &Options::default());
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
    assert_eq!(n("不知道\n\n你问别人"), "不知道\n你问别人");
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
fn spans_point_into_the_original() {
    assert_eq!(orig("這-不是-我的問題", "问题"), "問題");
    assert_eq!(orig("這-不是-我的問題", "这不是"), "這-不是");
    assert_eq!(orig("不 不 知道", "不知道"), "不 不 知道");
    assert_eq!(orig("保证百分之百无故障", "100%"), "百分之百");
    assert_eq!(orig("保证百分之百无故障", "0%无"), "百分之百无");
    assert_eq!(orig("ＡＢＣ", "b"), "Ｂ");
}

#[test]
fn span_to_chars() {
    let s = "這不是我的問題";
    assert_eq!(Span::new(3, 9).to_chars(s), 1..3);
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
    };
    let s = "這 ＡＢ 百分百!!";
    assert_eq!(normalize(s, &opts).as_str(), s);
}

proptest! {
    #[test]
    fn alignment_is_monotone_and_on_boundaries(s in "\\PC{0,40}|[ 不知道這問題百分之一*！!a-zA-Z0-9　-]{0,40}") {
        let nz = normalize(&s, &Options::default());
        let t = nz.as_str();
        let mut prev_end = 0;
        for (b, c) in t.char_indices() {
            let span = nz.original_span(b..b + c.len_utf8());
            prop_assert!(span.start <= span.end && span.end <= s.len());
            prop_assert!(s.is_char_boundary(span.start) && s.is_char_boundary(span.end));
            prop_assert!(span.start >= prev_end || span.start + 1 >= prev_end);
            prev_end = span.end;
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
