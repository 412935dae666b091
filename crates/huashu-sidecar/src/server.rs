//! The router, the shared state, and the serve loop with hot reload and graceful shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, broadcast, watch};

use crate::auth::Auth;
use crate::config::Config;
use crate::console;
use crate::conv::{Event, Registry};
use crate::engines::Engines;
use crate::error::SidecarError;
use crate::metrics as m;
use crate::protocol::{ProtoError, Utterance, code};
use crate::ws::{self, ConnGuard};

/// Shared state of a running daemon.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub engines: Engines,
    pub registry: Registry,
    pub auth: Auth,
    pub practice: crate::practice::Practice,
    pub connections: AtomicUsize,
    pub conn_done: Notify,
    /// Live audio: set at start when a Whisper model is configured (or by a test with a fake recogniser).
    pub speech: std::sync::OnceLock<crate::audio::Speech>,
    shutdown: watch::Sender<bool>,
}

impl App {
    /// Loads the ruleset and builds the state.
    ///
    /// # Errors
    /// The ruleset cannot be loaded.
    pub fn new(config: Config) -> Result<Arc<App>, SidecarError> {
        m::install();
        let engines = Engines::new(&config.ruleset, config.reload.selftest)?;
        let (shutdown, _) = watch::channel(false);
        let speech = std::sync::OnceLock::new();
        #[cfg(feature = "audio")]
        if let Some(model) = &config.audio.model {
            let factory = crate::audio::WhisperFactory::load(
                model,
                &config.audio.language,
                config.audio.threads,
            )
            .map_err(|e| SidecarError::Model(e.to_string()))?;
            let _ = speech.set(crate::audio::Speech::new(
                Arc::new(factory),
                config.audio.pool,
                config.audio.max_streams,
            ));
        }
        Ok(Arc::new(App {
            speech,
            registry: Registry::new(config.limits.max_sessions),
            auth: Auth::new(
                config.tokens.clone(),
                Duration::from_secs(config.limits.ticket_ttl_s),
            ),
            practice: crate::practice::Practice::new(
                config.limits.max_sessions,
                Duration::from_secs(config.limits.idle_timeout_s),
            ),
            engines,
            connections: AtomicUsize::new(0),
            conn_done: Notify::new(),
            shutdown,
            config,
        }))
    }

    pub fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Stops accepting, asks every session to finish with a final score.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
        for conv in self.registry.rest_conversations() {
            let _ = self.registry.end(&conv, None);
        }
    }
}

/// A JSON error body with a status.
fn error_response(status: StatusCode, e: &ProtoError) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": e.code, "message": e.message}})),
    )
        .into_response()
}

fn proto_status(e: &ProtoError) -> StatusCode {
    match e.code {
        code::CAPACITY | code::SHUTTING_DOWN => StatusCode::SERVICE_UNAVAILABLE,
        code::NO_SESSION | code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::CONFLICT => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The whole HTTP surface.
pub fn router(app: Arc<App>) -> Router {
    let api = Router::new()
        .route("/v1/check", post(check))
        .route("/v1/tickets", post(ticket))
        .route("/v1/conversations/{id}/utterances", post(post_utterance))
        .route(
            "/v1/conversations/{id}",
            get(get_score).delete(end_conversation),
        )
        .route("/v1/conversations/{id}/events", get(events))
        .route("/v1/drills", get(drills))
        .route("/v1/drills/{name}", get(drill))
        .route("/v1/drills/{name}/attempts", post(drill_attempt))
        .route("/v1/drills/{name}/attempts/{id}", get(drill_summary))
        .route("/v1/drills/{name}/attempts/{id}/replies", post(drill_reply))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            require_bearer,
        ));
    Router::new()
        .merge(api)
        .route("/v1/stream", get(stream))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/", get(console::index))
        .route("/console.js", get(console::script))
        .route("/console.css", get(console::style))
        .layer(DefaultBodyLimit::max(app.config.limits.max_frame_bytes))
        .with_state(app)
}

async fn require_bearer(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if app.auth.check_headers(req.headers()) {
        next.run(req).await
    } else {
        m::rejected("unauthorized");
        let mut r = error_response(
            StatusCode::UNAUTHORIZED,
            &ProtoError::new(code::UNAUTHORIZED, "missing or invalid bearer token"),
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    }
}

#[derive(Deserialize)]
struct StreamQuery {
    ticket: Option<String>,
}

async fn stream(
    State(app): State<Arc<App>>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let authorized =
        app.auth.check_headers(&headers) || q.ticket.as_deref().is_some_and(|t| app.auth.redeem(t));
    if !authorized {
        m::rejected("unauthorized");
        return error_response(
            StatusCode::UNAUTHORIZED,
            &ProtoError::new(
                code::UNAUTHORIZED,
                "missing or invalid bearer token or ticket",
            ),
        );
    }
    if app.shutting_down() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &ProtoError::new(code::SHUTTING_DOWN, "the server is shutting down"),
        );
    }
    let max = app.config.limits.max_sessions;
    if app
        .connections
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < max).then_some(n + 1)
        })
        .is_err()
    {
        m::rejected("capacity");
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &ProtoError::new(
                code::CAPACITY,
                format!("at capacity ({max} connections); try again later"),
            ),
        );
    }
    m::connection(1.0);
    let guard = ConnGuard(Arc::clone(&app));
    let limit = app.config.limits.max_frame_bytes;
    // Small socket buffers: most of a held session's memory is these (tungstenite defaults to 128 KiB each).
    ws.read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(limit.saturating_mul(2))
        .max_frame_size(limit.saturating_mul(2))
        .on_upgrade(move |socket| ws::run(socket, guard))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    #[serde(default = "agent")]
    role: String,
    text: String,
    #[serde(default)]
    id: Value,
    #[serde(default)]
    ruleset: Option<String>,
}

fn agent() -> String {
    "agent".into()
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ProtoError> {
    serde_json::from_slice(body).map_err(|e| {
        let c = if e.is_data() {
            code::BAD_MESSAGE
        } else {
            code::BAD_JSON
        };
        ProtoError::new(c, format!("invalid body: {e}"))
    })
}

/// `POST /v1/check`: a stateless draft check, answered as a `huashu scan` output line.
async fn check(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let result = (|| {
        let b: CheckBody = parse_body(&body)?;
        let role = crate::protocol::role(&b.role)?;
        let (_, loaded) = app
            .engines
            .choose(b.ruleset.as_deref())
            .map_err(|e| ProtoError::new(code::UNKNOWN_RULESET, e))?;
        let findings = loaded.engine.check(role, &b.text);
        let rewrite = loaded.engine.compliant_rewrite(role, &b.text, &findings);
        let previews = loaded.engine.previews(role, &b.text);
        let out = huashu::wire::ScanOut::new(&b.id, &findings, &rewrite, &previews);
        m::turn(
            false,
            crate::protocol::Source::Draft,
            &findings,
            Duration::ZERO,
        );
        Ok::<Value, ProtoError>(serde_json::to_value(&out).unwrap_or(Value::Null))
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error_response(proto_status(&e), &e),
    }
}

async fn ticket(State(app): State<Arc<App>>) -> Response {
    match app.auth.issue_ticket() {
        Some((ticket, ttl)) => {
            axum::Json(json!({"ticket": ticket, "expires_in": ttl})).into_response()
        }
        None => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &ProtoError::new(code::CAPACITY, "too many outstanding tickets"),
        ),
    }
}

fn json_or_error(r: Result<Value, ProtoError>) -> Response {
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error_response(proto_status(&e), &e),
    }
}

/// `GET /v1/drills`: the practice drills.
async fn drills(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.practice.list()).into_response()
}

async fn drill(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    json_or_error(app.practice.get(&name))
}

async fn drill_attempt(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    if app.shutting_down() {
        let e = ProtoError::new(code::SHUTTING_DOWN, "the server is shutting down");
        return error_response(proto_status(&e), &e);
    }
    json_or_error(app.practice.start(&app.engines, &name))
}

async fn drill_summary(
    State(app): State<Arc<App>>,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    json_or_error(app.practice.summary(&name, &id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    text: String,
}

async fn drill_reply(
    State(app): State<Arc<App>>,
    Path((name, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    json_or_error(
        parse_body::<ReplyBody>(&body).and_then(|b| app.practice.reply(&name, &id, &b.text)),
    )
}

fn id_value(id: &str) -> Value {
    Value::String(id.to_string())
}

async fn post_utterance(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if app.shutting_down() {
        let e = ProtoError::new(code::SHUTTING_DOWN, "the server is shutting down");
        return error_response(proto_status(&e), &e);
    }
    let result = (|| {
        let u: Utterance = parse_body(&body)?;
        let conv = app.registry.get_or_start(&app.engines, &id_value(&id))?;
        conv.utterance(&app.engines, &u)
    })();
    match result {
        Ok(out) => axum::Json(out.body).into_response(),
        Err(e) => error_response(proto_status(&e), &e),
    }
}

fn score_response(e: Result<Event, ProtoError>) -> Response {
    match e {
        Ok(ev) => (
            [(header::CONTENT_TYPE, "application/json")],
            ev.data.to_string(),
        )
            .into_response(),
        Err(e) => error_response(proto_status(&e), &e),
    }
}

async fn get_score(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let result = app
        .registry
        .get(&id)
        .ok_or_else(|| ProtoError::new(code::NOT_FOUND, "no such conversation"))
        .and_then(|c| c.score(false, None));
    score_response(result)
}

async fn end_conversation(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let result = app
        .registry
        .get(&id)
        .ok_or_else(|| ProtoError::new(code::NOT_FOUND, "no such conversation"))
        .and_then(|c| app.registry.end(&c, None));
    score_response(result)
}

/// `GET /v1/conversations/{id}/events`: the same messages as the WebSocket, as server-sent events. Ends after
/// the final score, or at shutdown.
async fn events(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let conv = match app.registry.listen(&id_value(&id)) {
        Ok(c) => c,
        Err(e) => return error_response(proto_status(&e), &e),
    };
    let rx = conv.subscribe();
    drop(conv);
    let stream = sse_stream(rx, app.shutdown_rx());
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn sse_stream(
    rx: broadcast::Receiver<Event>,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    struct St {
        rx: broadcast::Receiver<Event>,
        shutdown: watch::Receiver<bool>,
        done: bool,
    }
    futures_util::stream::unfold(
        St {
            rx,
            shutdown,
            done: false,
        },
        |mut st| async move {
            if st.done {
                return None;
            }
            loop {
                let stopping = *st.shutdown.borrow();
                let next = if stopping {
                    // Give finishing sessions a moment to send their final score.
                    match tokio::time::timeout(Duration::from_secs(2), st.rx.recv()).await {
                        Ok(r) => r,
                        Err(_) => return None,
                    }
                } else {
                    tokio::select! {
                        r = st.rx.recv() => r,
                        _ = st.shutdown.wait_for(|v| *v) => continue,
                    }
                };
                match next {
                    Ok(e) => {
                        st.done = e.last;
                        let ev = SseEvent::default().event(e.name).data(&*e.data);
                        return Some((Ok(ev), st));
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let ev = SseEvent::default().event("error").data(
                            json!({"type": "error", "code": "lagged",
                                   "message": format!("{n} events were missed: this listener read too slowly")})
                            .to_string(),
                        );
                        return Some((Ok(ev), st));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    )
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let current = app.engines.current();
    let reload = app.engines.status();
    let sessions = app.registry.active();
    let connections = app.connections.load(Ordering::SeqCst);
    let max = app.config.limits.max_sessions;
    let stopping = app.shutting_down();
    let ready = !stopping && sessions < max && connections < max;
    let body = json!({
        "ready": ready,
        "ruleset": current.version,
        "ruleset_source": app.engines.source,
        "generation": current.generation,
        "reload": reload,
        "sessions": sessions,
        "connections": connections,
        "max_sessions": max,
        "shutting_down": stopping,
        "auth": app.auth.required(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        m::render(),
    )
        .into_response()
}

/// The OpenAPI document (hand-written; a test checks it names every route).
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// A running daemon.
#[derive(Debug)]
pub struct Running {
    pub app: Arc<App>,
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Begins a graceful shutdown (as SIGTERM does).
    pub fn shutdown(&self) {
        self.app.begin_shutdown();
    }

    /// Waits until the daemon has stopped.
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

/// Binds and starts serving in the background (on the current tokio runtime).
///
/// # Errors
/// The ruleset cannot be loaded, the address cannot be bound, the directory cannot be watched.
pub async fn start(config: Config) -> Result<Running, SidecarError> {
    let app = App::new(config)?;
    let listener = TcpListener::bind(app.config.listen)
        .await
        .map_err(|source| SidecarError::Bind {
            addr: app.config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let watcher = if app.config.reload.watch && app.engines.is_dir() {
        Some(crate::reload::watch(
            Arc::clone(&app),
            PathBuf::from(&app.engines.source),
        )?)
    } else {
        None
    };
    let reaper = {
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let idle = Duration::from_secs(app.config.limits.idle_timeout_s);
            let mut tick = tokio::time::interval(
                Duration::from_secs(5).min(idle.max(Duration::from_millis(100))),
            );
            loop {
                tick.tick().await;
                app.registry.reap(idle);
            }
        })
    };
    let router = router(Arc::clone(&app));
    let app2 = Arc::clone(&app);
    let task = tokio::spawn(async move {
        let mut rx = app2.shutdown_rx();
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = rx.wait_for(|v| *v).await;
        });
        if let Err(e) = serve.await {
            eprintln!("huashu serve: {e}");
        }
        // WebSocket connections are not tracked by the HTTP server: wait for them to send their final
        // scores and close, within the grace period.
        let grace = Duration::from_millis(app2.config.limits.shutdown_grace_ms);
        let _ = tokio::time::timeout(grace, async {
            loop {
                let notified = app2.conn_done.notified();
                if app2.connections.load(Ordering::SeqCst) == 0 {
                    break;
                }
                notified.await;
            }
        })
        .await;
        reaper.abort();
        drop(watcher);
    });
    Ok(Running { app, addr, task })
}

/// Runs the daemon until SIGTERM or Ctrl-C, then shuts down gracefully. Builds its own runtime.
///
/// # Errors
/// As [`start`].
pub fn run(config: Config) -> Result<(), SidecarError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = start(config).await?;
        let app = &running.app;
        let cur = app.engines.current();
        eprintln!(
            "huashu serve: listening on http://{} (ruleset {}{}, auth {})",
            running.addr,
            cur.version,
            if app.engines.is_dir() && app.config.reload.watch {
                ", watched for changes"
            } else {
                ""
            },
            if app.auth.required() {
                "bearer tokens"
            } else {
                "off: loopback only"
            }
        );
        if let (Some(_), Some(model)) = (app.speech.get(), &app.config.audio.model) {
            eprintln!(
                "huashu serve: live audio on /v1/stream with {} (language {}, {} thread(s) per recognition)",
                model.display(),
                app.config.audio.language,
                app.config.audio.threads
            );
        }
        let app = Arc::clone(&running.app);
        tokio::spawn(async move {
            wait_for_signal().await;
            eprintln!("huashu serve: shutting down (finishing in-flight sessions)");
            app.begin_shutdown();
        });
        running.stopped().await;
        eprintln!("huashu serve: stopped");
        Ok(())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
