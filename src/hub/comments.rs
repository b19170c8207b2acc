//! The comment threads of an open document: their anchors at head, moved by every committed op, and the comment
//! actions (open, reply, edit, delete, resolve, reopen) with their permission rules, stored before anyone hears.

use serde::{Deserialize, Serialize};

use super::{
    Anchor, DocState,
    mentions::{check_mentions, mentions_of},
    move_anchor,
};
use crate::{
    ot::Delta,
    protocol::{ErrorCode, MessageWire, PersonRef, ThreadWire},
    store::{
        MessageRow, NewMessage, NewThread, Role, Store, StoreResult, StoredAnchor, ThreadRow,
        now_ms,
    },
};

/// A message body's most characters (Unicode scalar values).
pub const MAX_BODY_CHARS: usize = 10_000;
/// Threads one document may hold.
pub const MAX_THREADS: usize = 500;
/// Messages one thread may hold, deleted ones included.
pub const MAX_MESSAGES: i64 = 200;
/// The quote kept of a thread's text, in UTF-16 units.
pub const MAX_QUOTE_UNITS: u64 = 1_000;

/// Every `event` of a `comment` frame.
pub const EVENTS: [&str; 7] = [
    "created",
    "replied",
    "edited",
    "message_deleted",
    "thread_deleted",
    "resolved",
    "reopened",
];

/// What someone asks to do with the document's comments. Serializable because a node of a cluster sends it to the
/// document's owner over the peer channel (`peer_comments.rs`), tagged by `kind`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommentAction {
    /// `rev: None`: the range is relative to head. `mentions`: user ids, checked against the document's people.
    New {
        rev: Option<u64>,
        start: u64,
        end: u64,
        body: String,
        #[serde(default)]
        mentions: Vec<String>,
    },
    Reply {
        thread: String,
        body: String,
        #[serde(default)]
        mentions: Vec<String>,
    },
    /// Replaces the message's body and its mentions.
    Edit {
        message: String,
        body: String,
        #[serde(default)]
        mentions: Vec<String>,
    },
    Delete {
        message: String,
    },
    Resolve {
        thread: String,
    },
    Reopen {
        thread: String,
    },
}

/// Who acts, with their role on the document now.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
}

/// Why a comment action was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentError {
    pub code: ErrorCode,
    pub msg: String,
}

impl CommentError {
    fn new(code: ErrorCode, msg: impl Into<String>) -> CommentError {
        CommentError {
            code,
            msg: msg.into(),
        }
    }
}

/// A stored change, as everyone with the document open hears of it.
#[derive(Debug, Clone)]
pub struct CommentDone {
    pub event: &'static str,
    pub rev: u64,
    pub thread: ThreadWire,
    pub message: Option<MessageWire>,
    /// The people the message newly mentioned, who got a notification (not sent to clients).
    pub notified: Vec<String>,
}

/// What an action needs of the hub.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub doc_id: &'a str,
    pub state: &'a DocState,
    /// The most revisions a new comment's range may be moved through (`limits.max_transform_ops`).
    pub max_lag: u64,
}

#[derive(Debug)]
struct LiveThread {
    id: String,
    author_id: Option<String>,
    anchor: Anchor,
}

/// The document's threads, anchors at head.
#[derive(Debug, Default)]
pub struct Comments {
    threads: Vec<LiveThread>,
}

type ActResult = Result<CommentDone, CommentError>;

pub(super) fn internal(err: impl std::fmt::Display) -> CommentError {
    tracing::error!(%err, "comment storage failed");
    CommentError::new(
        ErrorCode::Internal,
        "the comment could not be saved; try again",
    )
}

impl Comments {
    /// Reads the threads and moves each anchor from the revision it was stored at to head, through the window or
    /// else through the log (which is never pruned above a stored anchor).
    pub async fn load(store: &Store, doc_id: &str, state: &DocState) -> StoreResult<Comments> {
        let rows = store.comment_threads(doc_id).await?;
        let head = state.head();
        let oldest = rows
            .iter()
            .map(|row| u64::try_from(row.anchor.rev).unwrap_or(0))
            .filter(|rev| *rev < head)
            .min();
        let ops = match oldest {
            Some(from) => ops_from(store, doc_id, state, from).await?,
            None => Vec::new(),
        };
        let mut threads = Vec::with_capacity(rows.len());
        for row in rows {
            let rev = u64::try_from(row.anchor.rev).unwrap_or(0);
            let mut anchor = stored_to_anchor(row.anchor);
            let needed = ops.iter().filter(|(op_rev, _)| *op_rev >= rev);
            if rev < head && ops.first().is_none_or(|(first, _)| *first > rev) {
                tracing::error!(%doc_id, thread = %row.id, rev, "the ops after a comment anchor are gone; orphaning it");
                anchor = Anchor {
                    start: 0,
                    end: 0,
                    orphaned: true,
                };
            } else {
                for (_, op) in needed {
                    anchor = move_anchor(op, anchor);
                }
            }
            threads.push(LiveThread {
                id: row.id,
                author_id: row.author_id,
                anchor,
            });
        }
        Ok(Comments { threads })
    }

    /// Moves every anchor through a committed op (as the hub moves presences).
    pub fn on_commit(&mut self, op: &Delta) {
        for thread in &mut self.threads {
            thread.anchor = move_anchor(op, thread.anchor);
        }
    }

    /// Every anchor at `head`, to be written back (at compaction and exit).
    pub fn anchors_at(&self, head: u64) -> Vec<(String, StoredAnchor)> {
        self.threads
            .iter()
            .map(|thread| (thread.id.clone(), anchor_to_stored(thread.anchor, head)))
            .collect()
    }

    /// Every thread with its messages, anchors at head.
    pub async fn list(&self, store: &Store, doc_id: &str) -> StoreResult<Vec<ThreadWire>> {
        // Every thread was made through this hub or loaded by it: none in memory means none stored.
        if self.threads.is_empty() {
            return Ok(Vec::new());
        }
        let rows = store.comment_threads(doc_id).await?;
        let messages = store.comment_messages(doc_id).await?;
        let mentions = store.comment_mentions(doc_id).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let mut wire = self.thread_wire(row);
                wire.messages = Some(
                    messages
                        .iter()
                        .filter(|message| message.thread_id == row.id)
                        .map(|message| MessageWire {
                            mentions: mentions_of(&message.id, &mentions),
                            ..message_wire(message)
                        })
                        .collect(),
                );
                wire
            })
            .collect())
    }

    fn live(&self, thread_id: &str) -> Option<&LiveThread> {
        self.threads.iter().find(|thread| thread.id == thread_id)
    }

    /// The thread as clients see it, its anchor at head (the one in memory, which the stored one lags).
    fn thread_wire(&self, row: &ThreadRow) -> ThreadWire {
        let anchor = self
            .live(&row.id)
            .map_or_else(|| stored_to_anchor(row.anchor), |live| live.anchor);
        ThreadWire {
            id: row.id.clone(),
            author: PersonRef {
                id: row.author_id.clone(),
                name: row.author_name.clone(),
            },
            start: anchor.start,
            end: anchor.end,
            quote: row.quote.clone(),
            orphaned: anchor.orphaned,
            resolved: row.resolved_at.is_some(),
            resolved_by: row.resolved_at.map(|_| PersonRef {
                id: row.resolved_by.clone(),
                name: row.resolved_by_name.clone(),
            }),
            resolved_at: row.resolved_at,
            created_at: row.created_at,
            messages: None,
        }
    }

    /// Applies one action after checking who may; the change is stored before this returns.
    pub async fn act(&mut self, ctx: &Ctx<'_>, actor: &Actor, action: CommentAction) -> ActResult {
        match action {
            CommentAction::New {
                rev,
                start,
                end,
                body,
                mentions,
            } => {
                let said = Said {
                    body: &body,
                    mentions: &mentions,
                };
                self.open(ctx, actor, rev, (start, end), said).await
            }
            CommentAction::Reply {
                thread,
                body,
                mentions,
            } => {
                let said = Said {
                    body: &body,
                    mentions: &mentions,
                };
                self.reply(ctx, actor, &thread, said).await
            }
            CommentAction::Edit {
                message,
                body,
                mentions,
            } => {
                let said = Said {
                    body: &body,
                    mentions: &mentions,
                };
                self.edit(ctx, actor, &message, said).await
            }
            CommentAction::Delete { message } => self.delete(ctx, actor, &message).await,
            CommentAction::Resolve { thread } => self.resolve(ctx, actor, &thread, true).await,
            CommentAction::Reopen { thread } => self.resolve(ctx, actor, &thread, false).await,
        }
    }

    async fn open(
        &mut self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        rev: Option<u64>,
        (start, end): (u64, u64),
        said: Said<'_>,
    ) -> ActResult {
        require_commenter(actor)?;
        check_body(said.body)?;
        if self.threads.len() >= MAX_THREADS {
            let msg = format!("a document holds at most {MAX_THREADS} comment threads");
            return Err(CommentError::new(ErrorCode::BadComment, msg));
        }
        let anchor = anchor_at_head(ctx, rev, start, end)?;
        check_mentions(ctx.store, ctx.doc_id, said.mentions).await?;
        let head = ctx.state.head();
        let quote = quote_of(ctx.state, anchor)?;
        let (thread_id, message_id) = (crate::auth::random_id(16), crate::auth::random_id(16));
        let new = NewThread {
            id: &thread_id,
            doc_id: ctx.doc_id,
            author_id: &actor.user_id,
            anchor: anchor_to_stored(anchor, head),
            quote: &quote,
            message_id: &message_id,
            body: said.body,
            mentions: said.mentions,
            now: now_ms(),
        };
        let notified = ctx
            .store
            .insert_comment_thread(new)
            .await
            .map_err(internal)?;
        self.threads.push(LiveThread {
            id: thread_id.clone(),
            author_id: Some(actor.user_id.clone()),
            anchor,
        });
        let done = self.done(ctx, "created", &thread_id, Some(&message_id));
        Ok(CommentDone {
            notified,
            ..done.await?
        })
    }

    async fn reply(
        &mut self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        thread_id: &str,
        said: Said<'_>,
    ) -> ActResult {
        require_commenter(actor)?;
        check_body(said.body)?;
        self.require_thread(thread_id)?;
        let count = ctx
            .store
            .count_comment_messages(thread_id)
            .await
            .map_err(internal)?;
        if count >= MAX_MESSAGES {
            let msg = format!("a thread holds at most {MAX_MESSAGES} messages");
            return Err(CommentError::new(ErrorCode::BadComment, msg));
        }
        check_mentions(ctx.store, ctx.doc_id, said.mentions).await?;
        let message_id = crate::auth::random_id(16);
        let new = NewMessage {
            id: &message_id,
            thread_id,
            doc_id: ctx.doc_id,
            author_id: &actor.user_id,
            body: said.body,
            mentions: said.mentions,
            now: now_ms(),
        };
        let notified = ctx
            .store
            .insert_comment_message(new)
            .await
            .map_err(internal)?;
        let done = self.done(ctx, "replied", thread_id, Some(&message_id));
        Ok(CommentDone {
            notified,
            ..done.await?
        })
    }

    async fn edit(
        &mut self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        message_id: &str,
        said: Said<'_>,
    ) -> ActResult {
        require_commenter(actor)?;
        let message = self.own_message(ctx, actor, message_id).await?;
        check_body(said.body)?;
        check_mentions(ctx.store, ctx.doc_id, said.mentions).await?;
        let edit = NewMessage {
            id: message_id,
            thread_id: &message.thread_id,
            doc_id: ctx.doc_id,
            author_id: &actor.user_id,
            body: said.body,
            mentions: said.mentions,
            now: now_ms(),
        };
        let notified = ctx
            .store
            .edit_comment_message(edit)
            .await
            .map_err(internal)?
            .unwrap_or_default();
        let done = self.done(ctx, "edited", &message.thread_id, Some(message_id));
        Ok(CommentDone {
            notified,
            ..done.await?
        })
    }

    async fn delete(&mut self, ctx: &Ctx<'_>, actor: &Actor, message_id: &str) -> ActResult {
        require_commenter(actor)?;
        let message = self.own_message(ctx, actor, message_id).await?;
        let before = ctx
            .store
            .comment_thread(&message.thread_id)
            .await
            .map_err(internal)?
            .ok_or_else(no_thread)?;
        let thread_gone = ctx
            .store
            .delete_comment_message(message_id, &message.thread_id)
            .await
            .map_err(internal)?;
        if !thread_gone {
            return self
                .done(ctx, "message_deleted", &message.thread_id, Some(message_id))
                .await;
        }
        let thread = self.thread_wire(&before);
        self.threads.retain(|live| live.id != message.thread_id);
        Ok(CommentDone {
            event: "thread_deleted",
            rev: ctx.state.head(),
            thread,
            message: Some(MessageWire {
                body: String::new(),
                deleted: true,
                ..message_wire(&message)
            }),
            notified: Vec::new(),
        })
    }

    async fn resolve(
        &mut self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        thread_id: &str,
        resolved: bool,
    ) -> ActResult {
        let live = self.require_thread(thread_id)?;
        let is_author = live.author_id.as_deref() == Some(actor.user_id.as_str());
        if !(actor.role.can_edit() || (is_author && actor.role <= Role::Commenter)) {
            let msg = "only people who can edit, or the thread's author, may resolve or reopen it";
            return Err(CommentError::new(ErrorCode::Forbidden, msg));
        }
        let by = resolved.then(|| (actor.user_id.as_str(), now_ms()));
        ctx.store
            .set_comment_resolved(thread_id, by)
            .await
            .map_err(internal)?;
        let event = if resolved { "resolved" } else { "reopened" };
        self.done(ctx, event, thread_id, None).await
    }

    fn require_thread(&self, thread_id: &str) -> Result<&LiveThread, CommentError> {
        self.live(thread_id).ok_or_else(no_thread)
    }

    /// The message, when it is in this document, not deleted, and the actor's own.
    async fn own_message(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        message_id: &str,
    ) -> Result<MessageRow, CommentError> {
        let message = ctx
            .store
            .comment_message(message_id)
            .await
            .map_err(internal)?
            .filter(|message| !message.deleted && self.live(&message.thread_id).is_some())
            .ok_or_else(|| CommentError::new(ErrorCode::NotFound, "no such comment message"))?;
        if message.author_id.as_deref() != Some(actor.user_id.as_str()) {
            let msg = "only the author of a message may edit or delete it";
            return Err(CommentError::new(ErrorCode::Forbidden, msg));
        }
        Ok(message)
    }

    /// Reads the changed thread (and message) back, as everyone will see them.
    async fn done(
        &self,
        ctx: &Ctx<'_>,
        event: &'static str,
        thread_id: &str,
        message_id: Option<&str>,
    ) -> ActResult {
        let row = ctx
            .store
            .comment_thread(thread_id)
            .await
            .map_err(internal)?
            .ok_or_else(no_thread)?;
        let message = match message_id {
            Some(id) => {
                let row = ctx.store.comment_message(id).await.map_err(internal)?;
                let mentions = ctx.store.message_mentions(id).await.map_err(internal)?;
                row.map(|row| MessageWire {
                    mentions: mentions_of(id, &mentions),
                    ..message_wire(&row)
                })
            }
            None => None,
        };
        Ok(CommentDone {
            event,
            rev: ctx.state.head(),
            thread: self.thread_wire(&row),
            message,
            notified: Vec::new(),
        })
    }
}

/// What a new or edited message says: its body and whom it mentions.
#[derive(Debug, Clone, Copy)]
struct Said<'a> {
    body: &'a str,
    mentions: &'a [String],
}

fn no_thread() -> CommentError {
    CommentError::new(ErrorCode::NotFound, "no such comment thread")
}

fn require_commenter(actor: &Actor) -> Result<(), CommentError> {
    if actor.role > Role::Commenter {
        let msg = format!(
            "your role ({}) cannot comment on this document",
            actor.role.as_str()
        );
        return Err(CommentError::new(ErrorCode::Forbidden, msg));
    }
    Ok(())
}

fn check_body(body: &str) -> Result<(), CommentError> {
    if body.trim().is_empty() {
        return Err(CommentError::new(
            ErrorCode::BadComment,
            "a comment needs some text",
        ));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        let msg = format!("a comment has at most {MAX_BODY_CHARS} characters");
        return Err(CommentError::new(ErrorCode::TooLarge, msg));
    }
    Ok(())
}

/// A new comment's range, made at `rev`, moved to head; refused when empty, outside the document, or deleted
/// meanwhile.
fn anchor_at_head(
    ctx: &Ctx<'_>,
    rev: Option<u64>,
    start: u64,
    end: u64,
) -> Result<Anchor, CommentError> {
    let head = ctx.state.head();
    let rev = rev.unwrap_or(head);
    if rev > head {
        let msg = format!("rev {rev} is ahead of head {head}");
        return Err(CommentError::new(ErrorCode::RevInFuture, msg));
    }
    let too_old = || {
        CommentError::new(
            ErrorCode::RevTooOld,
            format!("rev {rev} is too old; catch up first"),
        )
    };
    if head - rev > ctx.max_lag {
        return Err(too_old());
    }
    let ops = ctx.state.ops_after(rev).ok_or_else(too_old)?;
    if start >= end {
        return Err(CommentError::new(
            ErrorCode::BadComment,
            "a comment needs a non-empty range",
        ));
    }
    let mut anchor = Anchor::new(start, end);
    for committed in ops {
        anchor = move_anchor(&committed.op().map_err(internal)?, anchor);
    }
    if anchor.orphaned {
        let msg = "the commented text was deleted meanwhile";
        return Err(CommentError::new(ErrorCode::BadComment, msg));
    }
    if anchor.end > ctx.state.document().len_utf16() {
        let msg = "the range is outside the document";
        return Err(CommentError::new(ErrorCode::BadComment, msg));
    }
    Ok(anchor)
}

/// The text under `anchor` (embeds left out), cut to `MAX_QUOTE_UNITS` on a character boundary.
fn quote_of(state: &DocState, anchor: Anchor) -> Result<String, CommentError> {
    let slice = state
        .document()
        .slice(anchor.start, anchor.end)
        .map_err(|_| CommentError::new(ErrorCode::BadComment, "the range splits a character"))?;
    let mut quote = String::new();
    let mut units = 0;
    for ch in slice.text().chars() {
        units += ch.len_utf16() as u64;
        if units > MAX_QUOTE_UNITS {
            break;
        }
        quote.push(ch);
    }
    Ok(quote)
}

/// The ops from revision `from` to head: from the window when it reaches that far, else from the log.
async fn ops_from(
    store: &Store,
    doc_id: &str,
    state: &DocState,
    from: u64,
) -> StoreResult<Vec<(u64, Delta)>> {
    if let Some(window) = state.ops_after(from) {
        return Ok(window
            .filter_map(|committed| Some((committed.rev, committed.op().ok()?)))
            .collect());
    }
    let logged = store
        .ops_since(doc_id, i64::try_from(from).unwrap_or(i64::MAX))
        .await?;
    let mut ops = Vec::with_capacity(logged.len());
    let mut expected = from;
    for entry in logged {
        let rev = u64::try_from(entry.rev).unwrap_or(u64::MAX);
        let op = serde_json::from_str::<serde_json::Value>(&entry.op_json)
            .ok()
            .and_then(|value| Delta::from_json_unchecked(&value).ok());
        let (true, Some(op)) = (rev == expected, op) else {
            break;
        };
        if rev >= state.head() {
            break;
        }
        ops.push((rev, op));
        expected += 1;
    }
    if expected != state.head() {
        // A gap: anchors from before it cannot be moved (`load` orphans them and says so).
        ops.clear();
    }
    Ok(ops)
}

fn stored_to_anchor(stored: StoredAnchor) -> Anchor {
    Anchor {
        start: u64::try_from(stored.start).unwrap_or(0),
        end: u64::try_from(stored.end).unwrap_or(0),
        orphaned: stored.orphaned,
    }
}

fn anchor_to_stored(anchor: Anchor, rev: u64) -> StoredAnchor {
    StoredAnchor {
        start: anchor.start as i64,
        end: anchor.end as i64,
        rev: rev as i64,
        orphaned: anchor.orphaned,
    }
}

fn message_wire(row: &MessageRow) -> MessageWire {
    MessageWire {
        id: row.id.clone(),
        author: PersonRef {
            id: row.author_id.clone(),
            name: row.author_name.clone(),
        },
        body: row.body.clone(),
        created_at: row.created_at,
        edited_at: row.edited_at,
        deleted: row.deleted,
        mentions: Vec::new(),
    }
}
