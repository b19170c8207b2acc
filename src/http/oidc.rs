//! Single sign-on routes: `/auth/oidc/{provider}/start` sends the browser to the provider, and
//! `/auth/oidc/{provider}/callback` checks what comes back and starts a session as the password log-in does.
//!
//! Each sign-in's secrets (nonce, PKCE verifier, where to return) wait in the `oidc_logins` table under the hash
//! of its `state`, and the browser holds the `state` in a short-lived HttpOnly, SameSite=Lax cookie. Both, because
//! the cookie binds the sign-in to the browser that started it (nobody can make someone else's browser finish
//! their sign-in), while the row, deleted when the callback takes it, makes every sign-in single-use, works on
//! any node of a cluster and needs no server-wide signing key.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{AppState, accounts, error::PageError, oidc_accounts, pages::safe_next, session};
use crate::{
    auth::{self, oidc::OidcError},
    config::OidcProvider,
    store::PendingLogin,
};

const LOGIN_COOKIE: &str = "quire_oidc";
/// How long a person may spend at the provider (typing a password, a second factor) before the sign-in expires.
const LOGIN_TTL_SECS: i64 = 600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/{provider}/start", get(start))
        .route("/auth/oidc/{provider}/callback", get(callback))
}

/// The address the provider sends the browser back to; it must be registered with the provider as is.
pub fn redirect_url(state: &AppState, provider: &OidcProvider) -> String {
    format!(
        "{}/auth/oidc/{}/callback",
        state.config.public_url, provider.id
    )
}

fn provider<'a>(state: &'a AppState, id: &str) -> Result<&'a OidcProvider, PageError> {
    state
        .config
        .auth
        .oidc
        .iter()
        .find(|provider| provider.id == id)
        .ok_or_else(PageError::page_not_found)
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    next: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Query(query): Query<StartQuery>,
) -> Result<Response, PageError> {
    let provider = provider(&state, &provider_id)?;
    let authorization = state
        .oidc
        .authorize(provider, &redirect_url(&state, provider))
        .await
        .map_err(|err| provider_failed(provider, err))?;
    let login = PendingLogin {
        state_hash: auth::token_hash(&authorization.state),
        provider: provider.id.clone(),
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        return_to: safe_next(query.next.as_deref()),
        created_at: crate::store::now_ms(),
    };
    state
        .store
        .save_oidc_login(&login, LOGIN_TTL_SECS * 1000)
        .await?;
    let mut response = Redirect::to(&authorization.url).into_response();
    let cookie = login_cookie(&state, &authorization.state, LOGIN_TTL_SECS);
    session::append_cookie(&mut response, &cookie);
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// Set instead of `code` when the person declined or the provider refused (RFC 6749 section 4.1.2.1).
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let browser_state = session::cookie(&headers, LOGIN_COOKIE);
    let mut response = match finish(&state, &provider_id, query, browser_state).await {
        Ok((token, return_to)) => {
            let mut response = Redirect::to(&return_to).into_response();
            session::append_cookie(&mut response, &session::session_cookie(&state, &token));
            response
        }
        Err(page) => page.into_response(),
    };
    // Whatever happened, this sign-in is over.
    session::append_cookie(&mut response, &login_cookie(&state, "", 0));
    response
}

/// Checks the callback and signs the person in; returns the session token and where to go.
async fn finish(
    state: &AppState,
    provider_id: &str,
    query: CallbackQuery,
    browser_state: Option<&str>,
) -> Result<(String, String), PageError> {
    let provider = provider(state, provider_id)?;
    let sent_state = query.state.unwrap_or_default();
    let same_browser = browser_state.is_some_and(|kept| {
        !sent_state.is_empty() && bool::from(kept.as_bytes().ct_eq(sent_state.as_bytes()))
    });
    if !same_browser {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started in this browser, or it expired. Start again from the log-in page.",
        ));
    }
    let login = state
        .store
        .take_oidc_login(&auth::token_hash(&sent_state), LOGIN_TTL_SECS * 1000)
        .await?
        .filter(|login| login.provider == provider.id)
        .ok_or_else(|| {
            refused(
                StatusCode::BAD_REQUEST,
                "This sign-in was used already or has expired. Start again from the log-in page.",
            )
        })?;
    if let Some(error) = query.error {
        tracing::info!(provider = %provider.id, %error, "the provider sent back an error");
        // RFC 6749 error codes are short ASCII words; anything else is not shown.
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        return Err(refused(
            StatusCode::FORBIDDEN,
            format!(
                "{} did not sign you in (it answered “{error}”).",
                provider.display_name
            ),
        ));
    }
    let code = query.code.filter(|code| !code.is_empty()).ok_or_else(|| {
        refused(
            StatusCode::BAD_REQUEST,
            "The sign-in provider sent no code back. Start again from the log-in page.",
        )
    })?;
    let claims = state
        .oidc
        .exchange(
            provider,
            &redirect_url(state, provider),
            &code,
            &login.pkce_verifier,
            &login.nonce,
        )
        .await
        .map_err(|err| provider_failed(provider, err))?;
    let user = oidc_accounts::account_for(state, provider, &claims).await?;
    let token = accounts::start_session(state, &user)
        .await
        .map_err(|err| PageError::new(err.status, super::pages::sentence(&err.message)))?;
    Ok((token, login.return_to))
}

/// A sign-in that is refused: a 4xx page saying why, with a heading that says nobody was signed in.
pub(super) fn refused(status: StatusCode, message: impl Into<String>) -> PageError {
    PageError {
        status,
        heading: Some("Not signed in"),
        message: message.into(),
    }
}

/// The provider failing (down, or its answer does not check out) or refusing the code. The details go to the log;
/// the page says what the person can do.
fn provider_failed(provider: &OidcProvider, err: OidcError) -> PageError {
    tracing::warn!(provider = %provider.id, %err, "single sign-on failed");
    let name = &provider.display_name;
    match err {
        OidcError::Unavailable(_) => PageError {
            status: StatusCode::BAD_GATEWAY,
            heading: Some("Sign-in provider unavailable"),
            message: format!(
                "{name} cannot be reached right now, so you were not signed in. Try again in a few minutes."
            ),
        },
        OidcError::Refused(_) => refused(
            StatusCode::FORBIDDEN,
            format!(
                "{name} refused to complete this sign-in (it may have been used already). Start again from the log-in page."
            ),
        ),
        OidcError::BadToken(_) => refused(
            StatusCode::FORBIDDEN,
            format!("The answer from {name} could not be verified, so you were not signed in."),
        ),
    }
}

/// Path=/auth/oidc: only the callback needs it. `max_age` 0 deletes it.
fn login_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.config.auth.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{LOGIN_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    )
}
