//! Which database serves a read that tolerates a little lag (document lists, history lists, people lists): a
//! replica when one is caught up with both `database.replica_max_lag` and the caller's own last write, else the
//! primary. The last write is remembered in this process and in a `quire_wrote` cookie, so that read-your-writes
//! holds when the next request reaches another node of a cluster. A read that fails on a replica is done again on
//! the primary, and the replica is skipped until it answers again.

use std::{collections::HashMap, future::Future, sync::Mutex};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use super::{AppState, session::Authed};
use crate::store::{Store, StoreError, now_ms};

const WROTE_COOKIE: &str = "quire_wrote";
/// Longer than any replica may lag before it is skipped anyway.
const REMEMBER_MS: i64 = 5 * 60 * 1000;

/// When the caller last wrote (ms since the epoch; 0: not recently), for this request.
#[derive(Debug, Clone, Copy, Default)]
pub struct WrittenAt(pub i64);

impl WrittenAt {
    /// For a read that must see everything written until now (one that leads to a write): the primary.
    pub fn now() -> WrittenAt {
        WrittenAt(now_ms())
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Target {
    target: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaLabel {
    replica: String,
}

#[derive(Debug, Default)]
pub struct ReadRouting {
    last_write: Mutex<HashMap<String, i64>>,
    reads: Family<Target, Counter>,
    lag_ms: Family<ReplicaLabel, Gauge>,
    up: Family<ReplicaLabel, Gauge>,
}

impl ReadRouting {
    pub fn register(registry: &mut Registry) -> ReadRouting {
        let routing = ReadRouting::default();
        registry.register(
            "quire_db_lagging_reads",
            "Reads that tolerate lag, by the database that served them (primary or replica)",
            routing.reads.clone(),
        );
        registry.register(
            "quire_db_replica_lag_milliseconds",
            "How far each replica is behind the primary",
            routing.lag_ms.clone(),
        );
        registry.register(
            "quire_db_replica_up",
            "1 while a replica answers",
            routing.up.clone(),
        );
        routing
    }

    fn note_write(&self, user_id: &str, at: i64) {
        if let Ok(mut last) = self.last_write.lock() {
            last.retain(|_, when| *when > at - REMEMBER_MS);
            last.insert(user_id.to_string(), at);
        }
    }

    fn last_write(&self, user_id: &str) -> i64 {
        self.last_write
            .lock()
            .ok()
            .and_then(|last| last.get(user_id).copied())
            .unwrap_or(0)
    }

    /// Copies the store's view of its replicas into the gauges (before `/metrics` is rendered).
    pub fn observe(&self, store: &Store) {
        for state in store.replica_states() {
            let label = ReplicaLabel {
                replica: state.label,
            };
            self.up.get_or_create(&label).set(i64::from(state.up));
            let lag = state
                .lag_seconds
                .map_or(-1, |seconds| (seconds * 1000.0) as i64);
            self.lag_ms.get_or_create(&label).set(lag);
        }
    }
}

/// Before: the caller's last write, from this process and the cookie. After a successful write by a signed-in
/// caller: remembered, and the cookie set. Only with replicas configured.
pub async fn track_writes(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if !state.store.has_replicas() {
        // Everything reads the primary: no last write to remember, no cookie to send.
        request.extensions_mut().insert(WrittenAt(0));
        return next.run(request).await;
    }
    let user = request
        .extensions()
        .get::<Authed>()
        .map(|authed| authed.user.id.clone());
    let from_cookie = super::session::cookie(request.headers(), WROTE_COOKIE)
        .and_then(|value| value.parse::<i64>().ok())
        .unwrap_or(0);
    let remembered = user
        .as_deref()
        .map_or(0, |user| state.read_routing.last_write(user));
    request
        .extensions_mut()
        .insert(WrittenAt(from_cookie.max(remembered)));
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let mut response = next.run(request).await;
    if let Some(user) = user
        && writes
        && (response.status().is_success() || response.status().is_redirection())
    {
        let at = now_ms();
        state.read_routing.note_write(&user, at);
        let cookie = format!(
            "{WROTE_COOKIE}={at}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax",
            REMEMBER_MS / 1000
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Runs a read that tolerates lag on a fresh enough replica, or the primary; a failure on a replica is retried
/// on the primary.
pub async fn lagging<T, F, Fut>(
    state: &AppState,
    written: WrittenAt,
    read: F,
) -> Result<T, StoreError>
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let (store, replica) = state.store.for_reading(written.0);
    let target = if replica.is_some() {
        "replica"
    } else {
        "primary"
    };
    state
        .read_routing
        .reads
        .get_or_create(&Target { target })
        .inc();
    match (read(store).await, replica) {
        (Ok(value), _) => Ok(value),
        (Err(err), Some(index)) => {
            tracing::warn!(%err, "a read failed on a replica; reading from the primary");
            state.store.replica_failed(index);
            state
                .read_routing
                .reads
                .get_or_create(&Target { target: "primary" })
                .inc();
            read(state.store.clone()).await
        }
        (Err(err), None) => Err(err),
    }
}
