//! Who a comment message mentions (issue 14), and the document's people who may be mentioned: the owner and every
//! member added by person (not link guests). Mentions are written in the transaction of their message, with the
//! notifications of the people newly mentioned (`notifications.rs` reads those).

use sqlx::{Row, Transaction};

use super::{Store, StoreResult};

/// Someone who may be mentioned on a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub name: String,
    /// `owner`, `editor`, `commenter` or `viewer`.
    pub role: String,
}

/// One person a message mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionRow {
    pub message_id: String,
    pub user_id: String,
    pub name: String,
}

/// The mentions of a message being written: `ids` replace the message's mentions; who was not mentioned before,
/// other than the author, gets a notification.
#[derive(Debug, Clone, Copy)]
pub struct MentionWrite<'a> {
    pub doc_id: &'a str,
    pub thread_id: &'a str,
    pub message_id: &'a str,
    pub author_id: &'a str,
    pub ids: &'a [String],
    pub now: i64,
}

const MENTION_SELECT: &str = "SELECT c.message_id, c.user_id, u.name FROM comment_mentions c \
     JOIN users u ON u.id = c.user_id";

fn mention_from_row(row: &sqlx::any::AnyRow) -> StoreResult<MentionRow> {
    Ok(MentionRow {
        message_id: row.try_get("message_id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
    })
}

impl Store {
    /// The owner and the members added by person, sorted by name.
    pub async fn document_people(&self, doc_id: &str) -> StoreResult<Vec<Person>> {
        let rows = sqlx::query(
            "SELECT u.id, u.name, 'owner' AS role FROM documents d JOIN users u ON u.id = d.owner_id \
             WHERE d.id = $1 \
             UNION ALL SELECT u.id, u.name, m.role FROM document_members m JOIN users u ON u.id = m.user_id \
             WHERE m.doc_id = $1 AND m.via_link IS NULL AND m.user_id <> \
             (SELECT owner_id FROM documents WHERE id = $1) \
             ORDER BY name, id",
        )
        .bind(doc_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Person {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    role: row.try_get("role")?,
                })
            })
            .collect()
    }

    /// Every mention of the document's messages, in each message's order.
    pub async fn comment_mentions(&self, doc_id: &str) -> StoreResult<Vec<MentionRow>> {
        let sql = format!("{MENTION_SELECT} WHERE c.doc_id = $1 ORDER BY c.message_id, c.position");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(doc_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(mention_from_row).collect()
    }

    pub async fn message_mentions(&self, message_id: &str) -> StoreResult<Vec<MentionRow>> {
        let sql = format!("{MENTION_SELECT} WHERE c.message_id = $1 ORDER BY c.position");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(message_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(mention_from_row).collect()
    }
}

/// Replaces the message's mentions and notifies the people newly mentioned, other than the author. Returns who
/// was notified.
pub(super) async fn write_mentions_in(
    tx: &mut Transaction<'_, sqlx::Any>,
    write: MentionWrite<'_>,
) -> StoreResult<Vec<String>> {
    let before: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM comment_mentions WHERE message_id = $1")
            .bind(write.message_id)
            .fetch_all(&mut **tx)
            .await?;
    sqlx::query("DELETE FROM comment_mentions WHERE message_id = $1")
        .bind(write.message_id)
        .execute(&mut **tx)
        .await?;
    let mut notified = Vec::new();
    for (position, user_id) in write.ids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO comment_mentions (message_id, user_id, doc_id, position) VALUES ($1, $2, $3, $4)",
        )
        .bind(write.message_id)
        .bind(user_id)
        .bind(write.doc_id)
        .bind(position as i64)
        .execute(&mut **tx)
        .await?;
        if user_id == write.author_id || before.contains(user_id) {
            continue;
        }
        sqlx::query(
            "INSERT INTO notifications (id, recipient, doc_id, thread_id, message_id, by_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::auth::random_id(16))
        .bind(user_id)
        .bind(write.doc_id)
        .bind(write.thread_id)
        .bind(write.message_id)
        .bind(write.author_id)
        .bind(write.now)
        .execute(&mut **tx)
        .await?;
        notified.push(user_id.clone());
    }
    Ok(notified)
}
