//! The account page at `/account`: a person's name, password, sessions and API tokens, with the form actions
//! behind its buttons. Guests who joined by link have no password and no tokens, so they see only their sessions.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    AppState, account_deletion,
    accounts::{self, PasswordChange},
    assets, auth_api,
    dates::{Moment, relative_time},
    error::{ApiError, PageError},
    pages::{CsrfForm, csrf_refused, sentence},
    session::{self, Authed, ClientAddr, PageCaller},
    user_agents,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/name", post(change_name))
        .route("/account/password", post(change_password))
        .route("/account/sessions/end-others", post(end_other_sessions))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/account/delete", post(account_deletion::delete_account))
}

struct SessionRow {
    signed_in: Moment,
    expires: Moment,
    /// "Firefox on Linux", from the browser's latest request; "Not used since signing in" before any.
    device: String,
    /// Where and when it was last used: "just now from 192.0.2.7".
    last_active: Option<String>,
    /// The session this page was loaded with.
    current: bool,
}

struct TokenRow {
    id: String,
    name: String,
    created: Moment,
    last_used: Option<String>,
}

/// A token just created: its secret is shown on this one answer and never again.
struct CreatedToken {
    name: String,
    secret: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    csrf: String,
    user_name: String,
    user_email: String,
    guest: bool,
    /// Whether the header shows the admin page's link.
    is_admin: bool,
    pages_script: String,
    /// What the last form did, after its redirect.
    notice: Option<&'static str>,
    /// Why the last form changed nothing.
    error: Option<String>,
    created_token: Option<CreatedToken>,
    sessions: Vec<SessionRow>,
    other_sessions: usize,
    tokens: Vec<TokenRow>,
    /// An account signed in without a password confirms its deletion with its e-mail instead.
    has_password: bool,
    /// How many documents the person owns, trash included: what the delete form asks about.
    owned_documents: i64,
}

#[derive(Debug, Deserialize)]
struct AccountQuery {
    /// Set by a form's redirect; only known values show a message, so a link cannot make the page say anything.
    done: Option<String>,
}

fn notice_for(done: &str) -> Option<&'static str> {
    match done {
        "name" => Some("Your name was changed."),
        "password" => Some(
            "Your password was changed. Your other sessions were signed out and your API tokens revoked.",
        ),
        "sessions" => Some("Your other sessions were signed out."),
        "revoked" => Some("The token was revoked."),
        _ => None,
    }
}

async fn account(
    State(state): State<AppState>,
    caller: PageCaller,
    Query(query): Query<AccountQuery>,
) -> Result<Response, PageError> {
    let Some(authed) = caller.authed else {
        return Ok(Redirect::to("/login?next=/account").into_response());
    };
    let mut page = account_page(&state, &authed, caller.csrf.0).await?;
    page.notice = query.done.as_deref().and_then(notice_for);
    Ok(page.into_response())
}

/// The page as the store has it now, with no message.
async fn account_page(
    state: &AppState,
    authed: &Authed,
    csrf: String,
) -> Result<AccountPage, PageError> {
    let user = &authed.user;
    let now = crate::store::now_ms();
    let sessions: Vec<SessionRow> = state
        .store
        .sessions_of(&user.id)
        .await?
        .into_iter()
        .map(|session| SessionRow {
            current: authed.session_hash.as_deref() == Some(session.token_hash.as_str()),
            signed_in: Moment::from_unix_ms(session.created_at),
            expires: Moment::from_unix_ms(session.expires_at),
            device: session.last_use.as_ref().map_or_else(
                || "Not used since signing in".to_owned(),
                |last| user_agents::describe(&last.user_agent),
            ),
            last_active: session
                .last_use
                .map(|last| format!("{} from {}", relative_time(now - last.at), last.address)),
        })
        .collect();
    let tokens = state
        .store
        .list_api_tokens(&user.id)
        .await?
        .into_iter()
        .map(|token| TokenRow {
            id: token.id,
            name: token.name,
            created: Moment::from_unix_ms(token.created_at),
            last_used: token.last_used_at.map(|at| relative_time(now - at)),
        })
        .collect();
    Ok(AccountPage {
        csrf,
        user_name: user.name.clone(),
        user_email: user.email.clone(),
        guest: user.guest,
        is_admin: super::accounts::is_admin(state, user),
        pages_script: assets::version("pages.js"),
        notice: None,
        error: None,
        created_token: None,
        other_sessions: sessions.iter().filter(|session| !session.current).count(),
        sessions,
        tokens,
        has_password: user.password_hash != crate::auth::NO_PASSWORD,
        owned_documents: state.store.count_owned_documents(&user.id).await?,
    })
}

/// Checks the form's CSRF token and the caller, then runs `action`: on success back to the page with the `done`
/// message, on a refusal the page again with the reason (and the refusal's status), nothing changed.
async fn account_action<F, Fut>(
    state: &AppState,
    caller: PageCaller,
    csrf: &str,
    done: &str,
    action: F,
) -> Result<Response, PageError>
where
    F: FnOnce(Authed) -> Fut,
    Fut: Future<Output = Result<(), ApiError>>,
{
    if !session::form_csrf_ok(&caller.csrf, csrf) {
        return Ok(csrf_refused());
    }
    let Some(authed) = caller.authed else {
        return Ok(Redirect::to("/login?next=/account").into_response());
    };
    match action(authed.clone()).await {
        Ok(()) => Ok(Redirect::to(&format!("/account?done={done}")).into_response()),
        Err(err) => refused(state, &authed, caller.csrf.0, err).await,
    }
}

pub(super) async fn refused(
    state: &AppState,
    authed: &Authed,
    csrf: String,
    err: ApiError,
) -> Result<Response, PageError> {
    let mut page = account_page(state, authed, csrf).await?;
    page.error = Some(sentence(&err.message));
    Ok((err.status, page).into_response())
}

#[derive(Debug, Deserialize)]
struct NameForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

async fn change_name(
    State(state): State<AppState>,
    caller: PageCaller,
    Form(form): Form<NameForm>,
) -> Result<Response, PageError> {
    let NameForm { csrf, name } = form;
    let state = &state;
    account_action(state, caller, &csrf, "name", |authed| async move {
        // A guest's name ends in "(guest)", which tells the others who they are: it stays.
        accounts::require_account(&authed.user, "change their name")?;
        let name = name.trim();
        accounts::check_name(name)?;
        state.store.set_user_name(&authed.user.id, name).await?;
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current_password: String,
    new_password: String,
    repeat_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    caller: PageCaller,
    ClientAddr(address): ClientAddr,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let PasswordForm {
        csrf,
        current_password,
        new_password,
        repeat_password,
    } = form;
    let (state, address) = (&state, &address);
    account_action(state, caller, &csrf, "password", |authed| async move {
        let change = PasswordChange {
            current: current_password,
            new: new_password,
            repeated: repeat_password,
        };
        let keep = authed.session_hash.as_deref();
        accounts::change_password(state, &authed.user, change, keep, address).await
    })
    .await
}

async fn end_other_sessions(
    State(state): State<AppState>,
    caller: PageCaller,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let state = &state;
    account_action(state, caller, &form.csrf, "sessions", |authed| async move {
        let keep = authed.session_hash.as_deref();
        state
            .store
            .end_other_sessions(&authed.user.id, keep)
            .await?;
        // Their open sockets check their session again now, and close.
        state.connections.credentials_changed(&authed.user.id);
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

/// Not a redirect: the secret is shown in this answer only, and a URL would keep it in the history.
async fn create_token(
    State(state): State<AppState>,
    caller: PageCaller,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return Ok(csrf_refused());
    }
    let Some(authed) = caller.authed else {
        return Ok(Redirect::to("/login?next=/account").into_response());
    };
    match auth_api::new_api_token(&state, &authed.user, &form.name).await {
        Ok((token, secret)) => {
            let mut page = account_page(&state, &authed, caller.csrf.0).await?;
            page.created_token = Some(CreatedToken {
                name: token.name,
                secret,
            });
            Ok(page.into_response())
        }
        Err(err) => refused(&state, &authed, caller.csrf.0, err).await,
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let state = &state;
    account_action(state, caller, &form.csrf, "revoked", |authed| async move {
        auth_api::revoke_api_token(state, &authed.user, &id).await
    })
    .await
}
