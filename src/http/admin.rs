//! The admin page at `/admin`, for the e-mails in `auth.admins` only: every account (search, disable, enable),
//! invitations, the settings as configured, and the server's counts. To anyone else every admin route is the
//! ordinary 404 page, whatever the method, so that nobody learns the page exists.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{
        Path, Query, State,
        rejection::{FormRejection, QueryRejection},
    },
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{MethodRouter, get, post},
};
use serde::Deserialize;

use super::{
    AppState,
    accounts::is_admin,
    dates::Moment,
    error::PageError,
    pages::{csrf_refused, sentence},
    password_reset::{mail_failed, send_reset_link},
    session::{self, Authed, PageCaller},
};
use crate::{auth, config::SignupPolicy, mail::Invitation};

const PAGE_SIZE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", hidden(get(page)))
        .route("/admin/users/{id}/disable", hidden(post(disable)))
        .route("/admin/users/{id}/enable", hidden(post(enable)))
        .route("/admin/users/{id}/reset", hidden(post(reset_password)))
        .route("/admin/invite", hidden(post(invite)))
}

/// Other methods get the 404 page too: a 405 would tell that the address exists.
fn hidden(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.fallback(|| async { PageError::page_not_found() })
}

/// The signed-in administrator, or the 404 page for everyone else.
fn admin_only(state: &AppState, caller: &PageCaller) -> Result<Authed, PageError> {
    caller
        .authed
        .clone()
        .filter(|authed| is_admin(state, &authed.user))
        .ok_or_else(PageError::page_not_found)
}

struct UserRow {
    id: String,
    email: String,
    name: String,
    created: Moment,
    disabled: bool,
    guest: bool,
    is_me: bool,
}

/// An invitation just made, to show once: its link is the only copy of the token.
struct NewInvite {
    email: String,
    link: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
struct AdminPage {
    csrf: String,
    user_name: String,
    user_email: String,
    is_admin: bool,
    /// The script that shows `<time data-local>` in the reader's time zone, as the account page does.
    pages_script: String,
    query: String,
    users: Vec<UserRow>,
    prev_offset: Option<i64>,
    next_offset: Option<i64>,
    invite: Option<NewInvite>,
    invite_error: Option<String>,
    /// What the last action did ("Sent ... to ..."), or why it failed.
    notice: Option<String>,
    action_error: Option<String>,
    mail_on: bool,
    signup_policy: &'static str,
    admins: Vec<String>,
    user_count: i64,
    document_count: i64,
    open_documents: usize,
    open_connections: i64,
    database_size: String,
    database_bytes: i64,
}

#[derive(Debug, Default, Deserialize)]
struct AdminQuery {
    q: Option<String>,
    offset: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    caller: PageCaller,
    query: Result<Query<AdminQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let admin = admin_only(&state, &caller)?;
    // A malformed offset shows the first page: a 400 before the check above would tell that the page exists.
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let page = render(&state, admin, caller.csrf.0, query, Outcome::None).await?;
    Ok(page.into_response())
}

/// What the page reports about the action that led to it.
enum Outcome {
    None,
    /// An invitation link to copy (e-mail is off).
    Made(NewInvite),
    /// An invitation that could not be made, with why.
    Refused(String),
    /// Something done, in a sentence.
    Done(String),
    /// Something that failed (the mail server), in a sentence; nothing changed.
    Failed(String),
}

async fn render(
    state: &AppState,
    admin: Authed,
    csrf: String,
    query: AdminQuery,
    outcome: Outcome,
) -> Result<AdminPage, PageError> {
    let filter = query.q.unwrap_or_default().trim().to_string();
    let offset = query.offset.unwrap_or(0).max(0);
    // One more than a page tells whether a "Next" link is needed.
    let mut found = state
        .store
        .search_users(&filter, PAGE_SIZE + 1, offset)
        .await?;
    let has_more = found.len() as i64 > PAGE_SIZE;
    found.truncate(PAGE_SIZE as usize);
    let users = found
        .into_iter()
        .map(|user| UserRow {
            is_me: user.id == admin.user.id,
            created: Moment::from_unix_ms(user.created_at),
            id: user.id,
            email: user.email,
            name: user.name,
            disabled: user.disabled,
            guest: user.guest,
        })
        .collect();
    let database_bytes = state.store.database_bytes().await?;
    let (mut invite, mut invite_error, mut notice, mut action_error) = (None, None, None, None);
    match outcome {
        Outcome::None => {}
        Outcome::Made(made) => invite = Some(made),
        Outcome::Refused(why) => invite_error = Some(why),
        Outcome::Done(what) => notice = Some(what),
        Outcome::Failed(why) => action_error = Some(why),
    }
    Ok(AdminPage {
        csrf,
        user_name: admin.user.name,
        user_email: admin.user.email,
        is_admin: true,
        pages_script: super::assets::version("pages.js"),
        query: filter,
        users,
        prev_offset: (offset > 0).then(|| (offset - PAGE_SIZE).max(0)),
        next_offset: has_more.then_some(offset + PAGE_SIZE),
        invite,
        invite_error,
        notice,
        action_error,
        mail_on: state.mailer.is_on(),
        signup_policy: signup_policy_name(state.config.auth.signup),
        admins: state.config.auth.admins.clone(),
        user_count: state.store.count_users().await?,
        document_count: state.store.count_documents().await?,
        open_documents: state.hubs.open_count(),
        open_connections: state.hubs.metrics().sessions.get(),
        database_size: human_bytes(database_bytes),
        database_bytes,
    })
}

fn signup_policy_name(policy: SignupPolicy) -> &'static str {
    match policy {
        SignupPolicy::Open => "open",
        SignupPolicy::Invite => "invite",
        SignupPolicy::Closed => "closed",
    }
}

/// Bytes in the largest unit that keeps a number of at least 1, with one decimal past KB.
fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

/// A form of the admin page: each carries this browser's CSRF token.
trait AdminForm {
    fn csrf(&self) -> &str;
}

/// A button on a user's row. `q` is the search the list was showing, so that the page after the action shows the
/// same list (an administrator disabling several accounts found by one search should not have to search again).
#[derive(Debug, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    q: String,
}

impl ActionForm {
    fn search(&self) -> AdminQuery {
        AdminQuery {
            q: Some(self.q.clone()),
            offset: None,
        }
    }
}

impl AdminForm for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Why an admin form was not acted on.
enum Refused {
    /// Not an administrator: the ordinary 404 page.
    Hidden,
    Unreadable,
    Csrf,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Hidden => PageError::page_not_found().into_response(),
            Refused::Unreadable => {
                PageError::new(StatusCode::BAD_REQUEST, "This form could not be read.")
                    .into_response()
            }
            Refused::Csrf => csrf_refused(),
        }
    }
}

/// Checks, in this order, that the caller is an administrator (else 404, before the body is even looked at: a 415
/// or a 422 would tell that the address exists), that the form could be read (else 400) and its CSRF token (else
/// 403).
fn admin_form<T: AdminForm>(
    state: &AppState,
    caller: &PageCaller,
    form: Result<Form<T>, FormRejection>,
) -> Result<(Authed, T), Refused> {
    let admin = admin_only(state, caller).map_err(|_| Refused::Hidden)?;
    let Ok(Form(form)) = form else {
        return Err(Refused::Unreadable);
    };
    if !session::form_csrf_ok(&caller.csrf, form.csrf()) {
        return Err(Refused::Csrf);
    }
    Ok((admin, form))
}

async fn disable(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (admin, form) = match admin_form(&state, &caller, form) {
        Ok(checked) => checked,
        Err(refused) => return refused.into_response(),
    };
    if admin.user.id == id {
        return PageError::new(
            StatusCode::BAD_REQUEST,
            "You cannot disable your own account: you would lock yourself out. Ask another administrator, \
             or use `quire user disable` on the server.",
        )
        .into_response();
    }
    set_disabled(&state, &id, true, &form.q).await
}

async fn enable(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    match admin_form(&state, &caller, form) {
        Ok((_, form)) => set_disabled(&state, &id, false, &form.q).await,
        Err(refused) => refused.into_response(),
    }
}

/// Disables or enables the account as `quire user disable|enable` does (disabling ends its sessions), then tells its
/// open WebSockets on this node to check their credentials at once, so that they close now rather than at the next
/// periodic recheck (`limits.recheck_every`, which is all that other nodes of a cluster get).
async fn set_disabled(state: &AppState, user_id: &str, disabled: bool, search: &str) -> Response {
    match state.store.set_disabled(user_id, disabled).await {
        Ok(true) => {
            if disabled {
                state.connections.credentials_changed(user_id);
            }
            Redirect::to(&admin_url(search)).into_response()
        }
        Ok(false) => PageError::page_not_found().into_response(),
        Err(err) => PageError::from(err).into_response(),
    }
}

/// The admin page showing the accounts that match `search` (all of them when it is blank).
fn admin_url(search: &str) -> String {
    let search = search.trim();
    if search.is_empty() {
        return "/admin".to_string();
    }
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", search)
        .finish();
    format!("/admin?{query}")
}

#[derive(Debug, Deserialize)]
struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

impl AdminForm for InviteForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Creates an invitation as `quire user invite` does. With e-mail on it is sent to the address (and withdrawn if
/// sending fails, so that nothing changes); with e-mail off the page shows its link for the administrator to copy.
async fn invite(
    State(state): State<AppState>,
    caller: PageCaller,
    form: Result<Form<InviteForm>, FormRejection>,
) -> Result<Response, PageError> {
    let (admin, form) = match admin_form(&state, &caller, form) {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused.into_response()),
    };
    let email = form.email.trim().to_lowercase();
    let outcome = if auth::valid_email(&email) {
        let token = auth::new_token();
        let token_hash = auth::token_hash(&token);
        state
            .store
            .create_invite(&token_hash, &email, Some(&admin.user.id))
            .await?;
        let link = format!("{}/signup?invite={token}", state.config.public_url);
        if state.mailer.is_on() {
            let text = Invitation {
                inviter: admin.user.name.clone(),
                document: None,
                link,
            };
            match state.mailer.send(&email, &text).await {
                Ok(()) => Outcome::Done(format!("Sent an invitation to {email}.")),
                Err(err) => {
                    state.store.delete_invite(&token_hash).await?;
                    Outcome::Failed(sentence(&mail_failed(err).message))
                }
            }
        } else {
            Outcome::Made(NewInvite { link, email })
        }
    } else {
        Outcome::Refused(format!("Not a valid e-mail address: {}", form.email.trim()))
    };
    let page = render(&state, admin, caller.csrf.0, AdminQuery::default(), outcome).await?;
    Ok(with_status(page))
}

/// The page after an action: 502 when the mail server failed it, so that scripts see the failure too.
fn with_status(page: AdminPage) -> Response {
    let status = match page.action_error {
        Some(_) => StatusCode::BAD_GATEWAY,
        None => StatusCode::OK,
    };
    (status, page).into_response()
}

/// E-mails the account a password-reset link (the one "Forgot your password?" sends), and says whether it left.
async fn reset_password(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Response, PageError> {
    let (admin, form) = match admin_form(&state, &caller, form) {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused.into_response()),
    };
    if !state.mailer.is_on() {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "E-mail is off on this server: reset the password with `quire user reset-password` instead.",
        ));
    }
    let user = state
        .store
        .user_by_id(&id)
        .await?
        .ok_or_else(PageError::page_not_found)?;
    let outcome = match send_reset_link(&state, &user).await {
        Ok(()) => Outcome::Done(format!("Sent a password-reset link to {}.", user.email)),
        Err(err) => Outcome::Failed(sentence(&err.message)),
    };
    let page = render(&state, admin, caller.csrf.0, form.search(), outcome).await?;
    Ok(with_status(page))
}

#[cfg(test)]
mod tests {
    use super::{admin_url, human_bytes};

    #[test]
    fn the_page_after_an_action_keeps_the_search() {
        assert_eq!(admin_url(""), "/admin");
        assert_eq!(admin_url("  "), "/admin");
        assert_eq!(admin_url("ann&bob @x"), "/admin?q=ann%26bob+%40x");
    }

    #[test]
    fn sizes_read_in_the_largest_fitting_unit() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(4096), "4.0 KB");
        assert_eq!(human_bytes(3 * 1024 * 1024 / 2), "1.5 MB");
    }
}
