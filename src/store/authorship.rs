//! Who wrote each character of a document (issue 14): the hub's run-length map stored as JSON with the revision
//! it is at (`document_authorship`); the operation log is never pruned at or above that revision (`prune_ops`).

use sqlx::Row;

use super::{Store, StoreResult};

/// The stored map: `spans` is JSON `[[len, user id or null], ...]` at revision `rev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuthorship {
    pub rev: i64,
    pub spans_json: String,
}

impl Store {
    pub async fn authorship(&self, doc_id: &str) -> StoreResult<Option<StoredAuthorship>> {
        let row = sqlx::query("SELECT rev, spans FROM document_authorship WHERE doc_id = $1")
            .bind(doc_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredAuthorship {
            rev: row.try_get("rev")?,
            spans_json: row.try_get("spans")?,
        }))
    }

    /// Writes the map at `stored.rev`, unless a newer one is stored already (a slow background compaction
    /// finishing after a newer one): a stored map never moves back to a revision whose ops may be pruned.
    pub async fn save_authorship(
        &self,
        doc_id: &str,
        stored: &StoredAuthorship,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO document_authorship (doc_id, rev, spans) VALUES ($1, $2, $3) \
             ON CONFLICT (doc_id) DO UPDATE SET rev = excluded.rev, spans = excluded.spans \
             WHERE document_authorship.rev <= excluded.rev",
        )
        .bind(doc_id)
        .bind(stored.rev)
        .bind(&stored.spans_json)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the document's map (authorship turned off): nothing then holds its log back.
    pub async fn delete_authorship(&self, doc_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM document_authorship WHERE doc_id = $1")
            .bind(doc_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The names of the accounts among `user_ids` that still exist (a deleted account's text has no known author).
    pub async fn user_names(&self, user_ids: &[&str]) -> StoreResult<Vec<(String, String)>> {
        let mut names = Vec::with_capacity(user_ids.len());
        // A page at a time keeps the statement's parameters far below both databases' limits.
        for page in user_ids.chunks(500) {
            let params: Vec<String> = (1..=page.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT id, name FROM users WHERE id IN ({})",
                params.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in page {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                names.push((row.try_get("id")?, row.try_get("name")?));
            }
        }
        Ok(names)
    }
}
