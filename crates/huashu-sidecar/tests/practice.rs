#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The console's Practice tab in a real headless Chromium (Debian's `chromium`), driven over the DevTools
//! protocol: pick a drill, answer badly then well; feedback, the customer's reaction, the score and the tips
//! must render with no console error. Takes a screenshot (HUASHU_PRACTICE_SCREENSHOT). Also the REST API.
//! Skips when Chromium is absent unless HUASHU_REQUIRE_CHROMIUM=1 (scripts/test.sh installs it and sets it).

mod common;

use std::time::Duration;

use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn practice_tab_in_headless_chromium() {
    let Some(mut browser) = common::chromium::launch().await else {
        return;
    };
    let srv = common::start(common::config()).await;
    let profile = browser.profile.path().to_path_buf();
    let cdp = &mut browser.cdp;
    cdp.call(
        "Page.navigate",
        json!({"url": format!("http://{}/#practice", srv.addr)}),
    )
    .await;
    cdp.wait_for("document.readyState === 'complete' && !!window.huashuPractice")
        .await;
    cdp.wait_for("window.huashuPractice.drills >= 10").await;
    assert_eq!(
        cdp.eval("document.getElementById('assist-view').hidden")
            .await,
        json!(true)
    );
    // A failing reply first: no empathy, a forbidden phrase; the customer reacts (branch).
    cdp.eval("document.getElementById('drill-select').value = 'logistics-delay'; document.getElementById('drill-start').click(); true")
        .await;
    cdp.wait_for("!document.getElementById('practice-send').disabled")
        .await;
    cdp.eval(
        "document.getElementById('practice-text').value = '快递慢不是我们的问题，你自己查一下物流吧。';\
         document.getElementById('practice-send').click(); true",
    )
    .await;
    cdp.wait_for("window.huashuPractice.replies === 1").await;
    let text = cdp
        .eval("document.getElementById('practice-turns').innerText")
        .await;
    let text = text.as_str().unwrap();
    for needle in [
        "F008",
        "→ 我帮您查询一下",
        "合规改写：快递慢这个问题我会协调相关同事处理，我帮您查询一下物流吧。",
        "本轮 0 分 · 累计 0 分",
        "你这是什么态度？",
        // The feedback's own labels (huashu::drill::Words::label), as `huashu drill` prints them.
        "共情 ✗",
    ] {
        assert!(text.contains(needle), "practice lacks {needle}: {text}");
    }
    // Then the model reply: the drill ends with a summary and tips.
    cdp.eval(
        "document.getElementById('practice-text').value = '如果明天还没送到，我会为您补发一件新的商品，并全程跟进，明天中午十二点前给您回复。';\
         document.getElementById('practice-send').click(); true",
    )
    .await;
    cdp.wait_for("window.huashuPractice.done").await;
    let state = cdp.eval("JSON.stringify(window.huashuPractice)").await;
    let state: Value = serde_json::from_str(state.as_str().unwrap()).unwrap();
    assert_eq!(state["passed"], false, "{state}");
    assert_eq!(state["score"], 50, "{state}");
    assert_eq!(state["errors"], 0, "{state}");
    let verdict = cdp
        .eval("document.getElementById('practice-verdict').textContent")
        .await;
    assert_eq!(verdict, json!("50/100 未通过 FAIL"));
    let tips = cdp.eval("Array.from(document.querySelectorAll('#practice-tips li')).map(l => l.textContent).join('\\n')").await;
    let tips = tips.as_str().unwrap();
    assert!(tips.starts_with("empathy客户投诉时先共情"), "{tips}");
    assert!(tips.contains("F008先替客户查好"), "{tips}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shot = cdp
        .call("Page.captureScreenshot", json!({"format": "png"}))
        .await;
    let png = common::chromium::base64_decode(shot["data"].as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"));
    let out = std::env::var("HUASHU_PRACTICE_SCREENSHOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| profile.as_path().join("practice.png"));
    std::fs::write(&out, &png).unwrap();
    cdp.eval("true").await;
    assert!(cdp.errors.is_empty(), "console errors: {:?}", cdp.errors);
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test]
async fn drills_over_rest() {
    let srv = common::start(common::config()).await;
    let (status, body) = common::http(srv.addr, "GET", "/v1/drills", None, None).await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 11, "{list}");
    let (status, body) = common::http(
        srv.addr,
        "GET",
        "/v1/drills/%E7%89%A9%E6%B5%81%E5%BB%B6%E8%AF%AF",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let drill: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(drill["id"], "logistics-delay");
    let (status, _) = common::http(srv.addr, "GET", "/v1/drills/nope", None, None).await;
    assert_eq!(status, 404);
    // The finance drill is judged by its own ruleset.
    let (status, body) = common::http(
        srv.addr,
        "POST",
        "/v1/drills/wealth-return-inquiry/attempts",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let a: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(a["ruleset"], "zh-CN-finance@0.1.0");
    assert_eq!(a["customer"], "你们这款理财收益多少？能保本吗？");
    let path = format!(
        "/v1/drills/wealth-return-inquiry/attempts/{}/replies",
        a["attempt"].as_str().unwrap()
    );
    let (status, body) = common::http(
        srv.addr,
        "POST",
        &path,
        None,
        Some(r#"{"text":"这款理财保本保息，年化肯定能达到5%，您放心买。"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["feedback"]["step_score"], 0, "{r}");
    assert_eq!(
        r["customer"], "那太好了，你保证的啊！我现在就买十万，你帮我下单吧。",
        "{r}"
    );
    assert!(r.get("summary").is_none());
    let (status, body) = common::http(srv.addr, "POST", &path, None, Some(r#"{"text":"好的，购买前需要先完成风险测评，产品风险等级要与您的风险承受能力匹配，请您先完成测评。"}"#)).await;
    assert_eq!(status, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["summary"]["passed"], false, "{r}");
    assert_eq!(r["summary"]["fatal"], true, "{r}");
    assert_eq!(r["customer"], Value::Null);
    let (status, body) = common::http(
        srv.addr,
        "POST",
        &path,
        None,
        Some(r#"{"text":"再来一句"}"#),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = common::http(srv.addr, "POST", &path, None, Some(r#"{"txt":"x"}"#)).await;
    assert_eq!(status, 400);
    let (status, _) = common::http(
        srv.addr,
        "POST",
        "/v1/drills/logistics-delay/attempts/nope/replies",
        None,
        Some(r#"{"text":"x"}"#),
    )
    .await;
    assert_eq!(status, 404);
    srv.shutdown();
    srv.stopped().await;
}
