//! The notifications page at `/notifications` (issue 14): the newest mentions of the signed-in person, unread ones
//! marked, each linking to its thread, and "Mark all read". The header's badge (on the dashboard and here) links
//! to it.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{
    AppState, dashboard::form_action, dates::relative_time, error::PageError,
    mention_mail::excerpt, notifications_api::LIST_SIZE, pages::CsrfForm, session::PageCaller,
};
use crate::store::{ReadWhich, now_ms};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(page))
        .route("/notifications/read", post(mark_all_read))
}

struct Item {
    doc_id: String,
    doc_title: String,
    thread_id: String,
    by: String,
    excerpt: String,
    when: String,
    unread: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    csrf: String,
    user_name: String,
    user_email: String,
    is_admin: bool,
    notifications_unread: i64,
    items: Vec<Item>,
}

async fn page(State(state): State<AppState>, caller: PageCaller) -> Result<Response, PageError> {
    let Some(authed) = caller.authed else {
        return Ok(Redirect::to("/login").into_response());
    };
    let rows = state
        .store
        .notifications(&authed.user.id, LIST_SIZE)
        .await?;
    let now = now_ms();
    let items = rows
        .into_iter()
        .map(|row| Item {
            by: row.by_name.unwrap_or_else(|| "Someone".into()),
            excerpt: excerpt(&row.body),
            when: relative_time(now - row.created_at),
            unread: row.read_at.is_none(),
            doc_id: row.doc_id,
            doc_title: row.doc_title,
            thread_id: row.thread_id,
        })
        .collect();
    Ok(NotificationsPage {
        csrf: caller.csrf.0,
        is_admin: super::accounts::is_admin(&state, &authed.user),
        notifications_unread: unread(&state, &authed.user.id).await?,
        user_name: authed.user.name,
        user_email: authed.user.email,
        items,
    }
    .into_response())
}

/// The header's count: the person's unread notifications.
pub(super) async fn unread(state: &AppState, user_id: &str) -> crate::store::StoreResult<i64> {
    state.store.unread_notifications(user_id).await
}

async fn mark_all_read(
    State(state): State<AppState>,
    caller: PageCaller,
    Form(form): Form<CsrfForm>,
) -> Response {
    form_action(caller, &form.csrf, "/notifications", |authed| async move {
        let which = ReadWhich::All;
        state
            .store
            .mark_notifications_read(&authed.user.id, &which, now_ms())
            .await?;
        Ok(())
    })
    .await
}
