#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The agent-assist console in a real headless Chromium (Debian's `chromium`), driven over the DevTools
//! protocol: start a session, paste a customer and an agent line, type a draft; the findings, suggestions,
//! rewrite and structure score must render with no console error. Takes a screenshot (HUASHU_SCREENSHOT).
//! Skips when Chromium is absent unless HUASHU_REQUIRE_CHROMIUM=1 (scripts/test.sh installs it and sets it).

mod common;

use std::time::Duration;

use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_headless_chromium() {
    let Some(mut browser) = common::chromium::launch().await else {
        return;
    };
    let srv = common::start(common::config()).await;
    let profile = browser.profile.path().to_path_buf();
    let cdp = &mut browser.cdp;
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
        "const t = document.getElementById('text'); t.value = '这个我不知道';\
         t.dispatchEvent(new Event('input')); true",
    )
    .await;
    cdp.wait_for("!document.getElementById('draft').hidden && document.querySelectorAll('#draft-marked mark').length >= 1")
        .await;
    cdp.wait_for("document.getElementById('draft-rewrite').textContent === '这个我帮您查询一下'")
        .await;
    cdp.wait_for("!document.getElementById('use-rewrite').disabled")
        .await;
    // A draft with no rewrite free of findings: the console says why and offers nothing to use.
    cdp.eval(
        "const t2 = document.getElementById('text'); t2.value = '你问别人吧';\
         t2.dispatchEvent(new Event('input')); true",
    )
    .await;
    cdp.wait_for("document.getElementById('draft-rewrite').textContent.startsWith('none (no compliant rewrite: F006')")
        .await;
    cdp.wait_for("document.getElementById('use-rewrite').disabled")
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
    let png = common::chromium::base64_decode(shot["data"].as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"));
    // HUASHU_SCREENSHOT=docs/console.png refreshes the committed picture.
    let out = std::env::var("HUASHU_SCREENSHOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| profile.as_path().join("console.png"));
    std::fs::write(&out, &png).unwrap();
    // Flush events that arrived after the last call.
    cdp.eval("true").await;
    assert!(cdp.errors.is_empty(), "console errors: {:?}", cdp.errors);
    srv.shutdown();
    srv.stopped().await;
}
