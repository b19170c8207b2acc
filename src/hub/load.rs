//! Loading a document from the store: its current version (snapshot) plus the logged ops after it, replayed in
//! order; older ops still in the log are kept in memory too, so clients based on them can catch up.

use std::{collections::BTreeSet, sync::Arc};

use super::{Committed, DocState, WindowLimit};
use crate::{
    ot::{Delta, Document},
    store::{LoggedOp, Store, StoreError, StoreResult},
};

/// What the hub needs besides the state: where the current version stands and who wrote since.
#[derive(Debug, Default)]
pub struct LoadInfo {
    pub version_rev: u64,
    /// The current version's length (UTF-16 units), where authorship starts when none was stored.
    pub version_len: u64,
    pub contributors: BTreeSet<String>,
}

/// The document's state at head, with the newest ops within `window` kept for transform and catch-up.
pub async fn load_state(
    store: &Store,
    doc_id: &str,
    window: WindowLimit,
    max_doc_len: u64,
) -> StoreResult<(DocState, LoadInfo)> {
    let (version_rev, mut document) = load_snapshot(store, doc_id).await?;
    let head_hint = store
        .document(doc_id)
        .await?
        .map_or(0, |doc| doc.head_rev.max(0) as u64);
    let window_from = version_rev.min(head_hint.saturating_sub(window.ops as u64));
    let logged = store.ops_since(doc_id, window_from as i64).await?;
    let logged = contiguous_tail(logged);
    let mut info = LoadInfo {
        version_rev,
        version_len: document.len_utf16(),
        contributors: BTreeSet::new(),
    };
    let mut kept = Vec::new();
    let mut expected_rev = version_rev;
    let skip = logged.len().saturating_sub(window.ops);
    for (index, entry) in logged.into_iter().enumerate() {
        let rev = u64::try_from(entry.rev).map_err(|_| corrupt(doc_id, "negative revision"))?;
        let op = parse_op(doc_id, &entry.op_json)?;
        if rev >= version_rev {
            if rev != expected_rev {
                return Err(corrupt(
                    doc_id,
                    &format!("revision {rev} follows {expected_rev}"),
                ));
            }
            expected_rev += 1;
            document
                .apply(&op, u64::MAX)
                .map_err(|err| corrupt(doc_id, &err.to_string()))?;
            info.contributors.extend(entry.author_id.clone());
        }
        if index >= skip {
            kept.push(committed(rev, &entry));
        }
    }
    let mut state = DocState::new(expected_rev, document, window, max_doc_len);
    state.remember_window(kept);
    for (client, author, seq, rev) in store.last_seqs(doc_id, state.oldest_rev() as i64).await? {
        let (Ok(seq), Ok(rev)) = (u64::try_from(seq), u64::try_from(rev)) else {
            continue;
        };
        let author = author.map(|id| Arc::from(id.as_str()));
        state.remember_seq(Arc::from(client.as_str()), author, seq, rev);
    }
    Ok((state, info))
}

/// The ops from the last gap (pruning leaves gaps only at the front) to the end.
fn contiguous_tail(mut logged: Vec<LoggedOp>) -> Vec<LoggedOp> {
    let start = logged
        .windows(2)
        .rposition(|pair| pair[1].rev != pair[0].rev + 1)
        .map_or(0, |idx| idx + 1);
    logged.drain(..start);
    logged
}

/// The window entry for a logged op. The row's JSON is the op's canonical JSON (the hub wrote it with
/// `serde_json::to_string`), and it just parsed as the op replayed above, so it is kept as it is.
fn committed(rev: u64, entry: &LoggedOp) -> Committed {
    let user = serde_json::json!({ "id": entry.author_id }).to_string();
    let client = Arc::from(entry.client.as_str());
    let seq = u64::try_from(entry.seq).unwrap_or(0);
    Committed::new(rev, &entry.op_json, client, seq, Arc::from(user))
}

fn parse_op(doc_id: &str, op_json: &str) -> StoreResult<Delta> {
    let value: serde_json::Value =
        serde_json::from_str(op_json).map_err(|err| corrupt(doc_id, &err.to_string()))?;
    Delta::from_json_unchecked(&value).map_err(|err| corrupt(doc_id, &err.to_string()))
}

/// The current revision and content, read from the store (for documents with no open hub).
pub async fn load_content(store: &Store, doc_id: &str) -> StoreResult<(u64, Delta)> {
    let window = WindowLimit { ops: 1, bytes: 0 };
    let (state, _) = load_state(store, doc_id, window, u64::MAX).await?;
    Ok((state.head(), state.document().to_delta()))
}

async fn load_snapshot(store: &Store, doc_id: &str) -> StoreResult<(u64, Document)> {
    let Some(snapshot) = store.current_snapshot(doc_id).await? else {
        return Ok((0, Document::new()));
    };
    let delta = parse_op(doc_id, &snapshot.content_json)?;
    let document = Document::from_delta(&delta).map_err(|err| corrupt(doc_id, &err.to_string()))?;
    let rev =
        u64::try_from(snapshot.rev).map_err(|_| corrupt(doc_id, "negative snapshot revision"))?;
    Ok((rev, document))
}

fn corrupt(doc_id: &str, detail: &str) -> StoreError {
    StoreError::Corrupt(format!("document {doc_id}: {detail}"))
}
