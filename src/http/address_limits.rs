//! Rate limits per client address (governor's keyed GCRA limiters): sign-ups, log-ins and guest joins; imports;
//! and the JSON API as a whole. Over a limit, `429` with `Retry-After`, before any work is done.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    Quota, RateLimiter, clock::Clock, clock::DefaultClock, state::keyed::DefaultKeyedStateStore,
};

use super::{AppState, client_addr::ClientIp, error::ApiError, error::PageError};
use crate::config::Limits;

type Keyed = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// One limiter per kind of request.
pub struct AddressLimits {
    auth: Keyed,
    imports: Keyed,
    api: Keyed,
}

impl std::fmt::Debug for AddressLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddressLimits")
    }
}

/// What a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Sign-up, log-in and guest joins: each costs an argon2 hash or creates an account.
    Auth,
    Import,
    Api,
}

impl AddressLimits {
    pub fn new(limits: &Limits) -> AddressLimits {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        let api_rate = NonZeroU32::new(limits.api_per_second).unwrap_or(NonZeroU32::MIN);
        let api_burst =
            NonZeroU32::new(limits.api_per_second.saturating_mul(10)).unwrap_or(api_rate);
        AddressLimits {
            auth: RateLimiter::keyed(per_minute(limits.auth_per_minute)),
            imports: RateLimiter::keyed(per_minute(limits.imports_per_minute)),
            api: RateLimiter::keyed(Quota::per_second(api_rate).allow_burst(api_burst)),
        }
    }

    /// `Err(wait)` when `ip` is over the limit for `kind`.
    fn check(&self, kind: Kind, ip: IpAddr) -> Result<(), Duration> {
        let limiter = match kind {
            Kind::Auth => &self.auth,
            Kind::Import => &self.imports,
            Kind::Api => &self.api,
        };
        limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets addresses whose buckets are full again, so memory follows the recently active addresses.
    pub fn forget_idle(&self) {
        for limiter in [&self.auth, &self.imports, &self.api] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Runs `forget_idle` every minute for as long as the limits are in use.
pub fn spawn_cleanup(limits: &Arc<AddressLimits>) {
    let weak = Arc::downgrade(limits);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(limits) = weak.upgrade() else { return };
            limits.forget_idle();
        }
    });
}

fn kind_of(method: &Method, path: &str) -> Option<Kind> {
    let post = method == Method::POST;
    match path {
        "/api/auth/signup" | "/api/auth/login" | "/signup" | "/login" | "/forgot" if post => {
            Some(Kind::Auth)
        }
        _ if post && path.starts_with("/reset/") => Some(Kind::Auth),
        _ if post && path.starts_with("/s/") && path.ends_with("/guest") => Some(Kind::Auth),
        // Each start writes a row and leads to a callback that asks the provider: counted like a log-in. The
        // callback is not counted again, as it does nothing without a start's row.
        _ if path.starts_with("/auth/oidc/") && path.ends_with("/start") => Some(Kind::Auth),
        "/api/docs/import" if post => Some(Kind::Import),
        _ if path.starts_with("/api/") => Some(Kind::Api),
        _ => None,
    }
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let Some(kind) = kind_of(request.method(), path) else {
        return next.run(request).await;
    };
    let ip = request
        .extensions()
        .get::<ClientIp>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |client| client.0);
    match state.address_limits.check(kind, ip) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            tracing::info!(%ip, ?kind, "rate limited");
            let error = ApiError::rate_limited(
                "too many requests from your address; try again later",
                wait,
            );
            if path.starts_with("/api/") {
                error.into_response()
            } else {
                PageError::too_many(error.retry_after.unwrap_or(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classified_by_what_they_cost() {
        assert_eq!(kind_of(&Method::POST, "/login"), Some(Kind::Auth));
        assert_eq!(
            kind_of(&Method::GET, "/login"),
            None,
            "the page itself is free"
        );
        assert_eq!(kind_of(&Method::POST, "/api/auth/signup"), Some(Kind::Auth));
        assert_eq!(kind_of(&Method::POST, "/s/abc/guest"), Some(Kind::Auth));
        assert_eq!(
            kind_of(&Method::GET, "/auth/oidc/keycloak/start"),
            Some(Kind::Auth)
        );
        assert_eq!(kind_of(&Method::GET, "/auth/oidc/keycloak/callback"), None);
        assert_eq!(
            kind_of(&Method::POST, "/api/docs/import"),
            Some(Kind::Import)
        );
        assert_eq!(kind_of(&Method::GET, "/api/docs"), Some(Kind::Api));
        assert_eq!(kind_of(&Method::GET, "/assets/editor.js"), None);
    }

    #[test]
    fn each_address_has_its_own_budget() {
        let limits = AddressLimits::new(&Limits {
            auth_per_minute: 2,
            ..Limits::default()
        });
        let (a, b) = (IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]));
        assert!(limits.check(Kind::Auth, a).is_ok() && limits.check(Kind::Auth, a).is_ok());
        let wait = limits.check(Kind::Auth, a).expect_err("third in a minute");
        assert!(wait > Duration::from_secs(20), "{wait:?}");
        assert!(limits.check(Kind::Auth, b).is_ok());
        assert!(limits.check(Kind::Api, a).is_ok(), "per kind");
    }
}
