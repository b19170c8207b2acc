//! Who is calling: the session cookie or a Bearer API token, resolved once per request by `session_layer`,
//! plus the double-submit CSRF cookie that HTML forms and cookie-authenticated API writes must echo.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

use super::{AppState, client_addr::ClientIp, error::ApiError};
use crate::{
    auth,
    config::Config,
    store::{SessionUse, USER_AGENT_MAX, User},
};

pub const SESSION_COOKIE: &str = "quire_session";
pub const CSRF_COOKIE: &str = "quire_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller, in request extensions when there is one.
#[derive(Debug, Clone)]
pub struct Authed {
    pub user: User,
    /// The session's token hash when signed in by cookie; `None` for API tokens.
    pub session_hash: Option<String>,
    /// The API token's hash when signed in with `Authorization: Bearer`.
    pub api_token_hash: Option<String>,
}

/// What a caller signed in with, kept by an open WebSocket to check again later (only the hash: an idle socket
/// should not hold the whole account).
#[derive(Debug, Clone)]
pub enum Credential {
    Session(Box<str>),
    ApiToken(Box<str>),
}

impl Authed {
    pub fn credential(&self) -> Option<Credential> {
        match (&self.session_hash, &self.api_token_hash) {
            (Some(hash), _) => Some(Credential::Session(hash.as_str().into())),
            (None, Some(hash)) => Some(Credential::ApiToken(hash.as_str().into())),
            (None, None) => None,
        }
    }
}

impl Credential {
    /// Whether it still holds: the session not ended, the token not revoked, the account not disabled. Open
    /// WebSockets ask this again now and then.
    pub async fn still_valid(&self, state: &AppState) -> Result<bool, crate::store::StoreError> {
        match self {
            Credential::Session(hash) => Ok(state.store.session_user(hash).await?.is_some()),
            Credential::ApiToken(hash) => state.store.api_token_valid(hash).await,
        }
    }
}

/// This browser's CSRF token (always present in extensions after `session_layer`).
#[derive(Debug, Clone)]
pub struct Csrf(pub String);

/// Resolves the caller and the CSRF token, refuses cross-site writes, and renews sessions past half their life.
pub async fn session_layer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with("/assets/") || ["/healthz", "/readyz", "/metrics"].contains(&path) {
        return next.run(request).await;
    }
    let csrf_cookie = cookie(request.headers(), CSRF_COOKIE).map(str::to_owned);
    let csrf = csrf_cookie.clone().unwrap_or_else(auth::new_token);
    let address = request
        .extensions()
        .get::<ClientIp>()
        .map(|ip| ip.0.to_string());
    let resolved =
        match resolve_caller(&state, request.headers(), address.unwrap_or_default()).await {
            Ok(resolved) => resolved,
            Err(err) => return err.into_response(),
        };
    if let Some((authed, _)) = &resolved
        && authed.session_hash.is_some()
        && request.uri().path().starts_with("/api/")
        && !csrf_ok_for_api(
            &state.config,
            request.method(),
            request.headers(),
            csrf_cookie.as_deref(),
        )
    {
        return ApiError::forbidden("cross-site request refused (send X-CSRF-Token)")
            .into_response();
    }
    let renew = resolved.as_ref().and_then(|(_, renew)| renew.clone());
    if let Some((authed, _)) = resolved {
        request.extensions_mut().insert(authed);
    }
    request.extensions_mut().insert(Csrf(csrf.clone()));
    let mut response = next.run(request).await;
    if csrf_cookie.is_none() {
        let value = format!(
            "{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Lax{}",
            secure_attr(&state)
        );
        append_cookie(&mut response, &value);
    }
    if let Some(token) = renew {
        append_cookie(&mut response, &session_cookie(&state, &token));
    }
    response
}

/// `Some((caller, Some(token)))` when the session was renewed and its cookie must be re-sent.
async fn resolve_caller(
    state: &AppState,
    headers: &HeaderMap,
    address: String,
) -> Result<Option<(Authed, Option<String>)>, ApiError> {
    if let Some(token) = bearer(headers) {
        let hash = auth::token_hash(token);
        let user = state.store.api_token_user(&hash).await?;
        // A bad Bearer token is an error, not an anonymous request: the caller meant to authenticate.
        let user = user.ok_or_else(ApiError::unauthorized)?;
        return Ok(Some((
            Authed {
                user,
                session_hash: None,
                api_token_hash: Some(hash),
            },
            None,
        )));
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = auth::token_hash(token);
    let Some((user, session)) = state.store.session_user(&hash).await? else {
        return Ok(None);
    };
    let now = crate::store::now_ms();
    let this_use = SessionUse {
        at: now,
        address,
        user_agent: user_agent(headers),
    };
    let ttl_ms = ttl_ms(state);
    let renew = session.expires_at - now < ttl_ms / 2;
    let renewed = if renew || worth_recording(session.last_use.as_ref(), &this_use) {
        let expires_at = if renew {
            now + ttl_ms
        } else {
            session.expires_at
        };
        // A write; a caller whose session is still valid is served even when it fails (a full disk, a database
        // refusing writes), and it is tried again on the next request.
        match state
            .store
            .touch_session(&hash, &this_use, expires_at)
            .await
        {
            Ok(()) => renew,
            Err(err) => {
                tracing::warn!(%err, "cannot record a session's use");
                false
            }
        }
    } else {
        false
    };
    Ok(Some((
        Authed {
            user,
            session_hash: Some(hash),
            api_token_hash: None,
        },
        renewed.then(|| token.to_owned()),
    )))
}

/// How stale a session's "last active" may get before a request writes it again: a write per request would cost
/// every page view a database write, for a list that shows minutes at best.
const LAST_USE_EVERY_MS: i64 = 5 * 60 * 1000;

/// Whether this request tells the account page something new: the first use, another address or browser, or the
/// last record older than `LAST_USE_EVERY_MS`.
fn worth_recording(last: Option<&SessionUse>, this: &SessionUse) -> bool {
    match last {
        None => true,
        Some(last) => {
            this.at - last.at >= LAST_USE_EVERY_MS
                || last.address != this.address
                || last.user_agent != this.user_agent
        }
    }
}

/// The request's `User-Agent`, cut (at a character boundary) to what a session row keeps.
fn user_agent(headers: &HeaderMap) -> String {
    let text = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let mut end = text.len().min(USER_AGENT_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Cookie-authenticated API writes must prove they come from our pages: a matching X-CSRF-Token header,
/// or a JSON body (which a cross-site form cannot send) from no foreign Origin.
fn csrf_ok_for_api(
    config: &Config,
    method: &Method,
    headers: &HeaderMap,
    csrf_cookie: Option<&str>,
) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let (Some(sent), Some(expected)) = (headers.get(CSRF_HEADER), csrf_cookie)
        && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
    {
        return true;
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    is_json && same_origin_or_absent(config, headers)
}

/// True when the request carries no `Origin` (not a browser's cross-site request) or our own. With
/// `server.public_url` set, ours is exactly that origin: behind a proxy the `Host` header may be rewritten.
/// Derived from `server.listen`, ours is the host the request was sent to.
pub fn same_origin_or_absent(config: &Config, headers: &HeaderMap) -> bool {
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    if config.public_url_explicit {
        return origin == config.public_url;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, origin_host)| origin_host == host)
}

/// True when a submitted form token matches this browser's CSRF cookie.
pub fn form_csrf_ok(csrf: &Csrf, submitted: &str) -> bool {
    !submitted.is_empty() && bool::from(csrf.0.as_bytes().ct_eq(submitted.as_bytes()))
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::trim)
}

fn ttl_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.auth.session_ttl.as_millis()).unwrap_or(i64::MAX / 2)
}

fn secure_attr(state: &AppState) -> &'static str {
    if state.config.auth.secure_cookies {
        "; Secure"
    } else {
        ""
    }
}

pub fn session_cookie(state: &AppState, token: &str) -> String {
    let max_age = state.config.auth.session_ttl.as_secs();
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        secure_attr(state)
    )
}

pub fn cleared_session_cookie(state: &AppState) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure_attr(state)
    )
}

pub fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Extracts the signed-in user for /api routes, or answers 401.
#[derive(Debug, Clone)]
pub struct ApiUser(pub Authed);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authed>()
            .cloned()
            .map(ApiUser)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The signed-in user for pages, if any, and the CSRF token for forms.
#[derive(Debug, Clone)]
pub struct PageCaller {
    pub authed: Option<Authed>,
    pub csrf: Csrf,
}

impl<S: Send + Sync> FromRequestParts<S> for PageCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageCaller {
            authed: parts.extensions.get::<Authed>().cloned(),
            csrf: parts
                .extensions
                .get::<Csrf>()
                .cloned()
                .unwrap_or_else(|| Csrf(String::new())),
        })
    }
}

/// The client's address as text (for throttling): see `client_addr`.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        Ok(ClientAddr(ip.to_string()))
    }
}
