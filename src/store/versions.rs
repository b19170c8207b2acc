//! Versions (snapshots) of documents and pruning of the operation log behind them.

use sqlx::Row;

use super::{Store, StoreError, StoreResult, now_ms};

/// What a version row records; `content_json` is the document at `rev` as a Delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub id: String,
    pub doc_id: String,
    pub rev: i64,
    pub content_json: String,
    /// "compaction", "named" or "restore".
    pub kind: &'static str,
    pub name: Option<String>,
    pub created_by: Option<String>,
    /// User ids who wrote ops since the previous version.
    pub contributors: Vec<String>,
    /// Length of the content in UTF-16 units.
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMeta {
    pub id: String,
    pub rev: i64,
    pub kind: String,
    pub name: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub contributors: Vec<String>,
    pub size: i64,
}

const VERSION_COLUMNS: &str = "id, rev, kind, name, created_by, created_at, contributors, size";

fn version_from_row(row: &sqlx::any::AnyRow) -> StoreResult<VersionMeta> {
    let contributors: String = row.try_get("contributors")?;
    Ok(VersionMeta {
        id: row.try_get("id")?,
        rev: row.try_get("rev")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        contributors: serde_json::from_str(&contributors)
            .map_err(|err| StoreError::Corrupt(err.to_string()))?,
        size: row.try_get("size")?,
    })
}

impl Store {
    /// Writes a version and makes it the document's current one (unless a newer one is), so loading starts from it.
    pub async fn write_version(&self, version: &NewVersion) -> StoreResult<()> {
        let contributors =
            serde_json::to_string(&version.contributors).unwrap_or_else(|_| "[]".into());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO document_versions (id, doc_id, rev, content, kind, name, created_by, created_at, contributors, size) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&version.id)
        .bind(&version.doc_id)
        .bind(version.rev)
        .bind(&version.content_json)
        .bind(version.kind)
        .bind(version.name.as_deref())
        .bind(version.created_by.as_deref())
        .bind(now_ms())
        .bind(contributors)
        .bind(version.size)
        .execute(&mut *tx)
        .await?;
        // Only forwards: a background compaction that finishes after a newer version (a named one, a restore)
        // must not make loading start from an older snapshot, whose following ops may be pruned already.
        sqlx::query(
            "UPDATE documents SET current_version_id = $1 WHERE id = $2 AND (current_version_id IS NULL \
             OR (SELECT v.rev FROM document_versions v WHERE v.doc_id = documents.id AND v.id = documents.current_version_id) <= $3)",
        )
        .bind(&version.id)
        .bind(&version.doc_id)
        .bind(version.rev)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes logged ops with `rev < below_rev` that are older than `older_than` (epoch ms). Returns how many.
    /// Ops at or above the lowest revision a comment anchor is stored at are kept whatever the caller asks: the
    /// hub moves that anchor to head through them when it loads the document. So are ops at or above the revision
    /// of the stored authorship map, which the hub replays on load to know who wrote what.
    pub async fn prune_ops(
        &self,
        doc_id: &str,
        below_rev: i64,
        older_than: i64,
    ) -> StoreResult<u64> {
        let res = sqlx::query(
            "DELETE FROM operations WHERE doc_id = $1 AND rev < $2 AND created_at < $3 \
             AND rev < COALESCE((SELECT MIN(anchor_rev) FROM comment_threads WHERE doc_id = $1), $2) \
             AND rev < COALESCE((SELECT rev FROM document_authorship WHERE doc_id = $1), $2)",
        )
        .bind(doc_id)
        .bind(below_rev)
        .bind(older_than)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected())
    }

    /// Thins automatic versions: the newest `keep_recent` stay, older ones keep only the last of each day.
    /// Named, restored and imported versions and the current one are never deleted. Returns how many went.
    pub async fn thin_versions(&self, doc_id: &str, keep_recent: i64) -> StoreResult<u64> {
        let res = sqlx::query(
            "DELETE FROM document_versions WHERE doc_id = $1 AND kind = 'compaction' \
             AND id NOT IN (SELECT current_version_id FROM documents WHERE id = $1 AND current_version_id IS NOT NULL) \
             AND id NOT IN (SELECT id FROM document_versions WHERE doc_id = $1 AND kind = 'compaction' \
                            ORDER BY rev DESC LIMIT $2) \
             AND rev < (SELECT MAX(w.rev) FROM document_versions w WHERE w.doc_id = $1 AND w.kind = 'compaction' \
                        AND w.created_at / 86400000 = document_versions.created_at / 86400000)",
        )
        .bind(doc_id)
        .bind(keep_recent)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected())
    }

    /// The document's versions, newest first.
    pub async fn versions(&self, doc_id: &str) -> StoreResult<Vec<VersionMeta>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM document_versions WHERE doc_id = $1 ORDER BY rev DESC, created_at DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(doc_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// One version with its content.
    pub async fn version(
        &self,
        doc_id: &str,
        version_id: &str,
    ) -> StoreResult<Option<(VersionMeta, String)>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS}, content FROM document_versions WHERE doc_id = $1 AND id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(doc_id)
            .bind(version_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((version_from_row(&row)?, row.try_get("content")?)))
    }

    /// The size of the document's logged ops below `below_rev`, in characters of their JSON.
    pub async fn log_bytes(&self, doc_id: &str, below_rev: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(LENGTH(op)), 0) AS n FROM operations WHERE doc_id = $1 AND rev < $2",
        )
        .bind(doc_id)
        .bind(below_rev)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// How many named versions the document holds (for `limits.max_named_versions`).
    pub async fn count_named_versions(&self, doc_id: &str) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM document_versions WHERE doc_id = $1 AND kind = 'named'",
        )
        .bind(doc_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// How many ops the log holds for the document (for tests and `quire doctor`).
    pub async fn count_ops(&self, doc_id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM operations WHERE doc_id = $1")
            .bind(doc_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}
