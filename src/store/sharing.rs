//! Sharing: document members with their roles, share links (stored by token hash), and ownership transfer.

use sqlx::Row;

use super::{Role, Store, StoreError, StoreResult, now_ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The share link that gave this access, if any (revoking it removes the member).
    pub via_link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    pub id: String,
    pub doc_id: String,
    pub role: Role,
    pub created_at: i64,
}

fn role_from(text: &str) -> StoreResult<Role> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown role {text}")))
}

impl Store {
    /// Adds a member or changes their role. `via_link` records the link a visitor came through.
    pub async fn set_member(&self, doc_id: &str, user_id: &str, role: Role) -> StoreResult<()> {
        self.put_member(doc_id, user_id, role, None).await
    }

    pub async fn put_member(
        &self,
        doc_id: &str,
        user_id: &str,
        role: Role,
        via_link: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM document_members WHERE doc_id = $1 AND user_id = $2")
            .bind(doc_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO document_members (doc_id, user_id, role, added_at, via_link) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(doc_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_ms())
        .bind(via_link)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a member; false when they were not one.
    pub async fn remove_member(&self, doc_id: &str, user_id: &str) -> StoreResult<bool> {
        let res = sqlx::query("DELETE FROM document_members WHERE doc_id = $1 AND user_id = $2")
            .bind(doc_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// The members (not the owner), strongest role first, then by name.
    pub async fn members(&self, doc_id: &str) -> StoreResult<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT m.user_id, u.email, u.name, m.role, m.via_link FROM document_members m \
             JOIN users u ON u.id = m.user_id WHERE m.doc_id = $1 ORDER BY u.name, u.email",
        )
        .bind(doc_id)
        .fetch_all(&self.pool)
        .await?;
        let mut members = rows
            .iter()
            .map(|row| {
                Ok(Member {
                    user_id: row.try_get("user_id")?,
                    email: row.try_get("email")?,
                    name: row.try_get("name")?,
                    role: role_from(&row.try_get::<String, _>("role")?)?,
                    via_link: row.try_get("via_link")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        members.sort_by_key(|member| member.role);
        Ok(members)
    }

    /// Makes `new_owner` the owner; the old owner stays as an editor. One transaction, so there is always exactly one owner.
    pub async fn transfer_ownership(
        &self,
        doc_id: &str,
        old_owner: &str,
        new_owner: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query("UPDATE documents SET owner_id = $1 WHERE id = $2 AND owner_id = $3")
            .bind(new_owner)
            .bind(doc_id)
            .bind(old_owner)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM document_members WHERE doc_id = $1 AND user_id IN ($2, $3)")
            .bind(doc_id)
            .bind(new_owner)
            .bind(old_owner)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO document_members (doc_id, user_id, role, added_at) VALUES ($1, $2, 'editor', $3)")
            .bind(doc_id)
            .bind(old_owner)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn create_link(
        &self,
        id: &str,
        token_hash: &str,
        doc_id: &str,
        role: Role,
        created_by: &str,
    ) -> StoreResult<ShareLink> {
        let created_at = now_ms();
        sqlx::query(
            "INSERT INTO share_links (id, token_hash, doc_id, role, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(token_hash)
        .bind(doc_id)
        .bind(role.as_str())
        .bind(created_by)
        .bind(created_at)
        .execute(&self.pool)
        .await?;
        Ok(ShareLink {
            id: id.to_string(),
            doc_id: doc_id.to_string(),
            role,
            created_at,
        })
    }

    /// The document's active links, newest first.
    pub async fn links(&self, doc_id: &str) -> StoreResult<Vec<ShareLink>> {
        let rows = sqlx::query(
            "SELECT id, doc_id, role, created_at FROM share_links WHERE doc_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at DESC",
        )
        .bind(doc_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(link_from_row).collect()
    }

    /// The active link behind a token hash.
    pub async fn link_by_token(&self, token_hash: &str) -> StoreResult<Option<ShareLink>> {
        let row = sqlx::query(
            "SELECT id, doc_id, role, created_at FROM share_links WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    /// Revokes a link and removes the members who came through it; returns their user ids, or `None` when
    /// there was no such active link.
    pub async fn revoke_link(
        &self,
        doc_id: &str,
        link_id: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query("UPDATE share_links SET revoked_at = $1 WHERE id = $2 AND doc_id = $3 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(link_id)
            .bind(doc_id)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() != 1 {
            return Ok(None);
        }
        let rows =
            sqlx::query("SELECT user_id FROM document_members WHERE doc_id = $1 AND via_link = $2")
                .bind(doc_id)
                .bind(link_id)
                .fetch_all(&mut *tx)
                .await?;
        let removed = rows
            .iter()
            .map(|row| row.try_get("user_id"))
            .collect::<Result<Vec<String>, _>>()?;
        sqlx::query("DELETE FROM document_members WHERE doc_id = $1 AND via_link = $2")
            .bind(doc_id)
            .bind(link_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(removed))
    }
}

fn link_from_row(row: &sqlx::any::AnyRow) -> StoreResult<ShareLink> {
    Ok(ShareLink {
        id: row.try_get("id")?,
        doc_id: row.try_get("doc_id")?,
        role: role_from(&row.try_get::<String, _>("role")?)?,
        created_at: row.try_get("created_at")?,
    })
}
