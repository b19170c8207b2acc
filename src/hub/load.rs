//! Loading a document from the store: its current snapshot plus the logged ops after it, replayed in order.

use std::sync::Arc;

use super::{Committed, DocState, Frame};
use crate::{
    ot::{Delta, Document},
    protocol,
    store::{Store, StoreError, StoreResult},
};

/// The document's state at head, with the newest `max_recent` ops kept for transform and catch-up.
pub async fn load_state(
    store: &Store,
    doc_id: &str,
    max_recent: usize,
    max_doc_len: u64,
) -> StoreResult<DocState> {
    let (base_rev, mut document) = load_snapshot(store, doc_id).await?;
    let logged = store.ops_since(doc_id, base_rev as i64).await?;
    let mut state_ops = Vec::with_capacity(logged.len().min(max_recent));
    let mut expected_rev = base_rev;
    let skip = logged.len().saturating_sub(max_recent);
    for (index, entry) in logged.into_iter().enumerate() {
        let rev = u64::try_from(entry.rev).map_err(|_| corrupt(doc_id, "negative revision"))?;
        if rev != expected_rev {
            return Err(corrupt(
                doc_id,
                &format!("revision {rev} follows {expected_rev}"),
            ));
        }
        expected_rev += 1;
        let value: serde_json::Value = serde_json::from_str(&entry.op_json)
            .map_err(|err| corrupt(doc_id, &err.to_string()))?;
        let op =
            Delta::from_json_unchecked(&value).map_err(|err| corrupt(doc_id, &err.to_string()))?;
        document
            .apply(&op, u64::MAX)
            .map_err(|err| corrupt(doc_id, &err.to_string()))?;
        if index >= skip {
            let user = serde_json::json!({ "id": entry.author_id });
            let seq = u64::try_from(entry.seq).unwrap_or(0);
            let frame = protocol::op_frame(rev, &entry.op_json, &entry.client, seq, &user);
            state_ops.push(Committed {
                rev,
                op,
                client: Arc::from(entry.client.as_str()),
                seq,
                frame: Frame::from(frame),
            });
        }
    }
    let mut state = DocState::new(expected_rev, document, max_recent, max_doc_len);
    for committed in state_ops {
        state.remember(committed);
    }
    for (client, seq, rev) in store.last_seqs(doc_id).await? {
        let (Ok(seq), Ok(rev)) = (u64::try_from(seq), u64::try_from(rev)) else {
            continue;
        };
        state.remember_seq(Arc::from(client.as_str()), seq, rev);
    }
    Ok(state)
}

/// The current revision and content, read from the store (for documents with no open hub).
pub async fn load_content(store: &Store, doc_id: &str) -> StoreResult<(u64, Delta)> {
    let state = load_state(store, doc_id, 1, u64::MAX).await?;
    Ok((state.head(), state.document().to_delta()))
}

async fn load_snapshot(store: &Store, doc_id: &str) -> StoreResult<(u64, Document)> {
    let Some(snapshot) = store.current_snapshot(doc_id).await? else {
        return Ok((0, Document::new()));
    };
    let value: serde_json::Value = serde_json::from_str(&snapshot.content_json)
        .map_err(|err| corrupt(doc_id, &err.to_string()))?;
    let delta =
        Delta::from_json_unchecked(&value).map_err(|err| corrupt(doc_id, &err.to_string()))?;
    let document = Document::from_delta(&delta).map_err(|err| corrupt(doc_id, &err.to_string()))?;
    let rev =
        u64::try_from(snapshot.rev).map_err(|_| corrupt(doc_id, "negative snapshot revision"))?;
    Ok((rev, document))
}

fn corrupt(doc_id: &str, detail: &str) -> StoreError {
    StoreError::Corrupt(format!("document {doc_id}: {detail}"))
}
