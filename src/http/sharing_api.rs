//! Sharing over JSON: members (`/api/docs/{id}/members[/{user}]`), ownership transfer (`PUT` a member as owner)
//! and share links (`/api/docs/{id}/links[/{link}]`). Every change reaches open connections at once through the hub.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    accounts::{is_admin, require_account},
    auth_api::ApiJson,
    docs_api::require_role,
    error::ApiError,
    session::ApiUser,
    share_mail,
};
use crate::{
    auth,
    config::SignupPolicy,
    store::{DocMeta, Role, User},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/docs/{id}/members", get(list_members))
        .route(
            "/api/docs/{id}/members/{user}",
            put(put_member).delete(remove_member),
        )
        .route("/api/docs/{id}/links", post(create_link))
        .route("/api/docs/{id}/links/{link}", delete(revoke_link))
}

/// The owner may share; editors too when the owner allowed it in the document's settings. Guests never do.
fn can_share(doc: &DocMeta, user: &User, role: Role) -> bool {
    !user.guest && (role == Role::Owner || (role == Role::Editor && doc.editors_can_share))
}

/// Everyone with access sees who else has it, by name; e-mail addresses only those who may share (who need them
/// to add people), and each caller their own.
async fn list_members(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    axum::Extension(written): axum::Extension<super::reads::WrittenAt>,
) -> Result<Json<Value>, ApiError> {
    let (doc, role) = require_role(&state, &authed.user, &id, Role::Viewer).await?;
    let sharer = can_share(&doc, &authed.user, role);
    let show_email = |user_id: &str| sharer || user_id == authed.user.id;
    let owner = state
        .store
        .user_by_id(&doc.owner_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut owner_json = json!({"id": owner.id, "name": owner.name, "role": "owner"});
    if show_email(&owner.id) {
        owner_json["email"] = owner.email.into();
    }
    let mut people = vec![owner_json];
    let members = super::reads::lagging(&state, written, |store| {
        let id = id.clone();
        async move { store.members(&id).await }
    })
    .await?;
    for member in members {
        let mut person = json!({
            "id": member.user_id,
            "name": member.name,
            "role": member.role.as_str(),
            "via_link": member.via_link.is_some(),
        });
        if show_email(&member.user_id) {
            person["email"] = member.email.into();
        }
        people.push(person);
    }
    let links: Vec<Value> = if role == Role::Owner {
        state.store.links(&id).await?.iter().map(|link| json!({"id": link.id, "role": link.role.as_str(), "created_at": link.created_at})).collect()
    } else {
        Vec::new()
    };
    Ok(Json(json!({
        "members": people,
        "links": links,
        "can_share": sharer,
        "editors_can_share": doc.editors_can_share,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleInput {
    role: String,
}

/// Adds a person or changes their role; `role: "owner"` transfers ownership (owner only).
async fn put_member(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, who)): Path<(String, String)>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<Json<Value>, ApiError> {
    let role = Role::parse(&input.role)
        .ok_or_else(|| ApiError::bad_request("role must be owner, editor, commenter or viewer"))?;
    let (doc, my_role) = require_role(&state, &authed.user, &id, Role::Viewer).await?;
    require_account(&authed.user, "share documents")?;
    if !can_share(&doc, &authed.user, my_role) {
        return Err(ApiError::forbidden(
            "only the owner (or editors, when allowed) can share this document",
        ));
    }
    let person = find_person(&state, &authed.user, &doc, &who).await?;
    if person.id == doc.owner_id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "owner",
            "the owner's role cannot change; transfer ownership instead",
        ));
    }
    if role == Role::Owner {
        if my_role != Role::Owner {
            return Err(ApiError::forbidden("only the owner can transfer ownership"));
        }
        if person.guest {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "guest",
                "a guest who joined through a link cannot own a document; they need an account",
            ));
        }
        state
            .store
            .transfer_ownership(&id, &doc.owner_id, &person.id)
            .await?;
        state
            .hubs
            .set_role(&id, &person.id, Some(Role::Owner))
            .await;
        state
            .hubs
            .set_role(&id, &doc.owner_id, Some(Role::Editor))
            .await;
    } else {
        let had_access = state.store.role_of(&id, &person.id).await?.is_some();
        state.store.set_member(&id, &person.id, role).await?;
        state.hubs.set_role(&id, &person.id, Some(role)).await;
        if !had_access {
            share_mail::notify_shared(&state, &authed.user, &doc, &person, role);
        }
    }
    Ok(Json(
        json!({"id": person.id, "email": person.email, "name": person.name, "role": role.as_str()}),
    ))
}

/// A person by user id or e-mail. An e-mail without an account is a clear 404 saying how they can get one. Sharing
/// never creates more accounts than `auth.signup` allows: with "invite", only an administrator's share makes an
/// invitation; with "closed", nobody's does. With e-mail on, the invitation (or, with "open", a link to sign up)
/// is e-mailed to them; with it off, the invitation's link is in the error, for the sharer to pass on.
async fn find_person(
    state: &AppState,
    sharer: &User,
    doc: &DocMeta,
    who: &str,
) -> Result<User, ApiError> {
    if let Some(user) = existing_person(state, who).await? {
        return Ok(user);
    }
    let mut err = ApiError::new(
        StatusCode::NOT_FOUND,
        "no_account",
        format!("{who} has no account on this server yet"),
    );
    let mail_on = state.mailer.is_on();
    match state.config.auth.signup {
        SignupPolicy::Invite if auth::valid_email(who) && is_admin(state, sharer) => {
            let token = auth::new_token();
            let token_hash = auth::token_hash(&token);
            state
                .store
                .create_invite(&token_hash, who, Some(&sharer.id))
                .await?;
            let url = format!("{}/signup?invite={token}", state.config.public_url);
            if mail_on {
                if let Err(failed) = share_mail::invite_by_mail(state, sharer, doc, who, url).await {
                    state.store.delete_invite(&token_hash).await?;
                    return Err(failed);
                }
                return Err(share_mail::invited_by_mail(who));
            }
            err.message.push_str(
                "; e-mail is off on this server, so send them this invitation link yourself, then share again \
                 once they have signed up",
            );
            err = err.with_detail("invite_url", url);
        }
        SignupPolicy::Invite if auth::valid_email(who) => err.message.push_str(
            "; sign-up here is by invitation: ask an administrator to invite them, then share again",
        ),
        SignupPolicy::Invite => {}
        SignupPolicy::Open if mail_on && auth::valid_email(who) => {
            let url = format!("{}/signup", state.config.public_url);
            share_mail::invite_by_mail(state, sharer, doc, who, url).await?;
            return Err(share_mail::invited_by_mail(who));
        }
        SignupPolicy::Open => err.message.push_str(&format!(
            "; {}ask them to sign up at {}/signup, then share again",
            if mail_on { "" } else { "e-mail is off on this server, so " },
            state.config.public_url
        )),
        SignupPolicy::Closed => err.message.push_str(
            "; accounts here are made by an administrator: ask one for an account for them, then share again",
        ),
    }
    Err(err)
}

/// A person by user id or e-mail, if they have an account.
async fn existing_person(state: &AppState, who: &str) -> Result<Option<User>, ApiError> {
    if let Some(user) = state.store.user_by_id(who).await? {
        return Ok(Some(user));
    }
    Ok(state.store.user_by_email(who).await?)
}

/// Removes a person (sharers), or lets a member leave; their open connections close at once.
/// Someone without an account cannot be a member: that is a plain 404, and never mints an invitation.
async fn remove_member(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, who)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (doc, my_role) = require_role(&state, &authed.user, &id, Role::Viewer).await?;
    let person = existing_person(&state, &who).await?;
    let leaving_myself = person
        .as_ref()
        .is_some_and(|person| person.id == authed.user.id);
    if !leaving_myself {
        require_account(&authed.user, "remove people")?;
    }
    if !leaving_myself && !can_share(&doc, &authed.user, my_role) {
        return Err(ApiError::forbidden(
            "only the owner (or editors, when allowed) can remove people",
        ));
    }
    let person = person.ok_or_else(ApiError::not_found)?;
    if person.id == doc.owner_id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "owner",
            "the owner cannot be removed; transfer ownership first",
        ));
    }
    if !state.store.remove_member(&id, &person.id).await? {
        return Err(ApiError::not_found());
    }
    state.hubs.set_role(&id, &person.id, None).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_link(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<Response, ApiError> {
    let role = match Role::parse(&input.role) {
        Some(role) if role != Role::Owner => role,
        _ => {
            return Err(ApiError::bad_request(
                "a link's role is editor, commenter or viewer",
            ));
        }
    };
    require_role(&state, &authed.user, &id, Role::Owner).await?;
    require_account(&authed.user, "create share links")?;
    let token = auth::new_token();
    let link = state
        .store
        .create_link(
            &auth::random_id(16),
            &auth::token_hash(&token),
            &id,
            role,
            &authed.user.id,
        )
        .await?;
    let url = format!("{}/s/{token}", state.config.public_url);
    let body =
        json!({"id": link.id, "role": role.as_str(), "url": url, "created_at": link.created_at});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Revokes a link at once: the people who came through it lose access and their connections close.
async fn revoke_link(
    State(state): State<AppState>,
    ApiUser(authed): ApiUser,
    Path((id, link)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    require_role(&state, &authed.user, &id, Role::Owner).await?;
    let removed = state
        .store
        .revoke_link(&id, &link)
        .await?
        .ok_or_else(ApiError::not_found)?;
    for user_id in removed {
        state.hubs.set_role(&id, &user_id, None).await;
    }
    Ok(StatusCode::NO_CONTENT)
}
