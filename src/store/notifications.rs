//! A person's notifications (issue 14): one per message that newly mentioned them, written with the message
//! (`mentions.rs`). Read only while the person may still see the document and the message is not deleted; they go
//! with the document, the thread, the message and the person's account.

use sqlx::Row;

use super::{Store, StoreResult};

/// A notification as its recipient sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: String,
    pub doc_id: String,
    pub doc_title: String,
    pub thread_id: String,
    pub message_id: String,
    pub by_id: Option<String>,
    pub by_name: Option<String>,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Which of a person's notifications to mark read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadWhich {
    Ids(Vec<String>),
    Doc(String),
    All,
}

const FROM: &str = "FROM notifications n JOIN documents d ON d.id = n.doc_id \
     JOIN comment_messages m ON m.id = n.message_id LEFT JOIN users b ON b.id = n.by_id";

/// The notifications the recipient `$1` may read: of a message still there, on a document they still see (its
/// owner, or a member while it is not in the trash).
const VISIBLE: &str = "WHERE n.recipient = $1 AND m.deleted = 0 AND (d.owner_id = $1 OR (d.trashed_at IS NULL AND EXISTS \
     (SELECT 1 FROM document_members dm WHERE dm.doc_id = n.doc_id AND dm.user_id = $1)))";

impl Store {
    /// The recipient's newest notifications, at most `limit`.
    pub async fn notifications(
        &self,
        recipient: &str,
        limit: i64,
    ) -> StoreResult<Vec<NotificationRow>> {
        let sql = format!(
            "SELECT n.id, n.doc_id, d.title, n.thread_id, n.message_id, n.by_id, b.name AS by_name, m.body, \
             n.created_at, n.read_at {FROM} {VISIBLE} ORDER BY n.created_at DESC, n.id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(recipient)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(NotificationRow {
                    id: row.try_get("id")?,
                    doc_id: row.try_get("doc_id")?,
                    doc_title: row.try_get("title")?,
                    thread_id: row.try_get("thread_id")?,
                    message_id: row.try_get("message_id")?,
                    by_id: row.try_get("by_id")?,
                    by_name: row.try_get("by_name")?,
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                    read_at: row.try_get("read_at")?,
                })
            })
            .collect()
    }

    /// How many of the recipient's notifications they may read and have not.
    pub async fn unread_notifications(&self, recipient: &str) -> StoreResult<i64> {
        let sql = format!("SELECT COUNT(*) AS n {FROM} {VISIBLE} AND n.read_at IS NULL");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(recipient)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Marks the recipient's notifications read; another person's are never touched.
    pub async fn mark_notifications_read(
        &self,
        recipient: &str,
        which: &ReadWhich,
        now: i64,
    ) -> StoreResult<()> {
        const UNREAD: &str =
            "UPDATE notifications SET read_at = $2 WHERE recipient = $1 AND read_at IS NULL";
        match which {
            ReadWhich::All => {
                sqlx::query(UNREAD)
                    .bind(recipient)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
            }
            ReadWhich::Doc(doc_id) => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{UNREAD} AND doc_id = $3")))
                    .bind(recipient)
                    .bind(now)
                    .bind(doc_id)
                    .execute(&self.pool)
                    .await?;
            }
            ReadWhich::Ids(ids) => {
                let mut tx = self.pool.begin().await?;
                for id in ids {
                    sqlx::query(sqlx::AssertSqlSafe(format!("{UNREAD} AND id = $3")))
                        .bind(recipient)
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
