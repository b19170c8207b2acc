//! Users, sessions, personal API tokens and invitations. Tokens arrive here already hashed.

use sqlx::Row;

use super::{Store, StoreError, StoreResult, conflict_on_unique, now_ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: i64,
    /// A share-link visitor's account (`sharing.anonymous_links`): it holds only what its link gives, and has no
    /// password.
    pub guest: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// One unexpired session of a user, as the account page lists it. The hash only tells "this session" apart;
/// it never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Where and when it was last used; `None` until its first request after the log-in.
    pub last_use: Option<SessionUse>,
}

/// A session's latest request, as `touch_session` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUse {
    pub at: i64,
    /// The client address (`ClientIp`, so behind a trusted proxy the forwarded one).
    pub address: String,
    /// The browser's `User-Agent`, cut to `USER_AGENT_MAX` bytes.
    pub user_agent: String,
}

/// An unexpired session of an enabled user, as each request resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    pub expires_at: i64,
    pub last_use: Option<SessionUse>,
}

/// What a `User-Agent` may occupy in a session row: enough to tell browsers apart, not a place to store a megabyte.
pub const USER_AGENT_MAX: usize = 300;

fn session_use_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Option<SessionUse>> {
    let Some(at) = row.try_get::<Option<i64>, _>("last_seen_at")? else {
        return Ok(None);
    };
    Ok(Some(SessionUse {
        at,
        address: row.try_get("last_address")?,
        user_agent: row.try_get("user_agent")?,
    }))
}

pub(super) const USER_COLUMNS: &str = "id, email, name, password_hash, disabled, created_at, guest";

pub(super) fn user_from_row(row: &sqlx::any::AnyRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: row.try_get("created_at")?,
        guest: row.try_get::<i64, _>("guest")? != 0,
    })
}

impl Store {
    /// Creates a user; `Conflict` when the e-mail (compared lower-cased) is taken.
    pub async fn create_user(
        &self,
        id: &str,
        email: &str,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<User> {
        insert_user(&self.pool, id, email, name, password_hash, false).await?;
        self.inserted_user(id).await
    }

    /// Creates a guest account (see `User::guest`); `password_hash` is a marker no password verifies against.
    pub async fn create_guest(
        &self,
        id: &str,
        email: &str,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<User> {
        insert_user(&self.pool, id, email, name, password_hash, true).await?;
        self.inserted_user(id).await
    }

    async fn inserted_user(&self, id: &str) -> StoreResult<User> {
        self.user_by_id(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("user vanished after insert".into()))
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn list_users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, email");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Replaces the password hash, ends every session of the user and revokes their API tokens (whoever knew the
    /// old password may have made one). Returns false when no such user.
    pub async fn set_password(&self, user_id: &str, password_hash: &str) -> StoreResult<bool> {
        self.change_password(user_id, password_hash, None).await
    }

    /// Renames a user; false when no such user.
    pub async fn set_user_name(&self, user_id: &str, name: &str) -> StoreResult<bool> {
        let res = sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// A password change: replaces the hash, ends every session but `keep_session` (the one that made the change
    /// stays signed in; `None` ends them all) and revokes the API tokens, in one transaction.
    pub async fn change_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = replace_password(&mut tx, user_id, password_hash, keep_session).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Ends every session of the user except `keep_session`; returns how many ended.
    pub async fn end_other_sessions(
        &self,
        user_id: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<u64> {
        delete_other_sessions(&self.pool, user_id, keep_session).await
    }

    /// The user's unexpired sessions, newest first.
    pub async fn sessions_of(&self, user_id: &str) -> StoreResult<Vec<SessionInfo>> {
        let rows = sqlx::query(
            "SELECT token_hash, created_at, expires_at, last_seen_at, last_address, user_agent FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, token_hash",
        )
        .bind(user_id)
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionInfo {
                    token_hash: row.try_get("token_hash")?,
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                    last_use: session_use_from_row(row)?,
                })
            })
            .collect()
    }

    /// Disables (or re-enables) an account; disabling also ends its sessions.
    pub async fn set_disabled(&self, user_id: &str, disabled: bool) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(now_ms())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The enabled user behind an unexpired session, with the session's expiry and latest use.
    pub async fn session_user(&self, token_hash: &str) -> StoreResult<Option<(User, LiveSession)>> {
        let sql = "SELECT u.id, u.email, u.name, u.password_hash, u.disabled, u.created_at, u.guest, s.expires_at, \
                   s.last_seen_at, s.last_address, s.user_agent \
                   FROM sessions s JOIN users u ON u.id = s.user_id \
                   WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0";
        let row = sqlx::query(sql)
            .bind(token_hash)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session = LiveSession {
            expires_at: row.try_get("expires_at")?,
            last_use: session_use_from_row(&row)?,
        };
        Ok(Some((user_from_row(&row)?, session)))
    }

    /// Records a session's latest use and sets its expiry (renewed, or as it was).
    pub async fn touch_session(
        &self,
        token_hash: &str,
        last_use: &SessionUse,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1, last_address = $2, user_agent = $3, expires_at = $4 \
             WHERE token_hash = $5",
        )
        .bind(last_use.at)
        .bind(&last_use.address)
        .bind(&last_use.user_agent)
        .bind(expires_at)
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn create_api_token(
        &self,
        id: &str,
        user_id: &str,
        name: &str,
        token_hash: &str,
    ) -> StoreResult<ApiToken> {
        let created_at = now_ms();
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(created_at)
            .execute(&self.pool)
            .await?;
        Ok(ApiToken {
            id: id.to_string(),
            name: name.to_string(),
            created_at,
            last_used_at: None,
        })
    }

    pub async fn list_api_tokens(&self, user_id: &str) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM api_tokens \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiToken {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of the user's tokens; false when it is not theirs or already revoked.
    pub async fn revoke_api_token(&self, user_id: &str, token_id: &str) -> StoreResult<bool> {
        let res = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(token_id)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Whether the token is unrevoked and its user enabled, without recording a use.
    pub async fn api_token_valid(&self, token_hash: &str) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0",
        )
        .bind(token_hash)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// The enabled user behind an unrevoked API token; records its use.
    pub async fn api_token_user(&self, token_hash: &str) -> StoreResult<Option<User>> {
        let sql = "SELECT u.id, u.email, u.name, u.password_hash, u.disabled, u.created_at, u.guest \
                   FROM api_tokens t JOIN users u ON u.id = t.user_id \
                   WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0";
        let row = sqlx::query(sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        // Best effort, and at most once a minute per token: reading with a token must not depend on being able to
        // write (a full disk, a database that refuses writes), nor cost a write per request.
        let now = now_ms();
        let noted = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(token_hash)
        .bind(now - 60_000)
        .execute(&self.pool)
        .await;
        if let Err(err) = noted {
            tracing::warn!(%err, "cannot note an API token's last use");
        }
        Ok(Some(user_from_row(&row)?))
    }

    pub async fn create_invite(
        &self,
        token_hash: &str,
        email: &str,
        created_by: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO invites (token_hash, email, created_by, created_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(email.trim().to_lowercase())
            .bind(created_by)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Withdraws an invitation whose e-mail could not be sent, so that a failed send leaves nothing behind.
    pub async fn delete_invite(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM invites WHERE token_hash = $1 AND used_at IS NULL")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// True when the token hash is an unused invitation for this e-mail.
    pub async fn invite_usable(&self, token_hash: &str, email: &str) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT 1 AS usable FROM invites WHERE token_hash = $1 AND email = $2 AND used_at IS NULL",
        )
        .bind(token_hash)
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Creates a user and uses their invitation, in one transaction: `Ok(None)` when the token hash is not (or no
    /// longer) an unused invitation for this e-mail, `Conflict` when the e-mail is taken. Either way nothing
    /// changes, so a sign-up that fails keeps its invitation.
    pub async fn create_invited_user(
        &self,
        invite_hash: &str,
        id: &str,
        email: &str,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<Option<User>> {
        let mut tx = self.pool.begin().await?;
        let used = sqlx::query(
            "UPDATE invites SET used_at = $1 WHERE token_hash = $2 AND email = $3 AND used_at IS NULL",
        )
        .bind(now_ms())
        .bind(invite_hash)
        .bind(email.trim().to_lowercase())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(None);
        }
        // Dropping the transaction on a conflict rolls the invitation back too.
        insert_user(&mut *tx, id, email, name, password_hash, false).await?;
        tx.commit().await?;
        self.inserted_user(id).await.map(Some)
    }
}

/// Inserts a user; `Conflict` when the e-mail (compared lower-cased) is taken. Runs on the pool or in a transaction.
pub(super) async fn insert_user<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    executor: E,
    id: &str,
    email: &str,
    name: &str,
    password_hash: &str,
    guest: bool,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, disabled, created_at, guest) VALUES ($1, $2, $3, $4, 0, $5, $6)",
    )
    .bind(id)
    .bind(email.to_lowercase())
    .bind(name)
    .bind(password_hash)
    .bind(now_ms())
    .bind(i64::from(guest))
    .execute(executor)
    .await
    .map_err(|err| conflict_on_unique(err, "email already registered"))?;
    Ok(())
}

/// The statements of a password change, in the caller's transaction: the new hash, every session but
/// `keep_session` ended, every API token revoked. False when no such user.
pub(super) async fn replace_password(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    password_hash: &str,
    keep_session: Option<&str>,
) -> StoreResult<bool> {
    let res = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    delete_other_sessions(&mut *conn, user_id, keep_session).await?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Deletes the user's sessions but `keep_session` (all of them when `None`). Runs on the pool or in a transaction.
async fn delete_other_sessions<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    executor: E,
    user_id: &str,
    keep_session: Option<&str>,
) -> StoreResult<u64> {
    // An empty string is no token hash (those are 64 hex digits), so `None` keeps nothing.
    let res = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep_session.unwrap_or(""))
        .execute(executor)
        .await?;
    Ok(res.rows_affected())
}
