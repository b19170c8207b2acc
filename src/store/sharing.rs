//! Sharing: document members with their roles, share links (stored by token hash), joining through a link, and
//! ownership transfer.

use sqlx::{AnyConnection, Row};

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
        write_member(&mut tx, doc_id, user_id, role, via_link).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether joining through a link of `link_role` would change the user's access to the document (see
    /// `link_grants`).
    pub async fn link_would_grant(
        &self,
        doc_id: &str,
        user_id: &str,
        link_role: Role,
    ) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await?;
        let standing = standing(&mut conn, doc_id, user_id).await?;
        Ok(standing.is_some_and(|standing| link_grants(&standing, link_role)))
    }

    /// Joins the user to the document of the active link behind `token_hash`, with the link's role when
    /// `link_grants` says so. `None` when the link is revoked (or never was) or its document is in the trash;
    /// otherwise the link and whether the membership changed.
    ///
    /// The membership is written only while the link is active: the link's row is locked first, so a revocation
    /// either comes before the join, which then finds no link, or waits for it and then removes what it added.
    pub async fn join_through_link(
        &self,
        token_hash: &str,
        user_id: &str,
    ) -> StoreResult<Option<(ShareLink, bool)>> {
        let mut tx = self.pool.begin().await?;
        // A no-op update takes the row lock (PostgreSQL), and SQLite's one writer lock, until the commit.
        let locked = sqlx::query(
            "UPDATE share_links SET role = role WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, doc_id, role, created_at FROM share_links WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&mut *tx)
        .await?;
        let link = link_from_row(&row)?;
        let Some(standing) = standing(&mut tx, &link.doc_id, user_id).await? else {
            return Ok(None);
        };
        if standing.trashed {
            return Ok(None);
        }
        let grants = link_grants(&standing, link.role);
        if grants {
            write_member(&mut tx, &link.doc_id, user_id, link.role, Some(&link.id)).await?;
        }
        tx.commit().await?;
        Ok(Some((link, grants)))
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

/// Someone's relation to a document, as far as a share link is concerned.
struct Standing {
    trashed: bool,
    owner: bool,
    /// Their membership: the role, and whether it came through a link.
    member: Option<(Role, bool)>,
}

/// `None` when there is no such document.
async fn standing(
    conn: &mut AnyConnection,
    doc_id: &str,
    user_id: &str,
) -> StoreResult<Option<Standing>> {
    let row = sqlx::query(
        "SELECT d.owner_id, d.trashed_at, m.role, m.via_link FROM documents d \
         LEFT JOIN document_members m ON m.doc_id = d.id AND m.user_id = $2 WHERE d.id = $1",
    )
    .bind(doc_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: Option<String> = row.try_get("role")?;
    let via_link: Option<String> = row.try_get("via_link")?;
    Ok(Some(Standing {
        trashed: row.try_get::<Option<i64>, _>("trashed_at")?.is_some(),
        owner: row.try_get::<String, _>("owner_id")? == user_id,
        member: role
            .as_deref()
            .map(role_from)
            .transpose()?
            .map(|role| (role, via_link.is_some())),
    }))
}

/// People added by name, and the owner, keep the role they were given, and so does anyone whose role is already
/// equal or stronger; a link only gives access to others (or upgrades access that came from another link), so
/// revoking it never takes away an explicit membership.
fn link_grants(standing: &Standing, link_role: Role) -> bool {
    match standing.member {
        _ if standing.owner => false,
        None => true,
        Some((_, false)) => false,
        Some((role, true)) => role > link_role,
    }
}

/// Replaces the user's membership with `role`, recording the link it came through.
async fn write_member(
    conn: &mut AnyConnection,
    doc_id: &str,
    user_id: &str,
    role: Role,
    via_link: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM document_members WHERE doc_id = $1 AND user_id = $2")
        .bind(doc_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO document_members (doc_id, user_id, role, added_at, via_link) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(doc_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now_ms())
    .bind(via_link)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn link_from_row(row: &sqlx::any::AnyRow) -> StoreResult<ShareLink> {
    Ok(ShareLink {
        id: row.try_get("id")?,
        doc_id: row.try_get("doc_id")?,
        role: role_from(&row.try_get::<String, _>("role")?)?,
        created_at: row.try_get("created_at")?,
    })
}
