//! Document ownership for the cluster: a hub claims its document before it loads it, and every commit it makes
//! is conditional on that claim still standing (see `operations::advance_heads`). The store only compares
//! numbers; what they mean (a membership version, a registration epoch) is the cluster module's business.

use super::{Store, StoreResult};

/// Who may write a document: a node, the membership version it claimed at, and its registration epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub node: String,
    /// The cluster membership version (ZooKeeper's child version of the members' znode) the claim was made at.
    pub view: i64,
    /// The node's registration epoch, for the operator's eyes (`quire cluster owner`).
    pub epoch: i64,
}

/// A document's recorded owner, if any node ever claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub node: String,
    pub view: i64,
    pub epoch: i64,
}

impl Store {
    /// Takes ownership of a document unless someone claimed it from a newer membership version (or another
    /// node from the same one, which cannot be the ring's answer and so is a stale view). False: refused, or no
    /// such document.
    pub async fn claim_document(&self, doc_id: &str, fence: &Fence) -> StoreResult<bool> {
        let res = sqlx::query(
            "UPDATE documents SET owner_node = $1, owner_view = $2, owner_epoch = $3 \
             WHERE id = $4 AND (owner_view IS NULL OR owner_view < $5 OR (owner_view = $6 AND owner_node = $7))",
        )
        .bind(fence.node.as_str())
        .bind(fence.view)
        .bind(fence.epoch)
        .bind(doc_id)
        .bind(fence.view)
        .bind(fence.view)
        .bind(fence.node.as_str())
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// The node recorded as the document's owner.
    pub async fn document_owner(&self, doc_id: &str) -> StoreResult<Option<Owner>> {
        let row: Option<(Option<String>, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT owner_node, owner_view, owner_epoch FROM documents WHERE id = $1",
        )
        .bind(doc_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((Some(node), Some(view), Some(epoch))) => Some(Owner { node, view, epoch }),
            _ => None,
        })
    }
}
