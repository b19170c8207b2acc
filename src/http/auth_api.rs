//! JSON routes for accounts: /api/auth/*, /api/me and personal API tokens (PROTOCOL.md section 4).

use axum::{
    Json, Router,
    extract::{FromRequest, Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    accounts::{self, LoginInput, SignupInput},
    error::ApiError,
    session::{self, ApiUser, ClientAddr},
};
use crate::{
    auth,
    store::{ApiToken, User},
};

/// `Json<T>` whose rejections are our JSON errors.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/tokens", post(create_token).get(list_tokens))
        .route("/api/tokens/{id}", delete(revoke_token))
}

pub fn user_json(state: &AppState, user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "admin": accounts::is_admin(state, user),
    })
}

async fn signup(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<SignupInput>,
) -> Result<Response, ApiError> {
    let (user, token) = accounts::sign_up(&state, input).await?;
    let mut response = (StatusCode::CREATED, Json(user_json(&state, &user))).into_response();
    session::append_cookie(&mut response, &session::session_cookie(&state, &token));
    Ok(response)
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Response, ApiError> {
    let (user, token) = accounts::log_in(&state, input, &address).await?;
    let mut response = Json(user_json(&state, &user)).into_response();
    session::append_cookie(&mut response, &session::session_cookie(&state, &token));
    Ok(response)
}

async fn logout(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
) -> Result<Response, ApiError> {
    if let Some(hash) = &authed.session_hash {
        state.store.delete_session(hash).await?;
        state.connections.credentials_changed(&authed.user.id);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    session::append_cookie(&mut response, &session::cleared_session_cookie(&state));
    Ok(response)
}

async fn me(State(state): State<AppState>, ApiUser(authed): ApiUser) -> Json<Value> {
    Json(user_json(&state, &authed.user))
}

#[derive(Debug, Deserialize)]
struct NewToken {
    name: String,
}

async fn create_token(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    ApiJson(input): ApiJson<NewToken>,
) -> Result<Response, ApiError> {
    let (token, secret) = new_api_token(&state, &authed.user, &input.name).await?;
    let body = json!({"id": token.id, "name": token.name, "created_at": token.created_at, "token": secret});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Makes a personal API token named `name` (trimmed); returns it and its secret, which is never stored and so can
/// be shown only this once. Shared with the account page.
pub(super) async fn new_api_token(
    state: &AppState,
    user: &User,
    name: &str,
) -> Result<(ApiToken, String), ApiError> {
    accounts::require_account(user, "create API tokens")?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name the token (1 to 100 characters)",
        ));
    }
    let secret = format!("qt_{}", auth::new_token());
    let token = state
        .store
        .create_api_token(
            &auth::random_id(16),
            &user.id,
            name,
            &auth::token_hash(&secret),
        )
        .await?;
    Ok((token, secret))
}

async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let tokens = state.store.list_api_tokens(&authed.user.id).await?;
    let tokens: Vec<Value> = tokens
        .iter()
        .map(|token| {
            json!({"id": token.id, "name": token.name, "created_at": token.created_at, "last_used_at": token.last_used_at})
        })
        .collect();
    Ok(Json(json!({ "tokens": tokens })))
}

async fn revoke_token(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    revoke_api_token(&state, &authed.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes one of the user's tokens and closes the sockets opened with it (404 when it is not theirs or already
/// revoked). Shared with the account page.
pub(super) async fn revoke_api_token(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<(), ApiError> {
    if state.store.revoke_api_token(&user.id, id).await? {
        state.connections.credentials_changed(&user.id);
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}
