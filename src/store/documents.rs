//! Document metadata and who may do what with a document (owner and `document_members`).

use sqlx::Row;

use super::{Store, StoreError, StoreResult, now_ms};

/// Roles, strongest first (PROTOCOL.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Editor,
    Commenter,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Commenter => "commenter",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "owner" => Some(Role::Owner),
            "editor" => Some(Role::Editor),
            "commenter" => Some(Role::Commenter),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// Only editors and owners may submit ops.
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Owner | Role::Editor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMeta {
    pub id: String,
    pub title: String,
    pub owner_id: String,
    pub owner_name: String,
    pub current_version_id: Option<String>,
    pub head_rev: i64,
    pub last_editor_id: Option<String>,
    pub last_editor_name: Option<String>,
    /// Whether editors may share the document too (the owner always may).
    pub editors_can_share: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub trashed_at: Option<i64>,
}

const DOC_SELECT: &str = "SELECT d.id, d.title, d.owner_id, u.name AS owner_name, d.current_version_id, d.head_rev, \
     d.last_editor_id, le.name AS last_editor_name, d.editors_can_share, d.created_at, d.updated_at, d.trashed_at \
     FROM documents d JOIN users u ON u.id = d.owner_id LEFT JOIN users le ON le.id = d.last_editor_id";

/// Which documents a dashboard list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocScope {
    /// Owned or shared, not in the trash.
    All,
    Owned,
    SharedWithMe,
    /// The user's own trashed documents.
    Trash,
}

fn doc_from_row(row: &sqlx::any::AnyRow) -> StoreResult<DocMeta> {
    Ok(DocMeta {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        owner_id: row.try_get("owner_id")?,
        owner_name: row.try_get("owner_name")?,
        current_version_id: row.try_get("current_version_id")?,
        head_rev: row.try_get("head_rev")?,
        last_editor_id: row.try_get("last_editor_id")?,
        last_editor_name: row.try_get("last_editor_name")?,
        editors_can_share: row.try_get::<i64, _>("editors_can_share")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        trashed_at: row.try_get("trashed_at")?,
    })
}

impl Store {
    /// Creates an empty document (`"\n"` at revision 0) owned by `owner_id`.
    pub async fn create_document(
        &self,
        id: &str,
        title: &str,
        owner_id: &str,
    ) -> StoreResult<DocMeta> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO documents (id, title, owner_id, head_rev, created_at, updated_at) VALUES ($1, $2, $3, 0, $4, $4)",
        )
        .bind(id)
        .bind(title)
        .bind(owner_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.document(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("document vanished after insert".into()))
    }

    /// How many documents `owner_id` owns, trashed ones included (for `limits.max_documents_per_user`).
    pub async fn count_owned_documents(&self, owner_id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM documents WHERE owner_id = $1")
            .bind(owner_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn document(&self, id: &str) -> StoreResult<Option<DocMeta>> {
        let sql = format!("{DOC_SELECT} WHERE d.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(doc_from_row).transpose()
    }

    /// The user's role on a document: owner, a member's role, or none.
    pub async fn role_of(&self, doc_id: &str, user_id: &str) -> StoreResult<Option<Role>> {
        let row = sqlx::query(
            "SELECT CASE WHEN d.owner_id = $2 THEN 'owner' ELSE m.role END AS role \
             FROM documents d LEFT JOIN document_members m ON m.doc_id = d.id AND m.user_id = $2 \
             WHERE d.id = $1",
        )
        .bind(doc_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: Option<String> = row.try_get("role")?;
        Ok(role.as_deref().and_then(Role::parse))
    }

    /// A page of the user's documents in `scope` whose title contains `filter` (case-insensitive), newest edit
    /// first, with the user's role.
    pub async fn documents_for(
        &self,
        user_id: &str,
        scope: DocScope,
        filter: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<(DocMeta, Role)>> {
        let scope_sql = match scope {
            DocScope::All => "(d.owner_id = $1 OR m.user_id IS NOT NULL) AND d.trashed_at IS NULL",
            DocScope::Owned => "d.owner_id = $1 AND d.trashed_at IS NULL",
            DocScope::SharedWithMe => {
                "d.owner_id <> $1 AND m.user_id IS NOT NULL AND d.trashed_at IS NULL"
            }
            DocScope::Trash => "d.owner_id = $1 AND d.trashed_at IS NOT NULL",
        };
        let sql = format!(
            "{DOC_SELECT} LEFT JOIN document_members m ON m.doc_id = d.id AND m.user_id = $1 \
             WHERE {scope_sql} AND LOWER(d.title) LIKE $2 ESCAPE '!' \
             ORDER BY d.updated_at DESC, d.id LIMIT $3 OFFSET $4"
        )
        .replace("SELECT d.id", "SELECT m.role AS member_role, d.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(like_pattern(filter))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let doc = doc_from_row(row)?;
                let member_role: Option<String> = row.try_get("member_role")?;
                let role = if doc.owner_id == user_id {
                    Role::Owner
                } else {
                    member_role
                        .as_deref()
                        .and_then(Role::parse)
                        .unwrap_or(Role::Viewer)
                };
                Ok((doc, role))
            })
            .collect()
    }

    pub async fn restore_document(&self, doc_id: &str) -> StoreResult<bool> {
        let res = sqlx::query(
            "UPDATE documents SET trashed_at = NULL WHERE id = $1 AND trashed_at IS NOT NULL",
        )
        .bind(doc_id)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Deletes a document with its log, versions, members and links.
    pub async fn delete_document(&self, doc_id: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let deleted = delete_document_in(&mut tx, doc_id).await?;
        tx.commit().await?;
        self.delete_unlinked_images().await?;
        Ok(deleted)
    }

    pub async fn set_editors_can_share(&self, doc_id: &str, allowed: bool) -> StoreResult<()> {
        sqlx::query("UPDATE documents SET editors_can_share = $1 WHERE id = $2")
            .bind(i64::from(allowed))
            .bind(doc_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn rename_document(&self, doc_id: &str, title: &str) -> StoreResult<bool> {
        let res = sqlx::query("UPDATE documents SET title = $1, updated_at = $2 WHERE id = $3")
            .bind(title)
            .bind(now_ms())
            .bind(doc_id)
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn trash_document(&self, doc_id: &str) -> StoreResult<bool> {
        let res = sqlx::query(
            "UPDATE documents SET trashed_at = $1 WHERE id = $2 AND trashed_at IS NULL",
        )
        .bind(now_ms())
        .bind(doc_id)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }
}

/// Deletes a document and every row that hangs on it, inside the caller's transaction; the images it alone
/// linked are left for `delete_unlinked_images` after the commit.
pub(super) async fn delete_document_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    doc_id: &str,
) -> StoreResult<bool> {
    for table in [
        "comment_messages",
        "comment_threads",
        "document_authorship",
        "operations",
        "document_versions",
        "document_members",
        "share_links",
        "document_images",
    ] {
        let sql = format!("DELETE FROM {table} WHERE doc_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(doc_id)
            .execute(&mut **tx)
            .await?;
    }
    let res = sqlx::query("DELETE FROM documents WHERE id = $1")
        .bind(doc_id)
        .execute(&mut **tx)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// A LIKE pattern matching titles that contain `filter`, with `!` escaping the wildcards.
fn like_pattern(filter: &str) -> String {
    let mut pattern = String::from("%");
    for ch in filter.trim().to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}
