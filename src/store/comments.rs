//! Comment threads and their messages (issue 14): each thread's anchor is stored with the revision it is at, and
//! the hub moves it to head; the operation log is never pruned at or above it (see `prune_ops`).

use sqlx::{Row, any::AnyRow};

use super::{
    Store, StoreResult,
    mentions::{MentionWrite, write_mentions_in},
};

/// A thread as stored, with the names of the people it mentions (`None`: the account was deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRow {
    pub id: String,
    pub doc_id: String,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub anchor: StoredAnchor,
    pub quote: String,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolved_by_name: Option<String>,
    pub created_at: i64,
}

/// A thread's range `[start, end)` at revision `rev`, in UTF-16 units; `orphaned` once its text was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAnchor {
    pub start: i64,
    pub end: i64,
    pub rev: i64,
    pub orphaned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: String,
    pub thread_id: String,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
}

/// A new thread with its first message.
#[derive(Debug, Clone, Copy)]
pub struct NewThread<'a> {
    pub id: &'a str,
    pub doc_id: &'a str,
    pub author_id: &'a str,
    pub anchor: StoredAnchor,
    pub quote: &'a str,
    pub message_id: &'a str,
    pub body: &'a str,
    /// The people the first message mentions (checked to be the document's people).
    pub mentions: &'a [String],
    pub now: i64,
}

/// A message added at the end of a thread.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub thread_id: &'a str,
    pub doc_id: &'a str,
    pub author_id: &'a str,
    pub body: &'a str,
    pub mentions: &'a [String],
    pub now: i64,
}

impl NewMessage<'_> {
    fn mention_write(&self) -> MentionWrite<'_> {
        MentionWrite {
            doc_id: self.doc_id,
            thread_id: self.thread_id,
            message_id: self.id,
            author_id: self.author_id,
            ids: self.mentions,
            now: self.now,
        }
    }
}

const THREAD_SELECT: &str = "SELECT t.id, t.doc_id, t.author_id, a.name AS author_name, t.anchor_start, \
     t.anchor_end, t.anchor_rev, t.orphaned, t.quote, t.resolved_at, t.resolved_by, r.name AS resolved_by_name, \
     t.created_at FROM comment_threads t LEFT JOIN users a ON a.id = t.author_id \
     LEFT JOIN users r ON r.id = t.resolved_by";

const MESSAGE_SELECT: &str = "SELECT m.id, m.thread_id, m.author_id, a.name AS author_name, m.body, \
     m.created_at, m.edited_at, m.deleted FROM comment_messages m LEFT JOIN users a ON a.id = m.author_id";

fn thread_from_row(row: &AnyRow) -> StoreResult<ThreadRow> {
    Ok(ThreadRow {
        id: row.try_get("id")?,
        doc_id: row.try_get("doc_id")?,
        author_id: row.try_get("author_id")?,
        author_name: row.try_get("author_name")?,
        anchor: StoredAnchor {
            start: row.try_get("anchor_start")?,
            end: row.try_get("anchor_end")?,
            rev: row.try_get("anchor_rev")?,
            orphaned: row.try_get::<i64, _>("orphaned")? != 0,
        },
        quote: row.try_get("quote")?,
        resolved_at: row.try_get("resolved_at")?,
        resolved_by: row.try_get("resolved_by")?,
        resolved_by_name: row.try_get("resolved_by_name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn message_from_row(row: &AnyRow) -> StoreResult<MessageRow> {
    Ok(MessageRow {
        id: row.try_get("id")?,
        thread_id: row.try_get("thread_id")?,
        author_id: row.try_get("author_id")?,
        author_name: row.try_get("author_name")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        edited_at: row.try_get("edited_at")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
    })
}

impl Store {
    /// Every thread of the document, oldest first.
    pub async fn comment_threads(&self, doc_id: &str) -> StoreResult<Vec<ThreadRow>> {
        let sql = format!("{THREAD_SELECT} WHERE t.doc_id = $1 ORDER BY t.created_at, t.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(doc_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(thread_from_row).collect()
    }

    pub async fn comment_thread(&self, thread_id: &str) -> StoreResult<Option<ThreadRow>> {
        let sql = format!("{THREAD_SELECT} WHERE t.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(thread_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(thread_from_row).transpose()
    }

    /// Every message of the document's threads, by thread and in order.
    pub async fn comment_messages(&self, doc_id: &str) -> StoreResult<Vec<MessageRow>> {
        let sql = format!("{MESSAGE_SELECT} WHERE m.doc_id = $1 ORDER BY m.thread_id, m.position");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(doc_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    pub async fn comment_message(&self, message_id: &str) -> StoreResult<Option<MessageRow>> {
        let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    /// Threads of the document (for its limit).
    pub async fn count_comment_threads(&self, doc_id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM comment_threads WHERE doc_id = $1")
            .bind(doc_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Messages of the thread, deleted ones included (for its limit).
    pub async fn count_comment_messages(&self, thread_id: &str) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM comment_messages WHERE thread_id = $1")
            .bind(thread_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Stores a thread and its first message in one transaction. Returns who was notified of a mention.
    pub async fn insert_comment_thread(&self, thread: NewThread<'_>) -> StoreResult<Vec<String>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO comment_threads (id, doc_id, author_id, anchor_start, anchor_end, anchor_rev, quote, \
             orphaned, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(thread.id)
        .bind(thread.doc_id)
        .bind(thread.author_id)
        .bind(thread.anchor.start)
        .bind(thread.anchor.end)
        .bind(thread.anchor.rev)
        .bind(thread.quote)
        .bind(i64::from(thread.anchor.orphaned))
        .bind(thread.now)
        .execute(&mut *tx)
        .await?;
        let message = NewMessage {
            id: thread.message_id,
            thread_id: thread.id,
            doc_id: thread.doc_id,
            author_id: thread.author_id,
            body: thread.body,
            mentions: thread.mentions,
            now: thread.now,
        };
        let notified = insert_message_in(&mut tx, message).await?;
        tx.commit().await?;
        Ok(notified)
    }

    /// Adds a message at the end of a thread. Returns who was notified of a mention.
    pub async fn insert_comment_message(
        &self,
        message: NewMessage<'_>,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.pool.begin().await?;
        let notified = insert_message_in(&mut tx, message).await?;
        tx.commit().await?;
        Ok(notified)
    }

    /// Replaces a message's body and mentions; the people it did not mention before are notified (returned).
    /// `None`: no such message, or it is deleted.
    pub async fn edit_comment_message(
        &self,
        edit: NewMessage<'_>,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query(
            "UPDATE comment_messages SET body = $1, edited_at = $2 WHERE id = $3 AND deleted = 0",
        )
        .bind(edit.body)
        .bind(edit.now)
        .bind(edit.id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(None);
        }
        let notified = write_mentions_in(&mut tx, edit.mention_write()).await?;
        tx.commit().await?;
        Ok(Some(notified))
    }

    /// Marks a message deleted (its body goes); when no message of its thread is left, the thread goes too.
    /// Returns whether the thread was deleted.
    pub async fn delete_comment_message(
        &self,
        message_id: &str,
        thread_id: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        // A deleted message mentions nobody any more (its notifications are hidden, see `notifications.rs`).
        for sql in [
            "UPDATE comment_messages SET body = '', deleted = 1 WHERE id = $1",
            "DELETE FROM comment_mentions WHERE message_id = $1",
        ] {
            sqlx::query(sql).bind(message_id).execute(&mut *tx).await?;
        }
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM comment_messages WHERE thread_id = $1 AND deleted = 0",
        )
        .bind(thread_id)
        .fetch_one(&mut *tx)
        .await?;
        let live: i64 = row.try_get("n")?;
        if live == 0 {
            for sql in [
                "DELETE FROM comment_messages WHERE thread_id = $1",
                "DELETE FROM comment_threads WHERE id = $1",
            ] {
                sqlx::query(sql).bind(thread_id).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(live == 0)
    }

    /// Resolves (`Some((user, at))`) or reopens (`None`) a thread.
    pub async fn set_comment_resolved(
        &self,
        thread_id: &str,
        resolved: Option<(&str, i64)>,
    ) -> StoreResult<bool> {
        let res = sqlx::query(
            "UPDATE comment_threads SET resolved_by = $1, resolved_at = $2 WHERE id = $3",
        )
        .bind(resolved.map(|(user, _)| user))
        .bind(resolved.map(|(_, at)| at))
        .bind(thread_id)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Writes moved anchors back, in one transaction. A stored anchor never moves back to an older revision (a
    /// slow background compaction finishing after a newer one), whose ops may already be pruned.
    pub async fn save_comment_anchors(
        &self,
        anchors: &[(String, StoredAnchor)],
    ) -> StoreResult<()> {
        if anchors.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (thread_id, anchor) in anchors {
            sqlx::query(
                "UPDATE comment_threads SET anchor_start = $1, anchor_end = $2, anchor_rev = $3, orphaned = $4 \
                 WHERE id = $5 AND anchor_rev <= $3",
            )
            .bind(anchor.start)
            .bind(anchor.end)
            .bind(anchor.rev)
            .bind(i64::from(anchor.orphaned))
            .bind(thread_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_message_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    message: NewMessage<'_>,
) -> StoreResult<Vec<String>> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM comment_messages WHERE thread_id = $1")
        .bind(message.thread_id)
        .fetch_one(&mut **tx)
        .await?;
    let position: i64 = row.try_get("n")?;
    sqlx::query(
        "INSERT INTO comment_messages (id, thread_id, doc_id, author_id, body, created_at, position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(message.id)
    .bind(message.thread_id)
    .bind(message.doc_id)
    .bind(message.author_id)
    .bind(message.body)
    .bind(message.now)
    .bind(position)
    .execute(&mut **tx)
    .await?;
    write_mentions_in(tx, message.mention_write()).await
}
