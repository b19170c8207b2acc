//! The operation log and snapshots: what a hub loads and what it commits. Op bodies are stored as the canonical JSON text.

use sqlx::Row;

use super::{Store, StoreError, StoreResult, now_ms};

/// One committed op to append. `rev` is its base revision; committing makes head `rev + 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOp {
    pub rev: i64,
    pub client: String,
    pub seq: i64,
    pub author_id: Option<String>,
    pub op_json: String,
    pub len_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedOp {
    pub rev: i64,
    pub client: String,
    pub seq: i64,
    pub author_id: Option<String>,
    pub op_json: String,
}

/// The latest snapshot of a document: the content (a Delta as JSON) at `rev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub rev: i64,
    pub content_json: String,
}

impl Store {
    /// Appends ops with contiguous revisions in one transaction and moves the document's head.
    /// A revision that already exists means another writer owns the document: `Conflict`, and nothing is written.
    pub async fn append_ops(&self, doc_id: &str, ops: &[NewOp]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        write_ops(&mut tx, doc_id, ops).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends several documents' ops in ONE transaction (group commit across documents), each document inside
    /// its own savepoint: a conflict on one document rolls back only that document. Returns one result per batch.
    pub async fn append_many(&self, batches: &[(&str, &[NewOp])]) -> Vec<StoreResult<()>> {
        let mut tx = match self.pool.begin().await {
            Ok(tx) => tx,
            Err(err) => return batches.iter().map(|_| Err(group_failed(&err))).collect(),
        };
        let mut results = Vec::with_capacity(batches.len());
        for (doc_id, ops) in batches {
            results.push(write_in_savepoint(&mut tx, doc_id, ops).await);
        }
        if let Err(err) = tx.commit().await {
            return batches.iter().map(|_| Err(group_failed(&err))).collect();
        }
        results
    }

    /// Logged ops with `rev >= from_rev`, in order.
    pub async fn ops_since(&self, doc_id: &str, from_rev: i64) -> StoreResult<Vec<LoggedOp>> {
        let rows = sqlx::query(
            "SELECT rev, client, seq, author_id, op FROM operations WHERE doc_id = $1 AND rev >= $2 ORDER BY rev",
        )
        .bind(doc_id)
        .bind(from_rev)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LoggedOp {
                    rev: row.try_get("rev")?,
                    client: row.try_get("client")?,
                    seq: row.try_get("seq")?,
                    author_id: row.try_get("author_id")?,
                    op_json: row.try_get("op")?,
                })
            })
            .collect()
    }

    /// The highest committed seq of every client that wrote at `rev >= from_rev`, with that op's base revision
    /// (for dedup after a restart): `(client, seq, rev)`. Older ops need no dedup: an op based before the
    /// hub's window is refused as `rev_too_old` first, so the scan stays as short as the window.
    pub async fn last_seqs(
        &self,
        doc_id: &str,
        from_rev: i64,
    ) -> StoreResult<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT o.client, o.seq, o.rev FROM operations o \
             JOIN (SELECT client, MAX(seq) AS seq FROM operations WHERE doc_id = $1 AND rev >= $2 GROUP BY client) m \
             ON m.client = o.client AND m.seq = o.seq WHERE o.doc_id = $1 AND o.rev >= $2",
        )
        .bind(doc_id)
        .bind(from_rev)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("client")?,
                    row.try_get("seq")?,
                    row.try_get("rev")?,
                ))
            })
            .collect()
    }

    /// The document's current snapshot, if compaction has written one.
    pub async fn current_snapshot(&self, doc_id: &str) -> StoreResult<Option<Snapshot>> {
        let row = sqlx::query(
            "SELECT v.rev, v.content FROM documents d JOIN document_versions v ON v.id = d.current_version_id \
             WHERE d.id = $1",
        )
        .bind(doc_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Snapshot {
            rev: row.try_get("rev")?,
            content_json: row.try_get("content")?,
        }))
    }
}

async fn write_in_savepoint(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    doc_id: &str,
    ops: &[NewOp],
) -> StoreResult<()> {
    let mut savepoint = sqlx::Connection::begin(&mut **tx).await?;
    match write_ops(&mut savepoint, doc_id, ops).await {
        Ok(()) => Ok(savepoint.commit().await?),
        Err(err) => {
            savepoint.rollback().await?;
            Err(err)
        }
    }
}

/// The ops' rows and the document's new head, conditional on the expected head. A revision that already exists
/// means another writer owns the document: `Conflict`.
async fn write_ops(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    doc_id: &str,
    ops: &[NewOp],
) -> StoreResult<()> {
    let Some(last) = ops.last() else {
        return Ok(());
    };
    let now = now_ms();
    for op in ops {
        sqlx::query(
            "INSERT INTO operations (doc_id, rev, client, seq, author_id, op, len_after, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(doc_id)
        .bind(op.rev)
        .bind(&op.client)
        .bind(op.seq)
        .bind(op.author_id.as_deref())
        .bind(&op.op_json)
        .bind(op.len_after)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(|err| super::conflict_on_unique(err, "revision already written"))?;
    }
    let res = sqlx::query(
        "UPDATE documents SET head_rev = $1, updated_at = $2, last_editor_id = COALESCE($3, last_editor_id) \
         WHERE id = $4 AND head_rev = $5",
    )
    .bind(last.rev + 1)
    .bind(now)
    .bind(last.author_id.as_deref())
    .bind(doc_id)
    .bind(ops[0].rev)
    .execute(&mut **tx)
    .await?;
    if res.rows_affected() != 1 {
        return Err(StoreError::Conflict("document head moved under us".into()));
    }
    Ok(())
}

fn group_failed(err: &sqlx::Error) -> StoreError {
    StoreError::Corrupt(format!("group commit failed: {err}"))
}
