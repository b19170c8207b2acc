//! Deleting an account, with what becomes of the documents it owns, in one transaction: either all of them go to
//! another person or all of them are deleted, and never half.

use sqlx::Row;

use super::{Store, StoreResult, documents::delete_document_in};

/// What becomes of the documents a deleted account owns (those in its trash included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedDocuments<'a> {
    /// They change owner; the new owner stops being a plain member of any of them.
    TransferTo(&'a str),
    /// They are deleted for good: with the account gone, nobody could restore them from its trash.
    Delete,
}

impl Store {
    /// Deletes the account and its sessions, tokens and memberships; its documents go as `documents` says.
    /// Returns the ids of the documents it owned (so their open editors can be told), or `None` when there was no
    /// such account. Nothing changes on any error.
    pub async fn delete_account(
        &self,
        user_id: &str,
        documents: OwnedDocuments<'_>,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
        let owned: Vec<String> =
            sqlx::query("SELECT id FROM documents WHERE owner_id = $1 ORDER BY id")
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| row.try_get("id"))
                .collect::<Result<_, _>>()?;
        match documents {
            OwnedDocuments::TransferTo(new_owner) => {
                // An owner is not also a member: drop the memberships the transfer turns into ownership.
                sqlx::query(
                    "DELETE FROM document_members WHERE user_id = $1 \
                     AND doc_id IN (SELECT id FROM documents WHERE owner_id = $2)",
                )
                .bind(new_owner)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE documents SET owner_id = $1 WHERE owner_id = $2")
                    .bind(new_owner)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            OwnedDocuments::Delete => {
                for doc_id in &owned {
                    delete_document_in(&mut tx, doc_id).await?;
                }
            }
        }
        // Sessions, API tokens and memberships go with the user (ON DELETE CASCADE); invitations and share links
        // it created, and images it uploaded, stay with no creator (ON DELETE SET NULL).
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() != 1 {
            return Ok(None);
        }
        tx.commit().await?;
        if documents == OwnedDocuments::Delete {
            self.delete_unlinked_images().await?;
        }
        Ok(Some(owned))
    }
}
