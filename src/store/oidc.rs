//! OpenID Connect: identities (a provider's issuer and subject, linked to an account) and the sign-ins in progress
//! between the redirect to a provider and its callback.

use sqlx::Row;

use super::{
    Store, StoreError, StoreResult,
    accounts::{USER_COLUMNS, insert_user, user_from_row},
    conflict_on_unique, now_ms,
};
use crate::store::User;

/// What a sign-in needs back at the callback. Found by the hash of its `state`; the nonce and the PKCE verifier are
/// kept as they are because the callback must send or compare them, and they are worthless after a few minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub state_hash: String,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// A path on this site to go to once signed in.
    pub return_to: String,
    pub created_at: i64,
}

/// Who the provider says signed in, keyed as it never changes: the issuer and the subject.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
}

impl Store {
    /// Records a sign-in that has just been sent to its provider, and forgets those older than `max_age_ms` (each
    /// start cleans up after the abandoned ones, so the table stays as small as the sign-ins of the last minutes).
    pub async fn save_oidc_login(&self, login: &PendingLogin, max_age_ms: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM oidc_logins WHERE created_at < $1")
            .bind(now_ms() - max_age_ms)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, provider, nonce, pkce_verifier, return_to, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&login.state_hash)
        .bind(&login.provider)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.return_to)
        .bind(login.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the sign-in with this state hash away, so that it is used at most once even by two callbacks at the
    /// same moment (the DELETE is the one that wins). `None` when unknown, used already or older than `max_age_ms`.
    pub async fn take_oidc_login(
        &self,
        state_hash: &str,
        max_age_ms: i64,
    ) -> StoreResult<Option<PendingLogin>> {
        let row = sqlx::query(
            "DELETE FROM oidc_logins WHERE state_hash = $1 \
             RETURNING state_hash, provider, nonce, pkce_verifier, return_to, created_at",
        )
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let login = PendingLogin {
            state_hash: row.try_get("state_hash")?,
            provider: row.try_get("provider")?,
            nonce: row.try_get("nonce")?,
            pkce_verifier: row.try_get("pkce_verifier")?,
            return_to: row.try_get("return_to")?,
            created_at: row.try_get("created_at")?,
        };
        Ok((now_ms() - login.created_at <= max_age_ms).then_some(login))
    }

    /// The account linked to this identity, disabled or not.
    pub async fn oidc_user(&self, identity: Identity<'_>) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = \
             (SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2)"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(identity.issuer)
            .bind(identity.subject)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Links an identity to an existing account; `Conflict` when the identity is linked already.
    pub async fn link_oidc(&self, identity: Identity<'_>, user_id: &str) -> StoreResult<()> {
        insert_identity(&self.pool, identity, user_id).await
    }

    /// Creates an account for an identity, linked to it, in one transaction: `Conflict` (and nothing created) when
    /// the e-mail has an account or the identity a link already.
    pub async fn create_oidc_user(
        &self,
        identity: Identity<'_>,
        user: (&str, &str, &str),
        password_hash: &str,
    ) -> StoreResult<User> {
        let (id, email, name) = user;
        let mut tx = self.pool.begin().await?;
        insert_user(&mut *tx, id, email, name, password_hash, false).await?;
        insert_identity(&mut *tx, identity, id).await?;
        tx.commit().await?;
        self.user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("user vanished after insert".into()))
    }
}

async fn insert_identity<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    executor: E,
    identity: Identity<'_>,
    user_id: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO oidc_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(identity.issuer)
    .bind(identity.subject)
    .bind(user_id)
    .bind(now_ms())
    .execute(executor)
    .await
    .map_err(|err| conflict_on_unique(err, "identity already linked"))?;
    Ok(())
}
