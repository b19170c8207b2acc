//! The real-time hub: one task per open document owns its state; connections talk to it through `HubMsg`.
//! `Hubs` finds or starts the task for a document. Nothing here knows axum or SQL.

mod anchor;
mod authors;
mod authorship;
mod comments;
mod compact;
mod load;
mod mentions;
mod metrics;
#[cfg(test)]
mod model_ops;
mod outbound;
mod peer_comments;
mod peers;
mod restore;
mod state;
mod suggest_check;
mod task;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::{mpsc, oneshot};

pub use anchor::{Anchor, move_anchor};
pub use authors::stored_at_head as stored_authorship_at_head;
pub use comments::{
    Actor, CommentAction, CommentDone, CommentError, MAX_BODY_CHARS, MAX_MESSAGES, MAX_THREADS,
};
pub use load::load_content;
pub use mentions::{MAX_MENTIONS, MentionNotice};
pub use metrics::HubMetrics;
pub use outbound::{Outbound, OutboundRx, OutboundTx, Round, Target, outbound};
pub use restore::replace_op;
pub use state::{Committed, DocState, SubmitOutcome, WindowLimit, clamp_selection, move_selection};

use crate::{
    config::Limits,
    ot::Delta,
    protocol::{ErrorCode, Selection, ThreadWire, UserInfo},
    store::{Fence, GroupCommitter, Role, Store},
};

/// One serialized text frame (valid UTF-8 JSON), shared by every receiver without copying.
pub type Frame = bytes::Bytes;

/// Identifies one WebSocket connection for the life of the process.
pub type ConnId = u64;

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

pub fn next_conn_id() -> ConnId {
    NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed)
}

/// Everything a hub task may receive: a closed set.
#[derive(Debug)]
pub enum HubMsg {
    Join(Box<Join>),
    Submit {
        conn: ConnId,
        rev: u64,
        seq: u64,
        op: Delta,
    },
    Presence {
        conn: ConnId,
        rev: u64,
        sel: Option<Selection>,
    },
    Leave {
        conn: ConnId,
    },
    /// The current content and revision (after pending commits).
    Snapshot {
        reply: oneshot::Sender<(u64, Delta)>,
    },
    /// A member's role changed (`None`: removed). Their sessions follow it live.
    SetRole {
        user_id: String,
        role: Option<Role>,
    },
    /// The document was trashed or deleted: close every session and stop.
    Evict,
    /// This node no longer owns the document (the cluster changed): commit what is pending, then close every
    /// session, whose connections send their clients to the new owner.
    HandOff,
    /// A background compaction finished (`Some(rev)`: the version at `rev` is now current).
    Compacted {
        rev: Option<u64>,
    },
    /// Save the current content as a named version; answers its id.
    NameVersion {
        name: String,
        user_id: String,
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// A comment action, from a session or the JSON API (issue 14).
    Comment(Box<CommentRequest>),
    /// Every comment thread with its messages, anchors at the answered revision (head).
    ListComments {
        reply: oneshot::Sender<Result<(u64, Vec<ThreadWire>), CommentError>>,
    },
    /// Who wrote what at head (`{rev, spans, people}`): to the session `conn` as an `authors` frame, in order with
    /// its ops, or to `reply` (the JSON API).
    Authors {
        conn: Option<ConnId>,
        reply: Option<oneshot::Sender<Result<serde_json::Value, CommentError>>>,
    },
    /// Turn the document into `content` with one ordinary op by `user`; answers the op's base revision.
    /// (`user` is boxed to keep every message, and so each mailbox's slots, small.)
    Restore {
        content: Delta,
        user: Box<UserInfo>,
        reply: oneshot::Sender<Result<u64, String>>,
    },
}

#[derive(Debug)]
pub struct CommentRequest {
    pub from: CommentFrom,
    pub action: CommentAction,
    /// The JSON API waits for the outcome; a session hears it as a `comment` or `error` frame.
    pub reply: Option<oneshot::Sender<Result<CommentDone, CommentError>>>,
}

/// Where a comment action comes from: a session (whose role and user the hub knows, and whose `ref` is echoed), or
/// the JSON API (checked at the edge; the role is read again for each request).
#[derive(Debug)]
pub enum CommentFrom {
    Session {
        conn: ConnId,
        reference: Option<String>,
    },
    Api(Actor),
}

#[derive(Debug)]
pub struct Join {
    pub conn: ConnId,
    pub client: String,
    /// `None`: send me the document; `Some(rev)`: resume from `rev`.
    pub rev: Option<u64>,
    pub user: UserInfo,
    pub role: Role,
    /// The client asked for comments (`hello.comments`): the `comments` frame after the join, `comment` events.
    pub comments: bool,
    /// The connection's bounded FIFO outbound queue for what happens after the join. When it is full the hub
    /// drops the connection.
    pub out: OutboundTx,
    pub reply: oneshot::Sender<JoinResult>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinResult {
    /// In the hub. The frames are the welcome, the catch-up and the current selections, which the connection
    /// writes before anything from its queue: a catch-up may be far longer than the queue (up to the whole
    /// window), and it must never count against the room kept for live frames.
    Joined(Vec<Frame>),
    /// The hub was shutting down; ask `Hubs` again.
    Retry,
    /// The client id is another user's (see `Hub::client_taken`).
    ClientTaken,
    /// The document could not be loaded.
    Failed,
    /// This node does not own the document (cluster): ask the cluster where it lives now.
    NotOwner,
}

/// On a cluster node: its id, and whether it owns a document and with which fence it claims it (`None`: another
/// node owns it, or this node is not a live member). A single node has none and never claims.
#[derive(Clone)]
pub struct Ownership {
    pub node_id: String,
    pub owner_of: Arc<OwnerOf>,
}

pub type OwnerOf = dyn Fn(&str) -> Option<Fence> + Send + Sync;

impl std::fmt::Debug for Ownership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ownership")
    }
}

/// Settings every hub shares.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub limits: Limits,
    /// How long a hub with no session waits for someone to come back before exiting.
    pub idle_grace: Duration,
    /// Most messages handled (and ops written in one transaction) per round.
    pub max_batch: usize,
    /// How long a busy hub holds its next round, per session (`server.coalesce_us_per_person`); see `task::hold`.
    pub coalesce_per_person: Duration,
    /// Test-only: transform with the wrong priority (see `Config::testing_wrong_priority`).
    pub wrong_priority: bool,
    /// Test-only: ack before the commit, which is late (see `Config::testing_ack_before_commit`).
    pub ack_before_commit: bool,
    /// Versions and pruning of the operation log.
    pub history: crate::config::HistoryConfig,
}

/// The registry of running hubs: document id -> mailbox. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Hubs {
    inner: Arc<HubsInner>,
}

#[derive(Debug)]
struct HubsInner {
    running: Mutex<HashMap<String, mpsc::Sender<HubMsg>>>,
    store: Store,
    /// Writes every hub's rounds of ops, batched across documents.
    committer: GroupCommitter,
    config: HubConfig,
    metrics: HubMetrics,
    ownership: Option<Ownership>,
    /// The other nodes, reached through the database (cluster only).
    peers: Option<Arc<peers::Peers>>,
    /// Tells people they were mentioned (e-mail), when the server set it.
    on_mention: mentions::MentionHook,
}

const MAILBOX: usize = 4096;

impl Hubs {
    /// `ownership`: `Some` on a cluster node, where a hub starts only for a document this node owns, claims it,
    /// and commits only while that claim stands.
    pub fn new(
        store: Store,
        config: HubConfig,
        metrics: HubMetrics,
        ownership: Option<Ownership>,
    ) -> Hubs {
        Hubs {
            inner: Arc::new(HubsInner {
                running: Mutex::new(HashMap::new()),
                committer: GroupCommitter::start(store.clone(), metrics.group.clone()),
                store,
                config,
                metrics,
                peers: ownership
                    .as_ref()
                    .map(|ownership| Arc::new(peers::Peers::new(&ownership.node_id))),
                ownership,
                on_mention: mentions::MentionHook::default(),
            }),
        }
    }

    /// Sets what happens, outside the document, when a stored message newly mentions people (once, at start).
    pub fn on_mention(&self, hook: Arc<dyn Fn(MentionNotice) + Send + Sync>) {
        self.inner.on_mention.set(hook);
    }

    /// Hands a change that notified people to the mention hook.
    fn mentioned(&self, doc_id: &str, done: &CommentDone) {
        let Some(message) = done.message.as_ref().filter(|_| !done.notified.is_empty()) else {
            return;
        };
        self.inner.on_mention.call(MentionNotice {
            doc_id: doc_id.to_string(),
            thread_id: done.thread.id.clone(),
            author_id: message.author.id.clone().unwrap_or_default(),
            body: message.body.clone(),
            recipients: done.notified.clone(),
        });
    }

    /// Hubs running now.
    pub fn open_count(&self) -> usize {
        self.lock().len()
    }

    /// Whether this node runs the document's hub: always on a single node.
    pub fn owns(&self, doc_id: &str) -> bool {
        self.inner
            .ownership
            .as_ref()
            .is_none_or(|ownership| (ownership.owner_of)(doc_id).is_some())
    }

    /// Tells every open hub whose document `owned` no longer claims to hand it off. Returns how many.
    pub fn hand_off_unowned(&self, owned: impl Fn(&str) -> bool) -> usize {
        let leaving: Vec<mpsc::Sender<HubMsg>> = self
            .lock()
            .iter()
            .filter(|(doc_id, _)| !owned(doc_id))
            .map(|(_, mailbox)| mailbox.clone())
            .collect();
        for mailbox in &leaving {
            // A full mailbox is a busy hub: it hands off when it reads this, soon; a closed one is gone already.
            let mailbox = mailbox.clone();
            tokio::spawn(async move {
                let _ = mailbox.send(HubMsg::HandOff).await;
            });
        }
        leaving.len()
    }

    pub fn config(&self) -> &HubConfig {
        &self.inner.config
    }

    pub fn metrics(&self) -> &HubMetrics {
        &self.inner.metrics
    }

    /// Resolves when the group commit's writer has stopped.
    pub async fn writer_stopped(&self) {
        self.inner.committer.stopped().await;
    }

    /// True while the group commit's writer is running (readiness).
    pub fn writer_running(&self) -> bool {
        self.inner.committer.is_running()
    }

    /// The mailbox of the document's hub, starting the hub when none runs.
    pub fn mailbox(&self, doc_id: &str) -> mpsc::Sender<HubMsg> {
        let mut running = self.lock();
        if let Some(sender) = running.get(doc_id).filter(|sender| !sender.is_closed()) {
            return sender.clone();
        }
        let (sender, receiver) = mpsc::channel(MAILBOX);
        running.insert(doc_id.to_string(), sender.clone());
        self.inner.metrics.open_documents.set(running.len() as i64);
        tokio::spawn(task::run(
            doc_id.to_string(),
            self.clone(),
            receiver,
            sender.downgrade(),
        ));
        sender
    }

    /// The mailbox of a running hub, without starting one.
    pub fn running(&self, doc_id: &str) -> Option<mpsc::Sender<HubMsg>> {
        self.lock()
            .get(doc_id)
            .filter(|sender| !sender.is_closed())
            .cloned()
    }

    /// Joins the document's hub, retrying when the hub it found was just exiting.
    pub async fn join(
        &self,
        doc_id: &str,
        mut make_join: impl FnMut(oneshot::Sender<JoinResult>) -> Join,
    ) -> JoinResult {
        for _ in 0..5 {
            let (reply, answer) = oneshot::channel();
            let mailbox = self.mailbox(doc_id);
            if mailbox
                .send(HubMsg::Join(Box::new(make_join(reply))))
                .await
                .is_err()
            {
                continue;
            }
            match answer.await.unwrap_or(JoinResult::Retry) {
                JoinResult::Retry => continue,
                other => return other,
            }
        }
        JoinResult::Failed
    }

    /// The current revision and content, from the open hub or else from the store.
    pub async fn content(&self, doc_id: &str) -> Result<(u64, Delta), crate::store::StoreError> {
        if let Some(mailbox) = self.running(doc_id) {
            let (reply, answer) = oneshot::channel();
            if mailbox.send(HubMsg::Snapshot { reply }).await.is_ok()
                && let Ok(content) = answer.await
            {
                return Ok(content);
            }
        }
        load_content(&self.inner.store, doc_id).await
    }

    /// Tells the document's open hub, wherever it runs, that a member's role changed.
    pub async fn set_role(&self, doc_id: &str, user_id: &str, role: Option<Role>) {
        match &self.inner.peers {
            Some(peers) => self.broadcast_role(peers, doc_id, user_id, role).await,
            None => self.local_set_role(doc_id, user_id, role).await,
        }
    }

    async fn local_set_role(&self, doc_id: &str, user_id: &str, role: Option<Role>) {
        if let Some(mailbox) = self.running(doc_id) {
            let _ = mailbox
                .send(HubMsg::SetRole {
                    user_id: user_id.to_string(),
                    role,
                })
                .await;
        }
    }

    /// Closes every session of an open document (trashed or deleted), wherever its hub runs; clients reconnect and
    /// are checked again.
    pub async fn evict(&self, doc_id: &str) {
        match &self.inner.peers {
            Some(peers) => self.broadcast_evict(peers, doc_id).await,
            None => self.local_evict(doc_id).await,
        }
    }

    async fn local_evict(&self, doc_id: &str) {
        if let Some(mailbox) = self.running(doc_id) {
            let _ = mailbox.send(HubMsg::Evict).await;
        }
    }

    /// Saves the document's current content as a named version (by its hub, on whichever node owns it).
    pub async fn name_version(
        &self,
        doc_id: &str,
        name: String,
        user_id: String,
    ) -> Result<String, String> {
        match &self.inner.peers {
            Some(peers) if !self.owns(doc_id) => {
                self.remote_name_version(peers, doc_id, name, user_id).await
            }
            _ => self.local_name_version(doc_id, name, user_id).await,
        }
    }

    async fn local_name_version(
        &self,
        doc_id: &str,
        name: String,
        user_id: String,
    ) -> Result<String, String> {
        let (reply, answer) = oneshot::channel();
        let msg = HubMsg::NameVersion {
            name,
            user_id,
            reply,
        };
        self.ask(doc_id, msg, answer).await
    }

    /// Restores version `version_id`, whose content is `content`, as a new op by `user`, seen live by everyone
    /// connected (by the document's hub, on whichever node owns it).
    pub async fn restore(
        &self,
        doc_id: &str,
        version_id: &str,
        content: Delta,
        user: UserInfo,
    ) -> Result<u64, String> {
        match &self.inner.peers {
            Some(peers) if !self.owns(doc_id) => {
                self.remote_restore(peers, doc_id, version_id, user).await
            }
            _ => self.local_restore(doc_id, content, user).await,
        }
    }

    async fn local_restore(
        &self,
        doc_id: &str,
        content: Delta,
        user: UserInfo,
    ) -> Result<u64, String> {
        let (reply, answer) = oneshot::channel();
        self.ask(
            doc_id,
            HubMsg::Restore {
                content,
                user: Box::new(user),
                reply,
            },
            answer,
        )
        .await
    }

    /// Applies a comment action through the document's hub (started if need be, as for named versions), so that it
    /// is ordered exactly with the ops and heard by everyone connected.
    pub async fn comment(
        &self,
        doc_id: &str,
        actor: Actor,
        action: CommentAction,
    ) -> Result<CommentDone, CommentError> {
        if let Some(peers) = self.inner.peers.as_ref().filter(|_| !self.owns(doc_id)) {
            return self.remote_comment(peers, doc_id, actor, action).await;
        }
        self.local_comment(doc_id, actor, action).await
    }

    async fn local_comment(
        &self,
        doc_id: &str,
        actor: Actor,
        action: CommentAction,
    ) -> Result<CommentDone, CommentError> {
        let (reply, answer) = oneshot::channel();
        let request = CommentRequest {
            from: CommentFrom::Api(actor),
            action,
            reply: Some(reply),
        };
        self.ask_comments(doc_id, HubMsg::Comment(Box::new(request)), answer)
            .await
    }

    /// Who wrote what in the document, at the answered revision (head); the hub starts if need be. A cluster node
    /// that does not own the document reads it from the store instead (`authors::answer_from_store`).
    pub async fn authors(&self, doc_id: &str) -> Result<serde_json::Value, CommentError> {
        if self.inner.peers.is_some() && !self.owns(doc_id) {
            if !self.inner.config.history.authorship {
                return Err(CommentError {
                    code: ErrorCode::Unavailable,
                    msg: "authorship is turned off on this server".into(),
                });
            }
            return authors::answer_from_store(&self.inner.store, doc_id).await;
        }
        let (reply, answer) = oneshot::channel();
        let msg = HubMsg::Authors {
            conn: None,
            reply: Some(reply),
        };
        self.ask_comments(doc_id, msg, answer).await
    }

    /// Every thread of the document with its messages, anchors at the answered revision.
    pub async fn list_comments(
        &self,
        doc_id: &str,
    ) -> Result<(u64, Vec<ThreadWire>), CommentError> {
        if let Some(peers) = self.inner.peers.as_ref().filter(|_| !self.owns(doc_id)) {
            return self.remote_list_comments(peers, doc_id).await;
        }
        self.local_list_comments(doc_id).await
    }

    async fn local_list_comments(
        &self,
        doc_id: &str,
    ) -> Result<(u64, Vec<ThreadWire>), CommentError> {
        let (reply, answer) = oneshot::channel();
        self.ask_comments(doc_id, HubMsg::ListComments { reply }, answer)
            .await
    }

    async fn ask_comments<T>(
        &self,
        doc_id: &str,
        msg: HubMsg,
        answer: oneshot::Receiver<Result<T, CommentError>>,
    ) -> Result<T, CommentError> {
        let closing = || CommentError {
            code: ErrorCode::Internal,
            msg: "the document is closing; try again".into(),
        };
        if self.mailbox(doc_id).send(msg).await.is_err() {
            return Err(closing());
        }
        answer.await.unwrap_or_else(|_| Err(closing()))
    }

    async fn ask<T>(
        &self,
        doc_id: &str,
        msg: HubMsg,
        answer: oneshot::Receiver<Result<T, String>>,
    ) -> Result<T, String> {
        if self.mailbox(doc_id).send(msg).await.is_err() {
            return Err("the document is closing; try again".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the document is closing; try again".into()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<HubMsg>>> {
        // Poisoning would mean a panic while inserting or removing a map entry; the map itself is still valid.
        self.inner
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
