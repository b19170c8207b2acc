//! The dashboard at `/`: my documents, those shared with me, and my trash, with filtering, paging and the
//! form actions behind its buttons (new, rename, trash, restore, delete forever).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::dates::relative_time;
use super::{
    AppState, assets,
    docs_api::{self, parse_scope},
    error::{ApiError, PageError},
    pages::{CsrfForm, csrf_refused},
    session::{self, Authed, PageCaller},
};
use crate::store::{DocScope, Role};

const PAGE_SIZE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/docs/{id}/rename", post(rename))
        .route("/docs/{id}/trash", post(trash))
        .route("/docs/{id}/restore", post(restore))
        .route("/docs/{id}/delete", post(delete_forever))
}

struct DocRow {
    id: String,
    title: String,
    title_lower: String,
    owner: String,
    role: &'static str,
    edited: String,
    last_editor: Option<String>,
    can_rename: bool,
    is_owner: bool,
}

struct Tab {
    scope: &'static str,
    label: &'static str,
    current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    csrf: String,
    user_name: String,
    user_email: String,
    /// Whether the header links to the admin page.
    is_admin: bool,
    /// The header's "Notifications N" badge.
    notifications_unread: i64,
    /// Guests cannot create or import documents: no buttons for them.
    can_create: bool,
    script_version: String,
    pages_script: String,
    tabs: Vec<Tab>,
    scope: &'static str,
    filter: String,
    docs: Vec<DocRow>,
    empty_message: &'static str,
    prev_offset: Option<i64>,
    next_offset: Option<i64>,
    /// The document just moved to the trash, for "Moved to trash · Undo".
    trashed: Option<Trashed>,
}

struct Trashed {
    id: String,
    title: String,
}

#[derive(Debug, Deserialize)]
struct HomeQuery {
    scope: Option<String>,
    q: Option<String>,
    offset: Option<i64>,
    /// Set by the trash form's redirect: the document to offer an Undo for.
    trashed: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    caller: PageCaller,
    Query(query): Query<HomeQuery>,
    axum::Extension(written): axum::Extension<super::reads::WrittenAt>,
) -> Result<Response, PageError> {
    let Some(authed) = caller.authed else {
        return Ok(Redirect::to("/login").into_response());
    };
    // A guest owns nothing; the document their link opened is shared with them.
    let default_scope = if authed.user.guest {
        DocScope::SharedWithMe
    } else {
        DocScope::Owned
    };
    let scope = parse_scope(query.scope.as_deref()).unwrap_or(default_scope);
    let filter = query.q.unwrap_or_default();
    let offset = query.offset.unwrap_or(0).max(0);
    // One more than a page tells whether an "Older" link is needed.
    let mut found = super::reads::lagging(&state, written, |store| {
        let (user, filter) = (authed.user.id.clone(), filter.clone());
        async move {
            store
                .documents_for(&user, scope, &filter, PAGE_SIZE + 1, offset)
                .await
        }
    })
    .await?;
    let has_more = found.len() as i64 > PAGE_SIZE;
    found.truncate(PAGE_SIZE as usize);
    let now = crate::store::now_ms();
    let docs = found
        .into_iter()
        .map(|(doc, role)| DocRow {
            edited: relative_time(now - doc.updated_at),
            last_editor: doc
                .last_editor_name
                .filter(|_| doc.last_editor_id.as_deref() != Some(authed.user.id.as_str())),
            owner: if doc.owner_id == authed.user.id {
                "me".into()
            } else {
                doc.owner_name
            },
            title_lower: doc.title.to_lowercase(),
            id: doc.id,
            title: doc.title,
            role: role.as_str(),
            can_rename: role.can_edit(),
            is_owner: role == Role::Owner,
        })
        .collect();
    let scope_name = scope_name(scope);
    let trashed = match query.trashed {
        Some(id) => just_trashed(&state, &authed.user, &id).await?,
        None => None,
    };
    let notifications_unread = super::notifications_page::unread(&state, &authed.user.id).await?;
    Ok(HomePage {
        notifications_unread,
        csrf: caller.csrf.0,
        can_create: !authed.user.guest,
        is_admin: super::accounts::is_admin(&state, &authed.user),
        user_name: authed.user.name,
        user_email: authed.user.email,
        script_version: assets::version("dashboard.js"),
        pages_script: assets::version("pages.js"),
        tabs: [
            ("owned", "Owned by me"),
            ("shared", "Shared with me"),
            ("trash", "Trash"),
        ]
        .into_iter()
        .map(|(tab_scope, label)| Tab {
            scope: tab_scope,
            label,
            current: tab_scope == scope_name,
        })
        .collect(),
        scope: scope_name,
        empty_message: empty_message(scope, !filter.is_empty()),
        filter,
        docs,
        prev_offset: (offset > 0).then(|| (offset - PAGE_SIZE).max(0)),
        next_offset: has_more.then_some(offset + PAGE_SIZE),
        trashed,
    }
    .into_response())
}

/// The document behind `?trashed=`, when it is in the caller's trash: nobody learns another's titles from it.
async fn just_trashed(
    state: &AppState,
    user: &crate::store::User,
    id: &str,
) -> Result<Option<Trashed>, PageError> {
    let found = docs_api::visible_document(state, user, id).await?;
    Ok(found
        .filter(|(doc, role)| doc.trashed_at.is_some() && *role == Role::Owner)
        .map(|(doc, _)| Trashed {
            id: doc.id,
            title: doc.title,
        }))
}

fn scope_name(scope: DocScope) -> &'static str {
    match scope {
        DocScope::All | DocScope::Owned => "owned",
        DocScope::SharedWithMe => "shared",
        DocScope::Trash => "trash",
    }
}

fn empty_message(scope: DocScope, filtered: bool) -> &'static str {
    match (scope, filtered) {
        (_, true) => "No document matches this filter.",
        (DocScope::SharedWithMe, _) => {
            "Nothing is shared with you yet. When someone shares a document or sends you a link, it appears here."
        }
        (DocScope::Trash, _) => {
            "The trash is empty. Documents you move to the trash wait here until you restore or delete them."
        }
        _ => {
            "No documents yet. Press New document to write your first one; you can share it afterwards."
        }
    }
}

/// Checks the form's CSRF token and the caller, then runs `action`; errors become pages, success goes back.
pub(super) async fn form_action<F, Fut>(
    caller: PageCaller,
    csrf: &str,
    back_to: &str,
    action: F,
) -> Response
where
    F: FnOnce(Authed) -> Fut,
    Fut: Future<Output = Result<(), ApiError>>,
{
    if !session::form_csrf_ok(&caller.csrf, csrf) {
        return csrf_refused();
    }
    let Some(authed) = caller.authed else {
        return Redirect::to("/login").into_response();
    };
    match action(authed).await {
        Ok(()) => Redirect::to(back_to).into_response(),
        Err(err) => PageError::new(err.status, err.message).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct RenameForm {
    #[serde(default)]
    csrf: String,
    title: String,
}

async fn rename(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    Form(form): Form<RenameForm>,
) -> Response {
    form_action(caller, &form.csrf, "/", |authed| async move {
        let title = docs_api::clean_title(&form.title)?;
        docs_api::require_role(&state, &authed.user, &id, Role::Editor).await?;
        state.store.rename_document(&id, &title).await?;
        Ok(())
    })
    .await
}

async fn trash(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let back_to = format!("/?trashed={id}");
    form_action(caller, &form.csrf, &back_to, |authed| async move {
        docs_api::trash_document(&state, &authed.user, &id).await
    })
    .await
}

#[derive(Debug, Deserialize)]
struct RestoreForm {
    #[serde(default)]
    csrf: String,
    /// Sent by "Moved to trash · Undo": go back to the list the person was on, not to the trash.
    undo: Option<String>,
}

async fn restore(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    Form(form): Form<RestoreForm>,
) -> Response {
    let back_to = if form.undo.is_some() {
        "/"
    } else {
        "/?scope=trash"
    };
    form_action(caller, &form.csrf, back_to, |authed| async move {
        docs_api::restore_document(&state, &authed.user, &id).await
    })
    .await
}

async fn delete_forever(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    form_action(caller, &form.csrf, "/?scope=trash", |authed| async move {
        docs_api::delete_document(&state, &authed.user, &id).await
    })
    .await
}
