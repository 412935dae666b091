//! The platforms' signatures: Twilio's `X-Twilio-Signature` (HMAC-SHA1 of the URL, base64) and the HTTP
//! message signature (RFC 9421, HMAC-SHA256) Genesys AudioHook puts on its WebSocket upgrade. Comparisons
//! are constant-time (`hmac`'s `verify_slice`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};

type HmacSha1 = Hmac<sha1::Sha1>;
type HmacSha256 = Hmac<sha2::Sha256>;

/// Whether `signature` (base64) is Twilio's signature of `url` with `auth_token`. A WebSocket upgrade is a
/// GET: the signed text is the URL alone (query included), no POST parameters.
pub fn twilio_valid(auth_token: &str, url: &str, signature: &str) -> bool {
    let Ok(sig) = B64.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha1::new_from_slice(auth_token.as_bytes()) else {
        return false;
    };
    mac.update(url.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// Why a message signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// A request as the signature sees it.
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query, as sent (`@request-target`).
    pub target: &'a str,
    /// Header value by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    /// Seconds since the Unix epoch.
    pub now: u64,
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// Clock skew allowed on `created`/`expires` (the reference implementation's 3 s).
const SKEW: u64 = 3;

/// Verifies the HTTP message signature (RFC 9421) of an AudioHook upgrade: the `Signature-Input`
/// member's components, rebuilt into the signature base, HMAC-SHA256 with the base64-decoded client
/// secret, equal to the `Signature` member of the same label. The signature must cover
/// `audiohook-session-id` and `x-api-key`, name `keyid` = the API key, and not be expired.
///
/// # Errors
/// [`Refused`] with the reason.
pub fn verify_message(
    req: &Request<'_>,
    api_key: &str,
    client_secret: &str,
) -> Result<(), Refused> {
    let refuse = |s: &str| Err(Refused(s.to_string()));
    let Some(input) = (req.header)("signature-input") else {
        return refuse("no Signature-Input header");
    };
    let Some(signature) = (req.header)("signature") else {
        return refuse("no Signature header");
    };
    // The first member of Signature-Input: label=("c1" "c2" …);params
    let Some((label, member)) = input.split_once('=') else {
        return refuse("Signature-Input is not label=(…)");
    };
    let label = label.trim();
    let member = member.trim();
    let member = member.split(", ").next().unwrap_or(member);
    let Some(rest) = member.strip_prefix('(') else {
        return refuse("Signature-Input member is not an inner list");
    };
    let Some((list, params)) = rest.split_once(')') else {
        return refuse("Signature-Input inner list is not closed");
    };
    let components: Vec<&str> = list
        .split_whitespace()
        .map(|c| c.trim_matches('"'))
        .collect();
    let param = |name: &str| {
        params.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
        })
    };
    if param("alg").is_some_and(|a| a != "hmac-sha256") {
        return refuse("unsupported signature algorithm (hmac-sha256 only)");
    }
    if param("keyid").as_deref() != Some(api_key) {
        return refuse("keyid is not this integration's API key");
    }
    if let Some(created) = param("created").and_then(|v| v.parse::<u64>().ok()) {
        if created > req.now + SKEW {
            return refuse("signature created in the future");
        }
    }
    if let Some(expires) = param("expires").and_then(|v| v.parse::<u64>().ok()) {
        if expires + SKEW < req.now {
            return refuse("signature expired");
        }
    }
    for needed in ["audiohook-session-id", "x-api-key"] {
        if !components.contains(&needed) {
            return Err(Refused(format!("the signature does not cover {needed}")));
        }
    }
    let mut base = String::new();
    for c in &components {
        let value = match *c {
            "@request-target" => req.target.to_string(),
            "@method" => req.method.to_string(),
            "@path" => req.target.split('?').next().unwrap_or("").to_string(),
            "@query" => match req.target.split_once('?') {
                Some((_, q)) => format!("?{q}"),
                None => "?".to_string(),
            },
            "@authority" => match (req.header)("host") {
                Some(h) => h.trim().to_ascii_lowercase(),
                None => return refuse("no Host for @authority"),
            },
            name if name.starts_with('@') => {
                return Err(Refused(format!("unsupported derived component {name}")));
            }
            name => match (req.header)(name) {
                Some(v) => v.trim().to_string(),
                None => return Err(Refused(format!("header {name} is signed but absent"))),
            },
        };
        base.push_str(&format!("\"{c}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {member}"));
    let Some(sig) = signature.split(", ").find_map(|m| {
        let (l, v) = m.split_once('=')?;
        (l.trim() == label).then(|| v.trim().trim_matches(':').to_string())
    }) else {
        return Err(Refused(format!("no Signature member labelled {label}")));
    };
    let Ok(sig) = B64.decode(sig) else {
        return refuse("Signature is not base64");
    };
    let Ok(key) = B64.decode(client_secret.trim()) else {
        return refuse("the configured client_secret is not base64");
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(&key) else {
        return refuse("unusable client secret");
    };
    mac.update(base.as_bytes());
    mac.verify_slice(&sig)
        .map_err(|_| Refused("signature mismatch".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature base of RFC 9421 built by hand for these headers, signed independently.
    #[test]
    fn audiohook_signature_verifies_and_any_change_breaks_it() {
        let secret = B64.encode(b"TopSecret");
        let input = r#"sig1=("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" "audiohook-correlation-id" "x-api-key");keyid="key-1";nonce="abc";alg="hmac-sha256";created=1700000000;expires=1700000100"#;
        let base = "\"@request-target\": /v1/integrations/audiohook\n\
                    \"@authority\": assist.example.com\n\
                    \"audiohook-organization-id\": org-1\n\
                    \"audiohook-session-id\": sess-1\n\
                    \"audiohook-correlation-id\": corr-1\n\
                    \"x-api-key\": key-1\n\
                    \"@signature-params\": (\"@request-target\" \"@authority\" \"audiohook-organization-id\" \"audiohook-session-id\" \"audiohook-correlation-id\" \"x-api-key\");keyid=\"key-1\";nonce=\"abc\";alg=\"hmac-sha256\";created=1700000000;expires=1700000100";
        let mut mac = HmacSha256::new_from_slice(b"TopSecret").unwrap();
        mac.update(base.as_bytes());
        let sig = format!("sig1=:{}:", B64.encode(mac.finalize().into_bytes()));
        let headers = |session: &'static str, sig: String| {
            move |name: &str| -> Option<String> {
                Some(match name {
                    "signature-input" => input.to_string(),
                    "signature" => sig.clone(),
                    "host" => "Assist.Example.com".into(),
                    "audiohook-organization-id" => "org-1".into(),
                    "audiohook-session-id" => session.into(),
                    "audiohook-correlation-id" => "corr-1".into(),
                    "x-api-key" => "key-1".into(),
                    _ => return None,
                })
            }
        };
        let ok = headers("sess-1", sig.clone());
        let req = |h: &'static dyn Fn(&str) -> Option<String>, now| Request {
            method: "GET",
            target: "/v1/integrations/audiohook",
            header: h,
            now,
        };
        let ok: &'static dyn Fn(&str) -> Option<String> = Box::leak(Box::new(ok));
        assert_eq!(
            verify_message(&req(ok, 1_700_000_050), "key-1", &secret),
            Ok(())
        );
        // Expired, another key, another secret, a changed header.
        assert!(verify_message(&req(ok, 1_700_000_200), "key-1", &secret).is_err());
        assert!(verify_message(&req(ok, 1_700_000_050), "key-2", &secret).is_err());
        assert!(verify_message(&req(ok, 1_700_000_050), "key-1", &B64.encode(b"other")).is_err());
        let changed: &'static dyn Fn(&str) -> Option<String> =
            Box::leak(Box::new(headers("sess-2", sig)));
        assert_eq!(
            verify_message(&req(changed, 1_700_000_050), "key-1", &secret),
            Err(Refused("signature mismatch".into()))
        );
    }

    #[test]
    fn twilio_signature_is_hmac_sha1_of_the_url() {
        let url = "wss://assist.example.com/v1/integrations/twilio";
        let mut mac = HmacSha1::new_from_slice(b"token").unwrap();
        mac.update(url.as_bytes());
        let sig = B64.encode(mac.finalize().into_bytes());
        assert!(twilio_valid("token", url, &sig));
        assert!(!twilio_valid("token2", url, &sig));
        assert!(!twilio_valid("token", &format!("{url}?x=1"), &sig));
        assert!(!twilio_valid("token", url, "not base64!"));
    }
}
