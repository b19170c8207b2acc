//! Which account a verified OpenID Connect identity signs in to: the one linked to its issuer and subject; else
//! the account with its verified e-mail, which gets linked; else a new one, if the provider may create accounts.

use axum::http::StatusCode;

use super::{AppState, error::PageError, oidc::refused};
use crate::{
    auth::{self, oidc::VerifiedClaims},
    config::OidcProvider,
    store::{Identity, StoreError, User},
};

/// The account to sign in, or a page saying why not. Refusals change nothing.
pub async fn account_for(
    state: &AppState,
    provider: &OidcProvider,
    claims: &VerifiedClaims,
) -> Result<User, PageError> {
    check_domain(provider, claims)?;
    let identity = Identity {
        issuer: &claims.issuer,
        subject: &claims.subject,
    };
    if let Some(user) = state.store.oidc_user(identity).await? {
        return usable(user);
    }
    let email = verified_email(provider, claims)?;
    if let Some(user) = state.store.user_by_email(email).await? {
        return link(state, provider, identity, usable(user)?).await;
    }
    if !provider.create_accounts {
        return Err(refused(
            StatusCode::FORBIDDEN,
            format!(
                "There is no account for {email} on this server. Ask an administrator to create one."
            ),
        ));
    }
    create(state, identity, email, claims).await
}

/// Links the identity to an account that had none from this provider's person.
async fn link(
    state: &AppState,
    provider: &OidcProvider,
    identity: Identity<'_>,
    user: User,
) -> Result<User, PageError> {
    match state.store.link_oidc(identity, &user.id).await {
        Ok(()) => {
            tracing::info!(user = %user.id, provider = %provider.id, "linked an account to single sign-on");
            Ok(user)
        }
        // A sign-in at the same moment linked the identity first: its account is the one.
        Err(StoreError::Conflict(_)) => match state.store.oidc_user(identity).await? {
            Some(linked) => usable(linked),
            None => Err(PageError::internal("an identity link vanished")),
        },
        Err(err) => Err(err.into()),
    }
}

/// With `allowed_domains`, only a verified e-mail in one of them may sign in, whatever account it leads to.
fn check_domain(provider: &OidcProvider, claims: &VerifiedClaims) -> Result<(), PageError> {
    if provider.allowed_domains.is_empty() {
        return Ok(());
    }
    let domain = claims
        .email
        .as_deref()
        .filter(|_| claims.email_verified)
        .and_then(|email| email.rsplit_once('@'))
        .map(|(_, domain)| domain);
    match domain {
        Some(domain)
            if provider
                .allowed_domains
                .iter()
                .any(|allowed| allowed == domain) =>
        {
            Ok(())
        }
        _ => Err(refused(
            StatusCode::FORBIDDEN,
            format!(
                "Only e-mail addresses at {} may sign in here with {}.",
                provider.allowed_domains.join(", "),
                provider.display_name
            ),
        )),
    }
}

/// An e-mail links or creates an account only when the provider vouches for it: otherwise anyone could claim
/// someone else's address there and take over their account here.
fn verified_email<'a>(
    provider: &OidcProvider,
    claims: &'a VerifiedClaims,
) -> Result<&'a str, PageError> {
    match claims.email.as_deref() {
        Some(email) if claims.email_verified && auth::valid_email(email) => Ok(email),
        Some(_) => Err(refused(
            StatusCode::FORBIDDEN,
            format!(
                "{} has not verified your e-mail address, so it cannot be matched to an account here.",
                provider.display_name
            ),
        )),
        None => Err(refused(
            StatusCode::FORBIDDEN,
            format!(
                "{} did not share your e-mail address, so no account can be found for you.",
                provider.display_name
            ),
        )),
    }
}

/// Disabled accounts and guests stay out, as with a password.
fn usable(user: User) -> Result<User, PageError> {
    if user.disabled {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "This account is disabled. Ask an administrator.",
        ));
    }
    if user.guest {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "Guest accounts cannot sign in.",
        ));
    }
    Ok(user)
}

/// A new account linked to the identity, with no password (`auth::NO_PASSWORD`): it signs in through the provider.
async fn create(
    state: &AppState,
    identity: Identity<'_>,
    email: &str,
    claims: &VerifiedClaims,
) -> Result<User, PageError> {
    let id = auth::random_id(16);
    let name = display_name(claims.name.as_deref(), email);
    match state
        .store
        .create_oidc_user(identity, (&id, email, &name), auth::NO_PASSWORD)
        .await
    {
        Ok(user) => Ok(user),
        // Another sign-in with the same e-mail or identity won the race; starting again finds its account.
        Err(StoreError::Conflict(_)) => Err(refused(
            StatusCode::CONFLICT,
            "This account was being created at the same moment. Start again from the log-in page.",
        )),
        Err(err) => Err(err.into()),
    }
}

/// The provider's name for the person, made to fit what sign-up accepts (no control characters, at most 100
/// characters); the e-mail's local part when it gives none.
fn display_name(claimed: Option<&str>, email: &str) -> String {
    let cleaned: String = claimed
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    match cleaned.trim() {
        "" => email
            .split('@')
            .next()
            .unwrap_or(email)
            .chars()
            .take(100)
            .collect(),
        name => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn names_fit_what_sign_up_accepts() {
        assert_eq!(display_name(Some("Ann Lee"), "ann@example.com"), "Ann Lee");
        assert_eq!(display_name(Some(" \n "), "ann@example.com"), "ann");
        assert_eq!(display_name(None, "bob@example.com"), "bob");
        assert_eq!(
            display_name(Some(&"x".repeat(300)), "a@b.c")
                .chars()
                .count(),
            100
        );
    }
}
