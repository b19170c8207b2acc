//! The authorship of an open document at head (issue 14): loaded from its stored map plus the logged ops after
//! it, applied with every committed op and its author, written back with each compaction and on exit, and turned
//! into the `authors` answer with people's names as they are now (docs/protocol-notes.md, "Authorship").

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{
    DocState,
    authorship::{Authorship, UNKNOWN},
    comments::CommentError,
};
use crate::{
    ot::Delta,
    protocol::ErrorCode,
    store::{Store, StoreResult, StoredAuthorship},
};

/// The most runs an answer carries (about 40 bytes each); a document cut finer than that answers `too_large`.
pub const MAX_ANSWER_RUNS: usize = 200_000;

/// The map at head, for a hub with authorship on.
#[derive(Debug)]
pub struct Authors {
    map: Authorship,
}

/// Where the hub's loaded state starts: the current version's revision and length (what has no known author
/// when nothing was stored).
#[derive(Debug, Clone, Copy)]
pub struct Base {
    pub version_rev: u64,
    pub version_len: u64,
}

impl Authors {
    /// The stored map moved to head through the logged ops after it, each with its author; with no stored map,
    /// the current version's text has no known author and the logged ops after it are replayed. Anything that
    /// does not add up (a gap in the log, a length that differs) leaves the whole text unknown, never wrong.
    pub async fn load(
        store: &Store,
        doc_id: &str,
        state: &DocState,
        base: Base,
    ) -> StoreResult<Authors> {
        let map = match moved_to_head(store, doc_id, state, base).await? {
            Some(map) => map,
            None => {
                let head = state.head();
                tracing::error!(%doc_id, head, "authorship cannot be replayed to head; its text is unknown");
                Authorship::unknown(state.document().len_utf16())
            }
        };
        Ok(Authors { map })
    }

    /// Applies a committed op by `author_id`.
    pub fn on_commit(&mut self, op: &Delta, author_id: &str) {
        let key = self.map.key(author_id);
        self.map.apply(op, key);
    }

    /// The map to store at `head`.
    pub fn stored(&self, head: u64) -> StoredAuthorship {
        let spans: Vec<(u64, Option<&str>)> = self.map.spans().collect();
        StoredAuthorship {
            rev: i64::try_from(head).unwrap_or(i64::MAX),
            spans_json: serde_json::to_string(&spans).unwrap_or_else(|_| "[]".into()),
        }
    }

    /// `{rev, spans, people}`: spans `[len, user id or null]`, where an account that no longer exists is `null`,
    /// and the names of the others.
    pub async fn answer(&self, store: &Store, head: u64) -> Result<Value, CommentError> {
        if self.map.run_count() > MAX_ANSWER_RUNS {
            return Err(CommentError {
                code: ErrorCode::TooLarge,
                msg: format!("the authorship of this document has over {MAX_ANSWER_RUNS} runs"),
            });
        }
        let mut ids: Vec<&str> = self.map.spans().filter_map(|(_, id)| id).collect();
        ids.sort_unstable();
        ids.dedup();
        let names: HashMap<String, String> = store
            .user_names(&ids)
            .await
            .map_err(|err| {
                tracing::error!(%err, "cannot read authors' names");
                CommentError {
                    code: ErrorCode::Internal,
                    msg: "the authors could not be read; try again".into(),
                }
            })?
            .into_iter()
            .collect();
        let mut spans: Vec<(u64, Option<&str>)> = Vec::with_capacity(self.map.run_count());
        for (len, id) in self.map.spans() {
            let id = id.filter(|id| names.contains_key(*id));
            match spans.last_mut() {
                Some(last) if last.1 == id => last.0 += len,
                _ => spans.push((len, id)),
            }
        }
        Ok(json!({"rev": head, "spans": spans, "people": names}))
    }
}

fn parse(stored: &StoredAuthorship) -> Option<(u64, Authorship)> {
    let rev = u64::try_from(stored.rev).ok()?;
    let spans: Vec<(u64, Option<String>)> = serde_json::from_str(&stored.spans_json).ok()?;
    let map = Authorship::from_spans(spans.iter().map(|(len, id)| (*len, id.as_deref())));
    Some((rev, map))
}

/// `map` at `from` moved to `head` through the logged ops; `None` when the log has a gap or an op that does not
/// parse.
async fn replay(
    store: &Store,
    doc_id: &str,
    from: u64,
    head: u64,
    mut map: Authorship,
) -> StoreResult<Option<Authorship>> {
    if from >= head {
        return Ok(Some(map));
    }
    let logged = store
        .ops_since(doc_id, i64::try_from(from).unwrap_or(i64::MAX))
        .await?;
    let mut expected = from;
    for entry in logged {
        if expected >= head {
            break;
        }
        let op = serde_json::from_str::<Value>(&entry.op_json)
            .ok()
            .and_then(|value| Delta::from_json_unchecked(&value).ok());
        let (true, Some(op)) = (u64::try_from(entry.rev) == Ok(expected), op) else {
            return Ok(None);
        };
        let key = entry.author_id.as_deref().map_or(UNKNOWN, |id| map.key(id));
        map.apply(&op, key);
        expected += 1;
    }
    Ok((expected == head).then_some(map))
}

/// Who wrote what at the head committed in the store, read without a hub: what a cluster node answers for a
/// document another node owns. Every acknowledged op is committed before anyone hears of it, so this is the
/// owner's answer as of its last commit. The owner may prune the log under the read (after storing a newer map):
/// then the read starts again, a few times, before giving up with 503.
pub async fn answer_from_store(store: &Store, doc_id: &str) -> Result<Value, CommentError> {
    for _ in 0..3 {
        match read_at_head(store, doc_id).await {
            Ok(Some((head, authors))) => return authors.answer(store, head).await,
            Ok(None) => continue,
            Err(err) => {
                tracing::error!(%doc_id, %err, "cannot read authorship");
                break;
            }
        }
    }
    Err(CommentError {
        code: ErrorCode::Internal,
        msg: "the authors could not be read; try again".into(),
    })
}

/// The map at the store's head, or `None` when the stored map and the log do not add up to it.
async fn read_at_head(store: &Store, doc_id: &str) -> StoreResult<Option<(u64, Authors)>> {
    let window = super::WindowLimit { ops: 1, bytes: 0 };
    let (state, info) = super::load::load_state(store, doc_id, window, u64::MAX).await?;
    let base = Base {
        version_rev: info.version_rev,
        version_len: info.version_len,
    };
    let map = moved_to_head(store, doc_id, &state, base).await?;
    Ok(map.map(|map| (state.head(), Authors { map })))
}

/// The stored map moved to `state`'s head through the logged ops after it; with no stored map, from the current
/// version, whose text has no known author. `None` when that does not add up (a gap in the log, a length that
/// differs from the document's).
async fn moved_to_head(
    store: &Store,
    doc_id: &str,
    state: &DocState,
    base: Base,
) -> StoreResult<Option<Authorship>> {
    let head = state.head();
    let stored = store
        .authorship(doc_id)
        .await?
        .and_then(|stored| parse(&stored).filter(|(rev, _)| *rev <= head));
    let (from, map) =
        stored.unwrap_or_else(|| (base.version_rev, Authorship::unknown(base.version_len)));
    let len = state.document().len_utf16();
    Ok(replay(store, doc_id, from, head, map)
        .await?
        .filter(|map| map.total_len() == len))
}

/// The document's authorship at head, read from the store (for `quire compact`, which writes a version with no
/// hub running and must store the map first, as the hub does).
pub async fn stored_at_head(store: &Store, doc_id: &str) -> StoreResult<StoredAuthorship> {
    let window = super::WindowLimit { ops: 1, bytes: 0 };
    let (state, info) = super::load::load_state(store, doc_id, window, u64::MAX).await?;
    let base = Base {
        version_rev: info.version_rev,
        version_len: info.version_len,
    };
    let authors = Authors::load(store, doc_id, &state, base).await?;
    Ok(authors.stored(state.head()))
}
