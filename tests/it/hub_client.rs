//! Test clients for the document WebSocket: `TestSocket` (raw JSON frames) and `SimClient`, the client state
//! machine of PROTOCOL.md section 2 written on the Rust OT, used by the convergence simulation.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use quire::ot::Delta;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One WebSocket speaking JSON frames.
pub struct TestSocket {
    pub ws: Ws,
}

impl TestSocket {
    /// Connects to `/api/docs/{doc}/ws` on `addr` (host:port) with a Bearer token.
    pub async fn connect(addr: &str, doc: &str, token: &str) -> TestSocket {
        let ws = try_connect(addr, doc, token)
            .await
            .expect("websocket connect");
        TestSocket { ws }
    }

    pub async fn send(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send frame");
    }

    /// The next JSON frame, failing the test after 10 s.
    pub async fn recv(&mut self) -> Value {
        self.recv_within(Duration::from_secs(10))
            .await
            .expect("a frame within 10 s")
    }

    /// The next JSON frame within `wait`, or `None` (also when the socket closed).
    pub async fn recv_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(wait, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match message {
                Message::Text(text) => {
                    return Some(serde_json::from_str(&text).expect("server frames are JSON"));
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Skips frames until one with `t == kind`.
    pub async fn recv_kind(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["t"] == kind {
                return frame;
            }
        }
    }

    /// True when the server closes the socket (or it ends) within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Sends `hello` and returns `welcome`.
    pub async fn hello(&mut self, client: &str, rev: Option<u64>) -> Value {
        self.send(json!({"t": "hello", "proto": 1, "client": client, "rev": rev}))
            .await;
        let welcome = self.recv().await;
        assert_eq!(welcome["t"], "welcome", "{welcome}");
        welcome
    }
}

pub async fn try_connect(addr: &str, doc: &str, token: &str) -> Option<Ws> {
    let mut request = format!("ws://{addr}/api/docs/{doc}/ws")
        .into_client_request()
        .ok()?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    request.headers_mut().insert("authorization", bearer);
    let (ws, _) = tokio_tungstenite::connect_async(request).await.ok()?;
    Some(ws)
}

/// A fresh client id of the protocol's shape.
pub fn client_id(tag: &str) -> String {
    format!("{tag}-{}", quire::auth::random_id(16))
}

pub fn delta(value: &Value) -> Delta {
    Delta::from_json_unchecked(value).expect("a delta")
}

/// PROTOCOL.md section 2's client: at most one op in flight, later edits composed into a buffer,
/// server ops transformed through both; resumes with `hello {rev}` and resends the same seq.
pub struct SimClient {
    pub client: String,
    pub doc: Delta,
    /// The revision of the server document this client has seen all ops of.
    pub rev: u64,
    pub outstanding: Option<(u64, Delta)>,
    pub buffer: Option<Delta>,
    pub next_seq: u64,
    /// Distinct seqs of this client acknowledged by the server (acks and own ops in catch-up).
    pub acked: std::collections::BTreeSet<u64>,
    /// Ops in flight given up at a `reset`: each may or may not have been committed (nobody can tell).
    pub given_up_in_flight: u64,
    /// `welcome` frames with `reset: true` received.
    pub resets: u64,
    /// The server refused the op in flight as based before its window: reconnect and resume.
    pub wants_resume: bool,
    /// Resend `outstanding` once the catch-up reaches this head.
    resend_at: Option<u64>,
    /// Whether `outstanding` was sent on the current connection (then only its ack ends it).
    pub sent_here: bool,
    pub problems: Vec<String>,
    /// Recent frames in and out, printed with any problem to make failures readable.
    pub trace: std::collections::VecDeque<String>,
}

impl SimClient {
    pub fn new(client: String) -> SimClient {
        SimClient {
            client,
            doc: Delta::new().insert("\n", None),
            rev: 0,
            outstanding: None,
            buffer: None,
            next_seq: 1,
            acked: Default::default(),
            given_up_in_flight: 0,
            resets: 0,
            wants_resume: false,
            resend_at: None,
            sent_here: false,
            problems: Vec::new(),
            trace: Default::default(),
        }
    }

    pub fn hello(&self) -> Value {
        json!({"t": "hello", "proto": 1, "client": self.client, "rev": self.rev})
    }

    /// Applies a local edit; returns the op frame to send when nothing was in flight.
    pub fn edit(&mut self, change: Delta) -> Option<Value> {
        self.doc = self.doc.compose(&change);
        if self.outstanding.is_some() {
            self.buffer = Some(match self.buffer.take() {
                Some(buffer) => buffer.compose(&change),
                None => change,
            });
            return None;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.outstanding = Some((seq, change));
        self.outstanding_frame()
    }

    /// The frame for the op in flight. An op that transformation emptied is never sent: the server refuses empty
    /// ops, and if it had committed it, the resume catch-up would have acknowledged it already.
    pub fn outstanding_frame(&self) -> Option<Value> {
        let (seq, op) = self.outstanding.as_ref()?;
        (!op.is_empty()).then(|| json!({"t": "op", "rev": self.rev, "seq": seq, "op": op}))
    }

    /// After a resume or an ack: sends the op in flight. One that transformation emptied and that this connection
    /// never carried is dropped (its seq is skipped): the catch-up proved the server never committed it, and the
    /// server ignores the superseded connection that might still hold it.
    fn resend(&mut self, replies: &mut Vec<Value>) {
        if self.sent_here {
            return;
        }
        while self
            .outstanding
            .as_ref()
            .is_some_and(|(_, op)| op.is_empty())
        {
            self.outstanding = None;
            self.promote_buffer();
        }
        replies.extend(self.outstanding_frame());
    }

    fn promote_buffer(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.outstanding = Some((seq, buffer));
        }
    }

    pub fn has_pending(&self) -> bool {
        self.outstanding.is_some() || self.buffer.is_some()
    }

    /// Handles one server frame; returns frames to send in reply.
    pub fn receive(&mut self, frame: &Value) -> Vec<Value> {
        self.note(format!(
            "in  {} rev={} seq={} own={} at={}",
            frame["t"],
            frame["rev"],
            frame["seq"],
            frame["client"] == self.client.as_str(),
            self.rev
        ));
        let n_problems = self.problems.len();
        let mut replies = Vec::new();
        match frame["t"].as_str() {
            Some("welcome") => self.welcome(frame),
            Some("op") => self.server_op(frame, &mut replies),
            Some("ack") => self.ack(frame, &mut replies),
            Some("error") => match frame["code"].as_str() {
                Some("rate_limited") => replies.extend(self.outstanding_frame()),
                // PROTOCOL.md: resume with hello (the catch-up or a reset settles the op). About an op given up
                // at a reset since, it says nothing more.
                Some("rev_too_old") => {
                    let outstanding = self.outstanding.as_ref().map(|(seq, _)| *seq);
                    if frame["seq"]
                        .as_u64()
                        .is_some_and(|seq| Some(seq) == outstanding)
                    {
                        self.wants_resume = true;
                    }
                }
                _ => self.problems.push(format!("error from server: {frame}")),
            },
            _ => {}
        }
        if self.resend_at.is_some_and(|head| self.rev >= head) {
            self.resend_at = None;
            self.resend(&mut replies);
        }
        for reply in &replies {
            self.note(format!(
                "out {} rev={} seq={}",
                reply["t"], reply["rev"], reply["seq"]
            ));
        }
        if self.problems.len() > n_problems {
            let trace: Vec<&String> = self.trace.iter().collect();
            self.problems.push(format!("trace: {trace:#?}"));
        }
        replies
    }

    pub fn note(&mut self, line: String) {
        self.trace.push_back(line);
        if self.trace.len() > 30 {
            self.trace.pop_front();
        }
    }

    /// A new connection carries nothing yet.
    pub fn connected(&mut self) {
        self.sent_here = false;
    }

    fn welcome(&mut self, frame: &Value) {
        if frame["reset"] == true {
            // PROTOCOL.md: pending ops can no longer be rebased. The browser shows them to the person; here they
            // are given up, and the op in flight counts as unknown: it may have been committed before the reset.
            self.resets += 1;
            if self.outstanding.take().is_some() {
                self.given_up_in_flight += 1;
            }
            self.buffer = None;
        }
        if frame["snapshot"].is_object() {
            self.doc = delta(&frame["snapshot"]["ops"]);
            self.rev = frame["snapshot"]["rev"].as_u64().unwrap_or(0);
        }
        self.resend_at = frame["head"].as_u64();
    }

    fn server_op(&mut self, frame: &Value, replies: &mut Vec<Value>) {
        let rev = frame["rev"].as_u64().unwrap_or(u64::MAX);
        if rev != self.rev {
            self.problems
                .push(format!("op for rev {rev} while at {}", self.rev));
            return;
        }
        if frame["client"] == self.client.as_str() {
            // In a resume catch-up, my own op counts as its ack.
            let seq = frame["seq"].as_u64().unwrap_or(0);
            return self.acknowledged(seq, rev, replies);
        }
        let server = delta(&frame["op"]);
        let mut server_for_me = server.clone();
        if let Some((seq, outstanding)) = self.outstanding.take() {
            let transformed = server_for_me.transform(&outstanding, true);
            server_for_me = outstanding.transform(&server_for_me, false);
            self.outstanding = Some((seq, transformed));
        }
        if let Some(buffer) = self.buffer.take() {
            let transformed = server_for_me.transform(&buffer, true);
            server_for_me = buffer.transform(&server_for_me, false);
            self.buffer = Some(transformed);
        }
        self.doc = self.doc.compose(&server_for_me);
        self.rev += 1;
    }

    fn ack(&mut self, frame: &Value, replies: &mut Vec<Value>) {
        let seq = frame["seq"].as_u64().unwrap_or(0);
        let rev = frame["rev"].as_u64().unwrap_or(u64::MAX);
        if self
            .outstanding
            .as_ref()
            .is_some_and(|(pending, _)| *pending == seq)
        {
            return self.acknowledged(seq, rev, replies);
        }
        // The only ack for a seq not in flight that the protocol allows: `dup` for a resend of an op already
        // acknowledged (the random resend action sends the op in flight twice). Anything else is a server bug.
        if !(frame["dup"] == true && self.acked.contains(&seq)) {
            self.problems.push(format!("spurious ack: {frame}"));
        }
    }

    fn acknowledged(&mut self, seq: u64, rev: u64, replies: &mut Vec<Value>) {
        match &self.outstanding {
            Some((pending, _)) if *pending == seq => {}
            _ => {
                self.problems
                    .push(format!("ack for seq {seq} that is not outstanding"));
                return;
            }
        }
        if rev != self.rev {
            self.problems
                .push(format!("ack at rev {rev} while at {}", self.rev));
        }
        if !self.acked.insert(seq) {
            self.problems.push(format!("seq {seq} acknowledged twice"));
        }
        self.rev = rev + 1;
        self.outstanding = None;
        self.sent_here = false;
        self.promote_buffer();
        if self.resend_at.is_none() {
            self.resend(replies);
        }
    }
}
