//! Password-reset links (`password_resets`): made for an account, each used at most once before it expires.
//! Tokens arrive here already hashed.

use sqlx::Row;

use super::{
    Store, StoreResult,
    accounts::{USER_COLUMNS, User, replace_password, user_from_row},
    now_ms,
};

impl Store {
    pub async fn create_password_reset(
        &self,
        token_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now_ms())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Withdraws a reset whose e-mail could not be sent.
    pub async fn delete_password_reset(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM password_resets WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The enabled account a reset link is for, while it is unused and unexpired.
    pub async fn password_reset_user(&self, token_hash: &str) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE disabled = 0 AND id = \
             (SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Uses a reset link: in one transaction, marks it (and every other open link of the account) used, sets the
    /// new hash, ends every session and revokes every API token. `None`, changing nothing, when the link is used,
    /// expired, unknown or its account disabled; else the account's id.
    pub async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
    ) -> StoreResult<Option<String>> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT r.user_id FROM password_resets r JOIN users u ON u.id = r.user_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND u.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: String = row.try_get("user_id")?;
        // Conditional on still being unused, so that of two uses racing only one changes the password.
        let used = sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(None);
        }
        // Older links in the inbox stop working too: they were sent for the password just replaced.
        sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
        replace_password(&mut tx, &user_id, password_hash, None).await?;
        tx.commit().await?;
        Ok(Some(user_id))
    }
}
