//! HTML pages (askama): log-in, sign-up, log-out, the editor shell at /d/{id}, and share links at /s/{token} (the
//! page that asks to join, the join itself, and joining as a guest).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    AppState,
    accounts::{self, LoginInput, SignupInput},
    assets, docs_api,
    error::{ApiError, PageError},
    session::{self, ClientAddr, PageCaller},
};
use crate::{config::SignupPolicy, store::Role};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/signup", get(signup_page).post(signup_submit))
        .route("/logout", post(logout))
        .route("/docs/new", post(new_document))
        .route("/d/{id}", get(document_page))
        .route("/s/{token}", get(open_link).post(join_link))
        .route("/s/{token}/guest", post(join_as_guest))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
    email: String,
    next: String,
    signup_open: bool,
    /// After a wrong password the e-mail is kept and the password field has the focus.
    focus_password: bool,
    /// E-mail is on: the page offers "Forgot your password?".
    mail_on: bool,
    /// `auth.password`: without it the page shows only the single sign-on buttons.
    password: bool,
    providers: Vec<SsoButton>,
}

/// A "Sign in with …" button: `/auth/oidc/{id}/start`.
struct SsoButton {
    id: String,
    display_name: String,
}

fn sso_buttons(state: &AppState) -> Vec<SsoButton> {
    state
        .config
        .auth
        .oidc
        .iter()
        .map(|provider| SsoButton {
            id: provider.id.clone(),
            display_name: provider.display_name.clone(),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "signup.html")]
struct SignupPage {
    csrf: String,
    error: Option<String>,
    email: String,
    name: String,
    invite: String,
    closed: bool,
    /// The e-mail has an account already: the error offers to log in with it instead.
    email_taken: bool,
    password: bool,
    providers: Vec<SsoButton>,
}

#[derive(Template, WebTemplate)]
#[template(path = "document.html")]
struct DocumentPage {
    csrf: String,
    doc_id: String,
    title: String,
    user_id: String,
    user_name: String,
    /// For the header with the log-out form (templates/header.html), which the editor's log-out guard watches.
    user_email: String,
    /// Whether the header links to the admin page.
    is_admin: bool,
    role: &'static str,
    editor_js_version: String,
    editor_css_version: String,
}

/// A form post whose CSRF token does not match is refused before anything else happens.
pub(super) fn csrf_refused() -> Response {
    PageError::new(
        StatusCode::FORBIDDEN,
        "This form expired or came from another site. Go back, reload the page and try again.",
    )
    .into_response()
}

/// Only same-site paths, so a crafted link cannot bounce a fresh log-in to another site. `next` arrives decoded;
/// browsers drop tabs and newlines from a URL and read `\\` as `/`, so `/%09/evil.com` would become `//evil.com`,
/// another host: any control character, whitespace or backslash makes it `/`.
pub(super) fn safe_next(next: Option<&str>) -> String {
    let same_site = |path: &str| {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    };
    match next {
        Some(path) if same_site(path) => path.to_string(),
        _ => "/".to_string(),
    }
}

fn login_redirect(next: &str) -> Response {
    let encoded: String = next
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect();
    Redirect::to(&format!("/login?next={encoded}")).into_response()
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
    invite: Option<String>,
    /// Filled in on the log-in form ("Log in instead" after a sign-up with a taken e-mail).
    email: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    caller: PageCaller,
    Query(query): Query<NextQuery>,
) -> Response {
    if caller.authed.is_some() {
        return Redirect::to(&safe_next(query.next.as_deref())).into_response();
    }
    LoginPage {
        csrf: caller.csrf.0,
        error: None,
        email: query.email.unwrap_or_default(),
        next: safe_next(query.next.as_deref()),
        signup_open: state.config.auth.signup != SignupPolicy::Closed,
        focus_password: false,
        mail_on: state.mailer.is_on(),
        password: state.config.auth.password,
        providers: sso_buttons(&state),
    }
    .into_response()
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    caller: PageCaller,
    ClientAddr(address): ClientAddr,
    Form(form): Form<LoginForm>,
) -> Response {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return csrf_refused();
    }
    let next = safe_next(form.next.as_deref());
    let input = LoginInput {
        email: form.email.clone(),
        password: form.password,
    };
    match accounts::log_in(&state, input, &address).await {
        Ok((_, token)) => {
            let mut response = Redirect::to(&next).into_response();
            session::append_cookie(&mut response, &session::session_cookie(&state, &token));
            response
        }
        Err(err) => {
            let page = LoginPage {
                csrf: caller.csrf.0,
                focus_password: err.code == "invalid_credentials" && !form.email.is_empty(),
                error: Some(sentence(&err.message)),
                email: form.email,
                next,
                signup_open: state.config.auth.signup != SignupPolicy::Closed,
                mail_on: state.mailer.is_on(),
                password: state.config.auth.password,
                providers: sso_buttons(&state),
            };
            (err.status, page).into_response()
        }
    }
}

async fn signup_page(
    State(state): State<AppState>,
    caller: PageCaller,
    Query(query): Query<NextQuery>,
) -> Response {
    if caller.authed.is_some() {
        return Redirect::to("/").into_response();
    }
    SignupPage {
        csrf: caller.csrf.0,
        error: None,
        email: String::new(),
        name: String::new(),
        invite: query.invite.unwrap_or_default(),
        closed: state.config.auth.signup == SignupPolicy::Closed,
        email_taken: false,
        password: state.config.auth.password,
        providers: sso_buttons(&state),
    }
    .into_response()
}

#[derive(Debug, Deserialize)]
struct SignupForm {
    #[serde(default)]
    csrf: String,
    email: String,
    name: String,
    password: String,
    #[serde(default)]
    invite: String,
}

async fn signup_submit(
    State(state): State<AppState>,
    caller: PageCaller,
    Form(form): Form<SignupForm>,
) -> Response {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return csrf_refused();
    }
    let input = SignupInput {
        email: form.email.clone(),
        name: form.name.clone(),
        password: form.password,
        invite: Some(form.invite.clone()).filter(|invite| !invite.is_empty()),
    };
    match accounts::sign_up(&state, input).await {
        Ok((_, token)) => {
            let mut response = Redirect::to("/").into_response();
            session::append_cookie(&mut response, &session::session_cookie(&state, &token));
            response
        }
        Err(err) => {
            let page = SignupPage {
                csrf: caller.csrf.0,
                email_taken: err.code == "email_taken",
                error: Some(sentence(&err.message)),
                email: form.email,
                name: form.name,
                invite: form.invite,
                closed: state.config.auth.signup == SignupPolicy::Closed,
                password: state.config.auth.password,
                providers: sso_buttons(&state),
            };
            (err.status, page).into_response()
        }
    }
}

/// An API refusal (a guest, a quota) as a page with the same status; internal errors were logged already.
fn page_error(err: ApiError) -> PageError {
    PageError::new(err.status, sentence(&err.message))
}

/// API messages are lowercase fragments; pages show sentences.
pub(super) fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    pub(super) csrf: String,
}

#[derive(Debug, Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
    /// Switching account: the log-in page then leads back here.
    next: Option<String>,
}

async fn logout(
    State(state): State<AppState>,
    caller: PageCaller,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return Ok(csrf_refused());
    }
    if let Some(authed) = &caller.authed
        && let Some(hash) = &authed.session_hash
    {
        state.store.delete_session(hash).await?;
        // Sockets opened with that session close too, as after any revocation.
        state.connections.credentials_changed(&authed.user.id);
    }
    let mut response = match form.next.as_deref() {
        Some(next) => login_redirect(&safe_next(Some(next))),
        None => Redirect::to("/login").into_response(),
    };
    session::append_cookie(&mut response, &session::cleared_session_cookie(&state));
    Ok(response)
}

async fn new_document(
    State(state): State<AppState>,
    caller: PageCaller,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return Ok(csrf_refused());
    }
    let Some(authed) = caller.authed else {
        return Ok(Redirect::to("/login").into_response());
    };
    let doc = docs_api::create_document(&state, &authed.user, "Untitled document")
        .await
        .map_err(page_error)?;
    Ok(Redirect::to(&format!("/d/{}", doc.id)).into_response())
}

async fn document_page(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some(authed) = caller.authed else {
        return Ok(login_redirect(&format!("/d/{id}")));
    };
    let Some((doc, role)) = docs_api::visible_document(&state, &authed.user, &id).await? else {
        return Err(PageError::not_found());
    };
    Ok(DocumentPage {
        csrf: caller.csrf.0,
        doc_id: doc.id,
        title: doc.title,
        is_admin: super::accounts::is_admin(&state, &authed.user),
        user_id: authed.user.id,
        user_name: authed.user.name,
        user_email: authed.user.email,
        role: role.as_str(),
        editor_js_version: assets::version("editor.js"),
        editor_css_version: assets::version("editor.css"),
    }
    .into_response())
}

/// A share link. Opening it changes nothing: a signed-in visitor whom the link would give more access is asked to
/// confirm (a form that posts back here, so a cross-site navigation cannot add anyone to a document); one who
/// has that access already goes straight to the document. Not signed in: log in, or join as a guest when allowed.
async fn open_link(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let (link, doc) = live_link(&state, &token).await?;
    let Some(authed) = caller.authed else {
        if state.config.anonymous_links {
            return Ok(guest_page(caller.csrf.0, token, doc.title, link.role, None).into_response());
        }
        return Ok(login_redirect(&format!("/s/{token}")));
    };
    if !state
        .store
        .link_would_grant(&doc.id, &authed.user.id, link.role)
        .await?
    {
        return Ok(Redirect::to(&format!("/d/{}", doc.id)).into_response());
    }
    Ok(JoinPage {
        csrf: caller.csrf.0,
        token,
        title: doc.title,
        role: link.role.as_str(),
        verb: role_verb(link.role),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "join.html")]
struct JoinPage {
    csrf: String,
    token: String,
    title: String,
    role: &'static str,
    verb: &'static str,
}

/// The confirmed join: the visitor gets the link's role (unless they already have a stronger one) and lands on the
/// document, which then also appears under "shared with me". Revoking the link removes that access.
async fn join_link(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(token): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return Ok(csrf_refused());
    }
    let Some(authed) = caller.authed else {
        return Ok(login_redirect(&format!("/s/{token}")));
    };
    let user_id = &authed.user.id;
    let (link, changed) = state
        .store
        .join_through_link(&crate::auth::token_hash(&token), user_id)
        .await?
        .ok_or_else(link_gone)?;
    if changed {
        state
            .hubs
            .set_role(&link.doc_id, user_id, Some(link.role))
            .await;
    }
    Ok(Redirect::to(&format!("/d/{}", link.doc_id)).into_response())
}

fn link_gone() -> PageError {
    PageError {
        status: StatusCode::NOT_FOUND,
        heading: Some("This link no longer works"),
        message: "It was revoked or never existed. Ask the owner for a new one.".into(),
    }
}

/// The link and its document, or the page that says the link no longer works.
async fn live_link(
    state: &AppState,
    token: &str,
) -> Result<(crate::store::ShareLink, crate::store::DocMeta), PageError> {
    let link = state
        .store
        .link_by_token(&crate::auth::token_hash(token))
        .await?
        .ok_or_else(link_gone)?;
    let doc = state
        .store
        .document(&link.doc_id)
        .await?
        .filter(|doc| doc.trashed_at.is_none())
        .ok_or_else(link_gone)?;
    Ok((link, doc))
}

#[derive(Template, WebTemplate)]
#[template(path = "guest.html")]
struct GuestPage {
    csrf: String,
    token: String,
    title: String,
    verb: &'static str,
    error: Option<String>,
}

fn guest_page(
    csrf: String,
    token: String,
    title: String,
    role: Role,
    error: Option<String>,
) -> GuestPage {
    GuestPage {
        csrf,
        token,
        title,
        verb: role_verb(role),
        error,
    }
}

/// What a link's role lets its visitors do with the document, for the pages that offer to join.
pub(super) fn role_verb(role: Role) -> &'static str {
    match role {
        Role::Owner | Role::Editor => "edit",
        Role::Commenter => "comment on",
        Role::Viewer => "view",
    }
}

#[derive(Debug, Deserialize)]
struct GuestForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

/// With `sharing.anonymous_links`, a visitor joins as a named guest: an account that cannot log in, holding only
/// the link's role on that one document, gone with the link when it is revoked.
async fn join_as_guest(
    State(state): State<AppState>,
    caller: PageCaller,
    ClientAddr(address): ClientAddr,
    Path(token): Path<String>,
    Form(form): Form<GuestForm>,
) -> Result<Response, PageError> {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return Ok(csrf_refused());
    }
    if !state.config.anonymous_links {
        return Err(PageError::page_not_found());
    }
    let (link, doc) = live_link(&state, &token).await?;
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        let error = Some("Enter a name of 1 to 60 characters.".to_string());
        let page = guest_page(caller.csrf.0, token, doc.title, link.role, error);
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let (guest, session_token) =
        match accounts::create_guest(&state, &format!("{name} (guest)"), &address).await {
            Ok(created) => created,
            Err(err) if err.status == StatusCode::TOO_MANY_REQUESTS => {
                let error = Some(sentence(&err.message));
                let page = guest_page(caller.csrf.0, token, doc.title, link.role, error);
                let retry_after = [(header::RETRY_AFTER, err.retry_after.unwrap_or(60))];
                return Ok((err.status, retry_after, page).into_response());
            }
            Err(err) => return Err(PageError::internal(err.message)),
        };
    // Revoked since the page was shown: the guest account is left with no access at all.
    state
        .store
        .join_through_link(&crate::auth::token_hash(&token), &guest.id)
        .await?
        .ok_or_else(link_gone)?;
    let mut response = Redirect::to(&format!("/d/{}", doc.id)).into_response();
    session::append_cookie(
        &mut response,
        &session::session_cookie(&state, &session_token),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_path_on_this_site_after_decoding() {
        for kept in ["/", "/d/abc", "/d/abc?x=1#y", "/s/token"] {
            assert_eq!(safe_next(Some(kept)), kept);
        }
        for refused in [
            "//evil.com",
            "/\t/evil.com",
            "/\n/evil.com",
            "/\r//evil.com",
            "/\\evil.com",
            "\\/evil.com",
            "https://evil.com",
            "evil.com",
            "/ /evil.com",
            "",
        ] {
            assert_eq!(safe_next(Some(refused)), "/", "{refused:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
