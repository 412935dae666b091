//! Integration endpoints (`/v1/integrations/…`): each platform's module decides, this maps its answer to
//! HTTP. Chatwoot's webhook is outside the bearer check (Chatwoot cannot send a token: its deliveries are
//! signed instead); its status is behind it.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::errors::{error_response, proto_status, shutting_down};
use crate::app::App;
use crate::integrations::chatwoot::Chatwoot;

/// `(public, behind the bearer check)` routes of the integrations.
pub(super) fn routes(app: &Arc<App>) -> (Router<Arc<App>>, Router<Arc<App>>) {
    let chatwoot = Arc::new(Chatwoot::new(&app.config.integrations.chatwoot));
    let cw = Arc::clone(&chatwoot);
    let public = Router::new().route(
        "/v1/integrations/chatwoot",
        post(
            move |State(app): State<Arc<App>>, headers: HeaderMap, body: axum::body::Bytes| {
                let cw = Arc::clone(&cw);
                async move {
                    if app.shutting_down() {
                        return shutting_down();
                    }
                    match cw.webhook(&app, &headers, &body).await {
                        Ok(v) => axum::Json(v).into_response(),
                        Err(e) => error_response(proto_status(&e), &e),
                    }
                }
            },
        ),
    );
    let protected = Router::new().route(
        "/v1/integrations/chatwoot/status",
        get(move || {
            let cw = Arc::clone(&chatwoot);
            async move { axum::Json(cw.status()).into_response() }
        }),
    );
    (public, protected)
}
