//! JSON routes for documents: list, create, metadata, rename, trash (PROTOCOL.md section 4).
//! A document the caller may not see answers 404, so existence is not leaked.

use axum::{
    Json, Router,
    extract::{Path, Query, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, accounts, auth_api::ApiJson, error::ApiError, image_refs, session::ApiUser};
use crate::{
    auth, convert,
    store::{DocMeta, DocScope, NewVersion, Role, StoreResult, User},
};

pub const MAX_TITLE_CHARS: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/docs", get(list).post(create))
        .route("/api/docs/{id}", get(metadata).patch(rename).delete(trash))
        .route("/api/docs/{id}/content", get(content))
        .route("/api/docs/import", post(import))
        .route("/api/docs/{id}/restore", post(restore))
        .route("/api/docs/{id}/forever", delete(delete_forever))
}

pub async fn create_document(
    state: &AppState,
    owner: &User,
    title: &str,
) -> Result<DocMeta, ApiError> {
    accounts::require_account(owner, "create documents")?;
    let title = clean_title(title)?;
    let max = state.config.limits.max_documents_per_user;
    if u64::try_from(state.store.count_owned_documents(&owner.id).await?).unwrap_or(0) >= max {
        return Err(ApiError::limit_reached(format!(
            "you own {max} documents, the most allowed here; delete some from the trash first"
        )));
    }
    // 128 random bits: document ids are unguessable, so a link without access reveals nothing.
    Ok(state
        .store
        .create_document(&auth::random_id(16), &title, &owner.id)
        .await?)
}

pub fn clean_title(title: &str) -> Result<String, ApiError> {
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

/// A title a file gave (a heading, a `<title>`, its name) made acceptable rather than refused: a file is not
/// at fault for a long heading or a tab in its name. Control characters and whitespace runs become one space,
/// and it is cut at `MAX_TITLE_CHARS`.
fn title_from_file(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect();
    words.join(" ").chars().take(MAX_TITLE_CHARS).collect()
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
    let doc = state.store.document(id).await?;
    // A trashed document is the owner's alone until it is restored.
    Ok(doc
        .filter(|doc| doc.trashed_at.is_none() || role == Role::Owner)
        .map(|doc| (doc, role)))
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
        "editors_can_share": doc.editors_can_share,
        "last_editor": doc.last_editor_id.as_ref().map(|id| json!({"id": id, "name": doc.last_editor_name})),
    })
}

/// The most documents one list request returns.
pub const MAX_PAGE: i64 = 200;

#[derive(Debug, Deserialize)]
struct ListQuery {
    scope: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/docs?scope=all|owned|shared|trash&q=TITLE&limit=N&offset=N`.
async fn list(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Query(query): Query<ListQuery>,
    axum::Extension(written): axum::Extension<super::reads::WrittenAt>,
) -> Result<Json<Value>, ApiError> {
    let scope = parse_scope(query.scope.as_deref())
        .ok_or_else(|| ApiError::bad_request("scope must be all, owned, shared or trash"))?;
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let offset = query.offset.unwrap_or(0).max(0);
    let filter = query.q.unwrap_or_default();
    let docs = super::reads::lagging(&state, written, |store| {
        let (user, filter) = (authed.user.id.clone(), filter.clone());
        async move {
            store
                .documents_for(&user, scope, &filter, limit, offset)
                .await
        }
    })
    .await?;
    let docs: Vec<Value> = docs
        .iter()
        .map(|(doc, role)| doc_json(doc, *role))
        .collect();
    Ok(Json(
        json!({ "docs": docs, "limit": limit, "offset": offset }),
    ))
}

pub fn parse_scope(scope: Option<&str>) -> Option<DocScope> {
    match scope.unwrap_or("all") {
        "all" => Some(DocScope::All),
        "owned" => Some(DocScope::Owned),
        "shared" => Some(DocScope::SharedWithMe),
        "trash" => Some(DocScope::Trash),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
struct TitleInput {
    #[serde(default)]
    title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchInput {
    title: Option<String>,
    editors_can_share: Option<bool>,
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

/// `PATCH {title?, editors_can_share?}`: editors rename; only the owner changes who may share.
async fn rename(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PatchInput>,
) -> Result<Json<Value>, ApiError> {
    let title = input.title.as_deref().map(clean_title).transpose()?;
    let needed = if input.editors_can_share.is_some() {
        Role::Owner
    } else {
        Role::Editor
    };
    let (_, role) = require_role(&state, &authed.user, &id, needed).await?;
    if let Some(title) = title {
        state.store.rename_document(&id, &title).await?;
    }
    if let Some(allowed) = input.editors_can_share {
        state.store.set_editors_can_share(&id, allowed).await?;
    }
    let doc = state
        .store
        .document(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(doc_json(&doc, role)))
}

/// Moves a document to the owner's trash; everyone else loses access until it is restored.
async fn trash(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    trash_document(&state, &authed.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The owner moves a document to the trash; everyone else's open connections close at once.
pub async fn trash_document(state: &AppState, user: &User, id: &str) -> Result<(), ApiError> {
    require_role(state, user, id, Role::Owner).await?;
    state.store.trash_document(id).await?;
    state.hubs.evict(id).await;
    Ok(())
}

pub async fn restore_document(state: &AppState, user: &User, id: &str) -> Result<(), ApiError> {
    require_role(state, user, id, Role::Owner).await?;
    state.store.restore_document(id).await?;
    Ok(())
}

/// Deletes a trashed document for good (owner only); a document must be in the trash first.
pub async fn delete_document(state: &AppState, user: &User, id: &str) -> Result<(), ApiError> {
    let (doc, _) = require_role(state, user, id, Role::Owner).await?;
    if doc.trashed_at.is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_in_trash",
            "move the document to the trash first",
        ));
    }
    state.hubs.evict(id).await;
    state.store.delete_document(id).await?;
    Ok(())
}

async fn restore(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    restore_document(&state, &authed.user, &id).await?;
    let doc = state
        .store
        .document(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(doc_json(&doc, Role::Owner)))
}

async fn delete_forever(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete_document(&state, &authed.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct ContentQuery {
    pub format: Option<String>,
    /// `1` or `true`: the HTML export carries the comment threads as footnotes (other formats leave them out).
    pub comments: Option<String>,
}

/// The current content: `delta` (the default) as JSON `{rev, ops}`, or `text`, `markdown` or `html`.
async fn content(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    Query(query): Query<ContentQuery>,
) -> Result<Response, ApiError> {
    let (doc, _) = require_role(&state, &authed.user, &id, Role::Viewer).await?;
    let format = export_format(query.format.as_deref())?;
    let (rev, delta) = state.hubs.content(&id).await?;
    match format {
        None => Ok(Json(json!({"rev": rev, "ops": delta})).into_response()),
        Some(convert::Format::Html) if wants_comments(&query) => {
            super::comments_api::html_with_comments(&state, &id, &doc.title).await
        }
        Some(format) => export_response(&state, &id, &delta, format, &doc.title, &[]).await,
    }
}

fn wants_comments(query: &ContentQuery) -> bool {
    matches!(query.comments.as_deref(), Some("1" | "true"))
}

/// `?format=`: `None` for a Delta as JSON (also when absent), else an export format.
pub fn export_format(name: Option<&str>) -> Result<Option<convert::Format>, ApiError> {
    match name.unwrap_or("delta") {
        "delta" => Ok(None),
        other => convert::Format::from_name(other)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("format must be delta, text, markdown or html")),
    }
}

/// A document exported as text, Markdown or HTML, with its media type. HTML carries the document's images inside
/// it, Markdown links them here.
pub async fn export_response(
    state: &AppState,
    doc_id: &str,
    delta: &crate::ot::Delta,
    format: convert::Format,
    title: &str,
    notes: &[convert::footnotes::Footnote],
) -> Result<Response, ApiError> {
    let delta = match format {
        convert::Format::Html => image_refs::inline_images(state, doc_id, delta).await?,
        convert::Format::Markdown => image_refs::absolute_images(&state.config.public_url, delta),
        convert::Format::Text => delta.clone(),
    };
    let mut page = convert::export(&delta, format, title);
    if format == convert::Format::Html && !notes.is_empty() {
        page = convert::footnotes::add_section(&page, notes);
    }
    let mut response = page.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct ImportQuery {
    title: Option<String>,
    /// The file's name without its extension: the title when neither `title` nor the file names one.
    filename: Option<String>,
}

/// `POST /api/docs/import?title=T` with a raw `text/markdown`, `text/plain` or `text/html` body: a new document
/// owned by the caller whose first version (at revision 0) is the imported content.
async fn import(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    accounts::require_account(&authed.user, "import documents")?;
    let format = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(convert::Format::from_media_type)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send text/markdown, text/plain or text/html",
            )
        })?;
    let body = body.map_err(|_| too_large())?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the file is not UTF-8 text"))?;
    let delta = convert::import(text, format);
    if delta.length() > state.config.limits.max_doc_len {
        return Err(too_large());
    }
    let named_inside = match format {
        convert::Format::Html => convert::html_title(text),
        convert::Format::Markdown => convert::first_line_heading(&delta),
        convert::Format::Text => None,
    };
    let title = query
        .title
        .or_else(|| {
            named_inside
                .or(query.filename)
                .map(|name| title_from_file(&name))
        })
        .unwrap_or_default();
    let doc = create_document(&state, &authed.user, &title).await?;
    let delta = match image_refs::import_images(&state, &authed.user, &doc.id, &delta).await {
        Ok(delta) => delta,
        Err(err) => {
            // All or nothing: a refused image leaves no half-imported document behind.
            state.store.delete_document(&doc.id).await?;
            return Err(err);
        }
    };
    let version = NewVersion {
        id: auth::random_id(16),
        doc_id: doc.id.clone(),
        rev: 0,
        content_json: delta.to_json().to_string(),
        kind: "import",
        name: None,
        created_by: Some(authed.user.id.clone()),
        contributors: vec![authed.user.id.clone()],
        size: delta.length() as i64,
    };
    super::authors_api::creator_wrote_all(&state, &doc.id, &authed.user.id, delta.length()).await?;
    state.store.write_version(&version).await?;
    Ok((StatusCode::CREATED, Json(doc_json(&doc, Role::Owner))).into_response())
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "the file is larger than a document may be",
    )
}
