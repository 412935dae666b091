//! `integrations.chatwoot.base_url` parsed: where Chatwoot's API is. Here, beside the configuration,
//! so that checking `huashu.toml` does not reach into the adapter that posts the notes.

use axum::http::Uri;

/// Where Chatwoot's API is: `http://host[:port][/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `host[:port]` for the `Host` header.
    pub(crate) authority: String,
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
