//! The hub task of one document: drains its mailbox in rounds, writes the round's ops in one transaction
//! (group commit), and only then acks, broadcasts and relays, in order, through each connection's queue.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::mpsc;

use super::{
    CommentFrom, CommentRequest, Committed, ConnId, DocState, Frame, HubMsg, Hubs, Join,
    JoinResult, Outbound, OutboundTx, Round, SubmitOutcome, Target, WindowLimit,
    authors::{Authors, Base},
    clamp_selection,
    comments::{Actor, CommentDone, CommentError, Comments, Ctx},
    compact,
    load::load_state,
    move_selection, replace_op, suggest_check,
};
use crate::{
    ot::{Delta, Document},
    protocol::{self, ErrorCode, Selection, UserInfo, WireLimits},
    store::{Fence, NewOp, NewVersion, Role, StoreError},
};

struct Session {
    client: Arc<str>,
    user: UserInfo,
    /// `user.id`, shared with the dedup table that binds the client id to it.
    user_id: Arc<str>,
    /// `user` as JSON text, spliced into every op frame of this session.
    user_json: Arc<str>,
    role: Role,
    out: OutboundTx,
    sel: Option<Selection>,
    /// Asked for comment frames (`hello.comments`).
    comments: bool,
}

/// Frames to deliver once the round's ops are durable, in the order they were produced.
enum Effect {
    Send(Target, Frame),
    /// The session lost access: after the frames queued for it before this, it leaves (its socket closes).
    Close(ConnId),
}

struct Hub {
    doc_id: String,
    hubs: Hubs,
    state: DocState,
    sessions: HashMap<ConnId, Session>,
    /// The ops applied in memory this round, not yet durable, and who submitted each (conn, seq).
    pending: Vec<NewOp>,
    submitters: Vec<(ConnId, u64)>,
    effects: Vec<Effect>,
    /// Set when the log was written by someone else or could not be written: stop and make clients reconnect.
    stopped: bool,
    /// The revision of the current version (0: none yet; the empty document is the base).
    version_rev: u64,
    /// Authors of ops since the current version.
    contributors: BTreeSet<String>,
    /// Bytes of op JSON since the current version: a version is also due after `history.compact_every_bytes`.
    bytes_since_version: u64,
    /// A background compaction is running; its result arrives as `HubMsg::Compacted`.
    compacting: bool,
    me: mpsc::WeakSender<HubMsg>,
    /// The serialized document at a revision, shared by everyone who joins at it.
    snapshot_cache: Option<(u64, Arc<str>)>,
    /// On a cluster node, this hub's claim on the document; every commit is conditional on it.
    fence: Option<Fence>,
    /// The comment threads, anchors at head.
    comments: Comments,
    /// Who wrote what at head (`None`: `history.authorship` is off).
    authors: Option<Authors>,
}

pub(super) async fn run(
    doc_id: String,
    hubs: Hubs,
    mut mailbox: mpsc::Receiver<HubMsg>,
    me: mpsc::WeakSender<HubMsg>,
) {
    let config = hubs.config().clone();
    // Boxed, like loading below: it runs once.
    let fence = match Box::pin(claim(&hubs, &doc_id)).await {
        Ok(fence) => fence,
        Err(answer) => {
            close_mailbox(&hubs, &doc_id, &me, &mut mailbox, answer);
            return;
        }
    };
    let window = WindowLimit {
        ops: usize::try_from(config.limits.max_catchup_ops).unwrap_or(usize::MAX),
        bytes: config.limits.max_catchup_bytes,
    };
    // Boxed: loading runs once, and the task's future would otherwise keep its size for the hub's whole life.
    let (mut state, info) = match Box::pin(load_state(
        &hubs.inner.store,
        &doc_id,
        window,
        config.limits.max_doc_len,
    ))
    .await
    {
        Ok(loaded) => loaded,
        Err(err) => {
            tracing::error!(%doc_id, %err, "cannot load document");
            close_mailbox(&hubs, &doc_id, &me, &mut mailbox, JoinResult::Failed);
            return;
        }
    };
    let comments = match Box::pin(Comments::load(&hubs.inner.store, &doc_id, &state)).await {
        Ok(comments) => comments,
        Err(err) => {
            tracing::error!(%doc_id, %err, "cannot load comments");
            close_mailbox(&hubs, &doc_id, &me, &mut mailbox, JoinResult::Failed);
            return;
        }
    };
    let base = Base {
        version_rev: info.version_rev,
        version_len: info.version_len,
    };
    let authors = match config.history.authorship {
        true => match Box::pin(Authors::load(&hubs.inner.store, &doc_id, &state, base)).await {
            Ok(authors) => Some(authors),
            Err(err) => {
                tracing::error!(%doc_id, %err, "cannot load authorship");
                close_mailbox(&hubs, &doc_id, &me, &mut mailbox, JoinResult::Failed);
                return;
            }
        },
        false => None,
    };
    state.limit_transforms(config.limits.max_transform_ops);
    if config.wrong_priority {
        state.use_wrong_priority();
    }
    let mut hub = Hub {
        doc_id,
        hubs,
        state,
        sessions: HashMap::new(),
        pending: Vec::new(),
        submitters: Vec::new(),
        effects: Vec::new(),
        stopped: false,
        version_rev: info.version_rev,
        contributors: info.contributors,
        bytes_since_version: 0,
        compacting: false,
        me: me.clone(),
        snapshot_cache: None,
        fence,
        comments,
        authors,
    };
    loop {
        let first = if hub.sessions.is_empty() {
            match tokio::time::timeout(config.idle_grace, mailbox.recv()).await {
                Ok(Some(msg)) => msg,
                Ok(None) => break,
                Err(_idle) => {
                    if Box::pin(hub.exit_if_idle(&me, &mut mailbox)).await {
                        return;
                    }
                    continue;
                }
            }
        } else {
            match mailbox.recv().await {
                Some(msg) => msg,
                None => break,
            }
        };
        let round_started = tokio::time::Instant::now();
        hub.handle(first).await;
        let mut n_handled = 1;
        while n_handled < config.max_batch && !hub.stopped {
            let Ok(msg) = mailbox.try_recv() else { break };
            hub.handle(msg).await;
            n_handled += 1;
        }
        hub.flush().await;
        hub.compact_if_due();
        let hold = hold(config.coalesce_per_person, hub.sessions.len());
        if !hold.is_zero() && !hub.stopped {
            tokio::time::sleep_until(round_started + hold).await;
        }
        if hub.stopped {
            // Dropping every session's queue closes the sockets; clients reconnect to a fresh hub.
            hub.hubs
                .inner
                .metrics
                .sessions
                .dec_by(hub.sessions.len() as i64);
            hub.sessions.clear();
            close_mailbox(&hub.hubs, &hub.doc_id, &me, &mut mailbox, JoinResult::Retry);
            return;
        }
    }
}

/// Below this many sessions a round reaches so few sockets that holding it saves nothing worth its latency.
const COALESCE_FROM_SESSIONS: usize = 16;
/// The longest a round is held, whatever the number of people: well under what anyone notices of a remote edit.
const MAX_HOLD: Duration = Duration::from_millis(25);

/// How long after a round started the next may start (issue 21). Each round's frames reach every session, and each
/// session's share costs a task wake-up and a `write` to its socket, most of the CPU of a delivery; holding the
/// next round lets the ops of the meantime reach each socket in one write. The hold grows with the people in the
/// document, so writes per second per document stay near `1 / per_person` however fast they type, and it only
/// delays a round that comes within the hold of the previous one: a quiet document is never held.
fn hold(per_person: Duration, sessions: usize) -> Duration {
    if sessions < COALESCE_FROM_SESSIONS {
        return Duration::ZERO;
    }
    per_person
        .saturating_mul(u32::try_from(sessions).unwrap_or(u32::MAX))
        .min(MAX_HOLD)
}

/// On a cluster node, takes ownership of the document before anything of it is read, so that what is loaded
/// next includes every commit of the previous owner, which can commit nothing after the claim.
async fn claim(hubs: &Hubs, doc_id: &str) -> Result<Option<Fence>, JoinResult> {
    let Some(ownership) = &hubs.inner.ownership else {
        return Ok(None);
    };
    let Some(fence) = (ownership.owner_of)(doc_id) else {
        return Err(JoinResult::NotOwner);
    };
    match hubs.inner.store.claim_document(doc_id, &fence).await {
        Ok(true) => Ok(Some(fence)),
        Ok(false) => {
            // Another node claimed it from a newer membership than ours: our view is behind, and will catch up.
            tracing::warn!(%doc_id, node = %fence.node, view = fence.view, "claim refused: a newer owner exists");
            hubs.inner.metrics.claims_refused.inc();
            Err(JoinResult::NotOwner)
        }
        Err(err) => {
            tracing::error!(%doc_id, %err, "cannot claim document");
            Err(JoinResult::Failed)
        }
    }
}

fn user_json_text(user: &UserInfo) -> Arc<str> {
    Arc::from(serde_json::to_string(user).unwrap_or_else(|_| "null".into()))
}

/// Deregisters the hub and answers whatever is still queued, so nobody waits on a hub that is gone.
fn close_mailbox(
    hubs: &Hubs,
    doc_id: &str,
    me: &mpsc::WeakSender<HubMsg>,
    mailbox: &mut mpsc::Receiver<HubMsg>,
    join_answer: JoinResult,
) {
    {
        let mut running = hubs.lock();
        if let (Some(current), Some(mine)) = (running.get(doc_id), me.upgrade())
            && current.same_channel(&mine)
        {
            running.remove(doc_id);
        }
        hubs.inner.metrics.open_documents.set(running.len() as i64);
        mailbox.close();
    }
    while let Ok(msg) = mailbox.try_recv() {
        if let HubMsg::Join(join) = msg {
            let _ = join.reply.send(join_answer.clone());
        }
    }
}

impl Hub {
    async fn handle(&mut self, msg: HubMsg) {
        match msg {
            HubMsg::Join(join) => {
                // A joiner must see only durable state, so commit what is pending first.
                self.flush().await;
                if self.stopped {
                    return;
                }
                let listing = match join.comments {
                    true => {
                        match Box::pin(self.comments.list(&self.hubs.inner.store, &self.doc_id))
                            .await
                        {
                            Ok(threads) => Some(threads),
                            Err(err) => {
                                tracing::error!(doc_id = %self.doc_id, %err, "cannot read comments");
                                let _ = join.reply.send(JoinResult::Failed);
                                return;
                            }
                        }
                    }
                    false => None,
                };
                self.join(*join, listing);
            }
            HubMsg::Submit { conn, rev, seq, op } => self.submit(conn, rev, seq, &op),
            HubMsg::Presence { conn, rev, sel } => self.presence(conn, rev, sel),
            HubMsg::Leave { conn } => self.leave(conn),
            HubMsg::Snapshot { reply } => {
                self.flush().await;
                // After a failed commit the state in memory is ahead of the log; dropping `reply` sends the asker
                // to the store, which has only what was committed.
                if !self.stopped {
                    let _ = reply.send((self.state.head(), self.state.document().to_delta()));
                }
            }
            HubMsg::SetRole { user_id, role } => self.set_role(&user_id, role),
            HubMsg::Evict => {
                self.flush().await;
                self.stopped = true;
            }
            HubMsg::HandOff => {
                self.flush().await;
                if !self.stopped {
                    self.hubs.inner.metrics.hand_offs.inc();
                    tracing::info!(doc_id = %self.doc_id, sessions = self.sessions.len(), "handing off");
                }
                self.stopped = true;
            }
            HubMsg::Compacted { rev } => {
                self.compacting = false;
                if let Some(rev) = rev {
                    self.version_rev = self.version_rev.max(rev);
                }
            }
            HubMsg::NameVersion {
                name,
                user_id,
                reply,
            } => {
                self.flush().await;
                if self.stopped {
                    let _ = reply.send(Err(NOT_SAVED.into()));
                    return;
                }
                // Boxed, like every rare await here: the hub task's future is as large as its largest await,
                // and it lives for as long as the document is open.
                let res =
                    Box::pin(self.write_version_now("named", Some(name), Some(user_id))).await;
                let _ = reply.send(res);
            }
            HubMsg::Comment(request) => Box::pin(self.comment(*request)).await,
            HubMsg::Authors { conn, reply } => Box::pin(self.answer_authors(conn, reply)).await,
            HubMsg::ListComments { reply } => {
                self.flush().await;
                if self.stopped {
                    let _ = reply.send(Err(not_saved()));
                    return;
                }
                let listing =
                    Box::pin(self.comments.list(&self.hubs.inner.store, &self.doc_id)).await;
                let _ = reply.send(listing.map(|threads| (self.state.head(), threads)).map_err(
                    |_| CommentError {
                        code: ErrorCode::Internal,
                        msg: "the comments could not be read".into(),
                    },
                ));
            }
            HubMsg::Restore {
                content,
                user,
                reply,
            } => {
                self.flush().await;
                if self.stopped {
                    let _ = reply.send(Err(NOT_SAVED.into()));
                    return;
                }
                let res = Box::pin(self.restore(&content, *user)).await;
                let _ = reply.send(res);
            }
        }
    }

    fn join(&mut self, join: Join, comments: Option<Vec<protocol::ThreadWire>>) {
        let Join {
            conn,
            client,
            rev,
            user,
            role,
            comments: wants_comments,
            out,
            reply,
        } = join;
        if self.client_taken(&client, &user.id) {
            let _ = reply.send(JoinResult::ClientTaken);
            return;
        }
        let head = self.state.head();
        let resumable = rev.is_some_and(|rev| self.state.ops_after(rev).is_some());
        let snapshot = match resumable {
            true => "null".to_string(),
            false => format!(r#"{{"rev":{head},"ops":{}}}"#, self.snapshot_json()),
        };
        let welcome = serde_json::json!({
            "t": "welcome",
            "proto": protocol::PROTOCOL_VERSION,
            "head": head,
            "role": role.as_str(),
            "reset": rev.is_some() && !resumable,
            "limits": WireLimits::from(&self.hubs.config().limits),
            "you": {"client": client, "user": user},
        })
        .to_string();
        // The snapshot is spliced in as already-serialized JSON; `welcome` is an object, so it starts with `{`.
        let welcome = format!(r#"{{"snapshot":{snapshot},{}"#, &welcome[1..]);
        let mut frames = vec![Frame::from(welcome)];
        if let Some(ops) = rev.and_then(|rev| self.state.ops_after(rev)) {
            frames.extend(ops.map(Committed::frame));
        }
        for session in self
            .sessions
            .values()
            .filter(|session| *session.client != *client)
        {
            if let Some(sel) = session.sel {
                frames.push(Frame::from(protocol::presence_frame(
                    &session.client,
                    &session.user,
                    head,
                    Some(sel),
                )));
            }
        }
        if let Some(threads) = comments {
            frames.push(Frame::from(protocol::comments_frame(head, &threads)));
        }
        self.supersede(&client, conn);
        let user_json = user_json_text(&user);
        self.sessions.insert(
            conn,
            Session {
                client: Arc::from(client.as_str()),
                user_id: Arc::from(user.id.as_str()),
                user,
                user_json,
                role,
                out,
                sel: None,
                comments: wants_comments,
            },
        );
        self.hubs.inner.metrics.sessions.inc();
        let _ = reply.send(JoinResult::Joined(frames));
    }

    /// A client id is bound to one user: to one with a session open under it, or who committed with it in the
    /// window. Otherwise anyone who learnt the id from a broadcast could supersede that person's session and
    /// poison their seq, so that their later edits are refused as stale.
    fn client_taken(&self, client: &str, user_id: &str) -> bool {
        self.state.client_belongs_to_other(client, user_id)
            || self
                .sessions
                .values()
                .any(|session| &*session.client == client && *session.user_id != *user_id)
    }

    /// A client that says hello again has lost its old connection, though we may not know yet. The catch-up just
    /// sent is authoritative about which of its ops were committed, so anything still arriving on the old
    /// connection must be ignored: dropping the old session does that, and closes its socket. The others were shown
    /// its selection, which the new session (`new_conn`) does not have: they are told it is gone, as on a leave.
    fn supersede(&mut self, client: &str, new_conn: ConnId) {
        let old: Vec<ConnId> = self
            .sessions
            .iter()
            .filter(|(_, session)| &*session.client == client)
            .map(|(conn, _)| *conn)
            .collect();
        for conn in old {
            let Some(session) = self.sessions.remove(&conn) else {
                continue;
            };
            self.hubs.inner.metrics.sessions.dec();
            if session.sel.is_some() {
                let frame = protocol::presence_frame(
                    &session.client,
                    &session.user,
                    self.state.head(),
                    None,
                );
                self.effects
                    .push(Effect::Send(Target::AllBut(new_conn), Frame::from(frame)));
            }
        }
    }

    /// The document at head as Delta JSON, serialized once per revision however many people join at it.
    fn snapshot_json(&mut self) -> Arc<str> {
        let head = self.state.head();
        match &self.snapshot_cache {
            Some((rev, json)) if *rev == head => json.clone(),
            _ => {
                let json: Arc<str> = Arc::from(
                    serde_json::to_string(&self.state.document().to_delta())
                        .unwrap_or_else(|_| "[]".into()),
                );
                self.snapshot_cache = Some((head, json.clone()));
                json
            }
        }
    }

    fn submit(&mut self, conn: ConnId, rev: u64, seq: u64, op: &Delta) {
        let Some(session) = self.sessions.get(&conn) else {
            return;
        };
        // Commenters may send suggestions; suggest_check says which ops are that.
        if session.role == Role::Viewer {
            let msg = format!(
                "your role ({}) cannot edit this document",
                session.role.as_str()
            );
            self.reject(conn, ErrorCode::Forbidden, &msg, seq);
            return;
        }
        let (client, role, user_id) = (
            session.client.clone(),
            session.role,
            session.user_id.clone(),
        );
        let check = |doc: &Document, op: &Delta| suggest_check::check(role, &user_id, op, doc);
        match self
            .state
            .submit_checked(&client, &user_id, rev, seq, op, check)
        {
            SubmitOutcome::Commit { rev, op, len_after } => {
                self.committed(conn, client, seq, rev, op, len_after)
            }
            SubmitOutcome::Dup { rev } => self.effects.push(Effect::Send(
                Target::To(conn),
                Frame::from(protocol::ack_frame(seq, rev, true)),
            )),
            SubmitOutcome::Reject(code, msg) => self.reject(conn, code, &msg, seq),
        }
    }

    fn committed(
        &mut self,
        conn: ConnId,
        client: Arc<str>,
        seq: u64,
        rev: u64,
        op: Delta,
        len_after: u64,
    ) {
        let Some(session) = self.sessions.get(&conn) else {
            return;
        };
        let (author_id, user_json) = (session.user.id.clone(), session.user_json.clone());
        self.commit_from(
            conn, client, seq, rev, op, len_after, &author_id, &user_json,
        );
    }

    /// Queues an op `DocState` just applied: its log row, its ack and broadcast (sent once durable), and moves
    /// the stored selections through it.
    #[allow(clippy::too_many_arguments)]
    fn commit_from(
        &mut self,
        conn: ConnId,
        client: Arc<str>,
        seq: u64,
        rev: u64,
        op: Delta,
        len_after: u64,
        author_id: &str,
        user_json: &Arc<str>,
    ) {
        let op_json = serde_json::to_string(&op).unwrap_or_else(|_| "[]".into());
        let frame = Frame::from(protocol::op_frame(rev, &op_json, &client, seq, user_json));
        self.bytes_since_version += op_json.len() as u64;
        let committed = Committed::new(rev, &op_json, client.clone(), seq, user_json.clone());
        self.state.push_committed(committed);
        self.contributors.insert(author_id.to_string());
        self.comments.on_commit(&op);
        if let Some(authors) = &mut self.authors {
            authors.on_commit(&op, author_id);
        }
        for other in self.sessions.values_mut() {
            if let Some(sel) = other.sel {
                let moved = move_selection(&op, sel, other.client == client);
                other.sel = Some(clamp_selection(moved, len_after));
            }
        }
        self.pending.push(NewOp {
            rev: rev as i64,
            client: client.to_string(),
            seq: seq as i64,
            author_id: Some(author_id.to_string()),
            op_json,
            len_after: len_after as i64,
        });
        self.submitters.push((conn, seq));
        self.effects.push(Effect::Send(
            Target::To(conn),
            Frame::from(protocol::ack_frame(seq, rev, false)),
        ));
        self.effects.push(Effect::Send(Target::AllBut(conn), frame));
    }

    fn reject(&mut self, conn: ConnId, code: ErrorCode, msg: &str, seq: u64) {
        self.hubs.inner.metrics.error(code.as_str());
        self.effects.push(Effect::Send(
            Target::To(conn),
            Frame::from(protocol::error_frame(code, msg, Some(seq))),
        ));
    }

    fn presence(&mut self, conn: ConnId, rev: u64, sel: Option<Selection>) {
        let Some(session) = self.sessions.get(&conn) else {
            return;
        };
        let sel = match sel {
            Some(sel) => match self.state.selection_at_head(rev, sel, &session.client) {
                Some(sel) => Some(sel),
                // From outside the window: the client will send a fresh one after it catches up.
                None => return,
            },
            None => None,
        };
        let frame = Frame::from(protocol::presence_frame(
            &session.client,
            &session.user,
            self.state.head(),
            sel,
        ));
        if let Some(session) = self.sessions.get_mut(&conn) {
            session.sel = sel;
        }
        self.effects.push(Effect::Send(Target::AllBut(conn), frame));
    }

    fn leave(&mut self, conn: ConnId) {
        let Some(session) = self.sessions.remove(&conn) else {
            return;
        };
        self.hubs.inner.metrics.sessions.dec();
        let still_here = self
            .sessions
            .values()
            .any(|other| other.client == session.client);
        if !still_here {
            let frame =
                protocol::presence_frame(&session.client, &session.user, self.state.head(), None);
            self.effects
                .push(Effect::Send(Target::AllBut(conn), Frame::from(frame)));
        }
    }

    fn set_role(&mut self, user_id: &str, role: Option<Role>) {
        let affected: Vec<ConnId> = self
            .sessions
            .iter()
            .filter(|(_, session)| session.user.id == user_id)
            .map(|(conn, _)| *conn)
            .collect();
        for conn in affected {
            match role {
                // The page learns its new role at once, so it turns read-only (or editable) without a reload.
                Some(role) => {
                    if let Some(session) = self.sessions.get_mut(&conn) {
                        session.role = role;
                    }
                    self.effects.push(Effect::Send(
                        Target::To(conn),
                        Frame::from(protocol::role_frame(Some(role.as_str()))),
                    ));
                }
                // The page is told why before its socket closes (dropping the session's queue closes it), so it
                // can lock itself instead of reconnecting into a 404. Until then its ops are refused.
                None => {
                    if let Some(session) = self.sessions.get_mut(&conn) {
                        session.role = Role::Viewer;
                    }
                    self.effects.push(Effect::Send(
                        Target::To(conn),
                        Frame::from(protocol::role_frame(None)),
                    ));
                    self.effects.push(Effect::Close(conn));
                }
            }
        }
    }

    /// Writes pending ops durably, then delivers the round's frames. On failure nothing is acked.
    async fn flush(&mut self) {
        if self.hubs.config().ack_before_commit && !self.pending.is_empty() {
            // The negative control's bug: acks go out, and the commit comes late. A kill -9 meanwhile loses acked
            // ops, which the durability test must notice.
            self.deliver();
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if !self.pending.is_empty() {
            // The ops move to the writer: nothing of them is needed here again, whatever the outcome.
            let ops = std::mem::take(&mut self.pending);
            let n_ops = ops.len();
            let started = Instant::now();
            let res = self
                .hubs
                .inner
                .committer
                .append_fenced(&self.doc_id, ops, self.fence.clone())
                .await;
            let metrics = &self.hubs.inner.metrics;
            metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
            metrics.commit_batch_ops.observe(n_ops as f64);
            match res {
                Ok(()) => {
                    metrics.ops_committed.inc_by(n_ops as u64);
                }
                Err(err) => return self.write_failed(err),
            }
            self.submitters.clear();
        }
        self.deliver();
    }

    /// Nobody has heard of the pending ops, so dropping them is safe. Submitters get `internal` and every
    /// session is closed: clients reconnect to a fresh hub that reloads the durable log and resend their ops.
    fn write_failed(&mut self, err: StoreError) {
        match &err {
            StoreError::Conflict(_) => {
                tracing::error!(doc_id = %self.doc_id, %err, "another writer owns this document")
            }
            StoreError::Fenced(_) => {
                // A paused or cut-off node finding out: nothing it holds was acked, and its clients move on.
                self.hubs.inner.metrics.fenced_commits.inc();
                tracing::warn!(doc_id = %self.doc_id, %err, "commit refused: this node no longer owns the document")
            }
            _ => tracing::error!(doc_id = %self.doc_id, %err, "cannot write ops"),
        }
        self.effects.clear();
        for (conn, seq) in std::mem::take(&mut self.submitters) {
            self.hubs.inner.metrics.error(ErrorCode::Internal.as_str());
            let frame = protocol::error_frame(
                ErrorCode::Internal,
                "the edit could not be saved; resend it",
                Some(seq),
            );
            if let Some(session) = self.sessions.get(&conn) {
                let _ = session.out.send(Outbound::One(Frame::from(frame)), 1);
            }
        }
        self.stopped = true;
    }

    fn deliver(&mut self) {
        let mut frames = Vec::with_capacity(self.effects.len());
        let mut closed = Vec::new();
        for effect in std::mem::take(&mut self.effects) {
            match effect {
                Effect::Send(target, frame) => frames.push((target, frame)),
                Effect::Close(conn) => closed.push(conn),
            }
        }
        let mut dropped = self.send_round(Round::new(frames));
        for conn in closed {
            self.leave(conn);
        }
        if dropped.is_empty() {
            // A leave above may have queued the others' presence.
            if !self.effects.is_empty() {
                self.deliver();
            }
            return;
        }
        // A client that cannot keep up is disconnected (it resumes later); it never slows the others.
        dropped.sort_unstable();
        dropped.dedup();
        for conn in dropped {
            self.hubs.inner.metrics.queue_drops.inc();
            self.leave(conn);
        }
        self.deliver();
    }

    /// Queues a round's frames: one shared message to each connection that has frames in it. Returns the
    /// connections that could not keep up.
    fn send_round(&self, round: Round) -> Vec<ConnId> {
        let mut dropped = Vec::new();
        if round.only_direct() {
            for (target, frame) in round.into_frames() {
                if let Target::To(conn) = target
                    && let Some(session) = self.sessions.get(&conn)
                    && !session.out.send(Outbound::One(frame), 1)
                {
                    dropped.push(conn);
                }
            }
            return dropped;
        }
        let round = Arc::new(round);
        for (conn, session) in &self.sessions {
            let frames = round.frames_for(*conn, session.comments).count();
            if frames > 0 && !session.out.send(Outbound::Round(round.clone()), frames) {
                dropped.push(*conn);
            }
        }
        dropped
    }

    /// Exits when nobody came back during the grace period and nothing is queued, after writing a version of
    /// what changed since the last one (so loading stays short and history has a point per session).
    async fn exit_if_idle(
        &mut self,
        me: &mpsc::WeakSender<HubMsg>,
        mailbox: &mut mpsc::Receiver<HubMsg>,
    ) -> bool {
        // Anything that slips in after these checks is answered by `close_mailbox` (joins are told to retry).
        if !mailbox.is_empty() || self.compacting {
            return false;
        }
        if self.state.head() > self.version_rev
            && let Err(err) = self.write_version_now("compaction", None, None).await
        {
            tracing::error!(doc_id = %self.doc_id, %err, "compaction on close failed");
        }
        if !mailbox.is_empty() {
            return false;
        }
        close_mailbox(&self.hubs, &self.doc_id, me, mailbox, JoinResult::Retry);
        true
    }

    /// Every `history.compact_every_ops` ops, a version is written in the background: typing never waits on it.
    fn compact_if_due(&mut self) {
        let history = &self.hubs.config().history;
        let due = self.state.head() - self.version_rev >= history.compact_every_ops
            || self.bytes_since_version >= history.compact_every_bytes;
        if self.compacting || self.stopped || !due {
            return;
        }
        let job = self.compaction_job("compaction", None, None);
        let (store, metrics, me) = (
            self.hubs.inner.store.clone(),
            self.hubs.inner.metrics.clone(),
            self.me.clone(),
        );
        let doc_id = self.doc_id.clone();
        self.compacting = true;
        tokio::spawn(async move {
            let rev = job.version.rev as u64;
            let res = compact::run(&store, &metrics, job).await;
            if let Err(err) = &res {
                tracing::error!(%doc_id, %err, "compaction failed");
            }
            if let Some(mailbox) = me.upgrade() {
                let _ = mailbox
                    .send(HubMsg::Compacted {
                        rev: res.ok().map(|_| rev),
                    })
                    .await;
            }
        });
    }

    /// Captures the document at head as a version; the contributors since the last one move into it.
    fn compaction_job(
        &mut self,
        kind: &'static str,
        name: Option<String>,
        created_by: Option<String>,
    ) -> compact::Job {
        let history = &self.hubs.config().history;
        let head = self.state.head();
        let content = self.state.document().to_delta();
        self.bytes_since_version = 0;
        compact::Job {
            anchors: self.comments.anchors_at(head),
            authorship: self.authors.as_ref().map(|authors| authors.stored(head)),
            version: NewVersion {
                id: crate::auth::random_id(16),
                doc_id: self.doc_id.clone(),
                rev: head as i64,
                content_json: serde_json::to_string(&content).unwrap_or_else(|_| "[]".into()),
                kind,
                name,
                created_by,
                contributors: std::mem::take(&mut self.contributors).into_iter().collect(),
                size: self.state.document().len_utf16() as i64,
            },
            prune_below: compact::prune_boundary(
                head,
                head,
                history.keep_ops,
                self.state.oldest_rev(),
            ),
            keep_age: history.keep_age,
            prune_below_any_age: head.min(self.state.oldest_rev()),
            keep_bytes: history.keep_bytes,
            keep_versions: history.keep_versions,
        }
    }

    /// Writes a version at head before answering (named versions, restores, closing).
    async fn write_version_now(
        &mut self,
        kind: &'static str,
        name: Option<String>,
        created_by: Option<String>,
    ) -> Result<String, String> {
        let job = self.compaction_job(kind, name, created_by);
        let (id, rev) = (job.version.id.clone(), job.version.rev as u64);
        match compact::run(&self.hubs.inner.store, &self.hubs.inner.metrics, job).await {
            Ok(_) => {
                self.version_rev = self.version_rev.max(rev);
                Ok(id)
            }
            Err(err) => {
                tracing::error!(doc_id = %self.doc_id, %err, "cannot write a version");
                Err("the version could not be saved".into())
            }
        }
    }

    /// Restores `content`: one op from head to it, committed and broadcast like any edit, then a version.
    async fn restore(&mut self, content: &Delta, user: UserInfo) -> Result<u64, String> {
        let op = replace_op(&self.state.document().to_delta(), content);
        let client: Arc<str> =
            Arc::from(format!("restore-{}", crate::auth::random_id(16)).as_str());
        let rev = self.state.head();
        match self
            .state
            .submit(&client, &Arc::from(user.id.as_str()), rev, 1, &op)
        {
            SubmitOutcome::Commit { rev, op, len_after } => {
                let user_json = user_json_text(&user);
                self.commit_from(
                    RESTORE_CONN,
                    client,
                    1,
                    rev,
                    op,
                    len_after,
                    &user.id,
                    &user_json,
                );
            }
            SubmitOutcome::Dup { .. } | SubmitOutcome::Reject(..) => {
                return Err("this version cannot be restored".into());
            }
        }
        self.flush().await;
        if self.stopped {
            return Err("the restore could not be saved".into());
        }
        self.write_version_now("restore", None, Some(user.id))
            .await?;
        Ok(rev)
    }
}

impl Hub {
    /// A comment action: after what is pending is committed (so the anchor's revision is durable), checked, stored,
    /// then heard by every session that asked for comments; its sender gets it with its `ref`.
    async fn comment(&mut self, request: CommentRequest) {
        let CommentRequest {
            from,
            action,
            reply,
        } = request;
        self.flush().await;
        let (conn, reference, actor) = match from {
            CommentFrom::Session { conn, reference } => {
                let Some(session) = self.sessions.get(&conn) else {
                    return;
                };
                let actor = Actor {
                    user_id: session.user.id.clone(),
                    role: session.role,
                };
                (conn, reference, actor)
            }
            CommentFrom::Api(actor) => (RESTORE_CONN, None, actor),
        };
        let outcome = match self.stopped {
            true => Err(not_saved()),
            false => {
                let ctx = Ctx {
                    store: &self.hubs.inner.store,
                    doc_id: &self.doc_id,
                    state: &self.state,
                    max_lag: self.hubs.config().limits.max_transform_ops,
                };
                self.comments.act(&ctx, &actor, action).await
            }
        };
        match &outcome {
            Ok(done) => {
                self.announce(conn, reference.as_deref(), done);
                self.hubs.mentioned(&self.doc_id, done);
            }
            Err(err) => {
                self.hubs.inner.metrics.error(err.code.as_str());
                let frame = protocol::comment_error_frame(err.code, &err.msg, reference.as_deref());
                self.effects
                    .push(Effect::Send(Target::To(conn), Frame::from(frame)));
            }
        }
        self.deliver();
        if let Some(reply) = reply {
            let _ = reply.send(outcome);
        }
    }

    /// Who wrote what at head, after what is pending is committed: to a session through its queue (after the ops
    /// it has been sent, so the client can keep it current from the next op on), or to the JSON API.
    async fn answer_authors(
        &mut self,
        conn: Option<ConnId>,
        reply: Option<tokio::sync::oneshot::Sender<Result<serde_json::Value, CommentError>>>,
    ) {
        self.flush().await;
        let outcome = match (&self.authors, self.stopped) {
            (_, true) => Err(not_saved()),
            (None, false) => Err(CommentError {
                code: ErrorCode::Unavailable,
                msg: "authorship is turned off on this server".into(),
            }),
            (Some(authors), false) => {
                authors
                    .answer(&self.hubs.inner.store, self.state.head())
                    .await
            }
        };
        if let Some(conn) = conn {
            let frame = match &outcome {
                Ok(answer) => protocol::authors_frame(answer),
                Err(err) => protocol::comment_error_frame(err.code, &err.msg, None),
            };
            self.effects
                .push(Effect::Send(Target::To(conn), Frame::from(frame)));
            self.deliver();
        }
        if let Some(reply) = reply {
            let _ = reply.send(outcome);
        }
    }

    fn announce(&mut self, conn: ConnId, reference: Option<&str>, done: &CommentDone) {
        let frame = |reference| {
            Frame::from(protocol::comment_frame(
                done.event,
                done.rev,
                &done.thread,
                done.message.as_ref(),
                reference,
            ))
        };
        if conn != RESTORE_CONN {
            self.effects
                .push(Effect::Send(Target::To(conn), frame(reference)));
        }
        self.effects
            .push(Effect::Send(Target::CommentersBut(conn), frame(None)));
    }
}

fn not_saved() -> CommentError {
    CommentError {
        code: ErrorCode::Internal,
        msg: NOT_SAVED.into(),
    }
}

/// The answer to a request that needs the committed head while the last commit failed: the hub is stopping, and
/// a fresh one reloads from the log.
const NOT_SAVED: &str = "recent edits could not be saved; try again";

/// The pseudo-connection of server-made ops (restores): never a real session, so everyone receives them.
const RESTORE_CONN: ConnId = 0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_are_held_by_the_number_of_people_up_to_a_bound() {
        let per_person = Duration::from_micros(100);
        assert_eq!(
            hold(per_person, 10),
            Duration::ZERO,
            "small documents are never held"
        );
        assert_eq!(hold(per_person, 200), Duration::from_millis(20));
        assert_eq!(hold(per_person, 10_000), MAX_HOLD);
        assert_eq!(hold(Duration::ZERO, 500), Duration::ZERO, "0 turns it off");
    }
}
