//! A person's notifications over JSON (issue 14, docs/api.md): `GET /api/notifications` lists the newest with the
//! unread count, `POST /api/notifications/read` marks some read (by ids, by document, or all). Only one's own.

use axum::{Json, Router, extract::State, routing::get, routing::post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState, auth_api::ApiJson, error::ApiError, mention_mail::excerpt, session::ApiUser,
};
use crate::store::{NotificationRow, ReadWhich, now_ms};

/// Notifications one list holds.
pub const LIST_SIZE: i64 = 50;
/// Ids one `read` request may name.
const MAX_IDS: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/notifications", get(list))
        .route("/api/notifications/read", post(mark_read))
}

/// `{"ids": [...]}`, `{"doc": "..."}` or `{"all": true}`: exactly one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadRequest {
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    doc: Option<String>,
    #[serde(default)]
    all: Option<bool>,
}

async fn list(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let rows = state
        .store
        .notifications(&authed.user.id, LIST_SIZE)
        .await?;
    let unread = state.store.unread_notifications(&authed.user.id).await?;
    let items: Vec<Value> = rows.iter().map(item_json).collect();
    Ok(Json(json!({"unread": unread, "items": items})))
}

async fn mark_read(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    ApiJson(request): ApiJson<ReadRequest>,
) -> Result<Json<Value>, ApiError> {
    let which = match (request.ids, request.doc, request.all) {
        (Some(ids), None, None) if ids.len() <= MAX_IDS => ReadWhich::Ids(ids),
        (Some(_), None, None) => {
            return Err(ApiError::bad_request(format!(
                "at most {MAX_IDS} ids at once"
            )));
        }
        (None, Some(doc), None) => ReadWhich::Doc(doc),
        (None, None, Some(true)) => ReadWhich::All,
        _ => {
            return Err(ApiError::bad_request(
                "send one of {\"ids\": [...]}, {\"doc\": \"DOC_ID\"} or {\"all\": true}",
            ));
        }
    };
    let user = &authed.user.id;
    state
        .store
        .mark_notifications_read(user, &which, now_ms())
        .await?;
    let unread = state.store.unread_notifications(user).await?;
    Ok(Json(json!({ "unread": unread })))
}

fn item_json(row: &NotificationRow) -> Value {
    json!({
        "id": row.id,
        "doc": {"id": row.doc_id, "title": row.doc_title},
        "thread": row.thread_id,
        "message": row.message_id,
        "by": {"id": row.by_id, "name": row.by_name},
        "excerpt": excerpt(&row.body),
        "created_at": row.created_at,
        "read": row.read_at.is_some(),
    })
}
