//! The command-line contract (ARCHITECTURE.md, "Output contract"), run through the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// `huashu ARGS` started with all three streams piped.
fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_huashu"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn huashu")
}

fn huashu(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn(args);
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

#[test]
fn traditional_text_gives_two_forbidden_findings_with_spans_into_the_original() {
    let text = "這不是我的問題，你自己看說明書";
    let input = format!("{{\"id\":1,\"role\":\"agent\",\"text\":\"{text}\"}}\n");
    let out = huashu(&["scan"], input.as_bytes());
    assert!(out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], 1);
    let findings = lines[0]["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{findings:?}");
    let chars: Vec<char> = text.chars().collect();
    for f in findings {
        assert_eq!(f["category"], "forbidden");
        let (s, e) = (
            f["start"].as_u64().unwrap() as usize,
            f["end"].as_u64().unwrap() as usize,
        );
        let marked: String = chars[s..e].iter().collect();
        assert_eq!(marked, f["matched"].as_str().unwrap());
        let (bs, be) = (
            f["byte_start"].as_u64().unwrap() as usize,
            f["byte_end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[bs..be], marked);
        assert!(!f["suggestions"].as_array().unwrap().is_empty());
    }
    assert_eq!(findings[0]["matched"], "這不是我的問題");
    assert_eq!(findings[0]["start"], 0);
    assert_eq!(findings[0]["end"], 7);
    assert_eq!(
        findings[0]["suggestions"][0],
        "这个问题我会协调相关同事处理"
    );
    assert_eq!(findings[1]["matched"], "你自己看說明書");
    assert_eq!(findings[1]["start"], 8);
    assert_eq!(findings[1]["end"], 15);
    assert_eq!(
        findings[1]["suggestions"][0],
        "我为您整理一份操作指南，您看是否需要"
    );
    assert_eq!(
        lines[0]["rewrite"],
        "这个问题我会协调相关同事处理，我为您整理一份操作指南，您看是否需要"
    );
}

#[test]
fn bad_lines_get_error_records_and_the_run_goes_on() {
    let mut input = Vec::new();
    input.extend_from_slice(
        b"{\"id\":\"a\",\"text\":\"\xe4\xb8\x8d\xe7\x9f\xa5\xe9\x81\x93\xff\"}\n",
    ); // invalid UTF-8
    input.extend_from_slice(b"{\"id\": 2, \"text\": \n"); // invalid JSON
    input.extend_from_slice(b"{\"id\":3,\"role\":\"robot\",\"text\":\"hi\"}\n"); // unknown role
    input.extend_from_slice(b"{\"id\":4}\n"); // no text
    input.extend_from_slice(&vec![b'a'; 10 * 1024 * 1024]); // a 10 MB line
    input.push(b'\n');
    input.extend_from_slice("你自己去查\n".as_bytes()); // plain text = an agent turn
    input.extend_from_slice(
        "{\"id\":7,\"role\":\"customer\",\"text\":\"这不是我的问题\"}\n".as_bytes(),
    );
    let out = huashu(&["scan"], &input);
    assert!(out.status.success(), "exit code 0 despite bad lines");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 7, "one output line per input line");
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["id"], Value::Null);
    assert_eq!(lines[0]["error"], "invalid UTF-8 at byte 27 of the line");
    assert_eq!(lines[1]["line"], 2);
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON: "),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2]["error"],
        "unknown role \"robot\" (expected \"agent\", \"customer\" or \"system\")"
    );
    assert_eq!(lines[3]["error"], "missing field \"text\"");
    assert_eq!(
        lines[4]["error"],
        "line is 10485761 bytes, over the limit of 1048576 bytes; skipped"
    );
    assert_eq!(lines[5]["id"], Value::Null);
    assert_eq!(lines[5]["findings"][0]["category"], "forbidden");
    assert_eq!(lines[6]["id"], 7);
    assert_eq!(
        lines[6]["findings"].as_array().unwrap().len(),
        0,
        "customers may say anything"
    );
}

#[test]
fn scan_takes_the_previous_turn_from_the_line_or_the_flag() {
    let input = concat!(
        "{\"id\":1,\"text\":\"可以的哦\",\"previous\":\"备孕能用吗\"}\n",
        "{\"id\":2,\"text\":\"可以的哦\"}\n",
        "{\"id\":3,\"text\":\"可以的哦\",\"previous\":\"能开发票吗\"}\n",
        "{\"id\":4,\"text\":\"可以的哦\",\"previous\":5}\n",
    );
    let rules = |lines: &[Value]| -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| {
                l["findings"]
                    .as_array()
                    .map(|f| {
                        f.iter()
                            .map(|f| f["rule"].as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect()
    };
    let out = huashu(&["scan"], input.as_bytes());
    let lines = json_lines(&out);
    assert_eq!(
        rules(&lines[..3]),
        [vec!["P030".to_string()], vec![], vec![]]
    );
    assert_eq!(lines[0]["findings"][0]["matched"], "可以的");
    assert_eq!(
        lines[3]["error"],
        "field \"previous\" must be a string, not a number"
    );
    // --previous stands in for lines that give none; a line's own wins.
    let out = huashu(&["scan", "--previous", "孕期呢"], input.as_bytes());
    let lines = json_lines(&out);
    assert_eq!(
        rules(&lines[..3]),
        [vec!["P030".to_string()], vec!["P030".to_string()], vec![]]
    );
}

/// The last exchange (`own_previous`): an agent that sent the SMS code in its own question and, after the
/// customer's 可以, asks to be told it is collecting the code (V030); with the customer's turn alone nothing names a
/// code.
#[test]
fn scan_takes_the_agents_own_previous_turn_for_the_last_exchange() {
    let input = concat!(
        "{\"text\":\"还麻烦告知下呢\",\"previous\":\"可以\",\"own_previous\":\"这边发送验证码到您的手机，可以吗\"}\n",
        "{\"text\":\"还麻烦告知下呢\",\"previous\":\"可以\"}\n",
        "{\"text\":\"还麻烦告知下呢\",\"own_previous\":[1]}\n",
    );
    let out = huashu(&["scan"], input.as_bytes());
    let lines = json_lines(&out);
    assert_eq!(lines[0]["findings"][0]["rule"], "V030");
    assert_eq!(lines[0]["findings"][0]["matched"], "告知");
    assert_eq!(lines[0]["findings"].as_array().unwrap().len(), 1);
    assert_eq!(lines[1]["findings"].as_array().unwrap().len(), 0);
    assert_eq!(
        lines[2]["error"],
        "field \"own_previous\" must be a string, not an array"
    );
}

#[test]
fn text_format_marks_the_span() {
    let out = huashu(&["scan", "--format", "text"], "这不是我的问题\n".as_bytes());
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines[0], "1: 这不是我的问题");
    assert!(lines[1].starts_with("   ^^^^^^^^^^^^^^ F"), "{s}");
    assert!(s.contains("→ 这个问题我会协调相关同事处理"), "{s}");
    assert!(s.contains("rewrite: 这个问题我会协调相关同事处理"), "{s}");
}

#[test]
fn unreadable_file_is_an_error_but_others_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, "{\"id\":1,\"text\":\"稳赚不赔\"}\n").unwrap();
    let out = huashu(
        &["scan", "/nonexistent/x.jsonl", good.to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/x.jsonl"));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["findings"][0]["category"], "promise");
}

#[test]
fn check_passes_on_the_default_ruleset() {
    let out = huashu(&["check"], b"");
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{s}");
    assert!(s.trim_end().ends_with("all passed"), "{s}");
}

fn write_ruleset(dir: &std::path::Path, rule_file: &str, rule: &str) {
    std::fs::create_dir_all(dir.join("rules/forbidden")).expect("write test ruleset");
    std::fs::write(dir.join("ruleset.toml"), "name = \"t\"\nversion = \"1\"\n")
        .expect("write test ruleset");
    std::fs::write(dir.join("rules/forbidden").join(rule_file), rule).expect("write test ruleset");
}

const RULE: &str = r#"id = "T001"
name = "cold-wait"
category = "forbidden"
severity = "major"
message = "冷漠：{matched}"

[match]
phrases = ["等着吧"]

[[suggest]]
replace = "请您稍等，我马上为您处理"

[[example]]
bad = "等着吧"
[[example]]
bad = "你就等着吧"
[[example]]
ok = "请您稍等"
[[example]]
ok = "等着您的回复"
"#;

#[test]
fn check_reports_a_failing_example_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let broken = RULE.replace("ok = \"请您稍等\"", "ok = \"那你等着吧\"");
    write_ruleset(dir.path(), "T001.toml", &broken);
    let out = huashu(&["check", dir.path().to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("T001.toml:18: rule T001: ok example \"那你等着吧\" triggers this rule on \"等着吧\" (chars 2..5)"),
        "{s}"
    );
    // The good version passes.
    write_ruleset(dir.path(), "T001.toml", RULE);
    let out = huashu(&["check", dir.path().to_str().unwrap()], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn broken_ruleset_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    write_ruleset(
        dir.path(),
        "T001.toml",
        &RULE.replace("phrases =", "phrase ="),
    );
    let out = huashu(&["scan", "--ruleset", dir.path().to_str().unwrap()], b"x\n");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("T001.toml:8:1: unknown field `phrase`"),
        "{err}"
    );

    write_ruleset(
        dir.path(),
        "T001.toml",
        &RULE.replace("severity = \"major\"", "severity = \"huge\""),
    );
    let out = huashu(&["check", dir.path().to_str().unwrap()], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("T001.toml:4:12: unknown variant `huge`"),
        "{err}"
    );

    write_ruleset(
        dir.path(),
        "T001.toml",
        &RULE.replace("phrases = [\"等着吧\"]", "regex = ['等着(吧']"),
    );
    let out = huashu(&["check", dir.path().to_str().unwrap()], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("T001.toml:8: rule T001: field `match.regex`: \"等着(吧\" does not compile"),
        "{err}"
    );

    write_ruleset(dir.path(), "T002.toml", RULE);
    let out = huashu(&["check", dir.path().to_str().unwrap()], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("T002.toml:1: field `id`: id `T001` does not match the file name `T002.toml`"),
        "{err}"
    );
}

#[test]
fn explain_shows_the_rule() {
    let out = huashu(&["explain", "P001"], b"");
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.starts_with("P001 "), "{s}");
    assert!(s.contains("✗ ") && s.contains("✓ "), "{s}");
    let out = huashu(&["explain", "NOPE"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rule \"NOPE\" in zh-CN@0.1.0"));
}

#[test]
fn unknown_ruleset_is_a_clear_error() {
    let out = huashu(&["scan", "--ruleset", "xx-YY"], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no ruleset named `xx-YY` (bundled: en, zh-CN, zh-CN-ecommerce, zh-CN-finance; or give a directory)"),
        "{err}"
    );
}

#[test]
fn score_outputs_the_contract_and_reports_bad_lines() {
    let input = concat!(
        "{\"id\":\"a\",\"turns\":[{\"role\":\"customer\",\"text\":\"我要投诉，快递怎么还没到\",\"start_ms\":0,\"end_ms\":3000},",
        "{\"role\":\"agent\",\"text\":\"非常抱歉给您带来不便，我马上为您催促，今天下午五点前给您回电\",\"start_ms\":45000,\"end_ms\":52000}]}\n",
        "{\"id\":\"b\",\"turns\":[{\"role\":\"robot\",\"text\":\"x\"}]}\n",
        "{\"id\":\"c\",\"turns\":[{\"role\":\"agent\",\"text\":\"x\",\"start_ms\":5,\"end_ms\":1}]}\n",
        "not json\n",
    );
    let out = huashu(&["score"], input.as_bytes());
    assert!(out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    let a = &lines[0];
    assert_eq!(a["id"], "a");
    assert_eq!(a["ruleset"], "zh-CN@0.1.0");
    assert!(a["score"].as_u64().unwrap() <= 100);
    assert_eq!(a["structure"]["empathy"], true);
    assert_eq!(a["structure"]["solution"], true);
    assert_eq!(a["structure"]["commitment"], true);
    let checks = a["checks"].as_array().unwrap();
    let first = checks
        .iter()
        .find(|c| c["id"] == "first_response")
        .expect("first_response check");
    assert_eq!(first["passed"], false);
    assert_eq!(
        first["detail"],
        "first reply 42.0 s after the customer's turn 0"
    );
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(
        lines[1]["error"],
        "turns[0]: unknown role \"robot\" (expected \"agent\", \"customer\" or \"system\")"
    );
    assert_eq!(lines[2]["error"], "turns[0]: end_ms 1 is before start_ms 5");
    assert!(
        lines[3]["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON")
    );
}

#[test]
fn score_text_report_names_the_evidence_and_tips() {
    let input = "{\"id\":\"d\",\"turns\":[{\"role\":\"customer\",\"text\":\"我买的空调坏了三次了\"},{\"role\":\"agent\",\"text\":\"有本事你去投诉啊\"}]}\n";
    let out = huashu(&["score", "--format", "text"], input.as_bytes());
    let s = String::from_utf8_lossy(&out.stdout);
    // Fatal: failed, whatever the points (they stay under the ruleset's fatal_cap).
    assert!(s.starts_with("conversation d: "), "{s}");
    let score: u32 = s["conversation d: ".len()..]
        .split('/')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("score");
    assert!(score < 40, "{s}");
    assert!(
        s.lines()
            .next()
            .unwrap()
            .ends_with("/100 FAIL (fatal)   [zh-CN@0.1.0; 2 turns]"),
        "{s}"
    );
    assert!(
        s.contains("fatal: critical finding at turn 1: F014 “有本事你去投诉啊”"),
        "{s}"
    );
    assert!(
        s.contains("→ 非常抱歉给您带来不好的体验，我这边为您升级处理"),
        "{s}"
    );
    assert!(s.contains("[empathy] 客户投诉时先共情"), "{s}");
}

/// A Twitter reply opens with the customer's handle; the sentence after it is still a sentence start, and
/// the finding's span points into the original past the handle.
#[test]
fn a_reply_that_opens_with_a_handle_is_scanned_from_its_first_sentence() {
    let input = r#"{"id":"t1","role":"agent","text":"@sam_k77 Go ask the courier."}"#;
    let out = huashu(
        &["scan", "--ruleset", "en"],
        format!("{input}\n").as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let findings = lines[0]["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["rule"], "EF014");
    assert_eq!(findings[0]["matched"], "Go ask the courier");
    assert_eq!(
        (findings[0]["start"].as_u64(), findings[0]["end"].as_u64()),
        (Some(9), Some(27))
    );
    assert_eq!(
        findings[0]["suggestions"][0],
        "I'll contact them for you and update you"
    );
}

#[test]
fn eval_lists_under_a_false_negative_the_match_an_exemption_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let rule = RULE.replace(
        "phrases = [\"等着吧\"]",
        "phrases = [\"等着吧\"]\nunless_turn_has = [\"马上\"]",
    );
    write_ruleset(dir.path(), "T001.toml", &rule);
    let labels = dir.path().join("labels.jsonl");
    std::fs::write(
        &labels,
        concat!(
            r#"{"id":"a","role":"agent","text":"你等着吧，马上好","expect":["forbidden"]}"#,
            "\n",
            r#"{"id":"b","role":"agent","text":"请稍候","expect":["forbidden"]}"#,
            "\n"
        ),
    )
    .unwrap();
    let (ruleset, file) = (dir.path().to_str().unwrap(), labels.to_str().unwrap());
    let out = huashu(&["eval", file, "--ruleset", ruleset], b"");
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains(concat!(
            "  line 1 [a] forbidden: 你等着吧，马上好\n",
            "    (no finding)\n",
            "    near miss: T001 “等着吧” 1..4, dropped by unless_turn_has “马上”\n",
            "  line 2 [b] forbidden: 请稍候\n",
            "    (no finding)\n",
        )),
        "{s}"
    );
    let out = huashu(
        &["eval", file, "--ruleset", ruleset, "--format", "jsonl"],
        b"",
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    let misses = &report["false_negatives"];
    assert_eq!(
        misses[0]["near_misses"],
        serde_json::json!([{"rule": "T001", "start": 1, "end": 4, "matched": "等着吧",
            "reason": "context", "condition": "unless_turn_has", "words": "马上"}])
    );
    assert!(
        misses[1].get("near_misses").is_none(),
        "none when no rule matched"
    );
    let json = huashu(
        &["eval", file, "--ruleset", ruleset, "--format", "json"],
        b"",
    );
    assert_eq!(json.stdout, out.stdout, "json is jsonl's other name");
}

/// A reader that closes the pipe before the output comes (`huashu … | head -0`) ends the run quietly: exit 0,
/// nothing on stderr, no panic — for every command that prints its result in one go.
#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.jsonl");
    std::fs::write(
        &labels,
        "{\"id\":\"a\",\"role\":\"agent\",\"text\":\"这个我不知道\",\"expect\":[\"forbidden\"]}\n",
    )
    .unwrap();
    let labels = labels.to_str().unwrap();
    for args in [
        &["eval", labels, "--format", "jsonl"][..],
        &["eval", labels][..],
        &["schema", "rule"][..],
        &["scan"][..],
    ] {
        let mut child = spawn(args);
        // Close the reading end first, then give `scan` its input.
        drop(child.stdout.take());
        let mut input = child.stdin.take().expect("stdin");
        let _ = input.write_all("这个我不知道\n".repeat(2000).as_bytes());
        drop(input);
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.is_empty(),
            "{args:?}: {:?}, stderr {err}",
            out.status
        );
    }
}

#[test]
fn a_dash_reads_standard_input_between_files() {
    let dir = std::env::temp_dir().join(format!("huashu-dash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("after.jsonl");
    std::fs::write(
        &file,
        "{\"id\":\"f\",\"role\":\"agent\",\"text\":\"稳赚不赔\"}\n",
    )
    .expect("write");
    let stdin = "{\"id\":\"s\",\"role\":\"agent\",\"text\":\"这个我不知道\"}\n";
    let out = huashu(&["scan", "-", file.to_str().unwrap()], stdin.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["s", "f"]);
    assert_eq!(lines[0]["findings"][0]["rule"], "F001");
    assert_eq!(lines[1]["findings"][0]["category"], "promise");
    let _ = std::fs::remove_dir_all(&dir);
}
