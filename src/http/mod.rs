//! The only module that knows axum: the router, pages, JSON API, WebSocket and embedded assets.

mod accounts;
mod assets;
mod auth_api;
mod conn_limit;
mod dashboard;
mod docs_api;
mod error;
mod history_api;
mod history_page;
mod metrics;
mod pages;
mod rate;
mod session;
mod sharing_api;
mod ws;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, header},
    middleware,
    response::IntoResponse,
    routing::get,
};
use prometheus_client::registry::Registry;
use tower_http::{
    compression::CompressionLayer, set_header::SetResponseHeaderLayer, trace::TraceLayer,
};

use crate::{auth::LoginThrottle, config::Config, hub::Hubs, ot::OtLimits, store::Store};

pub use error::ApiError;

/// Everything a handler may use, passed explicitly; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub throttle: Arc<LoginThrottle>,
    pub registry: Arc<Registry>,
    pub hubs: Hubs,
    pub ot_limits: Arc<OtLimits>,
    /// Open WebSockets per user.
    connections: Arc<conn_limit::UserConnections>,
    /// Named versions and restores per user (`limits.versions_per_minute`).
    version_writes: Arc<rate::KeyedBuckets>,
    /// Guest accounts made through share links (`sharing.guests_per_*`).
    guest_joins: Arc<rate::GuestJoins>,
    http_metrics: Arc<metrics::HttpMetrics>,
}

impl AppState {
    /// Builds the state; `registry` receives the HTTP metrics here, and other modules' metrics before this call.
    pub fn new(config: Arc<Config>, store: Store, hubs: Hubs, mut registry: Registry) -> AppState {
        let http_metrics = metrics::HttpMetrics::register(&mut registry);
        let throttle = LoginThrottle::new(config.auth.login_max_failures, config.auth.login_window);
        let version_writes = rate::KeyedBuckets::per_minute(config.limits.versions_per_minute);
        let guest_joins = rate::GuestJoins::per_minute(
            config.guests_per_address_per_minute,
            config.guests_per_minute,
        );
        AppState {
            ot_limits: Arc::new(ot_limits(&config.limits)),
            config,
            store,
            throttle: Arc::new(throttle),
            registry: Arc::new(registry),
            hubs,
            connections: Arc::default(),
            version_writes: Arc::new(version_writes),
            guest_joins: Arc::new(guest_joins),
            http_metrics: Arc::new(http_metrics),
        }
    }
}

fn ot_limits(limits: &crate::config::Limits) -> OtLimits {
    OtLimits {
        max_components: limits.max_components,
        max_doc_len: limits.max_doc_len,
        max_embed_bytes: limits.max_embed_bytes,
        max_attribute_keys: limits.max_attribute_keys,
        ..OtLimits::default()
    }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.limits.max_message_bytes + 64 * 1024;
    Router::new()
        .merge(pages::routes())
        .merge(dashboard::routes())
        .merge(auth_api::routes())
        .merge(docs_api::routes())
        .merge(sharing_api::routes())
        .merge(history_api::routes())
        .merge(history_page::routes())
        .route("/api/docs/{id}/ws", get(ws::upgrade))
        .route("/assets/{*path}", get(assets::serve))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics::render))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::session_layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CompressionLayer::new())
        .layer(security_header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found().into_response()
    } else {
        error::PageError::not_found().into_response()
    }
}
