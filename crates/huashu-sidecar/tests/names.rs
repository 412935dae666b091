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
