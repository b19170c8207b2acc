//! The e-mail that sharing sends (`[mail]` on): "X shared a document with you" to an account just added, and an
//! invitation to sign up to an address that has no account yet. With e-mail off, sharing sends nothing and its
//! answers carry links to copy instead (see `sharing_api::find_person`).

use axum::http::StatusCode;

use super::{AppState, error::ApiError, pages::role_verb, password_reset::mail_failed};
use crate::{
    mail::{Invitation, SharedWithYou},
    store::{DocMeta, Role, User},
};

/// Tells a person just given access that they have it. Sent in the background: the share is made whether or not
/// the mail server answers, and a failure is logged.
pub(super) fn notify_shared(
    state: &AppState,
    sharer: &User,
    doc: &DocMeta,
    person: &User,
    role: Role,
) {
    if !state.mailer.is_on() || person.guest || person.id == sharer.id {
        return;
    }
    let text = SharedWithYou {
        sharer: sharer.name.clone(),
        document: doc.title.clone(),
        verb: role_verb(role),
        link: format!("{}/d/{}", state.config.public_url, doc.id),
    };
    state.mailer.send_in_background(person.email.clone(), text);
}

/// E-mails an address with no account an invitation to sign up at `link`, naming the document. Each sharer may
/// send a few a minute, so that sharing cannot be used to send mail to strangers in bulk. Waits for the mail
/// server, so the sharer learns whether it left.
pub(super) async fn invite_by_mail(
    state: &AppState,
    sharer: &User,
    doc: &DocMeta,
    email: &str,
    link: String,
) -> Result<(), ApiError> {
    if let Err(wait) = state.mail_quota.try_take(&format!("invite:{}", sharer.id)) {
        return Err(ApiError::rate_limited(
            "too many invitations sent just now; try again in a minute",
            wait,
        ));
    }
    let text = Invitation {
        inviter: sharer.name.clone(),
        document: Some(doc.title.clone()),
        link,
    };
    state.mailer.send(email, &text).await.map_err(mail_failed)
}

/// The answer to sharing with an address that has no account, once the invitation was e-mailed.
pub(super) fn invited_by_mail(email: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_account",
        format!(
            "{email} has no account on this server yet; we e-mailed them an invitation to sign up, \
             share again once they have"
        ),
    )
    .with_detail("invited_by_mail", true)
}
