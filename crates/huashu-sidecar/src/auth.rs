//! Bearer tokens (`Authorization: Bearer …`) and short-lived single-use tickets for browser WebSockets
//! (a browser cannot set headers on a WebSocket: it gets a ticket over an authenticated POST and puts it in
//! the URL, `?ticket=…`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

/// Tickets outstanding at once (older expired ones are pruned first; beyond this, issuing fails).
const MAX_TICKETS: usize = 10_000;

#[derive(Debug)]
pub struct Auth {
    tokens: Vec<String>,
    ttl: Duration,
    tickets: Mutex<HashMap<String, Instant>>,
}

/// Compares without stopping at the first difference (no timing hint on how much of a token matched).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Auth {
    pub fn new(tokens: Vec<String>, ttl: Duration) -> Auth {
        Auth {
            tokens,
            ttl,
            tickets: Mutex::new(HashMap::new()),
        }
    }

    pub fn required(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Whether the request carries a valid bearer token (always true when no tokens are configured).
    pub fn check_headers(&self, headers: &HeaderMap) -> bool {
        if !self.required() {
            return true;
        }
        let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return false;
        }
        let token = token.trim().as_bytes();
        // Check every token (no early exit on a match either).
        self.tokens
            .iter()
            .fold(false, |ok, t| ct_eq(t.as_bytes(), token) | ok)
    }

    /// Issues a ticket valid for one WebSocket connection within the ttl.
    pub fn issue_ticket(&self) -> Option<(String, u64)> {
        let mut bytes = [0u8; 18];
        getrandom::fill(&mut bytes).ok()?;
        let ticket: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut tickets = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        tickets.retain(|_, expires| *expires > now);
        if tickets.len() >= MAX_TICKETS {
            return None;
        }
        tickets.insert(ticket.clone(), now + self.ttl);
        Some((ticket, self.ttl.as_secs()))
    }

    /// Redeems a ticket (single use).
    pub fn redeem(&self, ticket: &str) -> bool {
        let mut tickets = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        match tickets.remove(ticket) {
            Some(expires) => expires > Instant::now(),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_and_tickets() {
        let auth = Auth::new(vec!["s3cret".into()], Duration::from_secs(60));
        let mut h = HeaderMap::new();
        assert!(!auth.check_headers(&h));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert!(auth.check_headers(&h));
        h.insert(AUTHORIZATION, HeaderValue::from_static("bearer s3cre"));
        assert!(!auth.check_headers(&h));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic s3cret"));
        assert!(!auth.check_headers(&h));
        let (t, _) = auth.issue_ticket().expect("ticket");
        assert!(auth.redeem(&t));
        assert!(!auth.redeem(&t), "single use");
        assert!(!auth.redeem("nope"));
        let expired = Auth::new(vec!["x".into()], Duration::ZERO);
        let (t, _) = expired.issue_ticket().expect("ticket");
        assert!(!expired.redeem(&t));
        assert!(Auth::new(vec![], Duration::ZERO).check_headers(&HeaderMap::new()));
    }
}
