//! Who wrote what over JSON (`GET /api/docs/{id}/authors`, docs/protocol-notes.md "Authorship"): the same answer
//! as the WebSocket's `authors` frame, from the document's hub; and the per-connection budget of that message.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use serde_json::Value;

use super::{AppState, docs_api::require_role, error::ApiError, session::ApiUser};
use crate::{
    hub::CommentError,
    protocol::ErrorCode,
    store::{Role, StoredAuthorship},
};

/// `authors` messages each connection may send per second, and in a burst: each answer carries the whole map.
pub const AUTHORS_PER_SECOND: u32 = 1;
pub const AUTHORS_BURST: u32 = 5;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/docs/{id}/authors", get(authors))
}

/// `{rev, spans, people}`; 409 `unavailable` when authorship is off, 413 `too_large` past the answer's limit.
async fn authors(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &authed.user, &id, Role::Viewer).await?;
    state.hubs.authors(&id).await.map(Json).map_err(api_error)
}

fn api_error(err: CommentError) -> ApiError {
    let (status, code) = match err.code {
        ErrorCode::Unavailable => (StatusCode::CONFLICT, "unavailable"),
        ErrorCode::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    ApiError::new(status, code, err.msg)
}

/// A document created with content (an import): its creator wrote all of it, from revision 0.
pub async fn creator_wrote_all(
    state: &AppState,
    doc_id: &str,
    creator_id: &str,
    len: u64,
) -> Result<(), ApiError> {
    if !state.config.history.authorship {
        return Ok(());
    }
    let spans = serde_json::json!([[len, creator_id]]).to_string();
    let stored = StoredAuthorship {
        rev: 0,
        spans_json: spans,
    };
    state.store.save_authorship(doc_id, &stored).await?;
    Ok(())
}
