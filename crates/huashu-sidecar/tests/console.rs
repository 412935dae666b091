#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The agent-assist console in a real headless Chromium (Debian's `chromium`), driven over the DevTools
//! protocol: start a session, paste a customer and an agent line, type a draft; the findings, suggestions,
//! rewrite and structure score must render with no console error. Takes a screenshot (HUASHU_SCREENSHOT).
//! Skips when Chromium is absent unless HUASHU_REQUIRE_CHROMIUM=1 (scripts/test.sh installs it and sets it).

mod common;

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const CHROMIUM: &str = "/usr/bin/chromium";

struct Cdp {
    ws: common::Ws,
    next: u64,
    /// Console errors and uncaught exceptions seen so far.
    errors: Vec<String>,
}

impl Cdp {
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.ws
            .send(Message::Text(
                json!({"id": id, "method": method, "params": params})
                    .to_string()
                    .into(),
            ))
            .await
            .unwrap();
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .expect("DevTools answer")
                .unwrap()
                .unwrap();
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            match v["method"].as_str() {
                Some("Runtime.exceptionThrown") => self
                    .errors
                    .push(v["params"]["exceptionDetails"].to_string()),
                Some("Runtime.consoleAPICalled") if v["params"]["type"] == "error" => {
                    self.errors.push(v["params"]["args"].to_string())
                }
                Some("Log.entryAdded") if v["params"]["entry"]["level"] == "error" => {
                    self.errors.push(v["params"]["entry"]["text"].to_string())
                }
                _ => {}
            }
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    async fn wait_for(&mut self, expr: &str) {
        for _ in 0..200 {
            if self.eval(expr).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let dom = self.eval("document.body.innerText").await;
        panic!("timed out waiting for {expr}; page: {dom}");
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("HUASHU_REQUIRE_CHROMIUM").is_err(),
            "HUASHU_REQUIRE_CHROMIUM is set but {CHROMIUM} is missing"
        );
        eprintln!("skipped: {CHROMIUM} not installed (apt-get install chromium)");
        return;
    }
    let srv = common::start(common::config()).await;
    let profile = tempfile::tempdir().unwrap();
    let mut chrome = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Chromium writes its DevTools port to the profile directory.
    let port_file = profile.path().join("DevToolsActivePort");
    let mut port = None;
    for _ in 0..300 {
        if let Ok(s) = std::fs::read_to_string(&port_file) {
            if let Some(p) = s.lines().next().and_then(|l| l.trim().parse::<u16>().ok()) {
                port = Some(p);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let port = port.expect("chromium started with DevTools");
    let devtools = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let (_, list) = common::http(devtools, "GET", "/json/list", None, None).await;
    let targets: Value = serde_json::from_str(&list).unwrap();
    let page = targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "page")
        .expect("a page target");
    let url = page["webSocketDebuggerUrl"].as_str().unwrap();
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut cdp = Cdp {
        ws,
        next: 0,
        errors: Vec::new(),
    };
    cdp.call("Runtime.enable", json!({})).await;
    cdp.call("Log.enable", json!({})).await;
    cdp.call("Page.enable", json!({})).await;
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
    )
    .await;
    cdp.call(
        "Page.navigate",
        json!({"url": format!("http://{}/", srv.addr)}),
    )
    .await;
    cdp.wait_for("document.readyState === 'complete' && !!window.huashuConsole")
        .await;
    cdp.eval("document.getElementById('convid').value = 'browser-1'; document.getElementById('start').click(); true")
        .await;
    cdp.wait_for("!document.getElementById('send').disabled")
        .await;
    // Paste two lines (role prefixes), send.
    cdp.eval(
        "document.getElementById('text').value = '客户：我的快递三天了还没到，我要投诉！\\n客服：这不是我的问题，你自己看说明书';\
         document.getElementById('send').click(); true",
    )
    .await;
    cdp.wait_for("document.querySelectorAll('#turns mark').length >= 2")
        .await;
    cdp.wait_for("document.getElementById('structure-score').textContent !== '–'")
        .await;
    cdp.eval(
        "document.getElementById('text').value = '非常抱歉给您带来不便，我马上为您处理';\
         document.getElementById('send').click(); true",
    )
    .await;
    // An agent draft: findings and the compliant rewrite before sending.
    cdp.eval(
        "const t = document.getElementById('text'); t.value = '这个我不知道，你问别人吧';\
         t.dispatchEvent(new Event('input')); true",
    )
    .await;
    cdp.wait_for("!document.getElementById('draft').hidden && document.querySelectorAll('#draft-marked mark').length >= 1")
        .await;
    cdp.wait_for("document.getElementById('draft-rewrite').textContent !== document.getElementById('text').value")
        .await;
    let text = cdp.eval("document.body.innerText").await;
    let text = text.as_str().unwrap();
    for needle in [
        "F004",
        "F007",
        "这个问题我会协调相关同事处理",
        "coaching",
        "zh-CN@",
    ] {
        assert!(
            text.to_lowercase().contains(&needle.to_lowercase()),
            "console lacks {needle}: {text}"
        );
    }
    let state = cdp.eval("JSON.stringify(window.huashuConsole)").await;
    let state: Value = serde_json::from_str(state.as_str().unwrap()).unwrap();
    assert_eq!(state["errors"], 0, "{state}");
    assert!(state["findings"].as_u64().unwrap() >= 3, "{state}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shot = cdp
        .call("Page.captureScreenshot", json!({"format": "png"}))
        .await;
    let png = base64_decode(shot["data"].as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"));
    // HUASHU_SCREENSHOT=docs/console.png refreshes the committed picture.
    let out = std::env::var("HUASHU_SCREENSHOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| profile.path().join("console.png"));
    std::fs::write(&out, &png).unwrap();
    // Flush events that arrived after the last call.
    cdp.eval("true").await;
    assert!(cdp.errors.is_empty(), "console errors: {:?}", cdp.errors);
    let _ = chrome.kill();
    let _ = chrome.wait();
    srv.shutdown();
    srv.stopped().await;
}
