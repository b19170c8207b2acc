//! The only module that knows axum: the router, pages, JSON API, WebSocket and embedded assets.

mod account_deletion;
mod account_page;
mod accounts;
mod admin;
mod address_limits;
mod assets;
mod auth_api;
mod client_addr;
mod authors_api;
mod comments_api;
mod conn_limit;
mod dashboard;
mod dates;
mod docs_api;
mod error;
mod history_api;
mod history_page;
mod image_refs;
mod images_api;
mod mention_mail;
mod metrics;
mod notifications_api;
mod notifications_page;
mod oidc;
mod oidc_accounts;
mod pages;
mod password_reset;
mod rate;
mod reads;
mod serve;
mod session;
mod share_mail;
mod sharing_api;
mod user_agents;
mod ws;
mod ws_comments;

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
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{
    auth::{LoginThrottle, oidc::OidcClients},
    cluster::Cluster,
    config::Config,
    hub::Hubs,
    mail::Mailer,
    ot::OtLimits,
    store::Store,
};

pub use error::ApiError;
pub use serve::serve;

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
    pub connections: Arc<conn_limit::UserConnections>,
    /// Permits for argon2 hashing and verification, one per core: each takes about 19 MiB while it runs.
    pub argon2: Arc<tokio::sync::Semaphore>,
    /// Rate limits per client address.
    address_limits: Arc<address_limits::AddressLimits>,
    /// Named versions and restores per user (`limits.versions_per_minute`).
    version_writes: Arc<rate::KeyedBuckets>,
    /// Guest accounts made through share links (`sharing.guests_per_*`).
    guest_joins: Arc<rate::GuestJoins>,
    http_metrics: Arc<metrics::HttpMetrics>,
    /// Replica or primary for reads that tolerate lag, and each person's last write.
    read_routing: Arc<reads::ReadRouting>,
    /// This node's membership, on a cluster node (`cluster.enabled`).
    pub cluster: Option<Cluster>,
    /// Outgoing e-mail, or off (`[mail]`).
    pub mailer: Arc<Mailer>,
    /// E-mails a minute per key: "Forgot your password?" per address asked for (`reset:EMAIL`), so that nobody can
    /// flood someone's inbox, and invitations per sharer (`invite:USER`).
    mail_quota: Arc<rate::KeyedBuckets>,
    /// The single sign-on providers' discovery documents, fetched on first use.
    oidc: Arc<OidcClients>,
}

impl AppState {
    /// Builds the state; `registry` receives the HTTP metrics here, and other modules' metrics before this call.
    pub fn new(
        config: Arc<Config>,
        store: Store,
        hubs: Hubs,
        cluster: Option<Cluster>,
        mut registry: Registry,
    ) -> AppState {
        let http_metrics = metrics::HttpMetrics::register(&mut registry);
        let read_routing = reads::ReadRouting::register(&mut registry);
        let throttle = LoginThrottle::new(config.auth.login_max_failures, config.auth.login_window);
        let version_writes = rate::KeyedBuckets::per_minute(config.limits.versions_per_minute);
        let address_limits = address_limits::AddressLimits::new(&config.limits);
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
            address_limits: Arc::new(address_limits),
            argon2: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            )),
            version_writes: Arc::new(version_writes),
            guest_joins: Arc::new(guest_joins),
            http_metrics: Arc::new(http_metrics),
            read_routing: Arc::new(read_routing),
            cluster,
            mailer: Arc::new(Mailer::off()),
            mail_quota: Arc::new(rate::KeyedBuckets::per_minute(MAILS_PER_MINUTE)),
            oidc: Arc::new(OidcClients::new()),
        }
    }

    /// Sends e-mail through `mailer` (the state starts with e-mail off).
    pub fn with_mailer(mut self, mailer: Mailer) -> AppState {
        self.mailer = Arc::new(mailer);
        mention_mail::install(&self);
        self
    }
}

/// E-mails a minute per key of `AppState::mail_quota`.
const MAILS_PER_MINUTE: u32 = 5;

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
    address_limits::spawn_cleanup(&state.address_limits);
    let body_limit = state.config.limits.max_message_bytes + 64 * 1024;
    Router::new()
        .merge(pages::routes())
        .merge(dashboard::routes())
        .merge(admin::routes())
        .merge(account_page::routes())
        .merge(password_reset::routes())
        .merge(auth_api::routes())
        .merge(oidc::routes())
        .merge(docs_api::routes())
        .merge(sharing_api::routes())
        .merge(history_api::routes())
        .merge(comments_api::routes())
        .merge(notifications_api::routes())
        .merge(notifications_page::routes())
        .merge(authors_api::routes())
        .merge(history_page::routes())
        .merge(images_api::routes(state.config.limits.max_image_bytes))
        .route("/api/docs/{id}/ws", get(ws::upgrade))
        .route("/assets/{*path}", get(assets::serve))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics::render_with_token))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::with_header,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            reads::track_writes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::session_layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            address_limits::layer,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CompressionLayer::new())
        .layer(security_header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(access_log())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client_addr_layer,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_id_from_proxies_only,
        ))
        .with_state(state)
}

/// The router of the private `metrics.listen` address: `/metrics` without a token, and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state)
}

/// Readiness: this node can serve edits. `/healthz` only says the process answers; this one checks that the
/// database answers and that the group commit's writer runs, and says which failed.
async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    let database = state.store.ping().await;
    if let Err(err) = &database {
        tracing::warn!(%err, "readiness: the database does not answer");
    }
    let writer = state.hubs.writer_running();
    // A cluster node that is not a live member owns nothing and opens no document: a proxy should send
    // people elsewhere until it has rejoined.
    let member = state.cluster.as_ref().map(Cluster::is_live);
    let mut body = serde_json::json!({
        "database": if database.is_ok() { "ok" } else { "unavailable" },
        "writer": if writer { "ok" } else { "stopped" },
    });
    if let Some(live) = member {
        body["cluster"] = serde_json::json!(if live { "member" } else { "rejoining" });
    }
    let status = if database.is_ok() && writer && member != Some(false) {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// The access log: one line at info per request, when its response is sent, in a span with the request id (also
/// sent back as `X-Request-Id`), the method, the path (never the query, which may carry a token) and the client.
fn access_log() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&axum::extract::Request) -> tracing::Span + Clone,
    tower_http::trace::DefaultOnRequest,
    tower_http::trace::DefaultOnResponse,
> {
    TraceLayer::new_for_http()
        .make_span_with(|request: &axum::extract::Request| {
            let id = request
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("-");
            let client = request
                .extensions()
                .get::<client_addr::ClientIp>()
                .map(|client| client.0.to_string())
                .unwrap_or_default();
            tracing::info_span!(
                "request",
                id,
                method = %request.method(),
                path = request.uri().path(),
                client,
            )
        })
        .on_response(
            tower_http::trace::DefaultOnResponse::new()
                .level(tracing::Level::INFO)
                .latency_unit(tower_http::LatencyUnit::Micros),
        )
}

/// A request id a client sends is kept only from a trusted proxy (which may have logged it already); anyone else's
/// is replaced by our own, so that a client cannot choose what the log says.
async fn request_id_from_proxies_only(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let trusted = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|info| client_addr::is_trusted(&info.0.ip(), &state.config.trusted_proxies));
    if !trusted {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

/// Resolves the client's address once (the peer, or what a trusted proxy forwarded for) for everything after.
async fn client_addr_layer(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
    let ip = client_addr::client_ip(peer, request.headers(), &state.config.trusted_proxies);
    request.extensions_mut().insert(client_addr::ClientIp(ip));
    next.run(request).await
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found().into_response()
    } else {
        error::PageError::page_not_found().into_response()
    }
}
