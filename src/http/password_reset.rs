//! Password reset by e-mail (`[mail]`): "Forgot your password?" at `/forgot`, which answers the same whether or
//! not the address has an account, and the link it sends, `/reset/{token}`, which sets a new password once and
//! ends every session and API token of the account. The admin page sends the same link (`send_reset_link`).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use super::{
    AppState,
    accounts::{self, check_password_rules},
    error::{ApiError, PageError},
    pages::{csrf_refused, sentence},
    session::{self, PageCaller},
};
use crate::{auth, mail::PasswordReset, store::User};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/forgot", get(forgot_page).post(forgot_submit))
        .route("/reset/{token}", get(reset_page).post(reset_submit))
}

#[derive(Template, WebTemplate)]
#[template(path = "forgot.html")]
struct ForgotPage {
    csrf: String,
    mail_on: bool,
    /// The form was sent: the page says a link is on its way if the account exists, whichever is true.
    sent: bool,
    error: Option<String>,
    email: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reset.html")]
struct ResetPage {
    csrf: String,
    token: String,
    email: String,
    error: Option<String>,
}

async fn forgot_page(State(state): State<AppState>, caller: PageCaller) -> ForgotPage {
    ForgotPage {
        csrf: caller.csrf.0,
        mail_on: state.mailer.is_on(),
        sent: false,
        error: None,
        email: String::new(),
    }
}

#[derive(Debug, Deserialize)]
struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

/// Sends a reset link when the address belongs to an account that has a password, in the background: the answer,
/// and the time it takes, must not tell whether the account exists. A malformed address is said to be one, which
/// tells nothing about accounts.
async fn forgot_submit(
    State(state): State<AppState>,
    caller: PageCaller,
    Form(form): Form<ForgotForm>,
) -> Result<Response, PageError> {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return Ok(csrf_refused());
    }
    let email = form.email.trim().to_lowercase();
    let mut page = ForgotPage {
        csrf: caller.csrf.0,
        mail_on: state.mailer.is_on(),
        sent: false,
        error: None,
        email: form.email.trim().to_string(),
    };
    if !page.mail_on {
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    }
    if !auth::valid_email(&email) {
        page.error = Some("Enter a valid e-mail address.".into());
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    if let Some(user) = resettable(&state, &email).await?
        && state.mail_quota.try_take(&format!("reset:{email}")).is_ok()
    {
        // The link is made and sent after the answer, so that an account costs the request no more time than
        // an unknown address does.
        tokio::spawn(mail_reset_link(state.clone(), user));
    }
    page.sent = true;
    Ok(page.into_response())
}

/// The background half of "Forgot your password?": a failure is logged, and leaves no link behind.
async fn mail_reset_link(state: AppState, user: User) {
    let (token, text) = match new_reset(&state, &user).await {
        Ok(made) => made,
        Err(err) => return tracing::warn!(err = %err.message, "cannot make a password reset"),
    };
    if let Err(err) = state.mailer.send(&user.email, &text).await {
        tracing::warn!(%err, "cannot send e-mail: a password reset");
        let _ = state
            .store
            .delete_password_reset(&auth::token_hash(&token))
            .await;
    }
}

/// An enabled account with a password: guests have none to reset.
async fn resettable(state: &AppState, email: &str) -> Result<Option<User>, PageError> {
    let user = state.store.user_by_email(email).await?;
    Ok(user.filter(|user| !user.disabled && !user.guest))
}

/// Makes a reset link for the account (stored as its hash) and the message that carries it.
async fn new_reset(state: &AppState, user: &User) -> Result<(String, PasswordReset), ApiError> {
    let lifetime = state
        .config
        .mail
        .as_ref()
        .map(|mail| mail.reset_lifetime)
        .ok_or_else(|| ApiError::forbidden("e-mail is off on this server"))?;
    let token = auth::new_token();
    let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX / 2);
    let expires_at = crate::store::now_ms().saturating_add(lifetime_ms);
    state
        .store
        .create_password_reset(&auth::token_hash(&token), &user.id, expires_at)
        .await?;
    let text = PasswordReset {
        name: user.name.clone(),
        link: format!("{}/reset/{token}", state.config.public_url),
        lifetime: in_words(lifetime),
    };
    Ok((token, text))
}

/// Sends a reset link to the account and waits for the mail server, for the admin page: a failure is an error
/// that says why, and leaves no link behind.
pub(super) async fn send_reset_link(state: &AppState, user: &User) -> Result<(), ApiError> {
    if user.guest {
        return Err(ApiError::bad_request(
            "a guest who joined through a link has no password to reset",
        ));
    }
    let (token, text) = new_reset(state, user).await?;
    if let Err(err) = state.mailer.send(&user.email, &text).await {
        state
            .store
            .delete_password_reset(&auth::token_hash(&token))
            .await?;
        return Err(mail_failed(err));
    }
    Ok(())
}

/// A send that failed, as the person who asked should read it.
pub(super) fn mail_failed(err: crate::mail::MailError) -> ApiError {
    tracing::warn!(%err, "cannot send e-mail");
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "mail_failed",
        format!("the e-mail could not be sent ({err}); nothing was changed, try again later"),
    )
}

/// "1 hour", "30 minutes": a lifetime as the message says it.
fn in_words(lifetime: std::time::Duration) -> String {
    let minutes = lifetime.as_secs() / 60;
    let (count, unit) = match minutes {
        0 => (lifetime.as_secs(), "second"),
        _ if minutes.is_multiple_of(60) => (minutes / 60, "hour"),
        _ => (minutes, "minute"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

async fn reset_page(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(token): Path<String>,
) -> Result<ResetPage, PageError> {
    let user = state
        .store
        .password_reset_user(&auth::token_hash(&token))
        .await?
        .ok_or_else(link_gone)?;
    Ok(ResetPage {
        csrf: caller.csrf.0,
        token,
        email: user.email,
        error: None,
    })
}

#[derive(Debug, Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeated: String,
}

/// Sets the new password (the rules of sign-up), ends every session and API token of the account (their sockets
/// close now), uses the link, and signs this browser in. Nothing changes on any error.
async fn reset_submit(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return Ok(csrf_refused());
    }
    let token_hash = auth::token_hash(&token);
    let user = state
        .store
        .password_reset_user(&token_hash)
        .await?
        .ok_or_else(link_gone)?;
    let checked = match form.password == form.repeated {
        true => check_password_rules(&form.password),
        false => Err(ApiError::bad_request("the two passwords differ")),
    };
    if let Err(err) = checked {
        let page = ResetPage {
            csrf: caller.csrf.0,
            token,
            email: user.email,
            error: Some(sentence(&err.message)),
        };
        return Ok((err.status, page).into_response());
    }
    let hash = accounts::hash_in_background(&state, form.password)
        .await
        .map_err(page_error)?;
    // Used or expired meanwhile (another tab): the same page as for a dead link.
    let user_id = state
        .store
        .reset_password(&token_hash, &hash)
        .await?
        .ok_or_else(link_gone)?;
    state.connections.credentials_changed(&user_id);
    let session_token = accounts::start_session(&state, &user)
        .await
        .map_err(page_error)?;
    let mut response = Redirect::to("/").into_response();
    session::append_cookie(
        &mut response,
        &session::session_cookie(&state, &session_token),
    );
    Ok(response)
}

fn page_error(err: ApiError) -> PageError {
    PageError::new(err.status, sentence(&err.message))
}

fn link_gone() -> PageError {
    PageError {
        status: StatusCode::NOT_FOUND,
        heading: Some("This link no longer works"),
        message: "Password-reset links work once, for a limited time. Ask for a new one from the log-in page."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::in_words;
    use std::time::Duration;

    #[test]
    fn lifetimes_read_in_words() {
        assert_eq!(in_words(Duration::from_secs(3600)), "1 hour");
        assert_eq!(in_words(Duration::from_secs(2 * 3600)), "2 hours");
        assert_eq!(in_words(Duration::from_secs(90 * 60)), "90 minutes");
        assert_eq!(in_words(Duration::from_secs(5)), "5 seconds");
    }
}
