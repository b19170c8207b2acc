//! Version history over JSON: list, read one, name the current content, restore (PROTOCOL.md section 4).

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    auth_api::ApiJson,
    docs_api::{ContentQuery, export_format, export_response, require_role},
    error::ApiError,
    session::ApiUser,
};
use crate::{
    ot::Delta,
    protocol::UserInfo,
    store::{Role, User, VersionMeta},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/docs/{id}/versions", get(list).post(name_current))
        .route("/api/docs/{id}/versions/{version}", get(read))
        .route("/api/docs/{id}/versions/{version}/restore", post(restore))
}

/// Versions newest first, with the names of who contributed since the previous one.
/// (A list that tolerates lag: from a fresh replica when there is one.)
pub async fn versions_json(
    state: &AppState,
    doc_id: &str,
    written: super::reads::WrittenAt,
) -> Result<Vec<Value>, ApiError> {
    let versions = super::reads::lagging(state, written, |store| {
        let doc_id = doc_id.to_string();
        async move { store.versions(&doc_id).await }
    })
    .await?;
    let mut names: HashMap<String, String> = HashMap::new();
    for id in versions
        .iter()
        .flat_map(|version| version.contributors.iter())
    {
        if !names.contains_key(id) {
            let name = state
                .store
                .user_by_id(id)
                .await?
                .map_or_else(|| "someone".into(), |user| user.name);
            names.insert(id.clone(), name);
        }
    }
    Ok(versions
        .iter()
        .map(|version| version_json(version, &names))
        .collect())
}

fn version_json(version: &VersionMeta, names: &HashMap<String, String>) -> Value {
    let contributors: Vec<Value> = version
        .contributors
        .iter()
        .map(|id| json!({"id": id, "name": names.get(id).cloned().unwrap_or_default()}))
        .collect();
    json!({
        "id": version.id,
        "rev": version.rev,
        "kind": version.kind,
        "name": version.name,
        "created_at": version.created_at,
        "contributors": contributors,
        "size": version.size,
    })
}

async fn list(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    axum::Extension(written): axum::Extension<super::reads::WrittenAt>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &authed.user, &id, Role::Viewer).await?;
    Ok(Json(
        json!({ "versions": versions_json(&state, &id, written).await? }),
    ))
}

/// One version's content as a Delta, read where `written` allows (a replica for a preview or an export, the
/// primary for a restore). A version never changes once written, so one that a replica does not hold yet is read
/// from the primary.
pub async fn version_content(
    state: &AppState,
    doc_id: &str,
    version_id: &str,
    written: super::reads::WrittenAt,
) -> Result<(VersionMeta, Delta), ApiError> {
    let found = super::reads::lagging(state, written, |store| {
        let (doc_id, version_id) = (doc_id.to_string(), version_id.to_string());
        async move { store.version(&doc_id, &version_id).await }
    })
    .await?;
    let found = match found {
        Some(found) => Some(found),
        None => state.store.version(doc_id, version_id).await?,
    };
    let (meta, content) = found.ok_or_else(ApiError::not_found)?;
    let value: Value = serde_json::from_str(&content).map_err(ApiError::internal)?;
    let delta = Delta::from_json_unchecked(&value).map_err(ApiError::internal)?;
    Ok((meta, delta))
}

/// One version: its metadata with `ops`, or with `?format=text|markdown|html` the version exported as a file.
async fn read(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, version)): Path<(String, String)>,
    Query(query): Query<ContentQuery>,
    axum::Extension(written): axum::Extension<super::reads::WrittenAt>,
) -> Result<Response, ApiError> {
    let format = export_format(query.format.as_deref())?;
    let (doc, _) = require_role(&state, &authed.user, &id, Role::Viewer).await?;
    let (meta, delta) = version_content(&state, &id, &version, written).await?;
    if let Some(format) = format {
        return export_response(&state, &id, &delta, format, &doc.title, &[]).await;
    }
    let mut body = version_json(&meta, &HashMap::new());
    body["ops"] = serde_json::to_value(&delta).map_err(ApiError::internal)?;
    Ok(Json(body).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameInput {
    name: String,
}

/// "Name current version": a snapshot of the content now, kept whatever the retention.
async fn name_current(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NameInput>,
) -> Result<Response, ApiError> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name the version with 1 to 100 characters",
        ));
    }
    require_role(&state, &authed.user, &id, Role::Editor).await?;
    take_version_token(&state, &authed.user)?;
    let max = state.config.limits.max_named_versions;
    if u64::try_from(state.store.count_named_versions(&id).await?).unwrap_or(0) >= max {
        return Err(ApiError::limit_reached(format!(
            "this document has {max} named versions, the most allowed here"
        )));
    }
    let version_id = state
        .hubs
        .name_version(&id, name, authed.user.id.clone())
        .await
        .map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(json!({"id": version_id}))).into_response())
}

/// Restores a version as a new op (history only grows); everyone connected sees it live.
async fn restore(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let rev = restore_version(&state, &authed.user, &id, &version).await?;
    Ok(Json(json!({"rev": rev})))
}

/// An editor restores a version: the hub commits the op that turns head into it. Returns the op's base revision.
pub async fn restore_version(
    state: &AppState,
    user: &User,
    doc_id: &str,
    version_id: &str,
) -> Result<u64, ApiError> {
    require_role(state, user, doc_id, Role::Editor).await?;
    take_version_token(state, user)?;
    let (_, content) =
        version_content(state, doc_id, version_id, super::reads::WrittenAt::now()).await?;
    let author = UserInfo {
        id: user.id.clone(),
        name: user.name.clone(),
        color: "#555555".into(),
    };
    state
        .hubs
        .restore(doc_id, version_id, content, author)
        .await
        .map_err(ApiError::internal)
}

/// Named versions and restores each write a full copy of the document: `limits.versions_per_minute` per user.
fn take_version_token(state: &AppState, user: &User) -> Result<(), ApiError> {
    state.version_writes.try_take(&user.id).map_err(|wait| {
        ApiError::rate_limited("too many versions saved or restored; wait a moment", wait)
    })
}
