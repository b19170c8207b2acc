//! JSON routes for documents: list, create, metadata, rename, trash (PROTOCOL.md section 4).
//! A document the caller may not see answers 404, so existence is not leaked.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, auth_api::ApiJson, error::ApiError, session::ApiUser};
use crate::{
    auth,
    store::{DocMeta, Role, StoreResult, User},
};

pub const MAX_TITLE_CHARS: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/docs", get(list).post(create))
        .route("/api/docs/{id}", get(metadata).patch(rename).delete(trash))
        .route("/api/docs/{id}/content", get(content))
}

pub async fn create_document(
    state: &AppState,
    owner: &User,
    title: &str,
) -> Result<DocMeta, ApiError> {
    let title = clean_title(title)?;
    // 128 random bits: document ids are unguessable, so a link without access reveals nothing.
    Ok(state
        .store
        .create_document(&auth::random_id(16), &title, &owner.id)
        .await?)
}

fn clean_title(title: &str) -> Result<String, ApiError> {
    let title = title.trim();
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::bad_request(format!(
            "titles have at most {MAX_TITLE_CHARS} characters"
        )));
    }
    if title.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "titles cannot contain control characters",
        ));
    }
    Ok(if title.is_empty() {
        "Untitled document".into()
    } else {
        title.to_string()
    })
}

/// The document and the caller's role, when the caller may see it.
pub async fn visible_document(
    state: &AppState,
    user: &User,
    id: &str,
) -> StoreResult<Option<(DocMeta, Role)>> {
    let Some(role) = state.store.role_of(id, &user.id).await? else {
        return Ok(None);
    };
    Ok(state.store.document(id).await?.map(|doc| (doc, role)))
}

/// Like `visible_document`, as an API result: 404 when not visible, 403 when the role is below `needed`.
pub async fn require_role(
    state: &AppState,
    user: &User,
    id: &str,
    needed: Role,
) -> Result<(DocMeta, Role), ApiError> {
    let (doc, role) = visible_document(state, user, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if role > needed {
        return Err(ApiError::forbidden(format!(
            "this needs the {} role",
            needed.as_str()
        )));
    }
    Ok((doc, role))
}

pub fn doc_json(doc: &DocMeta, role: Role) -> Value {
    json!({
        "id": doc.id,
        "title": doc.title,
        "owner": {"id": doc.owner_id, "name": doc.owner_name},
        "role": role.as_str(),
        "rev": doc.head_rev,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
        "trashed": doc.trashed_at.is_some(),
    })
}

async fn list(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let docs = state.store.documents_for(&authed.user.id).await?;
    let docs: Vec<Value> = docs
        .iter()
        .map(|(doc, role)| doc_json(doc, *role))
        .collect();
    Ok(Json(json!({ "docs": docs })))
}

#[derive(Debug, Deserialize)]
struct TitleInput {
    #[serde(default)]
    title: String,
}

async fn create(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    ApiJson(input): ApiJson<TitleInput>,
) -> Result<Response, ApiError> {
    let doc = create_document(&state, &authed.user, &input.title).await?;
    Ok((StatusCode::CREATED, Json(doc_json(&doc, Role::Owner))).into_response())
}

async fn metadata(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (doc, role) = require_role(&state, &authed.user, &id, Role::Viewer).await?;
    Ok(Json(doc_json(&doc, role)))
}

async fn rename(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TitleInput>,
) -> Result<Json<Value>, ApiError> {
    let title = clean_title(&input.title)?;
    let (_, role) = require_role(&state, &authed.user, &id, Role::Editor).await?;
    state.store.rename_document(&id, &title).await?;
    let doc = state
        .store
        .document(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(doc_json(&doc, role)))
}

async fn trash(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_role(&state, &authed.user, &id, Role::Owner).await?;
    state.store.trash_document(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct ContentQuery {
    format: Option<String>,
}

/// The current content: `delta` (the default) as JSON `{rev, ops}`, `text` as plain text.
async fn content(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    Query(query): Query<ContentQuery>,
) -> Result<Response, ApiError> {
    require_role(&state, &authed.user, &id, Role::Viewer).await?;
    let format = query.format.as_deref().unwrap_or("delta");
    if !matches!(format, "delta" | "text") {
        return Err(ApiError::bad_request("format must be delta or text"));
    }
    let (rev, delta) = state.hubs.content(&id).await?;
    if format == "delta" {
        return Ok(Json(json!({"rev": rev, "ops": delta})).into_response());
    }
    let mut response = delta.text().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
