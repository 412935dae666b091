#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
//! Headless Chromium driven over the DevTools protocol, shared by the console and practice-tab tests.

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Cdp {
    ws: super::Ws,
    next: u64,
    /// Console errors and uncaught exceptions seen so far.
    pub errors: Vec<String>,
}

impl Cdp {
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
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

    pub async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    pub async fn wait_for(&mut self, expr: &str) {
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

pub fn base64_decode(s: &str) -> Vec<u8> {
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

/// A running headless Chromium with one page attached; killed on drop.
pub struct Browser {
    pub cdp: Cdp,
    pub profile: tempfile::TempDir,
    child: std::process::Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Chromium and attaches to its page, or None (test skipped) when Chromium is not installed and
/// HUASHU_REQUIRE_CHROMIUM is not set.
pub async fn launch() -> Option<Browser> {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("HUASHU_REQUIRE_CHROMIUM").is_err(),
            "HUASHU_REQUIRE_CHROMIUM is set but {CHROMIUM} is missing"
        );
        eprintln!("skipped: {CHROMIUM} not installed (apt-get install chromium)");
        return None;
    }
    let profile = tempfile::tempdir().unwrap();
    let chrome = std::process::Command::new(CHROMIUM)
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
    let (_, list) = super::http(devtools, "GET", "/json/list", None, None).await;
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
    Some(Browser {
        cdp,
        profile,
        child: chrome,
    })
}
