//! The router and the serve loop with hot reload and graceful shutdown. Routes by group:
//! `routes_conversations.rs` (WebSocket upgrade, REST utterances, scores, SSE), `routes_scan.rs`
//! (`/v1/scan`, alias `/v1/check`), `routes_drills.rs` (practice), `routes_admin.rs` (tickets, readiness, metrics, OpenAPI);
//! error bodies in `errors.rs`. The shared state is `crate::app::App`.

mod errors;
mod origin;
mod routes_admin;
mod routes_conversations;
mod routes_drills;
mod routes_integrations;
mod routes_scan;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::app::App;
use crate::config::Config;
use crate::console;
use crate::error::SidecarError;
use crate::metrics as m;
use crate::protocol::{ProtoError, code};
use errors::error_response;
pub use routes_admin::OPENAPI;
use routes_admin::{metrics, openapi, readyz, ticket};
use routes_conversations::{end_conversation, events, get_score, post_utterance, stream};
use routes_drills::{drill, drill_attempt, drill_reply, drill_summary, drills};
use routes_scan::scan;

/// The whole HTTP surface.
pub fn router(app: Arc<App>) -> Router {
    let (integrations, integrations_api) = routes_integrations::routes(&app);
    let api = Router::new()
        .route("/v1/scan", post(scan))
        // The older name of /v1/scan.
        .route("/v1/check", post(scan))
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
        .merge(integrations_api)
        .merge(crate::integrations::api_routes())
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            require_bearer,
        ));
    Router::new()
        .merge(api)
        .merge(integrations)
        .route("/v1/stream", get(stream))
        .merge(crate::integrations::ws_routes())
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/", get(console::index))
        .route("/console.js", get(console::script))
        .route("/console.css", get(console::style))
        .layer(DefaultBodyLimit::max(app.config.limits.max_frame_bytes))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            errors::read_body,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            origin::check_origin,
        ))
        .layer(middleware::from_fn(errors::json_errors))
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
    if let Some(a) = crate::integrations::audiosocket::listen(&app).await? {
        eprintln!("huashu serve: AudioSocket on {a}");
        let _ = app.integrations.audiosocket_addr.set(a);
    }
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
            let mut trimmed = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                app.registry.reap(idle);
                m::upkeep();
                if trimmed.elapsed() >= crate::memory::TRIM_EVERY {
                    trimmed = tokio::time::Instant::now();
                    app.check(crate::memory::release_free_memory).await;
                }
            }
        })
    };
    let router = router(Arc::clone(&app));
    let app2 = Arc::clone(&app);
    let task = tokio::spawn(async move {
        serve_http(listener, router, Arc::clone(&app2)).await;
        // WebSocket connections are not tracked by the HTTP server: wait for them to send their final
        // scores and close, and for notes still being posted to platforms, by the same deadline.
        let deadline = app2.shutdown_deadline().await;
        let _ = tokio::time::timeout_at(deadline, async {
            loop {
                let notified = app2.conn_done.notified();
                if app2.connections.load(Ordering::SeqCst) == 0 {
                    break;
                }
                notified.await;
            }
            app2.background_finished().await;
        })
        .await;
        reaper.abort();
        drop(watcher);
    });
    Ok(Running { app, addr, task })
}

/// Open HTTP connections (not counting upgraded WebSockets, which the app counts).
#[derive(Default)]
struct HttpConns {
    open: AtomicUsize,
    done: Notify,
}

struct HttpGuard(Arc<HttpConns>);

impl Drop for HttpGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        self.0.done.notify_waiters();
    }
}

/// Accepts HTTP/1.1 connections until shutdown. Each connection must send its headers within
/// `header_timeout_ms`; at shutdown, each finishes its request in flight by the shutdown deadline
/// (`shutdown_grace_ms`) or is dropped — a half-sent request never holds the daemon up.
async fn serve_http(listener: TcpListener, router: Router, app: Arc<App>) {
    let conns = Arc::new(HttpConns::default());
    let mut stop = app.shutdown_rx();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|v| *v) => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Out of file descriptors and the like: back off a little rather than spin.
                eprintln!("huashu serve: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        conns.open.fetch_add(1, Ordering::SeqCst);
        let guard = HttpGuard(Arc::clone(&conns));
        let service = TowerToHyperService::new(router.clone());
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let _guard = guard;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_millis(app.config.limits.header_timeout_ms));
            let conn = builder
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(conn);
            let mut stop = app.shutdown_rx();
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.wait_for(|v| *v) => {}
            }
            conn.as_mut().graceful_shutdown();
            let deadline = app.shutdown_deadline().await;
            let _ = tokio::time::timeout_at(deadline, conn).await;
        });
    }
    drop(listener);
    let deadline = app.shutdown_deadline().await;
    let _ = tokio::time::timeout_at(deadline, async {
        loop {
            let notified = conns.done.notified();
            if conns.open.load(Ordering::SeqCst) == 0 {
                break;
            }
            notified.await;
        }
    })
    .await;
}

/// Runs the daemon until SIGTERM or Ctrl-C, then shuts down gracefully. Builds its own runtime.
///
/// # Errors
/// As [`start`].
pub fn run(config: Config) -> Result<(), SidecarError> {
    // Before the runtime's threads exist: one arena per check thread (the cores, at least 2).
    crate::memory::limit_arenas(std::thread::available_parallelism().map_or(2, |n| n.get().max(2)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        // Listen for signals before the port opens: a supervisor (or a test) that sees the port may send SIGTERM at
        // once, and a signal that arrives before the handler exists kills the process with nothing saved.
        let signals = Signals::install();
        let running = start(config).await?;
        let app = &running.app;
        // Only the version: a held `Loaded` would pin the startup engine for the daemon's whole life (one
        // engine's memory more after the first reload).
        let version = app.engines.current().version.clone();
        eprintln!(
            "huashu serve: listening on http://{} (ruleset {}{}, auth {})",
            running.addr,
            version,
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
        let cw = &app.config.integrations.chatwoot;
        if cw.enabled {
            eprintln!(
                "huashu serve: Chatwoot webhook on /v1/integrations/chatwoot ({}; notes {})",
                if cw.secret.is_some() { "signature checked" } else { "unsigned deliveries accepted" },
                cw.base_url
                    .as_deref()
                    .map_or("off: no base_url".to_string(), |u| format!("to {u}"))
            );
        }
        let app = Arc::clone(&running.app);
        tokio::spawn(async move {
            signals.wait().await;
            eprintln!("huashu serve: shutting down (finishing in-flight sessions)");
            app.begin_shutdown();
        });
        running.stopped().await;
        eprintln!("huashu serve: stopped");
        Ok(())
    })
}

/// SIGTERM and Ctrl-C, registered when created (not when first awaited).
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            if self.term.is_none() && self.int.is_none() {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
            tokio::select! {
                () = recv(&mut self.term) => {}
                () = recv(&mut self.int) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
