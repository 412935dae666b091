//! Posting a private note through Chatwoot's API
//! (`POST {base}/api/v1/accounts/{account}/conversations/{conversation}/messages`, header `api_access_token`)
//! with hyper's HTTP/1.1 client connection — the stack the daemon already serves with, so no second HTTP
//! client. One connection per note (notes are one per flagged agent message); each attempt has a time
//! limit, failures on the network, timeouts, 429 and 5xx are retried a bounded number of times with a
//! doubling pause, anything else is final.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;
use serde_json::json;

/// Where Chatwoot's API is: `http://host[:port][/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase {
    host: String,
    port: u16,
    /// `host[:port]` for the `Host` header.
    authority: String,
    /// Path before `/api/v1`, without a trailing slash (empty for most installations).
    prefix: String,
}

impl ApiBase {
    /// # Errors
    /// A text naming what is wrong with `url`.
    pub fn parse(url: &str) -> Result<ApiBase, String> {
        let uri: Uri = url
            .trim()
            .parse()
            .map_err(|e| format!("base_url {url:?} is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "base_url {url:?}: https is not supported by the daemon's HTTP client; use Chatwoot's \
                     internal http:// address, or a local TLS-originating proxy (docs/integrations.md)"
                ));
            }
            _ => return Err(format!("base_url {url:?} must start with http://")),
        }
        let Some(authority) = uri.authority() else {
            return Err(format!("base_url {url:?} has no host"));
        };
        if authority.as_str().contains('@') {
            return Err(format!(
                "base_url {url:?}: put the token in api_token, not in the URL"
            ));
        }
        if uri.query().is_some() {
            return Err(format!("base_url {url:?} must not have a query"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        Ok(ApiBase {
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(80),
            authority: authority.as_str().to_string(),
            prefix: uri.path().trim_end_matches('/').to_string(),
        })
    }

    /// The request target of a conversation's messages.
    pub fn messages_path(&self, account: u64, conversation: u64) -> String {
        format!(
            "{}/api/v1/accounts/{account}/conversations/{conversation}/messages",
            self.prefix
        )
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_base_urls() {
        let b = ApiBase::parse("http://chatwoot.internal:3000/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.host, "chatwoot.internal");
        assert_eq!(b.port, 3000);
        assert_eq!(b.authority, "chatwoot.internal:3000");
        assert_eq!(
            b.messages_path(1, 42),
            "/api/v1/accounts/1/conversations/42/messages"
        );
        let p = ApiBase::parse("http://10.0.0.5/support").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.port, p.prefix.as_str()), (80, "/support"));
        assert_eq!(
            p.messages_path(2, 7),
            "/support/api/v1/accounts/2/conversations/7/messages"
        );
        let v6 = ApiBase::parse("http://[::1]:8080").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 8080));
    }

    #[test]
    fn refuses_what_it_cannot_post_to() {
        for (url, says) in [
            ("https://app.chatwoot.com", "https is not supported"),
            ("chatwoot:3000", "must start with http://"),
            ("http://user:pw@chatwoot", "api_token"),
            ("http://chatwoot/?x=1", "query"),
            ("not a url", "not a URL"),
        ] {
            match ApiBase::parse(url) {
                Err(e) => assert!(e.contains(says), "{url}: {e}"),
                Ok(b) => panic!("{url} accepted: {b:?}"),
            }
        }
    }
}
