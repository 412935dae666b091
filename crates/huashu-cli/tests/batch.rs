//! Batch `scan`/`score` (directories, CSV in and out, many cores, deterministic order, bad files and lines
//! skipped) and `huashu report`, through the real binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn huashu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huashu"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run huashu")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().into_owned()
}

fn conversations(n: usize) -> String {
    let agent = [
        "非常抱歉给您带来不便，我理解您的心情",
        "这不是我的问题，你自己看说明书",
        "我马上为您申请上门检测",
        "有本事你去投诉啊",
    ];
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"agent\":\"a{}\",\"turns\":[{{\"role\":\"customer\",\"text\":\"我买的空调坏了三次了\"}},{{\"role\":\"agent\",\"text\":\"{}\"}}]}}\n",
                i % 3,
                agent[i % agent.len()]
            )
        })
        .collect()
}

#[test]
fn a_directory_of_jsonl_and_csv_is_scanned_in_order_and_a_bad_file_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(
        d,
        "in/a.jsonl",
        "{\"id\":1,\"text\":\"这不是我的问题\"}\nnot json but text: 我不知道\n{\"id\":3,\"text\":5}\n",
    );
    write(
        d,
        "in/b/c.csv",
        "id,role,text\nx,agent,你自己看说明书\ny,customer,这不是我的问题\nz,robot,hi\n",
    );
    write(d, "in/ignored.bin", "\u{0}");
    let missing = d.join("missing.jsonl").to_string_lossy().into_owned();
    let indir = d.join("in").to_string_lossy().into_owned();
    let out = huashu(&["scan", &indir, &missing]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing file makes the exit code 2"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[0]["findings"][0]["rule"], "F004");
    assert_eq!(lines[1]["findings"][0]["rule"], "F001");
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].as_str().expect("error").contains("text"));
    // a.jsonl before b/c.csv (name order); CSV rows keep their ids, roles and line numbers.
    assert_eq!(lines[3]["id"], "x");
    assert_eq!(lines[3]["findings"][0]["rule"], "F007");
    assert_eq!(lines[4]["findings"], Value::Array(vec![]));
    assert_eq!(lines[5]["line"], 4);
    assert!(
        lines[5]["error"]
            .as_str()
            .expect("error")
            .contains("unknown role")
    );
}

#[test]
fn output_is_the_same_on_one_thread_and_many_and_across_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = write(dir.path(), "big.jsonl", &conversations(5000));
    let one = huashu(&["score", "-j", "1", &big]);
    let two = huashu(&["score", "-j", "2", &big]);
    let all = huashu(&["score", &big]);
    assert!(one.status.success());
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stdout, all.stdout);
    let lines = json_lines(&all);
    assert_eq!(lines.len(), 5000);
    assert!(lines.iter().enumerate().all(|(i, l)| l["id"] == i));
    assert_eq!(lines[4]["agent"], "a1", "agent is carried through");
    let scan_one = huashu(&["scan", "-j", "1", &big]);
    let scan_two = huashu(&["scan", "-j", "2", &big]);
    assert_eq!(scan_one.stdout, scan_two.stdout);
}

#[test]
fn csv_conversations_are_grouped_by_id_and_written_as_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = write(
        dir.path(),
        "calls.csv",
        "call,agent,role,text,start_ms,end_ms\n\
         A,张伟,customer,我买的空调坏了三次了,0,1000\n\
         B,李娜,customer,你好,0,1000\n\
         A,张伟,agent,\"非常抱歉给您带来不便，我理解您的心情\",2000,4000\n\
         B,李娜,agent,有本事你去投诉啊,2000,3000\n\
         C,王芳,agent,你好,5,1\n",
    );
    let out = huashu(&["score", "--id-column", "call", &csv]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (lines[0]["id"].as_str(), lines[0]["agent"].as_str()),
        (Some("A"), Some("张伟"))
    );
    assert_eq!(lines[0]["structure"]["empathy"], true);
    assert_eq!(lines[1]["fatal"], true);
    assert!(
        lines[2]["error"]
            .as_str()
            .expect("error")
            .contains("before start_ms")
    );
    // CSV out: a header and one row per conversation, readable by any CSV reader.
    let out = huashu(&[
        "score",
        "--id-column",
        "call",
        "--output-format",
        "csv",
        &csv,
    ]);
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("file,line,id,agent,score,passed,fatal"));
    assert_eq!(rows.len(), 4);
    assert!(rows[2].contains(",B,李娜,") && rows[2].contains("F014"));
    let scan = huashu(&[
        "scan",
        "--output-format",
        "csv",
        &csv,
        "--id-column",
        "call",
    ]);
    let text = stdout(&scan);
    assert!(text.starts_with("file,line,id,role,rule,"));
    assert!(text.lines().any(|l| l.contains(",F014,")));
}

#[test]
fn no_progress_bar_when_piped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(dir.path(), "c.jsonl", &conversations(50));
    let out = huashu(&["score", &f]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn progress_bar_on_a_terminal() {
    // `script` gives the command a pseudo-terminal; skip where util-linux's script is absent.
    if Command::new("script").arg("--version").output().is_err() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(dir.path(), "c.jsonl", &conversations(20000));
    let cmd = format!(
        "{} score -j 1 {} > /dev/null",
        env!("CARGO_BIN_EXE_huashu"),
        f
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .expect("script");
    assert!(out.status.success());
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(
        tty.contains("MiB") || tty.contains("KiB"),
        "no progress bar drawn: {tty:?}"
    );
}

#[test]
fn report_writes_one_self_contained_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(dir.path(), "c.jsonl", &conversations(40));
    let scored = huashu(&["score", &f]);
    let results = write(
        dir.path(),
        "r.jsonl",
        &(stdout(&scored) + "{\"id\":null,\"line\":9,\"error\":\"x\"}\n"),
    );
    let page = dir.path().join("report.html");
    let out = huashu(&[
        "report",
        &results,
        "-o",
        &page.to_string_lossy(),
        "--worst",
        "5",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for needle in [
        "score-distribution",
        "findings-by-rule",
        "agent-averages",
        "F014",
        "\"a1\"",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "no remote assets"
    );
    assert!(!html.contains("https://"));
    let data_start = html.find("id=\"huashu-data\">").expect("data") + 17;
    let data_end = html[data_start..].find("</script>").expect("end") + data_start;
    let data: Value = serde_json::from_str(&html[data_start..data_end]).expect("embedded JSON");
    assert_eq!(data["conversations"], 40);
    assert_eq!(data["errors"], 1);
    assert_eq!(data["worst"].as_array().expect("worst").len(), 5);
    // The worst conversation first: the lowest score `huashu score` gave.
    let lowest = stdout(&scored)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["score"].as_u64())
        .min()
        .expect("scores");
    assert_eq!(data["worst"][0]["score"], lowest);
    let worst: Vec<u64> = data["worst"]
        .as_array()
        .expect("worst")
        .iter()
        .map(|w| w["score"].as_u64().expect("score"))
        .collect();
    assert!(worst.windows(2).all(|w| w[0] <= w[1]), "{worst:?}");
    assert_eq!(data["agents"].as_array().expect("agents").len(), 3);
}
