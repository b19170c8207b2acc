//! Comments anchored to text (issue 14) over real sockets and the JSON API: a randomized run where editors type,
//! delete and format while a commenter opens and resolves threads, checked against a character-by-character model
//! of every anchor built from the ops the test saw, on every client, after compaction and after a restart; the
//! orphaning of a thread whose text is deleted; and who may do what, over HTTP and the WebSocket.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::Duration,
};

use quire::{
    hub::{Anchor, move_anchor},
    ot::{Delta, Op},
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    cluster_client::{account, api, create_doc, share_as},
    hub_client::{SimClient, TestSocket, client_id, delta},
    support::{Backend, TestServer, TestUser},
};

struct Person {
    token: String,
    email: String,
}

async fn person(server: &TestServer, name: &str) -> Person {
    let (token, email) = account(&server.base, name).await;
    Person { token, email }
}

async fn comments(server: &TestServer, doc: &str, token: &str) -> Value {
    let url = server.url(&format!("/api/docs/{doc}/comments"));
    let (status, body) = api(Method::GET, &url, token, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// One socket with the protocol's client state machine, and the anchors it keeps by the rule of
/// docs/protocol-notes.md: set from each `comment` event, moved by every op in the server's order.
struct Peer {
    name: &'static str,
    socket: TestSocket,
    sim: SimClient,
    anchors: HashMap<String, Anchor>,
    /// Every op in server order with its base revision (the observer's log is the model's input).
    log: Vec<(u64, Delta)>,
    /// `created` events: (ref, thread id, rev, anchor), and the last resolved state per thread.
    created: Vec<(Option<String>, String, u64, Anchor)>,
    resolved: HashMap<String, bool>,
    problems: Vec<String>,
}

impl Peer {
    async fn join(server: &TestServer, doc: &str, token: &str, name: &'static str) -> Peer {
        let mut socket = TestSocket::connect(&server.addr.to_string(), doc, token).await;
        let sim = SimClient::new(client_id(name));
        socket
            .send(json!({"t": "hello", "proto": 1, "client": sim.client, "rev": null, "comments": true}))
            .await;
        let mut peer = Peer {
            name,
            socket,
            sim,
            anchors: HashMap::new(),
            log: Vec::new(),
            created: Vec::new(),
            resolved: HashMap::new(),
            problems: Vec::new(),
        };
        let welcome = peer.socket.recv().await;
        assert_eq!(welcome["t"], "welcome", "{welcome}");
        peer.sim.receive(&welcome);
        let listing = peer.socket.recv_kind("comments").await;
        for thread in listing["threads"].as_array().expect("threads") {
            peer.anchors
                .insert(thread["id"].as_str().expect("id").into(), anchor_of(thread));
        }
        peer
    }

    async fn send(&mut self, frames: Vec<Value>) {
        for frame in frames {
            self.socket.send(frame).await;
        }
    }

    /// Handles what arrives within `wait`; false when nothing did.
    async fn pump(&mut self, wait: Duration) -> bool {
        let mut any = false;
        while let Some(frame) = self.socket.recv_within(wait).await {
            any = true;
            self.handle(&frame).await;
        }
        any
    }

    async fn handle(&mut self, frame: &Value) {
        match frame["t"].as_str() {
            Some("op") => {
                let op = delta(&frame["op"]);
                self.moved_by(frame["rev"].as_u64().expect("rev"), &op);
            }
            Some("ack") => {
                // The op in flight, transformed through every op received before its ack, is what the server
                // committed at this revision (the client's rule of PROTOCOL.md section 2).
                if let Some((_, op)) = self.sim.outstanding.clone() {
                    self.moved_by(frame["rev"].as_u64().expect("rev"), &op);
                }
            }
            Some("comment") => self.comment_event(frame),
            // Comment messages have a budget of their own (5 a second): a refused one was never applied, and the
            // model only follows threads that were created.
            Some("error") if frame["code"] == "rate_limited" && frame["seq"].is_null() => {}
            Some("error") => self.problems.push(format!("{}: {frame}", self.name)),
            _ => {}
        }
        let replies = self.sim.receive(frame);
        self.send(replies).await;
    }

    fn moved_by(&mut self, rev: u64, op: &Delta) {
        self.log.push((rev, op.clone()));
        for anchor in self.anchors.values_mut() {
            *anchor = move_anchor(op, *anchor);
        }
    }

    fn comment_event(&mut self, frame: &Value) {
        let rev = frame["rev"].as_u64().expect("rev");
        if rev != self.sim.rev {
            self.problems.push(format!(
                "{}: a comment event at rev {rev} reached a client at rev {}",
                self.name, self.sim.rev
            ));
        }
        let thread = &frame["thread"];
        let id = thread["id"].as_str().expect("thread id").to_string();
        match frame["event"].as_str() {
            Some("thread_deleted") => {
                self.anchors.remove(&id);
            }
            Some(event) => {
                self.anchors.insert(id.clone(), anchor_of(thread));
                self.resolved.insert(id.clone(), thread["resolved"] == true);
                if event == "created" {
                    let reference = frame["ref"].as_str().map(str::to_string);
                    self.created.push((reference, id, rev, anchor_of(thread)));
                }
            }
            None => self.problems.push(format!("no event: {frame}")),
        }
    }
}

fn anchor_of(thread: &Value) -> Anchor {
    Anchor {
        start: thread["start"].as_u64().expect("start"),
        end: thread["end"].as_u64().expect("end"),
        orphaned: thread["orphaned"] == true,
    }
}

/// The document as one id per UTF-16 unit, revision by revision, built only from the ops in server order.
struct Model {
    history: Vec<Vec<u64>>,
    next_id: u64,
}

impl Model {
    fn new() -> Model {
        Model {
            history: vec![vec![0]],
            next_id: 1,
        }
    }

    /// Applies one op; a unit it inserts joins `covered` when the units on both sides of its gap (in the op's
    /// base document) are covered, and a deleted unit is gone.
    fn apply(&mut self, op: &Delta, covered: &mut [HashSet<u64>]) {
        let base = self.history.last().expect("a revision").clone();
        let mut doc = Vec::new();
        let mut cursor = 0usize;
        for component in op.ops() {
            let n = component.len() as usize;
            match component {
                Op::Retain { .. } => {
                    doc.extend_from_slice(&base[cursor..cursor + n]);
                    cursor += n;
                }
                Op::Insert { .. } => {
                    for set in covered.iter_mut() {
                        let inside = cursor > 0
                            && cursor < base.len()
                            && set.contains(&base[cursor - 1])
                            && set.contains(&base[cursor]);
                        if inside {
                            set.extend(self.next_id..self.next_id + n as u64);
                        }
                    }
                    doc.extend(self.next_id..self.next_id + n as u64);
                    self.next_id += n as u64;
                }
                Op::Delete { .. } => cursor += n,
            }
        }
        doc.extend_from_slice(&base[cursor..]);
        self.history.push(doc);
    }

    /// Where the covered units are at `rev`: `None` when none is left (orphaned).
    fn range(&self, rev: usize, covered: &HashSet<u64>) -> Option<(u64, u64)> {
        let doc = &self.history[rev];
        let first = doc.iter().position(|id| covered.contains(id))?;
        let last = doc.iter().rposition(|id| covered.contains(id))?;
        Some((first as u64, last as u64 + 1))
    }
}

fn same(anchor: Anchor, expected: Option<(u64, u64)>) -> bool {
    match expected {
        None => anchor.orphaned,
        Some((start, end)) => !anchor.orphaned && anchor.start == start && anchor.end == end,
    }
}

/// A random edit of an editor's view: typing, deleting or making bold, never touching the final newline.
fn random_edit(rng: &mut StdRng, len: u64) -> Delta {
    let text_len = len.saturating_sub(1);
    let at = rng.random_range(0..=text_len);
    match rng.random_range(0..10) {
        0..5 => {
            let words = ["a", "bc", "def", " ", "xy z"];
            let word = words[rng.random_range(0..words.len())];
            Delta::new().retain(at, None).insert(word, None)
        }
        5..8 if at < text_len => {
            let n = rng.random_range(1..=(text_len - at).min(4));
            Delta::new().retain(at, None).delete(n)
        }
        _ if at < text_len => {
            let n = rng.random_range(1..=(text_len - at).min(6));
            let bold =
                serde_json::Map::from_iter([("bold".to_string(), Value::Bool(rng.random()))]);
            Delta::new().retain(at, None).retain(n, Some(bold))
        }
        _ => Delta::new().insert("q", None),
    }
}

crate::on_both_backends!(
    anchors_follow_random_edits_on_every_client_through_compaction_and_a_restart,
    anchors_are_written_back_when_the_hub_exits,
);

async fn anchors_follow_random_edits_on_every_client_through_compaction_and_a_restart(
    backend: Backend,
) {
    let server = TestServer::start_on(backend, &crate::support::RANDOM_RUN_FLAGS).await;
    let owner = person(&server, "Owner").await;
    let doc = create_doc(&server.base, &owner.token, "comments").await;
    let (ed, cy, vi) = (
        person(&server, "Ed").await,
        person(&server, "Cy").await,
        person(&server, "Vi").await,
    );
    share_as(&server.base, &owner.token, &doc, &ed.email, "editor").await;
    share_as(&server.base, &owner.token, &doc, &cy.email, "commenter").await;
    share_as(&server.base, &owner.token, &doc, &vi.email, "viewer").await;
    // The observer joins first, at revision 0, so it sees every op: the model's input.
    let mut observer = Peer::join(&server, &doc, &vi.token, "observer").await;
    let mut typists = vec![
        Peer::join(&server, &doc, &owner.token, "owner").await,
        Peer::join(&server, &doc, &ed.token, "ed").await,
    ];
    let mut commenter = Peer::join(&server, &doc, &cy.token, "cy").await;
    let first = typists[0].sim.edit(delta(
        &json!([{"insert": "The quick brown fox jumps over the lazy dog"}]),
    ));
    typists[0].send(first.into_iter().collect()).await;

    let mut rng = StdRng::seed_from_u64(14);
    let mut requests: HashMap<String, (u64, u64, u64)> = HashMap::new();
    for step in 0..160 {
        for typist in &mut typists {
            if rng.random_bool(0.6) {
                let len = typist.sim.doc.length();
                if let Some(frame) = typist.sim.edit(random_edit(&mut rng, len)) {
                    typist.send(vec![frame]).await;
                }
            }
        }
        if rng.random_bool(0.3) {
            commenter_acts(&mut commenter, &mut rng, &mut requests, step).await;
        }
        for typist in &mut typists {
            typist.pump(Duration::from_millis(2)).await;
        }
        commenter.pump(Duration::from_millis(1)).await;
        observer.pump(Duration::from_millis(1)).await;
    }
    settle(&mut typists, &mut commenter, &mut observer).await;

    let head = observer.sim.rev;
    for peer in typists.iter().chain([&commenter]) {
        assert_eq!(peer.sim.rev, head, "{} caught up", peer.name);
        assert_eq!(peer.sim.doc, observer.sim.doc, "{} converged", peer.name);
    }
    let expected = expected_anchors(&observer, &commenter, &requests);
    assert!(
        expected.len() >= 10,
        "threads were opened: {}",
        expected.len()
    );
    assert!(
        expected.values().any(Option::is_none) && expected.values().any(Option::is_some),
        "some threads were orphaned and some were not: {expected:?}"
    );
    for peer in typists.iter().chain([&commenter, &observer]) {
        assert!(peer.problems.is_empty(), "{:?}", peer.problems);
        for (id, range) in &expected {
            let anchor = peer
                .anchors
                .get(id)
                .copied()
                .expect("every client knows every thread");
            assert!(
                same(anchor, *range),
                "{} holds {anchor:?} for {id}, the model {range:?}",
                peer.name
            );
        }
    }
    let resolved = observer.resolved.clone();
    check_server(&server, &doc, &owner.token, head, &expected, &resolved).await;
    drop((typists, commenter, observer));

    let server = server.restart().await;
    check_server(&server, &doc, &owner.token, head, &expected, &resolved).await;
    let rejoined = Peer::join(&server, &doc, &vi.token, "rejoined").await;
    for (id, range) in &expected {
        assert!(
            same(rejoined.anchors[id], *range),
            "after the restart, {id}"
        );
    }
    let store = server.store().await;
    let logged = store.count_ops(&doc).await.expect("count ops");
    assert!(
        logged < head as i64,
        "compaction pruned the log behind the anchors it wrote ({logged} ops for {head} revisions)"
    );
    server.stop().await;
}

/// Opens a thread on a random range of the commenter's view (half of them at once, half a little late), or
/// resolves or reopens one of its threads.
async fn commenter_acts(
    commenter: &mut Peer,
    rng: &mut StdRng,
    requests: &mut HashMap<String, (u64, u64, u64)>,
    step: usize,
) {
    let known: Vec<String> = commenter.anchors.keys().cloned().collect();
    if !known.is_empty() && rng.random_bool(0.3) {
        let thread = &known[rng.random_range(0..known.len())];
        let kind = if rng.random_bool(0.5) {
            "comment_resolve"
        } else {
            "comment_reopen"
        };
        commenter
            .send(vec![json!({"t": kind, "thread": thread})])
            .await;
        return;
    }
    let len = commenter.sim.doc.length().saturating_sub(1);
    if len < 2 {
        return;
    }
    let start = rng.random_range(0..len - 1);
    let end = rng.random_range(start + 1..=len.min(start + 8));
    let reference = format!("c{step}");
    let rev = commenter.sim.rev;
    requests.insert(reference.clone(), (rev, start, end));
    let frame = json!({"t": "comment_new", "ref": reference, "rev": rev, "start": start, "end": end, "body": "why?"});
    commenter.send(vec![frame]).await;
}

/// Pumps everyone until nothing is pending and nothing arrives for a while.
async fn settle(typists: &mut [Peer], commenter: &mut Peer, observer: &mut Peer) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut busy = false;
        for typist in typists.iter_mut() {
            busy |= typist.pump(Duration::from_millis(50)).await;
            busy |= typist.sim.has_pending();
        }
        busy |= commenter.pump(Duration::from_millis(50)).await;
        busy |= observer.pump(Duration::from_millis(50)).await;
        if !busy {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run did not settle"
        );
    }
}

/// The model's range of each thread at head: its units are those the commenter chose at its revision, followed
/// through every op since in the observer's log; also checks each `created` event against the model.
fn expected_anchors(
    observer: &Peer,
    commenter: &Peer,
    requests: &HashMap<String, (u64, u64, u64)>,
) -> BTreeMap<String, Option<(u64, u64)>> {
    let mut model = Model::new();
    let threads: Vec<(String, u64, u64, u64, u64, Anchor)> = commenter
        .created
        .iter()
        .map(|(reference, id, created_rev, anchor)| {
            let reference = reference
                .as_deref()
                .expect("the sender's event carries its ref");
            let (rev, start, end) = requests[reference];
            (id.clone(), rev, start, end, *created_rev, *anchor)
        })
        .collect();
    let mut covered: Vec<HashSet<u64>> = vec![HashSet::new(); threads.len()];
    for (index, (rev, op)) in observer.log.iter().enumerate() {
        assert_eq!(*rev, index as u64, "the observer saw every op in order");
        for (thread, set) in threads.iter().zip(covered.iter_mut()) {
            if thread.1 == *rev {
                let doc = &model.history[*rev as usize];
                set.extend(&doc[thread.2 as usize..thread.3 as usize]);
            }
        }
        model.apply(op, &mut covered);
    }
    let head = model.history.len() - 1;
    for (thread, set) in threads.iter().zip(covered.iter_mut()) {
        if thread.1 as usize == head {
            set.extend(&model.history[head][thread.2 as usize..thread.3 as usize]);
        }
    }
    let mut expected = BTreeMap::new();
    for (thread, set) in threads.iter().zip(&covered) {
        expected.insert(thread.0.clone(), model.range(head, set));
    }
    // At its creation the anchor was the chosen units moved to that revision (recomputed from scratch).
    for thread in &threads {
        let mut replay = Model::new();
        let mut set = vec![HashSet::new()];
        for (rev, op) in &observer.log {
            if *rev == thread.1 {
                set[0].extend(&replay.history[*rev as usize][thread.2 as usize..thread.3 as usize]);
            }
            if *rev == thread.4 {
                break;
            }
            replay.apply(op, &mut set);
        }
        let at = replay.range(thread.4 as usize, &set[0]);
        assert!(same(thread.5, at), "created {thread:?}, the model {at:?}");
    }
    expected
}

async fn check_server(
    server: &TestServer,
    doc: &str,
    token: &str,
    head: u64,
    expected: &BTreeMap<String, Option<(u64, u64)>>,
    resolved: &HashMap<String, bool>,
) {
    let listing = comments(server, doc, token).await;
    assert_eq!(listing["rev"], head, "{listing}");
    let threads = listing["threads"].as_array().expect("threads");
    assert_eq!(threads.len(), expected.len());
    for thread in threads {
        let id = thread["id"].as_str().expect("id");
        assert!(
            same(anchor_of(thread), expected[id]),
            "the server holds {thread} for {id}, the model {:?}",
            expected[id]
        );
        assert_eq!(thread["resolved"] == true, resolved[id], "{thread}");
        assert_eq!(thread["messages"][0]["body"], "why?");
    }
}

#[tokio::test]
async fn a_thread_whose_text_is_deleted_is_orphaned_and_keeps_its_quote() {
    let server = TestServer::start().await;
    let owner = person(&server, "Owner").await;
    let doc = create_doc(&server.base, &owner.token, "orphans").await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &owner.token).await;
    socket
        .send(json!({"t": "hello", "proto": 1, "client": client_id("o"), "rev": null, "comments": true}))
        .await;
    socket.recv_kind("comments").await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "Hello brave world"}]}))
        .await;
    socket.recv_kind("ack").await;
    socket
        .send(json!({"t": "comment_new", "ref": "r1", "rev": 1, "start": 6, "end": 11, "body": "brave?"}))
        .await;
    let created = socket.recv_kind("comment").await;
    assert_eq!(created["ref"], "r1");
    assert_eq!(created["thread"]["quote"], "brave");
    // Typing at either boundary does not extend it; deleting its text orphans it.
    for (seq, op) in [
        (2, json!([{"retain": 11}, {"insert": "!"}])),
        (3, json!([{"retain": 6}, {"insert": "very "}])),
        (4, json!([{"retain": 9}, {"delete": 8}])),
    ] {
        socket
            .send(json!({"t": "op", "rev": seq - 1, "seq": seq, "op": op}))
            .await;
        socket.recv_kind("ack").await;
    }
    let listing = comments(&server, &doc, &owner.token).await;
    let thread = &listing["threads"][0];
    assert_eq!(thread["orphaned"], true, "{thread}");
    assert_eq!(thread["quote"], "brave");
    // Text typed where it was does not bring it back.
    socket
        .send(json!({"t": "op", "rev": 4, "seq": 5, "op": [{"retain": 9}, {"insert": "brave "}]}))
        .await;
    socket.recv_kind("ack").await;
    let listing = comments(&server, &doc, &owner.token).await;
    assert_eq!(listing["threads"][0]["orphaned"], true);
    server.stop().await;
}

#[tokio::test]
async fn bad_comment_messages_get_clear_errors_and_change_nothing() {
    let server = TestServer::start().await;
    let owner = person(&server, "Owner").await;
    let doc = create_doc(&server.base, &owner.token, "bad").await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &owner.token).await;
    socket
        .send(json!({"t": "hello", "proto": 1, "client": client_id("o"), "rev": null, "comments": true}))
        .await;
    socket.recv_kind("comments").await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "a😀b"}]}))
        .await;
    socket.recv_kind("ack").await;
    let long = "x".repeat(10_001);
    for (frame, code) in [
        (
            json!({"t": "comment_new", "ref": "a", "rev": 1, "start": 2, "end": 2, "body": "hi"}),
            "bad_comment",
        ),
        (
            json!({"t": "comment_new", "ref": "b", "rev": 1, "start": 0, "end": 99, "body": "hi"}),
            "bad_comment",
        ),
        (
            json!({"t": "comment_new", "ref": "c", "rev": 1, "start": 0, "end": 2, "body": "hi"}),
            "bad_comment",
        ),
        (
            json!({"t": "comment_new", "ref": "d", "rev": 1, "start": 0, "end": 1, "body": "  "}),
            "bad_comment",
        ),
        (
            json!({"t": "comment_new", "ref": "e", "rev": 1, "start": 0, "end": 1, "body": long}),
            "too_large",
        ),
        (
            json!({"t": "comment_new", "ref": "f", "rev": 7, "start": 0, "end": 1, "body": "hi"}),
            "rev_in_future",
        ),
        (
            json!({"t": "comment_reply", "ref": "g", "thread": "nope", "body": "hi"}),
            "not_found",
        ),
        (
            json!({"t": "comment_edit", "ref": "h", "message": "nope", "body": "hi"}),
            "not_found",
        ),
        (
            json!({"t": "comment_resolve", "ref": "i", "thread": "nope"}),
            "not_found",
        ),
    ] {
        socket.send(frame.clone()).await;
        let answer = socket.recv_kind("error").await;
        assert_eq!(answer["code"], code, "{frame} -> {answer}");
        assert_eq!(answer["ref"], frame["ref"], "{answer}");
        assert_eq!(answer["fatal"], false);
    }
    // A lone surrogate in a comment's text is refused like any bad comment; the socket stays open.
    socket
        .send_text(r#"{"t":"comment_new","rev":1,"start":0,"end":1,"body":"x\ud800"}"#)
        .await;
    let answer = socket.recv_kind("error").await;
    assert_eq!(
        (&answer["code"], &answer["fatal"]),
        (&json!("bad_comment"), &json!(false)),
        "{answer}"
    );
    let url = server.url(&format!("/api/docs/{doc}/comments"));
    let (status, body) = api(
        Method::POST,
        &url,
        &owner.token,
        Some(json!({"start": 0, "end": 9, "body": "x"})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
    let (status, _) = api(
        Method::POST,
        &url,
        &owner.token,
        Some(json!({"start": 0, "body": "x"})),
    )
    .await;
    assert!(status == 400 || status == 422, "{status}");
    assert_eq!(
        comments(&server, &doc, &owner.token).await["threads"],
        json!([])
    );
    // The socket is still usable.
    socket.send(json!({"t": "ping", "id": 1})).await;
    assert_eq!(socket.recv_kind("pong").await["id"], 1);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------------------------
// Who may do what: every comment action by every kind of person, over HTTP and over the WebSocket.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    Editor,
    Commenter,
    Viewer,
    /// Came through a commenter share link.
    LinkCommenter,
    Stranger,
    /// No valid credential (an unknown token).
    SignedOut,
}

const EVERYONE: [Who; 7] = [
    Who::Owner,
    Who::Editor,
    Who::Commenter,
    Who::Viewer,
    Who::LinkCommenter,
    Who::Stranger,
    Who::SignedOut,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    Read,
    Open,
    Reply,
    EditOwn,
    EditOthers,
    DeleteOwn,
    DeleteOthers,
    ResolveOwnThread,
    ResolveOthersThread,
    ReopenOthersThread,
}

const ACTS: [Act; 10] = [
    Act::Read,
    Act::Open,
    Act::Reply,
    Act::EditOwn,
    Act::EditOthers,
    Act::DeleteOwn,
    Act::DeleteOthers,
    Act::ResolveOwnThread,
    Act::ResolveOthersThread,
    Act::ReopenOthersThread,
];

/// The rule of docs/protocol-notes.md: true when `who` may do `act`; a stranger sees nothing (404).
fn allowed(who: Who, act: Act) -> bool {
    let comments = matches!(
        who,
        Who::Owner | Who::Editor | Who::Commenter | Who::LinkCommenter
    );
    let edits = matches!(who, Who::Owner | Who::Editor);
    match act {
        Act::Read => !matches!(who, Who::Stranger | Who::SignedOut),
        Act::Open | Act::Reply | Act::EditOwn | Act::DeleteOwn | Act::ResolveOwnThread => comments,
        Act::EditOthers | Act::DeleteOthers => false,
        Act::ResolveOthersThread | Act::ReopenOthersThread => edits,
    }
}

struct Cast {
    server: TestServer,
    doc: String,
    /// The author of the "others'" threads and messages: an editor who is not one of the actors.
    other: Person,
    tokens: HashMap<&'static str, String>,
}

fn label(who: Who) -> &'static str {
    match who {
        Who::Owner => "owner",
        Who::Editor => "editor",
        Who::Commenter => "commenter",
        Who::Viewer => "viewer",
        Who::LinkCommenter => "link",
        Who::Stranger => "stranger",
        Who::SignedOut => "signed out",
    }
}

async fn cast() -> Cast {
    let server = TestServer::start().await;
    let owner = person(&server, "Owner").await;
    let doc = create_doc(&server.base, &owner.token, "matrix").await;
    let other = person(&server, "Other").await;
    share_as(&server.base, &owner.token, &doc, &other.email, "editor").await;
    let mut tokens = HashMap::from([("owner", owner.token.clone())]);
    for (who, role) in [
        (Who::Editor, "editor"),
        (Who::Commenter, "commenter"),
        (Who::Viewer, "viewer"),
    ] {
        let member = person(&server, label(who)).await;
        share_as(&server.base, &owner.token, &doc, &member.email, role).await;
        tokens.insert(label(who), member.token);
    }
    tokens.insert("stranger", person(&server, "Stranger").await.token);
    tokens.insert("signed out", "not-a-token".into());
    let (status, link) = api(
        Method::POST,
        &server.url(&format!("/api/docs/{doc}/links")),
        &owner.token,
        Some(json!({"role": "commenter"})),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let visitor = TestUser::signup(&server, "Visitor").await;
    let link_url = link["url"].as_str().expect("link url").to_string();
    crate::sharing_matrix::open_link(&server, &visitor, &link_url, &doc).await;
    tokens.insert("link", visitor.api_token(&server).await);
    // Some text to comment on.
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &owner.token).await;
    socket.hello(&client_id("setup"), None).await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "Some text to comment on"}]}))
        .await;
    socket.recv_kind("ack").await;
    Cast {
        server,
        doc,
        other,
        tokens,
    }
}

impl Cast {
    /// Opens a thread as the holder of `token`: (thread id, first message id).
    async fn thread_by(&self, token: &str) -> (String, String) {
        let url = self.server.url(&format!("/api/docs/{}/comments", self.doc));
        let (status, body) = api(
            Method::POST,
            &url,
            token,
            Some(json!({"start": 0, "end": 4, "body": "mine"})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        (
            body["thread"]["id"].as_str().expect("id").into(),
            body["message"]["id"].as_str().expect("id").into(),
        )
    }

    async fn listing(&self) -> Value {
        comments(&self.server, &self.doc, &self.tokens["owner"]).await
    }

    /// What the action targets, made fresh: (thread, message).
    async fn target(&self, who: Who, act: Act) -> (String, String) {
        let own = matches!(act, Act::EditOwn | Act::DeleteOwn | Act::ResolveOwnThread)
            && allowed(who, Act::Open);
        let token = if own {
            &self.tokens[label(who)]
        } else {
            &self.other.token
        };
        let target = self.thread_by(token).await;
        if act == Act::ReopenOthersThread {
            let url = self.server.url(&format!(
                "/api/docs/{}/comments/{}/resolve",
                self.doc, target.0
            ));
            assert_eq!(
                api(Method::POST, &url, &self.other.token, None).await.0,
                200
            );
        }
        target
    }
}

fn http_request(
    doc: &str,
    act: Act,
    (thread, message): &(String, String),
) -> (Method, String, Option<Value>) {
    let base = format!("/api/docs/{doc}/comments");
    let body = Some(json!({"body": "changed"}));
    match act {
        Act::Read => (Method::GET, base, None),
        Act::Open => (
            Method::POST,
            base,
            Some(json!({"start": 1, "end": 3, "body": "new"})),
        ),
        Act::Reply => (Method::POST, format!("{base}/{thread}/replies"), body),
        Act::EditOwn | Act::EditOthers => (Method::PATCH, format!("{base}/{message}"), body),
        Act::DeleteOwn | Act::DeleteOthers => (Method::DELETE, format!("{base}/{message}"), None),
        Act::ResolveOwnThread | Act::ResolveOthersThread => {
            (Method::POST, format!("{base}/{thread}/resolve"), None)
        }
        Act::ReopenOthersThread => (Method::POST, format!("{base}/{thread}/reopen"), None),
    }
}

fn ws_frame(act: Act, (thread, message): &(String, String), rev: u64) -> Option<Value> {
    Some(match act {
        Act::Read => return None,
        Act::Open => {
            json!({"t": "comment_new", "ref": "m", "rev": rev, "start": 1, "end": 3, "body": "new"})
        }
        Act::Reply => {
            json!({"t": "comment_reply", "ref": "m", "thread": thread, "body": "changed"})
        }
        Act::EditOwn | Act::EditOthers => {
            json!({"t": "comment_edit", "ref": "m", "message": message, "body": "changed"})
        }
        Act::DeleteOwn | Act::DeleteOthers => {
            json!({"t": "comment_delete", "ref": "m", "message": message})
        }
        Act::ResolveOwnThread | Act::ResolveOthersThread => {
            json!({"t": "comment_resolve", "ref": "m", "thread": thread})
        }
        Act::ReopenOthersThread => json!({"t": "comment_reopen", "ref": "m", "thread": thread}),
    })
}

#[tokio::test]
async fn every_comment_action_by_every_role_over_http() {
    let cast = cast().await;
    for act in ACTS {
        for who in EVERYONE {
            let target = cast.target(who, act).await;
            let before = cast.listing().await;
            let (method, path, body) = http_request(&cast.doc, act, &target);
            let (status, answer) = api(
                method,
                &cast.server.url(&path),
                &cast.tokens[label(who)],
                body,
            )
            .await;
            let cell = format!("{who:?} {act:?} over HTTP: {status} {answer}");
            let after = cast.listing().await;
            match (who, allowed(who, act)) {
                (Who::Stranger, _) => assert_eq!(status, 404, "{cell}"),
                (Who::SignedOut, _) => assert_eq!(status, 401, "{cell}"),
                (_, true) => {
                    assert!(matches!(status, 200 | 201), "{cell}");
                    assert!(
                        act == Act::Read || before != after,
                        "{cell}: nothing changed"
                    );
                }
                (_, false) => {
                    assert_eq!(status, 403, "{cell}");
                    assert_eq!(answer["error"]["code"], "forbidden", "{cell}");
                }
            }
            if !allowed(who, act) || act == Act::Read {
                assert_eq!(before, after, "{cell}: a refusal changes nothing");
            }
        }
    }
    cast.server.stop().await;
}

#[tokio::test]
async fn every_comment_action_by_every_role_over_the_websocket() {
    let cast = cast().await;
    let addr = cast.server.addr.to_string();
    for who in EVERYONE {
        let token = &cast.tokens[label(who)];
        if matches!(who, Who::Stranger | Who::SignedOut) {
            assert!(
                crate::hub_client::try_connect(&addr, &cast.doc, token)
                    .await
                    .is_none(),
                "{who:?}: the upgrade is refused (404 or 401)"
            );
            continue;
        }
        let mut socket = TestSocket::connect(&addr, &cast.doc, token).await;
        socket
            .send(json!({"t": "hello", "proto": 1, "client": client_id("m"), "rev": null, "comments": true}))
            .await;
        let rev = socket.recv_kind("welcome").await["head"]
            .as_u64()
            .expect("head");
        let listing = socket.recv_kind("comments").await;
        assert!(
            listing["threads"].is_array(),
            "{who:?} reads comments: {listing}"
        );
        for act in ACTS {
            let target = cast.target(who, act).await;
            let Some(frame) = ws_frame(act, &target, rev) else {
                continue;
            };
            let before = cast.listing().await;
            socket.send(frame).await;
            let answer = loop {
                let frame = socket.recv().await;
                if frame["ref"] == "m" {
                    break frame;
                }
            };
            let cell = format!("{who:?} {act:?} over the WebSocket: {answer}");
            let after = cast.listing().await;
            if allowed(who, act) {
                assert_eq!(answer["t"], "comment", "{cell}");
                assert_ne!(before, after, "{cell}: nothing changed");
            } else {
                assert_eq!(
                    (&answer["t"], &answer["code"]),
                    (&json!("error"), &json!("forbidden")),
                    "{cell}"
                );
                assert_eq!(answer["fatal"], false, "{cell}");
                assert_eq!(before, after, "{cell}: a refusal changes nothing");
            }
        }
    }
    cast.server.stop().await;
}

#[tokio::test]
async fn everyone_with_the_document_open_hears_of_each_change_and_a_deleted_document_takes_its_comments()
 {
    let server = TestServer::start().await;
    let owner = person(&server, "Owner").await;
    let doc = create_doc(&server.base, &owner.token, "live").await;
    let reader = person(&server, "Reader").await;
    share_as(&server.base, &owner.token, &doc, &reader.email, "viewer").await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &reader.token).await;
    socket
        .send(json!({"t": "hello", "proto": 1, "client": client_id("r"), "rev": null, "comments": true}))
        .await;
    socket.recv_kind("comments").await;
    let base = format!("/api/docs/{doc}/comments");
    let (_, created) = api(
        Method::POST,
        &server.url(&base),
        &owner.token,
        Some(json!({"start": 0, "end": 1, "body": "one"})),
    )
    .await;
    let thread = created["thread"]["id"]
        .as_str()
        .expect("thread")
        .to_string();
    let first = created["message"]["id"]
        .as_str()
        .expect("message")
        .to_string();
    let reply_url = server.url(&format!("{base}/{thread}/replies"));
    let (_, replied) = api(
        Method::POST,
        &reply_url,
        &owner.token,
        Some(json!({"body": "two"})),
    )
    .await;
    let second = replied["message"]["id"]
        .as_str()
        .expect("message")
        .to_string();
    let steps: Vec<(Method, String, Option<Value>, &str)> = vec![
        (
            Method::PATCH,
            format!("{base}/{first}"),
            Some(json!({"body": "uno"})),
            "edited",
        ),
        (
            Method::POST,
            format!("{base}/{thread}/resolve"),
            None,
            "resolved",
        ),
        (
            Method::POST,
            format!("{base}/{thread}/reopen"),
            None,
            "reopened",
        ),
        (
            Method::DELETE,
            format!("{base}/{first}"),
            None,
            "message_deleted",
        ),
        (
            Method::DELETE,
            format!("{base}/{second}"),
            None,
            "thread_deleted",
        ),
    ];
    assert_eq!(socket.recv_kind("comment").await["event"], "created");
    assert_eq!(socket.recv_kind("comment").await["event"], "replied");
    for (method, path, body, event) in steps {
        let (status, answer) = api(method, &server.url(&path), &owner.token, body).await;
        assert_eq!(status, 200, "{answer}");
        let heard = socket.recv_kind("comment").await;
        assert_eq!(heard["event"], event, "{heard}");
        assert!(heard.get("ref").is_none(), "a ref goes to its sender only");
    }
    assert_eq!(
        comments(&server, &doc, &owner.token).await["threads"],
        json!([])
    );
    // A thread left behind goes with its document.
    api(
        Method::POST,
        &server.url(&base),
        &owner.token,
        Some(json!({"start": 0, "end": 1, "body": "x"})),
    )
    .await;
    drop(socket);
    let doc_url = server.url(&format!("/api/docs/{doc}"));
    assert_eq!(
        api(Method::DELETE, &doc_url, &owner.token, None).await.0,
        204
    );
    let forever = server.url(&format!("/api/docs/{doc}/forever"));
    assert_eq!(
        api(Method::DELETE, &forever, &owner.token, None).await.0,
        204
    );
    let store = server.store().await;
    assert_eq!(store.comment_threads(&doc).await.expect("threads"), vec![]);
    server.stop().await;
}

#[tokio::test]
async fn restoring_an_older_version_moves_anchors_like_any_edit() {
    let server = TestServer::start().await;
    let owner = person(&server, "Owner").await;
    let doc = create_doc(&server.base, &owner.token, "restore").await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &owner.token).await;
    socket.hello(&client_id("o"), None).await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "Hello world"}]}))
        .await;
    socket.recv_kind("ack").await;
    let versions = server.url(&format!("/api/docs/{doc}/versions"));
    let (status, named) = api(
        Method::POST,
        &versions,
        &owner.token,
        Some(json!({"name": "before"})),
    )
    .await;
    assert_eq!(status, 201, "{named}");
    socket
        .send(json!({"t": "op", "rev": 1, "seq": 2, "op": [{"retain": 11}, {"insert": " and goodbye"}]}))
        .await;
    socket.recv_kind("ack").await;
    let url = server.url(&format!("/api/docs/{doc}/comments"));
    for (start, end) in [(0, 5), (16, 23)] {
        let (status, body) = api(
            Method::POST,
            &url,
            &owner.token,
            Some(json!({"start": start, "end": end, "body": "c"})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let restore = server.url(&format!(
        "/api/docs/{doc}/versions/{}/restore",
        named["id"].as_str().expect("id")
    ));
    assert_eq!(api(Method::POST, &restore, &owner.token, None).await.0, 200);
    let listing = comments(&server, &doc, &owner.token).await;
    let threads = listing["threads"].as_array().expect("threads");
    let by_quote: HashMap<&str, &Value> = threads
        .iter()
        .map(|t| (t["quote"].as_str().expect("quote"), t))
        .collect();
    assert_eq!(
        (
            by_quote["Hello"]["start"].as_u64(),
            by_quote["Hello"]["end"].as_u64()
        ),
        (Some(0), Some(5))
    );
    assert_eq!(by_quote["Hello"]["orphaned"], false);
    assert_eq!(
        by_quote["goodbye"]["orphaned"], true,
        "its text is not in the restored version"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_html_export_can_carry_comments_as_footnotes_and_markdown_leaves_them_out() {
    let server = TestServer::start().await;
    let owner = person(&server, "Owner").await;
    let doc = create_doc(&server.base, &owner.token, "export").await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &owner.token).await;
    socket.hello(&client_id("o"), None).await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "Hello <world>"}]}))
        .await;
    socket.recv_kind("ack").await;
    let url = server.url(&format!("/api/docs/{doc}/comments"));
    let body = json!({"start": 0, "end": 5, "body": "a <b>greeting</b>"});
    assert_eq!(
        api(Method::POST, &url, &owner.token, Some(body)).await.0,
        201
    );
    let export = |query: &str| {
        let url = server.url(&format!("/api/docs/{doc}/content?{query}"));
        let token = owner.token.clone();
        async move {
            crate::support::client()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("export")
                .text()
                .await
                .expect("text")
        }
    };
    let with = export("format=html&comments=1").await;
    assert!(with.contains("Hello[1] &lt;world&gt;"), "{with}");
    assert!(with.contains("<li id=\"comment-1\">"), "{with}");
    assert!(
        with.contains("<strong>Owner</strong>: a &lt;b&gt;greeting&lt;/b&gt;"),
        "{with}"
    );
    let without = export("format=html").await;
    assert!(
        !without.contains("[1]") && !without.contains("comment-1"),
        "{without}"
    );
    let markdown = export("format=markdown&comments=1").await;
    assert!(
        !markdown.contains("greeting") && !markdown.contains("[1]"),
        "{markdown}"
    );
    server.stop().await;
}

/// The hub writes every anchor back at head when the last person leaves (so the log behind it can go), and a
/// restart then needs no op to place them.
async fn anchors_are_written_back_when_the_hub_exits(backend: Backend) {
    let server = TestServer::start_on(backend, &[("history.idle_grace", "1s")]).await;
    let owner = person(&server, "Owner").await;
    let doc = create_doc(&server.base, &owner.token, "exit").await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &owner.token).await;
    socket.hello(&client_id("o"), None).await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "one two three"}]}))
        .await;
    socket.recv_kind("ack").await;
    socket
        .send(
            json!({"t": "comment_new", "ref": "r", "rev": 1, "start": 4, "end": 7, "body": "two?"}),
        )
        .await;
    socket.recv_kind("comment").await;
    for (seq, op) in [
        (2, json!([{"insert": "zero "}])),
        (3, json!([{"retain": 9}, {"insert": "2 "}])),
        (4, json!([{"retain": 5}, {"delete": 4}])),
    ] {
        socket
            .send(json!({"t": "op", "rev": seq - 1, "seq": seq, "op": op}))
            .await;
        socket.recv_kind("ack").await;
    }
    drop(socket);
    let store = server.store().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let stored = loop {
        let thread = store
            .comment_threads(&doc)
            .await
            .expect("threads")
            .remove(0);
        if thread.anchor.rev == 4 {
            break thread.anchor;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the anchor was not written back: {thread:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // "zero 2 two three": the comment is on "two", after the "2 " typed at its start.
    assert_eq!((stored.start, stored.end, stored.orphaned), (7, 10, false));
    let server = server.restart().await;
    let listing = comments(&server, &doc, &owner.token).await;
    assert_eq!(
        (
            &listing["threads"][0]["start"],
            &listing["threads"][0]["end"]
        ),
        (&json!(7), &json!(10))
    );
    server.stop().await;
}
