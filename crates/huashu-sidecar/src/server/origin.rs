//! Which browser pages and host names may talk to the daemon: `Origin` and `Host` checks (against web pages
//! the agent opens, and DNS rebinding). Enforced with no tokens (the default, loopback mode), or whenever
//! `allowed_origins` / `allowed_hosts` is set.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::errors::error_response;
use crate::app::App;
use crate::config::Config;
use crate::metrics as m;
use crate::protocol::{ProtoError, code};

/// The host name of a `Host` value or an origin's authority (`name`, `name:port`, `[v6]:port`), lowercase.
fn host_name(authority: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_string();
    }
    let name = match a.rsplit_once(':') {
        Some((n, port)) if port.chars().all(|c| c.is_ascii_digit()) => n,
        _ => a.as_str(),
    };
    name.trim_end_matches('.').to_string()
}

fn is_localhost(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// A `Host` the daemon answers to: an IP literal (DNS rebinding needs a name), `localhost`, or one of
/// `allowed_hosts` (`*`: any).
pub(super) fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    name.parse::<IpAddr>().is_ok()
        || is_localhost(&name)
        || allowed.iter().any(|a| {
            a == "*"
                || a.eq_ignore_ascii_case(host.trim())
                || host_name(a) == name && !a.contains(':')
        })
}

/// An `Origin` allowed to call: the daemon's own (same authority as `Host`), a loopback page, or one of
/// `allowed_origins` (`*`: any; `null` must be listed to be allowed).
pub(super) fn origin_allowed(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    let origin = origin.trim().trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some((_, authority)) = origin.split_once("://") else {
        return false;
    };
    if host.is_some_and(|h| h.trim().eq_ignore_ascii_case(authority)) {
        return true;
    }
    let name = host_name(authority);
    is_localhost(&name) || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn enforced(config: &Config, list: &[String]) -> bool {
    !config.auth_required() || !list.is_empty()
}

/// Refuses a foreign `Host` or `Origin` with 403 `forbidden` (WebSocket upgrades, REST, SSE, everything).
pub(super) async fn check_origin(
    State(app): State<Arc<App>>,
    req: Request,
    next: Next,
) -> Response {
    let c = &app.config;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    if enforced(c, &c.allowed_hosts) {
        if let Some(h) = host.filter(|h| !host_allowed(h, &c.allowed_hosts)) {
            m::rejected("host");
            return error_response(
                StatusCode::FORBIDDEN,
                &ProtoError::new(
                    code::FORBIDDEN,
                    format!("host {h:?} is not allowed (allowed_hosts)"),
                ),
            );
        }
    }
    if enforced(c, &c.allowed_origins) {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .map(|v| v.to_str().unwrap_or("?"));
        if let Some(o) = origin.filter(|o| !origin_allowed(o, host, &c.allowed_origins)) {
            m::rejected("origin");
            return error_response(
                StatusCode::FORBIDDEN,
                &ProtoError::new(
                    code::FORBIDDEN,
                    format!("origin {o:?} is not allowed (allowed_origins)"),
                ),
            );
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let none: Vec<String> = Vec::new();
        for ok in [
            "127.0.0.1:8787",
            "localhost:8787",
            "[::1]:8787",
            "10.0.0.5",
            "app.localhost",
        ] {
            assert!(host_allowed(ok, &none), "{ok}");
        }
        for bad in [
            "evil.example:8787",
            "evil.example",
            "localhost.evil.example",
        ] {
            assert!(!host_allowed(bad, &none), "{bad}");
        }
        let list = vec!["assist.internal".to_string()];
        assert!(host_allowed("assist.internal:8787", &list));
        assert!(host_allowed("ASSIST.internal", &list));
        assert!(host_allowed("anything", &["*".to_string()]));
    }

    #[test]
    fn origins() {
        let none: Vec<String> = Vec::new();
        let host = Some("127.0.0.1:8787");
        assert!(origin_allowed("http://127.0.0.1:8787", host, &none));
        assert!(origin_allowed("http://localhost:3000", host, &none));
        assert!(origin_allowed("http://[::1]:3000", host, &none));
        assert!(!origin_allowed("http://evil.example", host, &none));
        assert!(!origin_allowed("null", host, &none));
        assert!(!origin_allowed(
            "http://127.0.0.1.evil.example",
            host,
            &none
        ));
        let list = vec!["https://crm.example".to_string()];
        assert!(origin_allowed("https://crm.example", host, &list));
        assert!(!origin_allowed("http://crm.example", host, &list));
        assert!(origin_allowed("null", host, &["null".to_string()]));
    }
}
