//! Mentions on comment messages (issue 14): the check that every mentioned id is one of the document's people,
//! and the hook through which the people newly mentioned hear of it outside the document (e-mail, set by the
//! server; the hub knows nothing of mail).

use std::sync::{Arc, OnceLock};

use super::comments::CommentError;
use crate::{
    protocol::{ErrorCode, MentionWire},
    store::{MentionRow, Store},
};

/// The most people one message may mention.
pub const MAX_MENTIONS: usize = 20;

/// The people a stored message newly mentioned, for the hook.
#[derive(Debug, Clone)]
pub struct MentionNotice {
    pub doc_id: String,
    pub thread_id: String,
    pub author_id: String,
    pub body: String,
    pub recipients: Vec<String>,
}

type Hook = Arc<dyn Fn(MentionNotice) + Send + Sync>;

/// Called after a message that notified someone is stored; set once at start.
#[derive(Default)]
pub struct MentionHook(OnceLock<Hook>);

impl std::fmt::Debug for MentionHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "MentionHook(set)"
        } else {
            "MentionHook(none)"
        })
    }
}

impl MentionHook {
    pub fn set(&self, hook: Hook) {
        let _ = self.0.set(hook);
    }

    pub fn call(&self, notice: MentionNotice) {
        if let Some(hook) = self.0.get() {
            hook(notice);
        }
    }
}

/// Refuses (`bad_comment`, nothing stored) more than `MAX_MENTIONS` ids, an id twice, or an id that is not one
/// of the document's people (the owner and the members added by person).
pub async fn check_mentions(
    store: &Store,
    doc_id: &str,
    ids: &[String],
) -> Result<(), CommentError> {
    if ids.is_empty() {
        return Ok(());
    }
    let refuse = |msg: String| {
        Err(CommentError {
            code: ErrorCode::BadComment,
            msg,
        })
    };
    if ids.len() > MAX_MENTIONS {
        return refuse(format!("a message mentions at most {MAX_MENTIONS} people"));
    }
    let twice = ids
        .iter()
        .enumerate()
        .find(|(i, id)| ids[..*i].contains(id));
    if let Some((_, id)) = twice {
        return refuse(format!("{id:?} is mentioned twice"));
    }
    let people = store
        .document_people(doc_id)
        .await
        .map_err(super::comments::internal)?;
    match ids
        .iter()
        .find(|id| !people.iter().any(|person| &person.id == *id))
    {
        Some(id) => refuse(format!("{id:?} is not one of this document's people")),
        None => Ok(()),
    }
}

/// The mentions of one message, as every message object carries them.
pub fn mentions_of(message_id: &str, rows: &[MentionRow]) -> Vec<MentionWire> {
    rows.iter()
        .filter(|row| row.message_id == message_id)
        .map(|row| MentionWire {
            id: row.user_id.clone(),
            name: row.name.clone(),
        })
        .collect()
}
