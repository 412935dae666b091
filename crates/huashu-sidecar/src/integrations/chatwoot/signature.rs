//! Chatwoot's webhook signature: `X-Chatwoot-Signature: sha256=<hex>` is HMAC-SHA256 with the webhook's
//! secret over `"{X-Chatwoot-Timestamp}.{raw body}"` (Chatwoot `lib/webhooks/trigger.rb`, since the
//! per-webhook secrets of 2026). The timestamp is inside the signed string, so a captured delivery can only
//! be replayed within `max_skew_s`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-chatwoot-signature";
pub const TIMESTAMP_HEADER: &str = "x-chatwoot-timestamp";

/// Why a delivery was refused; the text goes back in the 401 body, so an operator can tell a wrong secret
/// from a clock problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    MissingSignature,
    MissingTimestamp,
    BadTimestamp,
    Stale { skew_s: u64, max_s: u64 },
    Malformed,
    Mismatch,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::MissingSignature => write!(
                f,
                "missing X-Chatwoot-Signature: this daemon has a Chatwoot secret, so webhooks must be signed"
            ),
            Refused::MissingTimestamp => write!(f, "missing X-Chatwoot-Timestamp"),
            Refused::BadTimestamp => write!(f, "X-Chatwoot-Timestamp is not a number of seconds"),
            Refused::Stale { skew_s, max_s } => write!(
                f,
                "X-Chatwoot-Timestamp is {skew_s} s away from this server's clock (max_skew_s = {max_s}): \
                 a replay, or a clock out of sync"
            ),
            Refused::Malformed => {
                write!(
                    f,
                    "X-Chatwoot-Signature is not of the form sha256=<64 hex digits>"
                )
            }
            Refused::Mismatch => write!(
                f,
                "X-Chatwoot-Signature does not match: the secret differs from the webhook's in Chatwoot, or \
                 the body was changed on the way"
            ),
        }
    }
}

/// Checks one delivery against `secret`, with `now` in Unix seconds.
///
/// # Errors
/// Why the delivery is refused.
pub fn verify(
    secret: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: u64,
    max_skew_s: u64,
) -> Result<(), Refused> {
    let signature = signature.ok_or(Refused::MissingSignature)?.trim();
    let timestamp = timestamp.ok_or(Refused::MissingTimestamp)?.trim();
    let ts: u64 = timestamp.parse().map_err(|_| Refused::BadTimestamp)?;
    let skew_s = now.abs_diff(ts);
    if skew_s > max_skew_s {
        return Err(Refused::Stale {
            skew_s,
            max_s: max_skew_s,
        });
    }
    let hex = signature
        .strip_prefix("sha256=")
        .ok_or(Refused::Malformed)?;
    let expected = decode_hex(hex).ok_or(Refused::Malformed)?;
    let mut mac = mac(secret);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    // Constant-time comparison (hmac's `verify_slice`).
    mac.verify_slice(&expected).map_err(|_| Refused::Mismatch)
}

/// The header value Chatwoot would send for `body` at `timestamp` (tests and tools sign with it).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"event":"message_created","id":1}"#;

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut m = mac("Jefe");
        m.update(b"what do ya want for nothing?");
        let hex: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signs_timestamp_dot_body() {
        // The same digest as HMAC over the concatenated string.
        let mut m = mac("s3cret");
        m.update(b"1700000000.");
        m.update(BODY);
        let hex: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sign("s3cret", "1700000000", BODY), format!("sha256={hex}"));
    }

    #[test]
    fn accepts_a_good_signature_within_the_skew() {
        let sig = sign("s3cret", "1700000000", BODY);
        assert_eq!(
            verify(
                "s3cret",
                Some(&sig),
                Some("1700000000"),
                BODY,
                1_700_000_100,
                300
            ),
            Ok(())
        );
        let upper = format!("sha256={}", sig["sha256=".len()..].to_ascii_uppercase());
        assert_eq!(
            verify(
                "s3cret",
                Some(&upper),
                Some("1700000000"),
                BODY,
                1_700_000_000,
                300
            ),
            Ok(())
        );
    }

    #[test]
    fn refuses_each_bad_delivery_with_its_reason() {
        let sig = sign("s3cret", "1700000000", BODY);
        let at = |s: Option<&str>, t: Option<&str>, body: &[u8], now| {
            verify("s3cret", s, t, body, now, 300)
        };
        assert_eq!(
            at(None, Some("1700000000"), BODY, 1_700_000_000),
            Err(Refused::MissingSignature)
        );
        assert_eq!(
            at(Some(&sig), None, BODY, 1_700_000_000),
            Err(Refused::MissingTimestamp)
        );
        assert_eq!(
            at(Some(&sig), Some("yesterday"), BODY, 1_700_000_000),
            Err(Refused::BadTimestamp)
        );
        assert_eq!(
            at(Some(&sig), Some("1700000000"), BODY, 1_700_000_301),
            Err(Refused::Stale {
                skew_s: 301,
                max_s: 300
            })
        );
        assert_eq!(
            at(Some("deadbeef"), Some("1700000000"), BODY, 1_700_000_000),
            Err(Refused::Malformed)
        );
        assert_eq!(
            at(
                Some(&sig),
                Some("1700000000"),
                br#"{"event":"message_created","id":2}"#,
                1_700_000_000
            ),
            Err(Refused::Mismatch)
        );
        // A fresh timestamp on an old signature does not pass: the timestamp is signed.
        assert_eq!(
            at(Some(&sig), Some("1700000001"), BODY, 1_700_000_000),
            Err(Refused::Mismatch)
        );
        let other = sign("other", "1700000000", BODY);
        assert_eq!(
            at(Some(&other), Some("1700000000"), BODY, 1_700_000_000),
            Err(Refused::Mismatch)
        );
    }
}
