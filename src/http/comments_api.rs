//! Comments over JSON (`/api/docs/{id}/comments`, docs/protocol-notes.md): every request goes through the
//! document's hub, so it is ordered with the ops and heard live by everyone who has the document open.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    auth_api::ApiJson,
    docs_api::{export_response, require_role},
    error::ApiError,
    session::ApiUser,
};
use crate::{
    convert::{self, footnotes::Footnote},
    hub::{Actor, CommentAction, CommentDone, CommentError},
    protocol::{ErrorCode, ThreadWire},
    store::{Role, User},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/docs/{id}/comments", get(list).post(open))
        .route("/api/docs/{id}/people", get(people))
        .route("/api/docs/{id}/comments/{thread}/replies", post(reply))
        .route("/api/docs/{id}/comments/{thread}/resolve", post(resolve))
        .route("/api/docs/{id}/comments/{thread}/reopen", post(reopen))
        .route(
            "/api/docs/{id}/comments/{message}",
            axum::routing::patch(edit).delete(delete),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewComment {
    start: u64,
    end: u64,
    #[serde(default)]
    rev: Option<u64>,
    body: String,
    #[serde(default)]
    mentions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    body: String,
    #[serde(default)]
    mentions: Vec<String>,
}

/// The people who may be mentioned: the owner and the members added by person, for those who may comment.
async fn people(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &authed.user, &id, Role::Commenter).await?;
    let people = state.store.document_people(&id).await?;
    let people: Vec<Value> = people
        .iter()
        .map(|person| json!({"id": person.id, "name": person.name, "role": person.role}))
        .collect();
    Ok(Json(json!({ "people": people })))
}

async fn list(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &authed.user, &id, Role::Viewer).await?;
    let (rev, threads) = state.hubs.list_comments(&id).await.map_err(api_error)?;
    Ok(Json(json!({"rev": rev, "threads": threads})))
}

async fn open(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    ApiJson(new): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let action = CommentAction::New {
        rev: new.rev,
        start: new.start,
        end: new.end,
        body: new.body,
        mentions: new.mentions,
    };
    let done = act(&state, &authed.user, &id, action).await?;
    Ok((StatusCode::CREATED, Json(done_json(done))))
}

async fn reply(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, thread)): Path<(String, String)>,
    ApiJson(body): ApiJson<Body>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let action = CommentAction::Reply {
        thread,
        body: body.body,
        mentions: body.mentions,
    };
    let done = act(&state, &authed.user, &id, action).await?;
    Ok((StatusCode::CREATED, Json(done_json(done))))
}

async fn edit(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, message)): Path<(String, String)>,
    ApiJson(body): ApiJson<Body>,
) -> Result<Json<Value>, ApiError> {
    let action = CommentAction::Edit {
        message,
        body: body.body,
        mentions: body.mentions,
    };
    Ok(Json(done_json(
        act(&state, &authed.user, &id, action).await?,
    )))
}

async fn delete(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, message)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let action = CommentAction::Delete { message };
    Ok(Json(done_json(
        act(&state, &authed.user, &id, action).await?,
    )))
}

async fn resolve(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, thread)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let action = CommentAction::Resolve { thread };
    Ok(Json(done_json(
        act(&state, &authed.user, &id, action).await?,
    )))
}

async fn reopen(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, thread)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let action = CommentAction::Reopen { thread };
    Ok(Json(done_json(
        act(&state, &authed.user, &id, action).await?,
    )))
}

/// Checks that the caller may see the document (404 otherwise), then lets the hub apply the role rules.
async fn act(
    state: &AppState,
    user: &User,
    doc_id: &str,
    action: CommentAction,
) -> Result<CommentDone, ApiError> {
    let (_, role) = require_role(state, user, doc_id, Role::Viewer).await?;
    let actor = Actor {
        user_id: user.id.clone(),
        role,
    };
    state
        .hubs
        .comment(doc_id, actor, action)
        .await
        .map_err(api_error)
}

fn done_json(done: CommentDone) -> Value {
    json!({"event": done.event, "rev": done.rev, "thread": done.thread, "message": done.message})
}

fn api_error(err: CommentError) -> ApiError {
    let status = match err.code {
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RevTooOld | ErrorCode::RevInFuture => StatusCode::CONFLICT,
        ErrorCode::BadComment => StatusCode::BAD_REQUEST,
        ErrorCode::Internal => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let code = match err.code {
        ErrorCode::BadComment => "bad_request",
        ErrorCode::Internal => "unavailable",
        other => other.as_str(),
    };
    ApiError::new(status, code, err.msg)
}

/// The HTML export with every thread as a footnote: a marker after each range and the threads at the end. The
/// threads and the content are read separately from the hub, so they are read again until both are at one revision.
pub async fn html_with_comments(
    state: &AppState,
    doc_id: &str,
    title: &str,
) -> Result<axum::response::Response, ApiError> {
    let mut tries = 0;
    loop {
        let (rev, threads) = state.hubs.list_comments(doc_id).await.map_err(api_error)?;
        let (head, document) = state.hubs.content(doc_id).await?;
        tries += 1;
        if head == rev || tries == 5 {
            let notes: Vec<Footnote> = threads
                .iter()
                .map(|thread| footnote(thread, head == rev))
                .collect();
            let marked = convert::footnotes::with_markers(&document, &notes);
            return export_response(state, doc_id, &marked, convert::Format::Html, title, &notes)
                .await;
        }
    }
}

/// A thread as a footnote; `placed`: its anchor is at the content's revision, so it gets a marker.
fn footnote(thread: &ThreadWire, placed: bool) -> Footnote {
    let messages = thread
        .messages
        .iter()
        .flatten()
        .filter(|message| !message.deleted)
        .map(|message| {
            let author = message
                .author
                .name
                .clone()
                .unwrap_or_else(|| "someone".into());
            (author, message.body.clone())
        })
        .collect();
    Footnote {
        end: (placed && !thread.orphaned).then_some(thread.end),
        quote: thread.quote.clone(),
        messages,
        resolved: thread.resolved,
    }
}
