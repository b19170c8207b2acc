//! The operation log and snapshots: what a hub loads and what it commits. Op bodies are stored as the canonical JSON text.

use sqlx::{Any, AnyConnection, Connection, Row, pool::PoolConnection};

use super::{Fence, Store, StoreError, StoreResult, now_ms};

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

/// What a group commit did: one result per batch, and whether the group had to be split into one transaction
/// per document (something in it failed).
#[derive(Debug)]
pub struct GroupWrite {
    pub results: Vec<StoreResult<()>>,
    pub split: bool,
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
        append_alone(&mut *self.pool.acquire().await?, doc_id, ops, None).await
    }

    /// Appends several documents' ops in ONE transaction (group commit across documents). A conflict on one
    /// document fails only that document.
    pub async fn append_many(&self, batches: &[(&str, &[NewOp])]) -> GroupWrite {
        let batches: Vec<Batch<'_>> = batches
            .iter()
            .map(|(doc_id, ops)| Batch {
                doc_id,
                ops,
                fence: None,
            })
            .collect();
        match self.pool.acquire().await {
            Ok(mut conn) => append_group(&mut conn, &batches).await,
            Err(err) => GroupWrite {
                results: batches.iter().map(|_| Err(group_failed(&err))).collect(),
                split: true,
            },
        }
    }

    /// A connection for a writer that keeps it between transactions (see `GroupCommitter`).
    pub async fn writer_connection(&self) -> StoreResult<PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
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

    /// The highest committed seq of every client that wrote at `rev >= from_rev`, with that op's author and base
    /// revision (for dedup after a restart, and to bind the client id to its user): `(client, author, seq, rev)`. Older ops need no dedup: an op based before the
    /// hub's window is refused as `rev_too_old` first, so the scan stays as short as the window.
    pub async fn last_seqs(
        &self,
        doc_id: &str,
        from_rev: i64,
    ) -> StoreResult<Vec<(String, Option<String>, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT o.client, o.author_id, o.seq, o.rev FROM operations o \
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
                    row.try_get("author_id")?,
                    row.try_get("seq")?,
                    row.try_get("rev")?,
                ))
            })
            .collect()
    }

    /// The document's current snapshot, if compaction has written one.
    pub async fn current_snapshot(&self, doc_id: &str) -> StoreResult<Option<Snapshot>> {
        let row = sqlx::query(
            "SELECT v.rev, v.content FROM documents d JOIN document_versions v ON v.doc_id = d.id AND v.id = d.current_version_id \
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

/// One document's ops in a group commit, and the claim its hub holds (cluster nodes only).
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub doc_id: &'a str,
    pub ops: &'a [NewOp],
    pub fence: Option<&'a Fence>,
}

/// The rows of one multi-row statement at most: 7 parameters each stays far below SQLite's 32,766 and
/// PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 500;

/// Writes every batch in one transaction of a few statements (all op rows, then all heads), whatever the group's
/// size: with SQLite each statement is a round trip to its worker thread, and those round trips, not the writing,
/// were the cost of many small documents. If anything fails (one document's conflict fails the statement), the
/// group is rolled back and each document is written in its own transaction, so that only the conflicting one
/// fails.
pub async fn append_group(conn: &mut AnyConnection, batches: &[Batch<'_>]) -> GroupWrite {
    if write_group(conn, batches).await.is_ok() {
        return GroupWrite {
            results: batches.iter().map(|_| Ok(())).collect(),
            split: false,
        };
    }
    let mut results = Vec::with_capacity(batches.len());
    for batch in batches {
        results.push(append_alone(conn, batch.doc_id, batch.ops, batch.fence).await);
    }
    GroupWrite {
        results,
        split: true,
    }
}

async fn write_group(conn: &mut AnyConnection, batches: &[Batch<'_>]) -> StoreResult<()> {
    let now = now_ms();
    let rows: Vec<(&str, &NewOp)> = batches
        .iter()
        .flat_map(|batch| batch.ops.iter().map(move |op| (batch.doc_id, op)))
        .collect();
    let heads: Vec<Head<'_>> = batches
        .iter()
        .filter_map(|batch| {
            Some(Head {
                doc_id: batch.doc_id,
                first: batch.ops.first()?,
                last: batch.ops.last()?,
                fence: batch.fence,
            })
        })
        .collect();
    let mut tx = conn.begin().await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        insert_rows(&mut tx, chunk, now).await?;
    }
    for chunk in heads.chunks(ROWS_PER_STATEMENT) {
        advance_heads(&mut tx, chunk, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn append_alone(
    conn: &mut AnyConnection,
    doc_id: &str,
    ops: &[NewOp],
    fence: Option<&Fence>,
) -> StoreResult<()> {
    let mut tx = conn.begin().await?;
    write_ops(&mut tx, doc_id, ops, fence).await?;
    tx.commit().await?;
    Ok(())
}

/// `($2, $3<tail>), ($4, $5<tail>)`: `rows` tuples of `width` numbered placeholders after `$1`, each ending
/// with `tail`.
fn placeholder_rows(rows: usize, width: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(rows * width * 5);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..width {
            let n = 2 + row * width + col;
            sql.push_str(&if col == 0 {
                format!("${n}")
            } else {
                format!(", ${n}")
            });
        }
        sql.push_str(tail);
        sql.push(')');
    }
    sql
}

/// One INSERT of many op rows; `$1` is the shared `created_at`.
async fn insert_rows(
    tx: &mut sqlx::Transaction<'_, Any>,
    rows: &[(&str, &NewOp)],
    now: i64,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO operations (doc_id, rev, client, seq, author_id, op, len_after, created_at) VALUES {}",
        placeholder_rows(rows.len(), 7, ", $1")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for (doc_id, op) in rows {
        query = query
            .bind(*doc_id)
            .bind(op.rev)
            .bind(op.client.as_str())
            .bind(op.seq)
            .bind(op.author_id.as_deref())
            .bind(op.op_json.as_str())
            .bind(op.len_after);
    }
    query
        .execute(&mut **tx)
        .await
        .map_err(|err| super::conflict_on_unique(err, "revision already written"))?;
    Ok(())
}

/// A document's head move in a group: from `first.rev` to `last.rev + 1`, under its hub's claim if any.
struct Head<'a> {
    doc_id: &'a str,
    first: &'a NewOp,
    last: &'a NewOp,
    fence: Option<&'a Fence>,
}

/// One UPDATE moving many documents' heads, each conditional on its expected head and, on a cluster node, on
/// its hub's claim still standing: fewer rows changed than documents means one head moved under us or one
/// document has a new owner. The claim is checked on the very row the head moves on, so a concurrent claim and
/// commit are ordered by the row lock: either the commit lands first and the new owner loads it, or the commit
/// finds the new owner and changes nothing.
async fn advance_heads(
    tx: &mut sqlx::Transaction<'_, Any>,
    heads: &[Head<'_>],
    now: i64,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE documents SET head_rev = v.column3, updated_at = $1, \
         last_editor_id = COALESCE(v.column4, documents.last_editor_id) \
         FROM (VALUES {}) AS v WHERE documents.id = v.column1 AND documents.head_rev = v.column2 \
         AND (v.column5 IS NULL OR (documents.owner_node = v.column5 AND documents.owner_view = v.column6))",
        placeholder_rows(heads.len(), 6, "")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for head in heads {
        query = query
            .bind(head.doc_id)
            .bind(head.first.rev)
            .bind(head.last.rev + 1)
            .bind(head.last.author_id.as_deref())
            .bind(head.fence.map(|fence| fence.node.as_str()))
            .bind(head.fence.map(|fence| fence.view));
    }
    let res = query.execute(&mut **tx).await?;
    if res.rows_affected() != heads.len() as u64 {
        return Err(StoreError::Conflict("document head moved under us".into()));
    }
    Ok(())
}

/// The ops' rows and the document's new head, conditional on the expected head. A revision that already exists
/// means another writer owns the document: `Conflict`.
async fn write_ops(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    doc_id: &str,
    ops: &[NewOp],
    fence: Option<&Fence>,
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
         WHERE id = $4 AND head_rev = $5 AND ($6 IS NULL OR (owner_node = $7 AND owner_view = $8))",
    )
    .bind(last.rev + 1)
    .bind(now)
    .bind(last.author_id.as_deref())
    .bind(doc_id)
    .bind(ops[0].rev)
    .bind(fence.map(|fence| fence.node.as_str()))
    .bind(fence.map(|fence| fence.node.as_str()))
    .bind(fence.map(|fence| fence.view))
    .execute(&mut **tx)
    .await?;
    if res.rows_affected() != 1 {
        return Err(refusal(tx, doc_id, fence).await);
    }
    Ok(())
}

/// Why a head did not move: a new owner (`Fenced`), or another writer's ops (`Conflict`).
async fn refusal(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    doc_id: &str,
    fence: Option<&Fence>,
) -> StoreError {
    let Some(fence) = fence else {
        return StoreError::Conflict("document head moved under us".into());
    };
    let owner: Result<Option<(Option<String>, Option<i64>)>, _> =
        sqlx::query_as("SELECT owner_node, owner_view FROM documents WHERE id = $1")
            .bind(doc_id)
            .fetch_optional(&mut **tx)
            .await;
    match owner {
        Ok(Some((node, view)))
            if node.as_deref() != Some(&fence.node) || view != Some(fence.view) =>
        {
            StoreError::Fenced(format!(
                "document {doc_id} is now owned by {} (claimed at membership version {})",
                node.unwrap_or_default(),
                view.unwrap_or_default()
            ))
        }
        _ => StoreError::Conflict("document head moved under us".into()),
    }
}

fn group_failed(err: &sqlx::Error) -> StoreError {
    StoreError::Corrupt(format!("group commit failed: {err}"))
}
