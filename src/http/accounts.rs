//! Sign-up, log-in, log-out and password changes, shared by the HTML pages and the JSON API so both enforce the
//! same rules.

use std::{sync::LazyLock, time::Duration};

use axum::http::StatusCode;

use super::{AppState, error::ApiError};
use crate::{
    auth,
    config::SignupPolicy,
    store::{StoreError, User},
};

#[derive(Debug, Clone, serde::Deserialize)]
pub struct SignupInput {
    pub email: String,
    pub name: String,
    pub password: String,
    /// The invitation token, required when `auth.signup = "invite"`.
    #[serde(default)]
    pub invite: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

/// Creates an account and a session; returns the user and the session token for the cookie. Everything is checked
/// before the invitation (with `auth.signup = "invite"`) is used, and it is used in the same transaction that creates
/// the user, so a sign-up that fails keeps its invitation.
pub async fn sign_up(state: &AppState, input: SignupInput) -> Result<(User, String), ApiError> {
    require_password_login(state)?;
    let email = input.email.trim().to_lowercase();
    let name = input.name.trim().to_string();
    let invite_hash = signup_invite(state, input.invite.as_deref())?;
    check_signup_fields(&email, &name, &input.password)?;
    // Checked (not used) before the costly hash, so that made-up invitations cost us no argon2.
    if let Some(hash) = &invite_hash
        && !state.store.invite_usable(hash, &email).await?
    {
        return Err(needs_invitation());
    }
    let password_hash = hash_in_background(state, input.password).await?;
    let id = auth::random_id(16);
    let created = match &invite_hash {
        None => state
            .store
            .create_user(&id, &email, &name, &password_hash)
            .await
            .map(Some),
        Some(hash) => {
            state
                .store
                .create_invited_user(hash, &id, &email, &name, &password_hash)
                .await
        }
    };
    let user = match created {
        Ok(Some(user)) => user,
        Ok(None) => return Err(needs_invitation()),
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "email_taken",
                "this e-mail already has an account",
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let token = start_session(state, &user).await?;
    Ok((user, token))
}

/// With `auth.password = false`, people sign in only through the single sign-on providers: password log-ins and
/// sign-ups are refused before anything is looked up.
fn require_password_login(state: &AppState) -> Result<(), ApiError> {
    if state.config.auth.password {
        return Ok(());
    }
    let names: Vec<&str> = state
        .config
        .auth
        .oidc
        .iter()
        .map(|provider| provider.display_name.as_str())
        .collect();
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "password_disabled",
        format!(
            "passwords are turned off on this server; sign in with {}",
            names.join(" or ")
        ),
    ))
}

/// What `auth.signup` asks of a sign-up: nothing ("open"), an invitation, whose token hash this returns ("invite"),
/// or it refuses ("closed").
fn signup_invite(state: &AppState, invite: Option<&str>) -> Result<Option<String>, ApiError> {
    match state.config.auth.signup {
        SignupPolicy::Open => Ok(None),
        SignupPolicy::Closed => Err(ApiError::forbidden(
            "sign-up is closed on this server; ask an administrator",
        )),
        SignupPolicy::Invite => match invite.unwrap_or_default() {
            "" => Err(needs_invitation()),
            token => Ok(Some(auth::token_hash(token))),
        },
    }
}

fn needs_invitation() -> ApiError {
    ApiError::forbidden("sign-up needs an invitation for this e-mail")
}

fn check_signup_fields(email: &str, name: &str, password: &str) -> Result<(), ApiError> {
    if !auth::valid_email(email) {
        return Err(ApiError::bad_request("enter a valid e-mail address"));
    }
    check_name(name)?;
    check_password_rules(password)
}

/// A person's name, already trimmed: what sign-up and the account page accept. Control characters would let a
/// name break lines in lists and logs.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "enter a name of 1 to 100 characters, without control characters",
        ));
    }
    Ok(())
}

pub fn check_password_rules(password: &str) -> Result<(), ApiError> {
    let n_chars = password.chars().count();
    if n_chars < auth::MIN_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "the password needs at least {} characters",
            auth::MIN_PASSWORD_LEN
        )));
    }
    if password.len() > auth::MAX_PASSWORD_LEN {
        return Err(ApiError::bad_request("the password is too long"));
    }
    Ok(())
}

pub(super) async fn hash_in_background(
    state: &AppState,
    password: String,
) -> Result<String, ApiError> {
    argon2_work(state, move || auth::hash_password(&password))
        .await?
        .map_err(ApiError::internal)
}

/// How long a sign-up or log-in waits for its turn at argon2 before being told to come back.
const ARGON2_QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Runs argon2 (tens of milliseconds of CPU and about 19 MiB of memory per hash) off the async workers, at most
/// `AppState::argon2` at a time, so a flood of log-ins, sign-ups or guest joins cannot exhaust memory.
async fn argon2_work<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let permit = tokio::time::timeout(ARGON2_QUEUE_WAIT, state.argon2.clone().acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is busy signing people in; try again in a moment",
            )
        })?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(ApiError::internal)
}

/// A hash to verify against when the e-mail is unknown, so that both cases take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| auth::hash_password("not a real password").unwrap_or_default());

/// Checks credentials with throttling; returns the user and a new session token.
pub async fn log_in(
    state: &AppState,
    input: LoginInput,
    address: &str,
) -> Result<(User, String), ApiError> {
    require_password_login(state)?;
    let email = input.email.trim().to_lowercase();
    let attempt = state
        .throttle
        .begin(&email, address)
        .map_err(|wait| ApiError::rate_limited("too many failed log-ins; try again later", wait))?;
    let user = state.store.user_by_email(&email).await?;
    let stored_hash = match &user {
        Some(user) if !user.disabled => user.password_hash.clone(),
        _ => DUMMY_HASH.clone(),
    };
    let password = input.password;
    let matches = argon2_work(state, move || {
        auth::verify_password(&password, &stored_hash)
    })
    .await?;
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong e-mail or password",
            ));
        }
    };
    state.throttle.succeeded(&email, address, attempt);
    let token = start_session(state, &user).await?;
    Ok((user, token))
}

/// What the account page's password form sends.
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    pub repeated: String,
}

/// Changes the caller's password after checking the current one (`check_current_password`). Every other session ends and the API tokens
/// are revoked; `keep_session`, the one that asked, stays signed in. Nothing changes on any error.
pub async fn change_password(
    state: &AppState,
    user: &User,
    change: PasswordChange,
    keep_session: Option<&str>,
    address: &str,
) -> Result<(), ApiError> {
    require_account(user, "set a password")?;
    if change.new != change.repeated {
        return Err(ApiError::bad_request("the two new passwords differ"));
    }
    check_password_rules(&change.new)?;
    check_current_password(state, user, change.current, address).await?;
    let new_hash = hash_in_background(state, change.new).await?;
    state
        .store
        .change_password(&user.id, &new_hash, keep_session)
        .await?;
    // Sockets opened with the ended sessions or the revoked tokens close now, as after a log-out.
    state.connections.credentials_changed(&user.id);
    Ok(())
}

/// Checks a signed-in person's current password before a change that needs it (a new password, deleting the
/// account): throttled like a log-in, on the account's e-mail and the caller's address, so a borrowed session cannot
/// guess it.
pub async fn check_current_password(
    state: &AppState,
    user: &User,
    password: String,
    address: &str,
) -> Result<(), ApiError> {
    let attempt = state.throttle.begin(&user.email, address).map_err(|wait| {
        ApiError::rate_limited("too many wrong passwords; try again later", wait)
    })?;
    // Read again: the hash in the request's `User` may predate a change made meanwhile by another session.
    let stored_hash = state
        .store
        .user_by_id(&user.id)
        .await?
        .map(|fresh| fresh.password_hash)
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let matches = argon2_work(state, move || {
        auth::verify_password(&password, &stored_hash)
    })
    .await?;
    if !matches {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the current password is wrong",
        ));
    }
    state.throttle.succeeded(&user.email, address, attempt);
    Ok(())
}

/// A guest account for a share-link visitor: no password at all (`auth::NO_PASSWORD`), so it can never log in
/// again and costs no argon2 hash; its only access is the membership the link gives. Guests are limited per client
/// address and overall (`sharing.guests_per_*`). Returns the user and a session token.
pub async fn create_guest(
    state: &AppState,
    name: &str,
    address: &str,
) -> Result<(User, String), ApiError> {
    if let Err(wait) = state.guest_joins.try_take(address) {
        return Err(ApiError::rate_limited(
            "too many guests joined just now; try again later",
            wait,
        ));
    }
    let id = auth::random_id(16);
    let email = format!("guest-{}@guest.invalid", id.to_lowercase());
    let user = state
        .store
        .create_guest(&id, &email, name, auth::NO_PASSWORD)
        .await?;
    let token = start_session(state, &user).await?;
    Ok((user, token))
}

/// Guests hold only what their link gives them: one document, with the link's role. Everything an account may do
/// beyond that (create or import documents, API tokens, sharing) answers 403 `guest`.
pub fn require_account(user: &User, what: &str) -> Result<(), ApiError> {
    if user.guest {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "guest",
            format!("guests who joined through a link cannot {what}; this needs an account"),
        ));
    }
    Ok(())
}

pub(super) async fn start_session(state: &AppState, user: &User) -> Result<String, ApiError> {
    let token = auth::new_token();
    let ttl_ms = i64::try_from(state.config.auth.session_ttl.as_millis()).unwrap_or(i64::MAX / 2);
    let expires_at = crate::store::now_ms().saturating_add(ttl_ms);
    state
        .store
        .create_session(&auth::token_hash(&token), &user.id, expires_at)
        .await?;
    Ok(token)
}

pub fn is_admin(state: &AppState, user: &User) -> bool {
    state.config.auth.admins.contains(&user.email)
}
