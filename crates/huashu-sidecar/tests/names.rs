#![allow(clippy::unwrap_used)]
//! One word per job (ARCHITECTURE.md, "Names"): `POST /v1/scan` scans a turn; `/v1/check`, its older name,
//! answers byte for byte the same.

mod common;

use common::{config, http, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_and_its_old_name_check_answer_the_same_bytes() {
    let srv = start(config()).await;
    let body = r#"{"role":"agent","text":"這不是我的問題，你自己看說明書","id":3}"#;
    let (s1, scan) = http(srv.addr, "POST", "/v1/scan", None, Some(body)).await;
    let (s2, check) = http(srv.addr, "POST", "/v1/check", None, Some(body)).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(scan, check);
    assert!(scan.contains("\"rule\":\"F004\""), "{scan}");
    let (s3, bad) = http(srv.addr, "POST", "/v1/scan", None, Some("{")).await;
    assert_eq!(s3, 400);
    assert!(bad.contains("bad_json"), "{bad}");
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_scan_sees_the_previous_turn_it_is_given() {
    let srv = start(config()).await;
    // A bare yes is a safety promise only as the answer to a pregnancy question (P030).
    let alone = r#"{"role":"agent","text":"可以的 这款不影响哦"}"#;
    let (s1, without) = http(srv.addr, "POST", "/v1/scan", None, Some(alone)).await;
    assert_eq!(s1, 200, "{without}");
    assert!(!without.contains("P030"), "{without}");
    let answer = r#"{"role":"agent","text":"可以的 这款不影响哦","previous":"备孕能用吗"}"#;
    let (s2, with) = http(srv.addr, "POST", "/v1/scan", None, Some(answer)).await;
    assert_eq!(s2, 200, "{with}");
    let v: serde_json::Value = serde_json::from_str(&with).unwrap();
    let spans: Vec<(&str, u64, u64, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["start"].as_u64().unwrap(),
                f["end"].as_u64().unwrap(),
                f["matched"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(spans, [("P030", 0, 3, "可以的"), ("P030", 6, 9, "不影响")]);
    // The same answer line `huashu scan --previous` gives (the rewrite is withheld, not offered).
    assert!(v["rewrite"].is_null(), "{with}");
    // The last exchange: the code was named in the agent's own question, the customer only said 可以 (V030).
    let ask = r#"{"role":"agent","text":"还麻烦告知下呢","previous":"可以"}"#;
    let (s3, bare) = http(srv.addr, "POST", "/v1/scan", None, Some(ask)).await;
    assert_eq!(s3, 200, "{bare}");
    assert!(!bare.contains("V030"), "{bare}");
    let ask = r#"{"role":"agent","text":"还麻烦告知下呢","previous":"可以","own_previous":"这边发送验证码到您的手机，可以吗"}"#;
    let (s4, exchange) = http(srv.addr, "POST", "/v1/scan", None, Some(ask)).await;
    assert_eq!(s4, 200, "{exchange}");
    let v: serde_json::Value = serde_json::from_str(&exchange).unwrap();
    assert_eq!(v["findings"][0]["rule"], "V030", "{exchange}");
    assert_eq!(v["findings"][0]["matched"], "告知", "{exchange}");
    srv.shutdown();
    srv.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_learned_models_run_only_when_the_config_says_so() {
    let body = r#"{"role":"agent","text":"这款产品您就放心买吧，用个十年八年一点问题都没有"}"#;
    let srv = start(config()).await;
    let (s, live) = http(srv.addr, "POST", "/v1/scan", None, Some(body)).await;
    assert_eq!(s, 200, "{live}");
    assert!(live.contains(r#""findings":[]"#), "{live}");
    srv.shutdown();
    srv.stopped().await;
    let mut c = config();
    c.learned = true;
    let srv = start(c).await;
    let (s, scored) = http(srv.addr, "POST", "/v1/scan", None, Some(body)).await;
    assert_eq!(s, 200, "{scored}");
    assert!(
        scored.contains(r#""rule":"L-promise""#)
            && scored.contains(r#""matched":"用个十年八年一点问题都没有""#),
        "{scored}"
    );
    srv.shutdown();
    srv.stopped().await;
}
