//! The document WebSocket (`GET /api/docs/{id}/ws`): authenticates, then runs one connection task that decodes
//! frames, validates ops, applies rate limits, forwards to the document's hub and writes its queued frames.

use std::time::{Duration, Instant};

use axum::{
    extract::{
        Path, Query, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket},
    },
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use futures::{SinkExt, StreamExt, stream::SplitSink};
use tokio::sync::mpsc;

use super::{
    AppState,
    authors_api::{AUTHORS_BURST, AUTHORS_PER_SECOND},
    conn_limit::ConnectionSlot,
    docs_api,
    error::ApiError,
    rate::TokenBucket,
    session::{self, Authed, Credential},
    ws_comments::{self, COMMENTS_BURST, COMMENTS_PER_SECOND},
};
use crate::{
    auth::ticket::{TICKET_TTL_MS, Ticket, TicketCredential},
    cluster::Route,
    hub::{
        self, CommentAction, CommentFrom, CommentRequest, ConnId, Frame, HubMsg, Join, JoinResult,
        Outbound, OutboundRx,
    },
    ot,
    protocol::{self, ClientMsg, ErrorCode, Hello, UserInfo},
    store::Role,
};

const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// Close codes in the application range: 4000 asks the client to reconnect (and resume).
const CLOSE_RECONNECT: u16 = 4000;
const CLOSE_FATAL: u16 = 4400;
const READ_BUFFER_BYTES: usize = 1024;

#[derive(Debug, serde::Deserialize)]
pub struct WsQuery {
    /// A redirect ticket from another node of the cluster (see `auth::ticket`).
    ticket: Option<String>,
}

pub async fn upgrade(
    State(state): State<AppState>,
    Path(doc_id): Path<String>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
    authed: Option<axum::Extension<Authed>>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let limit = state.config.limits.max_message_bytes;
    // The message size is enforced while reading frames, so nobody can make us buffer more than the limit.
    // A small read buffer keeps idle connections cheap: tungstenite allocates and zero-fills it for every
    // connection (its default is 128 KiB). Ops are a few hundred bytes; a large paste just takes more reads.
    // Writes are buffered until `write_frames` flushes, so a burst of queued frames costs one system call.
    let ws = ws
        .max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER_BYTES);
    let via_ticket = query.ticket.is_some();
    let authed = match &query.ticket {
        Some(ticket) => match ticket_caller(&state, ticket, &doc_id).await? {
            Some(authed) => Some(authed),
            // Expired or not ours: the client goes back to where it came from, which redirects it afresh.
            None => return Ok(ws.on_upgrade(stale_ticket).into_response()),
        },
        None => authed.map(|axum::Extension(authed)| authed),
    };
    let Some(authed) = authed else {
        return Ok(ws
            .on_upgrade(|socket| refuse(socket, ErrorCode::Unauthorized, "sign in first"))
            .into_response());
    };
    // Browsers send `Origin` on WebSocket handshakes; one from another site must not ride on our cookie. A
    // ticket is no ambient credential (a page must have been given it), and a redirected page's origin is the
    // node that served it.
    if !via_ticket
        && authed.session_hash.is_some()
        && !session::same_origin_or_absent(&state.config, &headers)
    {
        return Err(ApiError::forbidden("cross-site WebSocket refused"));
    }
    let (doc, role) = docs_api::visible_document(&state, &authed.user, &doc_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    match route(&state, &doc.id, &authed) {
        Placement::Here => {}
        Placement::Redirect(url) => {
            return Ok(ws
                .on_upgrade(move |socket| redirect(socket, url))
                .into_response());
        }
        Placement::Nowhere => return Ok(ws.on_upgrade(rejoining).into_response()),
    }
    let max = state.config.limits.max_connections_per_user;
    let Some(slot) = state.connections.acquire(&authed.user.id, max) else {
        return Ok(ws.on_upgrade(too_many).into_response());
    };
    Ok(ws
        .on_upgrade(move |socket| connection(socket, state, doc.id, authed, role, slot))
        .into_response())
}

/// Where a document's socket is served, as far as this node knows now.
enum Placement {
    Here,
    /// On another node: this ws(s) URL, with a ticket.
    Redirect(String),
    /// This cluster node is not a live member: nowhere until it rejoins (the client retries).
    Nowhere,
}

fn route(state: &AppState, doc_id: &str, authed: &Authed) -> Placement {
    match authed.credential() {
        Some(credential) => route_for(state, doc_id, &authed.user.id, &credential),
        None => Placement::Nowhere,
    }
}

fn route_for(state: &AppState, doc_id: &str, user_id: &str, credential: &Credential) -> Placement {
    let Some(cluster) = &state.cluster else {
        return Placement::Here;
    };
    match cluster.route(doc_id) {
        Route::Here(_) => Placement::Here,
        Route::There(owner) => {
            cluster.metrics.redirects.inc();
            Placement::Redirect(redirect_url(state, &owner.url, doc_id, user_id, credential))
        }
        Route::Unavailable => Placement::Nowhere,
    }
}

/// The owner's socket URL for this caller: `ws(s)://owner/api/docs/{id}/ws?ticket=…`.
fn redirect_url(
    state: &AppState,
    owner_url: &str,
    doc_id: &str,
    user_id: &str,
    credential: &Credential,
) -> String {
    let secret = state
        .config
        .cluster
        .as_ref()
        .map_or(&[][..], |cluster| cluster.secret.as_bytes());
    let ticket = Ticket {
        user_id: user_id.to_string(),
        doc_id: doc_id.to_string(),
        expires_ms: crate::store::now_ms() + TICKET_TTL_MS,
        credential: match credential {
            Credential::Session(hash) => TicketCredential::Session(hash.to_string()),
            Credential::ApiToken(hash) => TicketCredential::ApiToken(hash.to_string()),
        },
    }
    .sign(secret);
    let origin = owner_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    format!("{origin}/api/docs/{doc_id}/ws?ticket={ticket}")
}

/// The caller a ticket stands for, if it is valid here and its credential still holds (`None`: expired, forged,
/// from another cluster, or signed out since; the client should start over where it came from).
async fn ticket_caller(
    state: &AppState,
    ticket: &str,
    doc_id: &str,
) -> Result<Option<Authed>, ApiError> {
    let Some(cluster) = &state.config.cluster else {
        return Ok(None);
    };
    let now = crate::store::now_ms();
    let Ok(ticket) = Ticket::verify(ticket, cluster.secret.as_bytes(), doc_id, now) else {
        return Ok(None);
    };
    let authed = match ticket.credential {
        TicketCredential::Session(hash) => {
            state
                .store
                .session_user(&hash)
                .await?
                .map(|(user, _)| Authed {
                    user,
                    session_hash: Some(hash),
                    api_token_hash: None,
                })
        }
        TicketCredential::ApiToken(hash) => {
            state.store.api_token_user(&hash).await?.map(|user| Authed {
                user,
                session_hash: None,
                api_token_hash: Some(hash),
            })
        }
    };
    Ok(authed.filter(|authed| authed.user.id == ticket.user_id))
}

/// `redirect`, then the close that makes the client follow it.
async fn redirect(socket: WebSocket, url: String) {
    let (mut sink, _) = socket.split();
    leave_for(&mut sink, Placement::Redirect(url)).await;
}

/// Ends a session: to the owner when the document lives elsewhere, else back to the start (the client resumes).
async fn leave_for(sink: &mut Sink, placement: Placement) {
    let reason = match placement {
        Placement::Redirect(url) => {
            let _ = sink
                .send(Message::Text(protocol::redirect_frame(&url).into()))
                .await;
            "moved"
        }
        Placement::Here => "reconnect",
        Placement::Nowhere => "document unavailable, try again",
    };
    let _ = sink.send(close(CLOSE_RECONNECT, reason)).await;
}

async fn rejoining(mut socket: WebSocket) {
    let _ = socket
        .send(close(
            CLOSE_RECONNECT,
            "this server is rejoining its cluster; try again",
        ))
        .await;
}

async fn stale_ticket(mut socket: WebSocket) {
    let _ = socket
        .send(close(
            CLOSE_RECONNECT,
            "the redirect ticket has expired; start over",
        ))
        .await;
}

/// Over `limits.max_connections_per_user`: said on the socket, where a browser can read it, then closed with the
/// code that makes the client retry later.
async fn too_many(mut socket: WebSocket) {
    let msg = "too many open connections for this user; close other tabs";
    let frame = protocol::error_frame(ErrorCode::RateLimited, msg, None);
    let _ = socket.send(Message::Text(frame.into())).await;
    let _ = socket
        .send(close(CLOSE_RECONNECT, "too many connections"))
        .await;
}

async fn refuse(mut socket: WebSocket, code: ErrorCode, msg: &str) {
    let _ = socket
        .send(Message::Text(protocol::error_frame(code, msg, None).into()))
        .await;
    let _ = socket.send(close(CLOSE_FATAL, code.as_str())).await;
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }))
}

type Sink = SplitSink<WebSocket, Message>;

/// Who the connection belongs to, for the checks made while it is open.
#[derive(Clone, Copy)]
struct SignedIn<'a> {
    user_id: &'a str,
    credential: &'a Credential,
    slot: &'a ConnectionSlot,
}

struct Conn {
    id: ConnId,
    /// Asked for comment frames (`hello.comments`): which of a round's frames are this connection's.
    comments: bool,
    state: AppState,
    doc_id: String,
    mailbox: mpsc::Sender<HubMsg>,
    ops_budget: TokenBucket,
    presence_budget: TokenBucket,
    comment_budget: TokenBucket,
    authors_budget: TokenBucket,
}

type Stream = futures::stream::SplitStream<WebSocket>;

async fn connection(
    socket: WebSocket,
    state: AppState,
    doc_id: String,
    authed: Authed,
    role: Role,
    slot: ConnectionSlot,
) {
    let (mut sink, mut stream) = socket.split();
    // Boxed: joining awaits the database and the hub once, and an idle connection's task would otherwise keep
    // room for those futures for as long as it stays open.
    let Some(credential) = authed.credential() else {
        return;
    };
    let joined = Box::pin(join(&mut sink, &mut stream, state, doc_id, &authed, role)).await;
    let user_id: Box<str> = authed.user.id.as_str().into();
    drop(authed);
    let Some((mut conn, mut queue)) = joined else {
        return;
    };
    let signed_in = SignedIn {
        user_id: &user_id,
        credential: &credential,
        slot: &slot,
    };
    conn.pump(&mut sink, &mut stream, &mut queue, signed_in)
        .await;
    let _ = conn.mailbox.send(HubMsg::Leave { conn: conn.id }).await;
}

/// `hello`, then the join: the session is in the hub when this returns it.
async fn join(
    sink: &mut Sink,
    stream: &mut Stream,
    state: AppState,
    doc_id: String,
    authed: &Authed,
    role: Role,
) -> Option<(Conn, OutboundRx)> {
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, stream.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => protocol::decode_client_msg(&text),
        Ok(Some(Ok(_))) => Err(protocol::Rejection {
            code: ErrorCode::BadMessage,
            msg: "expected a hello text frame".into(),
            seq: None,
        }),
        _ => return None,
    };
    let hello = match hello {
        Ok(ClientMsg::Hello(hello)) => hello,
        Ok(_) => {
            fatal(
                sink,
                ErrorCode::BadMessage,
                "the first message must be hello",
            )
            .await;
            return None;
        }
        Err(rejection) => {
            fatal(sink, ErrorCode::BadMessage, &rejection.msg).await;
            return None;
        }
    };
    if hello.proto != protocol::PROTOCOL_VERSION {
        fatal(
            sink,
            ErrorCode::UnsupportedProto,
            "this server speaks protocol 1",
        )
        .await;
        return None;
    }
    if !valid_client_id(&hello.client) {
        fatal(
            sink,
            ErrorCode::BadMessage,
            "client must be 16 to 128 URL-safe characters",
        )
        .await;
        return None;
    }
    let limits = &state.config.limits;
    let (out, queue) = hub::outbound(limits.outbound_queue);
    let id = hub::next_conn_id();
    let user = user_info(authed, &hello);
    let joined = state
        .hubs
        .join(&doc_id, |reply| Join {
            conn: id,
            client: hello.client.clone(),
            rev: hello.rev,
            user: user.clone(),
            role,
            comments: hello.comments,
            out: out.clone(),
            reply,
        })
        .await;
    drop(out);
    if joined == JoinResult::ClientTaken {
        fatal(
            sink,
            ErrorCode::BadMessage,
            "this client id is in use by another user; make a new one",
        )
        .await;
        return None;
    }
    let JoinResult::Joined(catch_up) = joined else {
        // NotOwner: the cluster changed since the upgrade (or this node's view is behind another's claim).
        let placement = match authed.credential() {
            Some(credential) if joined == JoinResult::NotOwner => {
                route_for(&state, &doc_id, &authed.user.id, &credential)
            }
            _ => Placement::Nowhere,
        };
        leave_for(sink, placement).await;
        return None;
    };
    // Written before the queue is read, so it comes first; what the hub queues meanwhile waits its turn.
    if write_all(sink, catch_up).await.is_err() {
        if let Some(mailbox) = state.hubs.running(&doc_id) {
            let _ = mailbox.send(HubMsg::Leave { conn: id }).await;
        }
        return None;
    }
    // The role was read at the upgrade, and `hello` may come seconds later: read it again now that the session
    // is in the hub, so a change made in between (removal, demotion, trash) is applied to it. A change made
    // after this read reaches the hub on its own, after the join.
    if let Ok(now) = docs_api::visible_document(&state, &authed.user, &doc_id).await {
        let current = now.map(|(_, role)| role);
        if current != Some(role) {
            state.hubs.set_role(&doc_id, &authed.user.id, current).await;
        }
    }
    let conn = Conn {
        id,
        comments: hello.comments,
        mailbox: state.hubs.mailbox(&doc_id),
        ops_budget: TokenBucket::new(limits.ops_per_second, limits.ops_burst),
        presence_budget: TokenBucket::new(limits.presence_per_second, limits.presence_burst),
        comment_budget: TokenBucket::new(COMMENTS_PER_SECOND, COMMENTS_BURST),
        authors_budget: TokenBucket::new(AUTHORS_PER_SECOND, AUTHORS_BURST),
        state: state.clone(),
        doc_id,
    };
    Some((conn, queue))
}

impl Conn {
    /// Until either side closes: frames in are decoded and forwarded; queued frames out are written in order.
    async fn pump(
        &mut self,
        sink: &mut Sink,
        stream: &mut Stream,
        queue: &mut OutboundRx,
        signed_in: SignedIn<'_>,
    ) {
        // One timer for two checks, now and then: a socket that says nothing (the editor pings every 20 s) is a
        // half-open connection or a client holding a slot for nothing; and the credential the socket was opened
        // with may have been revoked by another process (`quire user disable` or `reset-password`). A revocation
        // in this process wakes `credentials_changed` at once.
        let idle_timeout = self.state.config.limits.idle_timeout;
        let check_every = self.state.config.limits.recheck_every.min(idle_timeout);
        let tick = tokio::time::sleep(check_every);
        let changed = signed_in.slot.credentials_changed();
        tokio::pin!(tick, changed);
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                () = &mut tick => {
                    if last_heard.elapsed() >= idle_timeout {
                        let _ = sink.send(close(CLOSE_RECONNECT, "idle")).await;
                        return;
                    }
                    // Boxed: a rare await, which would otherwise size every idle connection's task.
                    if !Box::pin(self.credential_holds(sink, signed_in.credential)).await {
                        return;
                    }
                    tick.as_mut().reset(tokio::time::Instant::now() + check_every);
                }
                () = &mut changed => {
                    // Boxed: a rare await, which would otherwise size every idle connection's task.
                    if !Box::pin(self.credential_holds(sink, signed_in.credential)).await {
                        return;
                    }
                    changed.set(signed_in.slot.credentials_changed());
                }
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    let Some(Ok(message)) = incoming else {
                        // A read error includes a message over the size limit.
                        let _ = send_error(sink, ErrorCode::TooLarge, "message too large or connection broken", None).await;
                        return;
                    };
                    if !self.incoming(sink, message).await {
                        return;
                    }
                }
                frame = queue.recv() => {
                    let Some(frame) = frame else {
                        // The hub dropped us: too slow to keep up, access removed, or the document moved to
                        // another node, where the client is sent straight away.
                        let placement = route_for(&self.state, &self.doc_id, signed_in.user_id, signed_in.credential);
                        Box::pin(leave_for(sink, placement)).await;
                        return;
                    };
                    let metrics = self.state.hubs.metrics();
                    let me = (self.id, self.comments);
                    if write_frames(sink, frame, queue, me, metrics).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// False (after telling the client) when the session or token this socket was opened with has ended, or the
    /// account was disabled. A database error is not a revocation: the socket stays, and the next check decides.
    async fn credential_holds(&self, sink: &mut Sink, credential: &Credential) -> bool {
        match credential.still_valid(&self.state).await {
            Ok(true) | Err(_) => true,
            Ok(false) => {
                let msg = "your session has ended or your access was revoked; sign in again";
                fatal(sink, ErrorCode::Unauthorized, msg).await;
                false
            }
        }
    }

    /// Handles one frame from the client; false when the connection must end.
    async fn incoming(&mut self, sink: &mut Sink, message: Message) -> bool {
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return false,
            Message::Ping(_) | Message::Pong(_) => return true,
            Message::Binary(_) => {
                fatal(
                    sink,
                    ErrorCode::BadMessage,
                    "binary frames are not part of the protocol",
                )
                .await;
                return false;
            }
        };
        match protocol::decode_client_msg(&text) {
            Ok(ClientMsg::Op(op)) => self.op(sink, op).await,
            Ok(ClientMsg::Presence(presence)) => {
                if !self.presence_budget.try_take() {
                    return send_error(
                        sink,
                        ErrorCode::RateLimited,
                        "too many presence updates",
                        None,
                    )
                    .await
                    .is_ok();
                }
                let msg = HubMsg::Presence {
                    conn: self.id,
                    rev: presence.rev,
                    sel: presence.sel,
                };
                self.mailbox.send(msg).await.is_ok()
            }
            Ok(ClientMsg::Ping(ping)) => sink
                .send(Message::Text(protocol::pong_frame(ping.id).into()))
                .await
                .is_ok(),
            Ok(
                msg @ (ClientMsg::CommentNew(_)
                | ClientMsg::CommentReply(_)
                | ClientMsg::CommentEdit(_)
                | ClientMsg::CommentDelete(_)
                | ClientMsg::CommentResolve(_)
                | ClientMsg::CommentReopen(_)),
            ) => match ws_comments::comment_action(msg) {
                Some((reference, action)) => self.comment(sink, reference, action).await,
                None => true,
            },
            Ok(ClientMsg::Authors(_)) => self.authors(sink).await,
            Ok(ClientMsg::Hello(_)) => {
                fatal(sink, ErrorCode::BadMessage, "hello was already received").await;
                false
            }
            Err(rejection)
                if matches!(rejection.code, ErrorCode::BadOp | ErrorCode::BadComment) =>
            {
                self.state.hubs.metrics().error(rejection.code.as_str());
                send_error(sink, rejection.code, &rejection.msg, rejection.seq)
                    .await
                    .is_ok()
            }
            Err(rejection) => {
                fatal(sink, rejection.code, &rejection.msg).await;
                false
            }
        }
    }

    /// `authors`: the hub answers through the session's queue, after the ops already sent to it.
    async fn authors(&mut self, sink: &mut Sink) -> bool {
        if !self.authors_budget.try_take() {
            self.state
                .hubs
                .metrics()
                .error(ErrorCode::RateLimited.as_str());
            let frame = protocol::comment_error_frame(
                ErrorCode::RateLimited,
                "too many authors requests",
                None,
            );
            return sink.send(Message::Text(frame.into())).await.is_ok();
        }
        let msg = HubMsg::Authors {
            conn: Some(self.id),
            reply: None,
        };
        self.mailbox.send(msg).await.is_ok()
    }

    /// A comment message: its `ref` and the budget are checked here, the rest by the hub, which answers.
    async fn comment(
        &mut self,
        sink: &mut Sink,
        reference: Option<String>,
        action: CommentAction,
    ) -> bool {
        let refused = if !ws_comments::ref_is_valid(reference.as_deref()) {
            Some((ErrorCode::BadComment, "ref is longer than 64 characters"))
        } else if !self.comment_budget.try_take() {
            Some((ErrorCode::RateLimited, "too many comment messages"))
        } else {
            None
        };
        if let Some((code, msg)) = refused {
            self.state.hubs.metrics().error(code.as_str());
            let reference = reference.filter(|_| code != ErrorCode::BadComment);
            let frame = protocol::comment_error_frame(code, msg, reference.as_deref());
            return sink.send(Message::Text(frame.into())).await.is_ok();
        }
        let request = CommentRequest {
            from: CommentFrom::Session {
                conn: self.id,
                reference,
            },
            action,
            reply: None,
        };
        self.mailbox
            .send(HubMsg::Comment(Box::new(request)))
            .await
            .is_ok()
    }

    /// PROTOCOL.md step 2 happens here, off the hub: validate and canonicalize, then hand over.
    async fn op(&mut self, sink: &mut Sink, op: protocol::OpMsg) -> bool {
        let metrics = self.state.hubs.metrics();
        if !self.ops_budget.try_take() {
            metrics.error(ErrorCode::RateLimited.as_str());
            return send_error(
                sink,
                ErrorCode::RateLimited,
                "too many ops; resend the same seq",
                Some(op.seq),
            )
            .await
            .is_ok();
        }
        let delta = match ot::decode_change(&op.op, &self.state.ot_limits) {
            Ok(delta) if delta.is_empty() => {
                Err((ErrorCode::BadOp, "the op changes nothing".to_string()))
            }
            Ok(delta) => Ok(delta),
            Err(err) => Err((ErrorCode::from_wire(err.wire_code()), err.to_string())),
        };
        match delta {
            Ok(delta) => {
                let msg = HubMsg::Submit {
                    conn: self.id,
                    rev: op.rev,
                    seq: op.seq,
                    op: delta,
                };
                self.mailbox.send(msg).await.is_ok()
            }
            Err((code, msg)) => {
                metrics.error(code.as_str());
                tracing::debug!(doc_id = %self.doc_id, %msg, "rejected op");
                send_error(sink, code, &msg, Some(op.seq)).await.is_ok()
            }
        }
    }
}

/// Writes the frames of a queued message and of whatever else is already queued, then flushes once.
async fn write_frames(
    sink: &mut Sink,
    first: Outbound,
    queue: &mut OutboundRx,
    (conn, comments): (ConnId, bool),
    metrics: &hub::HubMetrics,
) -> Result<(), axum::Error> {
    let mut frames = 0;
    let mut next = Some(first);
    while let Some(message) = next {
        for frame in message.frames_for(conn, comments) {
            sink.feed(text_message(frame.clone())).await?;
            frames += 1;
        }
        next = queue.try_recv();
    }
    queue.written(frames);
    metrics.ws_frames.inc_by(frames as u64);
    metrics.ws_writes.inc();
    sink.flush().await
}

/// Writes a batch of frames with one flush.
async fn write_all(sink: &mut Sink, frames: Vec<Frame>) -> Result<(), axum::Error> {
    for frame in frames {
        sink.feed(text_message(frame)).await?;
    }
    sink.flush().await
}

fn text_message(frame: Frame) -> Message {
    // Frames are built from Rust strings, so the check cannot fail; an empty frame would only be a client-side parse error.
    Message::Text(Utf8Bytes::try_from(frame).unwrap_or_default())
}

async fn send_error(
    sink: &mut Sink,
    code: ErrorCode,
    msg: &str,
    seq: Option<u64>,
) -> Result<(), axum::Error> {
    sink.send(Message::Text(protocol::error_frame(code, msg, seq).into()))
        .await
}

async fn fatal(sink: &mut Sink, code: ErrorCode, msg: &str) {
    let _ = send_error(sink, code, msg, None).await;
    let _ = sink.send(close(CLOSE_FATAL, code.as_str())).await;
}

fn valid_client_id(client: &str) -> bool {
    (16..=128).contains(&client.len())
        && client
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// The name is the account's; the colour is the page's choice when it is a plain `#rrggbb`, else derived from the id.
fn user_info(authed: &Authed, hello: &Hello) -> UserInfo {
    let requested = hello.user.as_ref().and_then(|user| user.color.clone());
    let color = requested
        .filter(|color| {
            color.len() == 7
                && color.starts_with('#')
                && color[1..].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .unwrap_or_else(|| color_for(&authed.user.id));
    UserInfo {
        id: authed.user.id.clone(),
        name: authed.user.name.clone(),
        color,
    }
}

fn color_for(user_id: &str) -> String {
    const PALETTE: [&str; 10] = [
        "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324", "#800000",
        "#808000", "#000075",
    ];
    let hash = user_id.bytes().fold(0usize, |acc, byte| {
        acc.wrapping_mul(31).wrapping_add(usize::from(byte))
    });
    PALETTE[hash % PALETTE.len()].to_string()
}
