//! Deleting one's own account from the account page: confirmed with the password (or, for an account without one,
//! by typing its e-mail), its documents handed to another person or deleted with it, its open sockets closed.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    AppState,
    account_page::refused,
    accounts,
    error::{ApiError, PageError},
    pages::csrf_refused,
    session::{self, ClientAddr, PageCaller},
};
use crate::{
    auth,
    store::{OwnedDocuments, User},
};

#[derive(Debug, Deserialize)]
pub struct DeleteAccountForm {
    #[serde(default)]
    csrf: String,
    /// The current password; for an account without one, its e-mail typed again.
    #[serde(default)]
    confirm: String,
    /// `transfer` or `delete`.
    #[serde(default)]
    documents: String,
    /// The e-mail of the person who receives the documents when `documents` is `transfer`.
    #[serde(default)]
    transfer_to: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account_deleted.html")]
struct AccountDeletedPage {
    csrf: String,
    /// What became of the documents, as a sentence.
    documents: String,
}

/// What the person chose for their documents, with the receiving account looked up.
enum Choice {
    Transfer(User),
    Delete,
}

pub async fn delete_account(
    State(state): State<AppState>,
    caller: PageCaller,
    ClientAddr(address): ClientAddr,
    Form(form): Form<DeleteAccountForm>,
) -> Result<Response, PageError> {
    if !session::form_csrf_ok(&caller.csrf, &form.csrf) {
        return Ok(csrf_refused());
    }
    let Some(authed) = caller.authed else {
        return Ok(Redirect::to("/login?next=/account").into_response());
    };
    let user = &authed.user;
    let deleted = async {
        accounts::require_account(user, "delete an account; they end when their link does")?;
        let choice = choice(&state, user, &form).await?;
        confirm(&state, user, form.confirm, &address).await?;
        let documents = match &choice {
            Choice::Transfer(to) => OwnedDocuments::TransferTo(&to.id),
            Choice::Delete => OwnedDocuments::Delete,
        };
        let owned = state
            .store
            .delete_account(&user.id, documents)
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok::<_, ApiError>((choice, owned))
    }
    .await;
    let (choice, owned) = match deleted {
        Ok(done) => done,
        Err(err) => return refused(&state, &authed, caller.csrf.0, err).await,
    };
    if matches!(choice, Choice::Delete) {
        for doc_id in &owned {
            // Whoever still has one open is told it is gone, as when an owner deletes it from the trash.
            state.hubs.evict(doc_id).await;
        }
    }
    // Every socket the person still has open checks its credential again, finds it gone, and closes.
    state.connections.credentials_changed(&user.id);
    let page = AccountDeletedPage {
        csrf: caller.csrf.0,
        documents: documents_sentence(&choice, owned.len()),
    };
    let mut response = page.into_response();
    session::append_cookie(&mut response, &session::cleared_session_cookie(&state));
    Ok(response)
}

/// Reads the documents choice; a transfer needs an enabled account other than one's own, with room for them.
async fn choice(
    state: &AppState,
    user: &User,
    form: &DeleteAccountForm,
) -> Result<Choice, ApiError> {
    match form.documents.as_str() {
        "delete" => Ok(Choice::Delete),
        "transfer" => {
            let email = form.transfer_to.trim().to_lowercase();
            if email.is_empty() {
                return Err(ApiError::bad_request(
                    "give the e-mail of the person who should own your documents",
                ));
            }
            let recipient = state.store.user_by_email(&email).await?;
            let Some(recipient) = recipient.filter(|to| !to.disabled && !to.guest) else {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "no_such_user",
                    format!("nobody here has an account with {email}"),
                ));
            };
            if recipient.id == user.id {
                return Err(ApiError::bad_request(
                    "give someone else's e-mail: your own account is the one being deleted",
                ));
            }
            check_room(state, user, &recipient).await?;
            Ok(Choice::Transfer(recipient))
        }
        _ => Err(ApiError::bad_request(
            "choose whether your documents go to someone else or are deleted",
        )),
    }
}

/// The receiver's documents stay within `limits.max_documents_per_user`, as if they had created them.
async fn check_room(state: &AppState, user: &User, recipient: &User) -> Result<(), ApiError> {
    let max = state.config.limits.max_documents_per_user;
    let theirs = state.store.count_owned_documents(&recipient.id).await?;
    let ours = state.store.count_owned_documents(&user.id).await?;
    if u64::try_from(theirs + ours).unwrap_or(u64::MAX) > max {
        return Err(ApiError::limit_reached(format!(
            "{} would own more than {max} documents, the most allowed here",
            recipient.email
        )));
    }
    Ok(())
}

/// The password checks like a log-in; an account signed in some other way has none, and confirms with its e-mail.
async fn confirm(
    state: &AppState,
    user: &User,
    confirmation: String,
    address: &str,
) -> Result<(), ApiError> {
    if user.password_hash == auth::NO_PASSWORD {
        if confirmation.trim().to_lowercase() != user.email {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_confirmed",
                "type your e-mail to confirm",
            ));
        }
        return Ok(());
    }
    accounts::check_current_password(state, user, confirmation, address).await
}

fn documents_sentence(choice: &Choice, count: usize) -> String {
    let (documents, belong, were) = match count {
        1 => ("Your document".to_owned(), "belongs", "was"),
        n => (format!("Your {n} documents"), "belong", "were"),
    };
    match (choice, count) {
        (_, 0) => "You owned no documents.".to_owned(),
        (Choice::Transfer(to), _) => {
            format!("{documents} now {belong} to {} ({}).", to.name, to.email)
        }
        (Choice::Delete, _) => format!("{documents} {were} deleted with it."),
    }
}
