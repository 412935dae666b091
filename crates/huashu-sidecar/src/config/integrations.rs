//! `[integrations]` in `huashu.toml`: one section per adapter, plus what all calls share.

use std::net::SocketAddr;

use serde::Deserialize;

/// What every adapter shares, and each adapter's section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrationsConfig {
    /// How long a finished call's final scorecard stays readable at `GET /v1/conversations/{id}`.
    pub retain_s: u64,
    /// After a connection drops without ending the call, how long the call waits for the platform to
    /// reconnect with the same call id before it ends.
    pub reconnect_ms: u64,
    /// Recognition language of calls (`zh`, `en`, `auto`; default: `audio.language`).
    pub language: Option<String>,
    pub freeswitch: FreeswitchConfig,
    pub twilio: TwilioConfig,
    pub audiohook: AudiohookConfig,
    pub audiosocket: AudiosocketConfig,
    pub chatwoot: super::ChatwootConfig,
}

impl Default for IntegrationsConfig {
    fn default() -> Self {
        IntegrationsConfig {
            retain_s: 600,
            reconnect_ms: 3000,
            language: None,
            freeswitch: FreeswitchConfig::default(),
            twilio: TwilioConfig::default(),
            audiohook: AudiohookConfig::default(),
            audiosocket: AudiosocketConfig::default(),
            chatwoot: super::ChatwootConfig::default(),
        }
    }
}

/// `mod_audio_fork` / `mod_audio_stream`: they cannot add headers to the upgrade, so a shared token in the
/// URL (`?token=`) stands for a signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FreeswitchConfig {
    pub enabled: bool,
    /// When set, connections must carry `?token=<this>` (else the sidecar's bearer token or a ticket).
    pub token: Option<String>,
}

impl Default for FreeswitchConfig {
    fn default() -> Self {
        FreeswitchConfig {
            enabled: true,
            token: None,
        }
    }
}

/// Twilio Media Streams.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwilioConfig {
    pub enabled: bool,
    /// The account's auth token: when set, `X-Twilio-Signature` must be valid.
    pub auth_token: Option<String>,
    /// The URL Twilio connects to, as written in the TwiML (`wss://assist.example.com/v1/integrations/twilio`),
    /// which Twilio signs; default: `wss://` + the request's `Host` + its path (right behind a TLS proxy
    /// that keeps `Host`).
    pub url: Option<String>,
    /// The party on the `inbound` track (the caller's audio); `outbound` is the other one.
    pub inbound: String,
}

impl Default for TwilioConfig {
    fn default() -> Self {
        TwilioConfig {
            enabled: true,
            auth_token: None,
            url: None,
            inbound: "customer".into(),
        }
    }
}

/// Genesys Cloud AudioHook.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudiohookConfig {
    pub enabled: bool,
    /// The integration's API key: when set, `X-API-KEY` must equal it (and the signature's `keyid`).
    pub api_key: Option<String>,
    /// The integration's client secret (base64, as Genesys shows it): when set, the HTTP message
    /// signature (HMAC-SHA256) must be valid.
    pub client_secret: Option<String>,
}

impl Default for AudiohookConfig {
    fn default() -> Self {
        AudiohookConfig {
            enabled: true,
            api_key: None,
            client_secret: None,
        }
    }
}

/// Asterisk AudioSocket: a TCP listener (none by default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudiosocketConfig {
    /// Where to listen for AudioSocket connections, e.g. `127.0.0.1:9092` (none: no listener).
    pub listen: Option<SocketAddr>,
}
