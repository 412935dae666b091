//! Posting a private note through Chatwoot's API
//! (`POST {base}/api/v1/accounts/{account}/conversations/{conversation}/messages`, header `api_access_token`)
//! with hyper's HTTP/1.1 client connection — the stack the daemon already serves with, so no second HTTP
//! client. One connection per note (notes are one per flagged agent message); each attempt has a time
//! limit, failures on the network, timeouts, 429 and 5xx are retried a bounded number of times with a
//! doubling pause, anything else is final.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::config::chatwoot_api::ApiBase;

/// Time limits and retries of one note.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
}

/// How a note went: `Ok(attempts)`, or the last error with the attempts made.
pub type Delivery = Result<u32, (String, u32)>;

/// One attempt's failure: whether another attempt may succeed.
struct Failed {
    retry: bool,
    why: String,
}

/// Posts `content` as a private note, retrying as `policy` says; `on_retry` is told before each retry.
pub async fn post_note(
    base: &ApiBase,
    token: &str,
    account: u64,
    conversation: u64,
    content: &str,
    policy: Policy,
    mut on_retry: impl FnMut(),
) -> Delivery {
    let body = json!({"content": content, "private": true, "message_type": "outgoing"}).to_string();
    let path = base.messages_path(account, conversation);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let once = tokio::time::timeout(
            policy.request_timeout,
            send_once(base, token, &path, &body, policy.connect_timeout),
        )
        .await
        .unwrap_or_else(|_| {
            Err(Failed {
                retry: true,
                why: format!("no answer within {} ms", policy.request_timeout.as_millis()),
            })
        });
        match once {
            Ok(()) => return Ok(attempt),
            Err(f) if f.retry && attempt <= policy.retries => {
                on_retry();
                let pause = policy.backoff.saturating_mul(1 << (attempt - 1).min(10));
                tokio::time::sleep(pause).await;
            }
            Err(f) => return Err((f.why, attempt)),
        }
    }
}

async fn send_once(
    base: &ApiBase,
    token: &str,
    path: &str,
    body: &str,
    connect_timeout: Duration,
) -> Result<(), Failed> {
    let net = |why: String| Failed { retry: true, why };
    let tcp = tokio::time::timeout(
        connect_timeout,
        tokio::net::TcpStream::connect((base.host.as_str(), base.port)),
    )
    .await
    .map_err(|_| net(format!("connecting to {} timed out", base.authority)))?
    .map_err(|e| net(format!("cannot connect to {}: {e}", base.authority)))?;
    let _ = tcp.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| net(format!("HTTP handshake with {}: {e}", base.authority)))?;
    // The connection is driven while this request lives, and dropped with it.
    let driver = tokio::spawn(conn);
    let result = async {
        let req = Request::post(path)
            .header(header::HOST, &base.authority)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header("api_access_token", token)
            .body(Body::from(body.to_string()))
            .map_err(|e| Failed {
                retry: false,
                why: format!("cannot build the request: {e}"),
            })?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| net(format!("request to {} failed: {e}", base.authority)))?;
        let status = resp.status();
        // The body says why Chatwoot refused; a few KiB is plenty for the log.
        let text = axum::body::to_bytes(Body::new(resp.into_body()), 4096)
            .await
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .trim()
                    .chars()
                    .take(300)
                    .collect::<String>()
            })
            .unwrap_or_default();
        if status.is_success() {
            return Ok(());
        }
        let retry = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        Err(Failed {
            retry,
            why: format!("Chatwoot answered {status}: {text}"),
        })
    }
    .await;
    driver.abort();
    result
}
