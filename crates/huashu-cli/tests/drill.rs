//! `huashu drill` with the real binary: a scripted good run passes, a bad run fails with the expected tips.

use std::path::PathBuf;
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/drill")
        .join(name)
}

fn huashu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huashu"))
        .args(args)
        .output()
        .expect("run huashu")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn logistics_delay_good_replies_pass() {
    let good = data("good.txt");
    let o = huashu(&[
        "drill",
        "物流延误",
        "--replies",
        good.to_str().expect("path"),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("[1/2] 客户：我的快递都五天了还没到，你们到底怎么回事？！"),
        "{out}"
    );
    assert!(
        out.contains("  共情 ✓ “非常抱歉”   方案 ✓ “马上为您”   承诺 ✓ “今天下午五点前给您回电”"),
        "{out}"
    );
    assert!(
        out.contains("[2/2] 客户：那要是明天还到不了怎么办？"),
        "{out}"
    );
    assert!(out.contains("  本轮 100 分 · 累计 100 分"), "{out}");
    assert!(
        out.contains("结果：100/100 通过 PASS（及格 70；各轮 [100, 100]）"),
        "{out}"
    );
    assert!(!out.contains("辅导建议"), "{out}");
}

#[test]
fn logistics_delay_bad_replies_fail_with_tips() {
    let bad = data("bad.txt");
    let o = huashu(&[
        "drill",
        "logistics-delay",
        "--replies",
        bad.to_str().expect("path"),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    // The customer reacts to a reply without empathy (a branch).
    assert!(
        out.contains(
            "[2/2] 客户：你这是什么态度？我都等了五天了，连句道歉都没有！明天还到不了怎么办？"
        ),
        "{out}"
    );
    assert!(
        out.contains("  ✗ F008 forbidden/major “你自己查一下”"),
        "{out}"
    );
    assert!(out.contains("    → 我帮您查询一下"), "{out}");
    assert!(
        out.contains("  合规改写：快递慢这个问题我会协调相关同事处理，我帮您查询一下物流吧。"),
        "{out}"
    );
    assert!(
        out.contains("结果：9/100 未通过 FAIL（及格 70；各轮 [0, 17]）"),
        "{out}"
    );
    let tips: Vec<&str> = out
        .split("辅导建议：\n")
        .nth(1)
        .unwrap_or("")
        .lines()
        .collect();
    assert_eq!(
        tips,
        [
            "  [empathy] 客户投诉时先共情：“非常抱歉给您带来不便，我理解您的心情。”",
            "  [solution] 共情之后给出具体方案：“我马上为您申请……/为您办理……”",
            "  [commitment] 最后给出带时间的承诺：“我会全程跟进，今天下午五点前给您回电。”",
            "  [time] 承诺回复时给出明确时间：“1小时内给您反馈处理进展。”",
            "  [order] 按“共情 → 方案 → 承诺”的顺序回应：先安抚情绪，再讲怎么办，最后说何时反馈。",
            "  [F004] 哪怕责任在物流或商家，也由你来协调，不要对客户划清界限。（可以说：“这个问题我会协调相关同事处理”）",
            "  [F008] 先替客户查好并告知结果；想介绍自助查询时，用“您也可以在…查看”作为补充，而不是让客户“自己查”。（可以说：“我帮您查询一下”）",
            "  [F010] 说明为什么做不到，并给出一个替代方案：“这个暂时无法…，建议您…/我为您…”。（可以说：“很抱歉，这个暂时无法直接处理，我为您看看其他解决方案”）",
            "  [F020] 给出具体的处理时间和跟进方式，而不是“以后再说”。（可以说：“这个问题我现在为您记录并持续跟进”）",
        ]
    );
}

#[test]
fn too_few_replies_fail_and_json_lines_score_a_class() {
    let partial = data("partial.txt");
    let o = huashu(&[
        "drill",
        "物流延误",
        "--replies",
        partial.to_str().expect("path"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    // empathy and solution met; commitment, time and so the order missing: 2/5 = 40.
    assert_eq!(lines[0]["step_score"], 40);
    assert_eq!(lines[0]["structure"][2]["present"], false);
    // Labels come with the feedback (the console shows these, not a list of its own).
    assert_eq!(lines[0]["structure"][2]["label"], "承诺");
    let order = lines[0]["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .find(|r| r["name"] == "order")
        .expect("the order requirement");
    assert_eq!(order["label"], "顺序");
    assert_eq!(lines[1]["score"], 20);
    assert_eq!(lines[1]["steps"], serde_json::json!([40, 0]));
    assert_eq!(lines[1]["passed"], false);
}

#[test]
fn listing_and_unknown_names() {
    let o = huashu(&["drill"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 11, "{out}");
    assert!(
        out.contains("wealth-return-inquiry    理财收益咨询"),
        "{out}"
    );
    let o = huashu(&["drill", "不存在"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no drill named \"不存在\""));
}
