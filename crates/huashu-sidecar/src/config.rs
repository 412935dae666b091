//! `huashu.toml`: where to listen, which ruleset, who may connect, and the limits. `[integrations]` is
//! `integrations.rs` beside it (with the Chatwoot API address in `chatwoot_api.rs`): the adapters read
//! their configuration from here, never the other way.

pub mod chatwoot_api;
pub mod integrations;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::error::SidecarError;

/// Environment variable with extra bearer tokens, comma-separated.
pub const TOKENS_ENV: &str = "HUASHU_TOKENS";

/// The daemon's configuration. Every field has a default, so `huashu serve` runs with no file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (TLS is left to a proxy).
    pub listen: SocketAddr,
    /// A bundled ruleset name or a ruleset directory; a directory is watched and hot-reloaded.
    pub ruleset: String,
    /// Run the ruleset's learned models after the rules (docs/learned.md). Off: live assist offers words and a
    /// fix, which a model finding has not; turn it on where the daemon scores finished conversations.
    pub learned: bool,
    /// Bearer tokens accepted on the API (more from `HUASHU_TOKENS`). None at all: no auth (loopback only).
    pub tokens: Vec<String>,
    /// Allow running without tokens on a non-loopback address.
    pub allow_anonymous: bool,
    /// Browser origins (`scheme://host[:port]`, or `*`) allowed besides the daemon's own and loopback pages.
    /// Checked with no tokens, or whenever set; a request with another `Origin` gets 403 `forbidden`.
    pub allowed_origins: Vec<String>,
    /// `Host` names allowed besides IP literals and `localhost` (or `*`). Checked with no tokens, or whenever
    /// set (against DNS rebinding); another `Host` gets 403 `forbidden`.
    pub allowed_hosts: Vec<String>,
    pub limits: Limits,
    pub reload: Reload,
    pub audio: AudioConfig,
    /// Platforms that call the daemon in their own format (`[integrations]`, docs/integrations.md).
    pub integrations: integrations::IntegrationsConfig,
}

/// Environment variable with the Chatwoot API access token (when `integrations.chatwoot.api_token` is not set).
pub const CHATWOOT_TOKEN_ENV: &str = "HUASHU_CHATWOOT_TOKEN";
/// Environment variable with the Chatwoot webhook secret (when `integrations.chatwoot.secret` is not set).
pub const CHATWOOT_SECRET_ENV: &str = "HUASHU_CHATWOOT_SECRET";

/// `POST /v1/integrations/chatwoot`: Chatwoot's webhook in, private notes back through its API.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatwootConfig {
    /// Off by default: the route answers 404 until an operator turns it on.
    pub enabled: bool,
    /// Where Chatwoot's API is, `http://host[:port][/prefix]`. None: findings go only to the sidecar's own
    /// listeners, no notes are posted.
    pub base_url: Option<String>,
    /// The `api_access_token` notes are posted with (an agent's or an agent bot's; default: `HUASHU_CHATWOOT_TOKEN`).
    pub api_token: Option<String>,
    /// The webhook's signing secret (`X-Chatwoot-Signature`; default: `HUASHU_CHATWOOT_SECRET`). None: unsigned
    /// webhooks are accepted, which is refused when the daemon requires bearer tokens.
    pub secret: Option<String>,
    /// A signed webhook whose `X-Chatwoot-Timestamp` is further than this from now is refused (replays).
    pub max_skew_s: u64,
    /// Connecting to Chatwoot's API.
    pub connect_timeout_ms: u64,
    /// One note request, connect included.
    pub request_timeout_ms: u64,
    /// Attempts after the first for a note that failed on the network, timed out, or got 429/5xx.
    pub retries: u32,
    /// Wait before the first retry; doubled for each next one.
    pub retry_backoff_ms: u64,
    /// Notes being posted at once; beyond it a note is dropped (and counted), never queued without bound.
    pub max_pending_notes: usize,
}

/// The token and the secret are never printed.
impl std::fmt::Debug for ChatwootConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "<set>" } else { "<none>" };
        f.debug_struct("ChatwootConfig")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("api_token", &set(&self.api_token))
            .field("secret", &set(&self.secret))
            .field("max_skew_s", &self.max_skew_s)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("retries", &self.retries)
            .field("retry_backoff_ms", &self.retry_backoff_ms)
            .field("max_pending_notes", &self.max_pending_notes)
            .finish()
    }
}

impl Default for ChatwootConfig {
    fn default() -> Self {
        ChatwootConfig {
            enabled: false,
            base_url: None,
            api_token: None,
            secret: None,
            max_skew_s: 300,
            connect_timeout_ms: 2_000,
            request_timeout_ms: 5_000,
            retries: 2,
            retry_backoff_ms: 500,
            max_pending_notes: 256,
        }
    }
}

/// Environment variable naming the ggml Whisper model for live audio (when `audio.model` is not set).
pub const WHISPER_MODEL_ENV: &str = "HUASHU_WHISPER_MODEL";

/// Live audio on `/v1/stream` (needs the `audio` build feature and a model).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioConfig {
    /// A ggml Whisper model, loaded once at start (default: `HUASHU_WHISPER_MODEL`). None: no live audio.
    pub model: Option<std::path::PathBuf>,
    /// Language when `audio.start` names none: `zh`, `en` or `auto`.
    pub language: String,
    /// Whisper threads per recognition (1 on a busy machine: ggml threads spin-wait).
    pub threads: usize,
    /// Recognitions at once across all connections (0: the cores divided by `threads`, at least one: ggml
    /// threads spin-wait, so recognitions never share a core).
    pub pool: usize,
    /// Open audio streams across all connections (each holds a Whisper decoding state); beyond it
    /// `audio.start` gets `capacity`.
    pub max_streams: usize,
    /// whisper.cpp's Silero VAD model (default: the cached one, `scripts/fetch-model silero`, if there is
    /// one). With it, a partial or final whose audio holds no speech by Silero is not recognised: the energy
    /// segmenter takes loud noise and music on hold for speech, and Whisper "hears" words in them.
    pub silero_vad: Option<std::path::PathBuf>,
    /// Recognise every piece the energy segmenter cuts, even with a Silero model at hand.
    pub energy_vad_only: bool,
}

impl Default for AudioConfig {
    fn default() -> Self {
        AudioConfig {
            model: None,
            language: "zh".into(),
            threads: 1,
            pool: 0,
            max_streams: 16,
            silero_vad: None,
            energy_vad_only: false,
        }
    }
}

/// Bounds that keep one client from hurting the others.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Concurrent conversations (and WebSocket connections); beyond it: 503 / close 1013.
    pub max_sessions: usize,
    /// Largest WebSocket text frame or HTTP body accepted, in bytes (close 1009 / 413 beyond).
    pub max_frame_bytes: usize,
    /// Inputs (finals and control messages) queued per connection before the server stops reading it.
    pub queue_depth: usize,
    /// Output messages queued per connection.
    pub out_queue: usize,
    /// A send to a client that does not read for this long closes its connection.
    pub write_timeout_ms: u64,
    /// A REST conversation with no activity for this long is ended (final score sent to its SSE listeners).
    pub idle_timeout_s: u64,
    /// Lifetime of a WebSocket ticket (`POST /v1/tickets`).
    pub ticket_ttl_s: u64,
    /// On SIGTERM, how long in-flight sessions and HTTP requests get to finish: one deadline for everything.
    pub shutdown_grace_ms: u64,
    /// A client must send a request's headers within this long (also idle keep-alive connections).
    pub header_timeout_ms: u64,
    /// A client must send a request's body within this long (408 `timeout` beyond).
    pub body_timeout_ms: u64,
    /// A WebSocket with no session in progress for this long is closed (1008, after an `error` `idle`).
    pub ws_idle_timeout_ms: u64,
    /// Server-sent event streams open at once (listening to a conversation, started or not); beyond: 503.
    pub max_listeners: usize,
    /// Bytes of messages one utterance or draft may produce; beyond it the remaining findings are not sent
    /// (an `error` `output_too_large` says how many; the score counts them all).
    pub max_output_bytes: usize,
    /// Utterances and drafts checked at once across the daemon, off the async threads (0: the number of cores).
    pub check_threads: usize,
    /// WebSocket utterances and drafts of at most this many bytes are checked on the async thread that read
    /// them, skipping the hop to the `check_threads` pool and back (two thread wake-ups). Off (0) by default:
    /// a flood of such checks keeps the async threads from parking, which delays timers and the shutdown
    /// signal (in a debug build, a 300 ms timer fired after 19 s under 40 pipelining clients).
    pub inline_check_bytes: usize,
}

/// Ruleset hot reload.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reload {
    /// Watch the ruleset directory (when `ruleset` is a directory).
    pub watch: bool,
    /// Quiet time after the last change before reloading.
    pub debounce_ms: u64,
    /// Also run every rule's examples (`huashu check`) before accepting a new version.
    pub selftest: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            ruleset: "zh-CN".into(),
            learned: false,
            tokens: Vec::new(),
            allow_anonymous: false,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            limits: Limits::default(),
            reload: Reload::default(),
            audio: AudioConfig::default(),
            integrations: integrations::IntegrationsConfig::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 5000,
            max_frame_bytes: 64 * 1024,
            queue_depth: 64,
            out_queue: 256,
            write_timeout_ms: 10_000,
            idle_timeout_s: 1800,
            ticket_ttl_s: 60,
            shutdown_grace_ms: 10_000,
            header_timeout_ms: 10_000,
            body_timeout_ms: 10_000,
            ws_idle_timeout_ms: 60_000,
            max_listeners: 5000,
            max_output_bytes: 256 * 1024,
            check_threads: 0,
            inline_check_bytes: 0,
        }
    }
}

impl Default for Reload {
    fn default() -> Self {
        Reload {
            watch: true,
            debounce_ms: 300,
            selftest: true,
        }
    }
}

impl Limits {
    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }
}

impl Config {
    /// Reads `huashu.toml`.
    ///
    /// # Errors
    /// An unreadable file, invalid TOML or an unknown field.
    pub fn from_file(path: &Path) -> Result<Config, SidecarError> {
        let text = std::fs::read_to_string(path).map_err(|source| SidecarError::ConfigRead {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text).map_err(|e| match e {
            SidecarError::Config(message) => SidecarError::ConfigParse {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    /// Parses the text of a `huashu.toml`.
    ///
    /// # Errors
    /// Invalid TOML or an unknown field.
    pub fn from_toml(text: &str) -> Result<Config, SidecarError> {
        toml::from_str(text).map_err(|e| SidecarError::Config(e.to_string()))
    }

    /// Adds the tokens from `HUASHU_TOKENS` and checks the limits.
    ///
    /// # Errors
    /// A zero limit, or no tokens on a non-loopback address without `allow_anonymous`.
    pub fn finish(mut self) -> Result<Config, SidecarError> {
        if let Ok(env) = std::env::var(TOKENS_ENV) {
            self.tokens.extend(
                env.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from),
            );
        }
        self.tokens.retain(|t| !t.is_empty());
        if cfg!(feature = "audio") && self.audio.model.is_none() {
            self.audio.model = std::env::var_os(WHISPER_MODEL_ENV)
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from);
        }
        if self.audio.model.is_some() && !cfg!(feature = "audio") {
            return Err(SidecarError::Config(
                "audio.model is set but this build has no live audio (build with the `audio` feature)"
                    .into(),
            ));
        }
        self.integrations.chatwoot.finish(self.tokens.is_empty())?;
        let l = &self.limits;
        if l.max_sessions == 0
            || l.max_frame_bytes < 256
            || l.queue_depth == 0
            || l.out_queue == 0
            || l.max_listeners == 0
            || l.max_output_bytes < 4096
            || l.header_timeout_ms == 0
            || l.body_timeout_ms == 0
            || l.ws_idle_timeout_ms == 0
        {
            return Err(SidecarError::Config(
                "limits: max_sessions, max_listeners, queue_depth, out_queue and the timeouts must be > 0, \
                 max_frame_bytes ≥ 256, max_output_bytes ≥ 4096"
                    .into(),
            ));
        }
        if self.tokens.is_empty() && !self.listen.ip().is_loopback() && !self.allow_anonymous {
            return Err(SidecarError::Config(format!(
                "no bearer tokens (config `tokens` or {TOKENS_ENV}) while listening on {}; \
                 set tokens, or allow_anonymous = true",
                self.listen
            )));
        }
        Ok(self)
    }

    /// Whether requests must carry a token.
    pub fn auth_required(&self) -> bool {
        !self.tokens.is_empty()
    }
}

impl ChatwootConfig {
    /// Fills the token and secret from the environment and checks the section (when enabled).
    fn finish(&mut self, no_tokens: bool) -> Result<(), SidecarError> {
        let env = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        if self.api_token.is_none() {
            self.api_token = env(CHATWOOT_TOKEN_ENV);
        }
        if self.secret.is_none() {
            self.secret = env(CHATWOOT_SECRET_ENV);
        }
        self.secret = self.secret.take().filter(|s| !s.is_empty());
        self.api_token = self.api_token.take().filter(|s| !s.is_empty());
        if !self.enabled {
            return Ok(());
        }
        let fail = |m: String| Err(SidecarError::Config(format!("integrations.chatwoot: {m}")));
        if let Some(url) = &self.base_url {
            if let Err(e) = chatwoot_api::ApiBase::parse(url) {
                return fail(e);
            }
            if self.api_token.is_none() {
                return fail(format!(
                    "base_url is set but there is no api_token (or {CHATWOOT_TOKEN_ENV}) to post notes with"
                ));
            }
        } else if self.api_token.is_some() {
            return fail("api_token is set but base_url is not: where is Chatwoot's API?".into());
        }
        if self.secret.is_none() && !no_tokens {
            return fail(format!(
                "set a secret (or {CHATWOOT_SECRET_ENV}): this daemon requires bearer tokens and Chatwoot \
                 cannot send one, so its webhooks must be signed"
            ));
        }
        if self.connect_timeout_ms == 0
            || self.request_timeout_ms == 0
            || self.max_pending_notes == 0
            || self.max_skew_s == 0
        {
            return fail("connect_timeout_ms, request_timeout_ms, max_skew_s and max_pending_notes must be > 0".into());
        }
        Ok(())
    }
}
