//! PROTOCOL.md section 3 over a real WebSocket against a real server: every message type and error code, table-driven,
//! with the exact reply asserted and the document (rev and ops) unchanged after every rejected op.
//!
//! `internal` (a storage failure) is not covered: it cannot be triggered without breaking the database underneath a
//! running server, which this harness cannot do safely.

use std::time::Duration;

use futures::SinkExt;
use quire::store::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::{
    hub_client::{TestSocket, client_id},
    hub_convergence::{api_setup, content},
    support::{Backend, TestServer, TestUser},
};

// Every test here runs against SQLite and PostgreSQL.
crate::on_both_backends!(
    table_of_replies_on_the_default_server,
    welcome_ack_and_broadcast,
    too_large_ops_and_documents,
    oversized_message_closes_the_socket,
    a_paste_far_larger_than_the_read_buffer_arrives_whole,
    hello_errors_unauthorized_and_unsupported_proto,
    someone_elses_document_is_not_found,
    viewers_and_commenters_are_forbidden_to_edit_but_receive_ops,
    rate_limited_ops_are_accepted_when_resent_later,
    resume_gets_the_missed_ops_including_its_own,
    resume_from_before_the_retained_log_resets,
    resume_further_behind_than_the_queue_is_long,
    connections_per_user_are_limited,
    a_silent_socket_is_closed_after_the_idle_timeout,
);

/// What a table row sends.
enum Sent {
    Json(Value),
    Text(String),
    Binary,
}

/// The exact reply, `msg` aside (any string).
fn error(code: &str, fatal: bool, seq: Option<u64>) -> Value {
    let mut frame = json!({"t": "error", "code": code, "fatal": fatal});
    if let Some(seq) = seq {
        frame["seq"] = seq.into();
    }
    frame
}

fn ack(seq: u64, rev: u64) -> Value {
    json!({"t": "ack", "seq": seq, "rev": rev})
}

fn op(rev: u64, seq: u64, ops: Value) -> Value {
    json!({"t": "op", "rev": rev, "seq": seq, "op": ops})
}

/// Asserts `actual` equals `expected` exactly, except that an error's `msg` may be any string.
fn assert_reply(case: &str, actual: &Value, expected: &Value) {
    let mut actual = actual.clone();
    if actual["t"] == "error" {
        let msg = actual
            .as_object_mut()
            .and_then(|object| object.remove("msg"));
        assert!(
            msg.as_ref().is_some_and(Value::is_string),
            "{case}: error without a msg string: {actual}"
        );
    }
    assert_eq!(&actual, expected, "{case}: unexpected reply");
}

struct Setup {
    server: TestServer,
    addr: String,
    token: String,
    doc: String,
}

async fn setup(backend: Backend, flags: &[(&str, &str)]) -> Setup {
    let server = TestServer::start_on(backend, flags).await;
    let (token, doc) = api_setup(&server.base).await;
    Setup {
        addr: server.addr.to_string(),
        server,
        token,
        doc,
    }
}

impl Setup {
    async fn content(&self) -> Value {
        content(&self.server.base, &self.doc, &self.token).await
    }

    async fn head(&self) -> u64 {
        self.content().await["rev"].as_u64().expect("rev")
    }

    /// A fresh client that said hello with `rev: null`.
    async fn open(&self, tag: &str) -> (TestSocket, String, Value) {
        let mut socket = TestSocket::connect(&self.addr, &self.doc, &self.token).await;
        let client = client_id(tag);
        let welcome = socket.hello(&client, None).await;
        (socket, client, welcome)
    }

    /// Commits `text` at position 0 through a throwaway client.
    async fn commit_insert(&self, text: &str) -> u64 {
        let (mut socket, _, welcome) = self.open("setup").await;
        let head = welcome["head"].as_u64().expect("head");
        socket.send(op(head, 1, json!([{"insert": text}]))).await;
        assert_reply("setup insert", &socket.recv().await, &ack(1, head));
        head + 1
    }
}

async fn send(socket: &mut TestSocket, sent: &Sent) {
    match sent {
        Sent::Json(value) => socket.send(value.clone()).await,
        Sent::Text(text) => socket.send_text(text).await,
        Sent::Binary => socket
            .ws
            .send(Message::Binary(vec![1, 2, 3].into()))
            .await
            .expect("send binary"),
    }
}

/// Pings with a fresh id and expects the matching pong next: the socket is still open and usable.
async fn assert_usable(case: &str, socket: &mut TestSocket) {
    socket.send(json!({"t": "ping", "id": case})).await;
    let pong = socket.recv_kind("pong").await;
    assert_eq!(
        pong,
        json!({"t": "pong", "id": case}),
        "{case}: after the reply"
    );
}

type Row = (&'static str, fn(u64) -> Vec<(Sent, Value)>);

/// Rows run on the default server against the document "ab\n"; `head` is the head when the row starts. Every row
/// uses a fresh client, so seqs start anew.
fn default_rows() -> Vec<Row> {
    fn bad(ops: Value) -> Vec<(Sent, Value)> {
        // The op's rev is filled in by `with_head`.
        vec![(
            Sent::Json(op(u64::MAX, 4, ops)),
            error("bad_op", false, Some(4)),
        )]
    }
    vec![
        ("retain -1", |_| {
            bad(json!([{"retain": -1}, {"insert": "x"}]))
        }),
        ("retain 1.5", |_| {
            bad(json!([{"retain": 1.5}, {"insert": "x"}]))
        }),
        ("insert and delete in one component", |_| {
            bad(json!([{"insert": "x", "delete": 1}]))
        }),
        ("empty insert", |_| bad(json!([{"insert": ""}]))),
        ("insert with a carriage return", |_| {
            bad(json!([{"insert": "a\rb"}]))
        }),
        ("attribute not on the allow-list", |_| {
            bad(json!([{"insert": "x", "attributes": {"blink": true}}]))
        }),
        ("format the editor does not register", |_| {
            bad(json!([{"insert": "x", "attributes": {"color": "red"}}]))
        }),
        ("embed the editor does not register", |_| {
            bad(json!([{"insert": {"image": "https://example.test/x.png"}}]))
        }),
        ("lone surrogate in insert text", |head| {
            // Written by hand: `JSON.stringify` emits this escape for half an emoji; serde cannot build it.
            let frame =
                format!(r#"{{"t":"op","rev":{head},"seq":4,"op":[{{"insert":"a\ud83db"}}]}}"#);
            vec![(Sent::Text(frame), error("bad_op", false, Some(4)))]
        }),
        ("javascript link", |_| {
            bad(json!([{"insert": "x", "attributes": {"link": "javascript:alert(1)"}}]))
        }),
        ("null attribute on insert", |_| {
            bad(json!([{"insert": "x", "attributes": {"bold": null}}]))
        }),
        ("retain with an object value", |_| {
            bad(json!([{"retain": {"image": "x.png"}}]))
        }),
        ("empty op", |_| bad(json!([]))),
        ("deleting the final newline", |_| {
            bad(json!([{"retain": 2}, {"delete": 1}]))
        }),
        ("retain past the end", |_| {
            bad(json!([{"retain": 10}, {"insert": "x"}]))
        }),
        ("delete past the end", |_| bad(json!([{"delete": 10}]))),
        ("op is acked at head", |head| {
            vec![(
                Sent::Json(op(head, 1, json!([{"insert": "x"}]))),
                ack(1, head),
            )]
        }),
        ("resend of the same seq is a dup", |head| {
            vec![
                (
                    Sent::Json(op(head, 3, json!([{"insert": "y"}]))),
                    ack(3, head),
                ),
                (
                    Sent::Json(op(head, 3, json!([{"insert": "y"}]))),
                    json!({"t": "ack", "seq": 3, "rev": head, "dup": true}),
                ),
            ]
        }),
        ("lower seq is stale", |head| {
            vec![
                (
                    Sent::Json(op(head, 5, json!([{"insert": "z"}]))),
                    ack(5, head),
                ),
                (
                    Sent::Json(op(head + 1, 4, json!([{"insert": "w"}]))),
                    error("stale_seq", false, Some(4)),
                ),
            ]
        }),
        ("rev beyond head", |head| {
            vec![(
                Sent::Json(op(head + 1, 1, json!([{"insert": "x"}]))),
                error("rev_in_future", false, Some(1)),
            )]
        }),
        ("ping with an id", |_| {
            vec![(
                Sent::Json(json!({"t": "ping", "id": 7})),
                json!({"t": "pong", "id": 7}),
            )]
        }),
        ("ping without an id", |_| {
            vec![(Sent::Json(json!({"t": "ping"})), json!({"t": "pong"}))]
        }),
    ]
}

/// Rows after which the server closes the socket.
fn fatal_rows() -> Vec<(&'static str, Sent, Value)> {
    vec![
        (
            "not JSON",
            Sent::Text("not json".into()),
            error("bad_message", true, None),
        ),
        (
            "unknown t",
            Sent::Json(json!({"t": "shout"})),
            error("bad_message", true, None),
        ),
        (
            "wrong field type",
            Sent::Json(json!({"t": "op", "rev": "0", "seq": 1, "op": [{"insert": "x"}]})),
            error("bad_message", true, None),
        ),
        (
            "unknown field",
            Sent::Json(json!({"t": "ping", "id": 1, "extra": true})),
            error("bad_message", true, None),
        ),
        (
            "binary frame",
            Sent::Binary,
            error("bad_message", true, None),
        ),
        (
            "second hello",
            Sent::Json(
                json!({"t": "hello", "proto": 1, "client": client_id("again"), "rev": null}),
            ),
            error("bad_message", true, None),
        ),
    ]
}

fn with_head(sent: Sent, head: u64) -> Sent {
    match sent {
        Sent::Json(mut value) if value["rev"] == json!(u64::MAX) => {
            value["rev"] = head.into();
            Sent::Json(value)
        }
        other => other,
    }
}

async fn table_of_replies_on_the_default_server(backend: Backend) {
    let s = setup(backend, &[]).await;
    s.commit_insert("ab").await;
    for (case, rows) in default_rows() {
        let (mut socket, _, welcome) = s.open("row").await;
        let head = welcome["head"].as_u64().expect("head");
        assert_eq!(head, s.head().await, "{case}: welcome head");
        for (sent, expected) in rows(head) {
            let before = s.content().await;
            send(&mut socket, &with_head(sent, head)).await;
            // The previous row's socket may be leaving just now: its `presence` with `sel: null` is not a reply.
            let mut reply = socket.recv().await;
            while reply["t"] == "presence" && reply["sel"].is_null() {
                reply = socket.recv().await;
            }
            assert_reply(case, &reply, &expected);
            let after = s.content().await;
            match expected["t"].as_str() {
                Some("error") => {
                    assert_eq!(after, before, "{case}: a rejected op changed the document");
                    assert_usable(case, &mut socket).await;
                }
                Some("ack") if expected["dup"] == true => {
                    assert_eq!(after, before, "{case}: a dup wrote something");
                }
                Some("ack") => {
                    let rev = before["rev"].as_u64().expect("rev");
                    assert_eq!(after["rev"], rev + 1, "{case}: an ack without a revision");
                }
                _ => assert_eq!(after, before, "{case}"),
            }
        }
    }
    let (_, text) = (s.head().await, s.content().await);
    // "ab\n" plus the three accepted inserts, each at position 0.
    assert_eq!(text["ops"], json!([{"insert": "zyxab\n"}]));
    for (case, sent, expected) in fatal_rows() {
        let (mut socket, _, _) = s.open("fatal").await;
        let before = s.content().await;
        send(&mut socket, &sent).await;
        let reply = socket.recv().await;
        assert_reply(case, &reply, &expected);
        assert!(
            socket.closed_within(Duration::from_secs(5)).await,
            "{case}: the socket stays open after a fatal error"
        );
        assert_eq!(s.content().await, before, "{case}");
    }
    s.server.stop().await;
}

async fn welcome_ack_and_broadcast(backend: Backend) {
    let s = setup(backend, &[]).await;
    let (mut a, a_client, welcome) = s.open("a").await;
    let keys: Vec<&String> = welcome.as_object().expect("object").keys().collect();
    let mut keys: Vec<&str> = keys.into_iter().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "head", "limits", "proto", "reset", "role", "snapshot", "t", "you"
        ]
    );
    assert_eq!(welcome["proto"], 1);
    assert_eq!(welcome["head"], 0);
    assert_eq!(welcome["role"], "owner");
    assert_eq!(
        welcome["snapshot"],
        json!({"rev": 0, "ops": [{"insert": "\n"}]})
    );
    assert_eq!(welcome["reset"], false);
    let limits = welcome["limits"].as_object().expect("limits object");
    for key in [
        "maxMessageBytes",
        "maxComponents",
        "maxDocLen",
        "maxCatchupOps",
        "opsPerSecond",
        "presencePerSecond",
    ] {
        assert!(
            limits.get(key).is_some_and(Value::is_u64),
            "limits.{key}: {limits:?}"
        );
    }
    assert_eq!(limits["maxComponents"], 10_000);
    assert_eq!(limits["maxDocLen"], 2_000_000);
    assert_eq!(welcome["you"]["client"], a_client.as_str());
    let user = &welcome["you"]["user"];
    assert_eq!(user["name"], "Sim");
    assert!(user["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(user["color"].as_str().is_some_and(|c| c.starts_with('#')));

    let (mut b, _, _) = s.open("b").await;
    a.send(op(0, 1, json!([{"insert": "hi"}]))).await;
    assert_reply("ack", &a.recv().await, &ack(1, 0));
    let relayed = b.recv().await;
    assert_eq!(
        relayed,
        json!({"t": "op", "rev": 0, "op": [{"insert": "hi"}], "client": a_client, "seq": 1, "user": user})
    );
    // The author does not get its own op live.
    assert_eq!(a.recv_within(Duration::from_millis(300)).await, None);
    assert_eq!(
        s.content().await,
        json!({"rev": 1, "ops": [{"insert": "hi\n"}]})
    );
    s.server.stop().await;
}

async fn too_large_ops_and_documents(backend: Backend) {
    let s = setup(
        backend,
        &[("limits.max_components", "5"), ("limits.max_doc_len", "20")],
    )
    .await;
    let (mut a, _, _) = s.open("a").await;
    a.send(op(0, 1, json!([{"insert": "abcdefgh"}]))).await;
    assert_reply("setup", &a.recv().await, &ack(1, 0));
    // Five components are fine.
    let five =
        json!([{"retain": 1}, {"insert": "x"}, {"retain": 1}, {"insert": "y"}, {"delete": 1}]);
    a.send(op(1, 2, five)).await;
    assert_reply("five components", &a.recv().await, &ack(2, 1));
    let before = s.content().await;
    assert_eq!(before["ops"], json!([{"insert": "axbydefgh\n"}]));
    let six = json!([{"retain": 1}, {"insert": "x"}, {"retain": 1}, {"insert": "y"}, {"retain": 1}, {"insert": "z"}]);
    a.send(op(2, 3, six)).await;
    assert_reply(
        "six components",
        &a.recv().await,
        &error("too_large", false, Some(3)),
    );
    assert_eq!(s.content().await, before);
    assert_usable("six components", &mut a).await;
    // 10 units now; 10 more reach the limit of 20 exactly, one more exceeds it.
    a.send(op(2, 4, json!([{"insert": "1234567890"}]))).await;
    assert_reply("up to the limit", &a.recv().await, &ack(4, 2));
    let before = s.content().await;
    a.send(op(3, 5, json!([{"insert": "!"}]))).await;
    assert_reply(
        "over the document limit",
        &a.recv().await,
        &error("too_large", false, Some(5)),
    );
    assert_eq!(s.content().await, before);
    assert_usable("over the document limit", &mut a).await;
    s.server.stop().await;
}

async fn oversized_message_closes_the_socket(backend: Backend) {
    let s = setup(backend, &[("limits.max_message_bytes", "1000")]).await;
    let (mut a, _, _) = s.open("a").await;
    let before = s.content().await;
    a.send(op(0, 1, json!([{"insert": "x".repeat(5000)}])))
        .await;
    assert!(
        a.closed_within(Duration::from_secs(5)).await,
        "a 5000-byte message over a 1000-byte limit left the socket open"
    );
    assert_eq!(s.content().await, before);
    // Just under the limit is fine.
    let (mut b, _, _) = s.open("b").await;
    b.send(op(0, 1, json!([{"insert": "x".repeat(900)}]))).await;
    assert_reply("under the limit", &b.recv().await, &ack(1, 0));
    s.server.stop().await;
}

/// The server reads sockets through a 1 KiB buffer (to keep idle connections small): a paste hundreds of
/// times larger must still arrive whole, be acked and reach the others.
async fn a_paste_far_larger_than_the_read_buffer_arrives_whole(backend: Backend) {
    let s = setup(backend, &[]).await;
    let (mut a, _, _) = s.open("a").await;
    let (mut b, _, _) = s.open("b").await;
    let paste: String = (0..300_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    a.send(op(0, 1, json!([{"insert": paste}]))).await;
    assert_reply("paste", &a.recv().await, &ack(1, 0));
    let relayed = b.recv().await;
    assert_eq!(relayed["op"], json!([{"insert": paste}]));
    let content = s.content().await;
    assert_eq!(content["ops"][0]["insert"], format!("{paste}\n"));
    s.server.stop().await;
}

async fn hello_errors_unauthorized_and_unsupported_proto(backend: Backend) {
    let s = setup(backend, &[]).await;
    // No credentials: the upgrade happens, then `unauthorized` and the close.
    let (ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/docs/{}/ws", s.addr, s.doc))
            .await
            .expect("the upgrade itself succeeds without credentials");
    let mut anonymous = TestSocket { ws };
    assert_reply(
        "no credentials",
        &anonymous.recv().await,
        &error("unauthorized", true, None),
    );
    assert!(anonymous.closed_within(Duration::from_secs(5)).await);
    // Protocol 2.
    let mut socket = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
    socket
        .send(json!({"t": "hello", "proto": 2, "client": client_id("p2"), "rev": null}))
        .await;
    assert_reply(
        "proto 2",
        &socket.recv().await,
        &error("unsupported_proto", true, None),
    );
    assert!(socket.closed_within(Duration::from_secs(5)).await);
    // Something other than hello first.
    let mut socket = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
    socket.send(op(0, 1, json!([{"insert": "x"}]))).await;
    assert_reply(
        "op before hello",
        &socket.recv().await,
        &error("bad_message", true, None),
    );
    assert!(socket.closed_within(Duration::from_secs(5)).await);
    assert_eq!(
        s.content().await,
        json!({"rev": 0, "ops": [{"insert": "\n"}]})
    );
    s.server.stop().await;
}

async fn someone_elses_document_is_not_found(backend: Backend) {
    let s = setup(backend, &[]).await;
    let stranger = TestUser::signup(&s.server, "Stranger").await;
    let token = stranger.api_token(&s.server).await;
    let meta = reqwest::Client::new()
        .get(s.server.url(&format!("/api/docs/{}", s.doc)))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET doc");
    assert_eq!(meta.status(), 404);
    let own = reqwest::Client::new()
        .get(s.server.url(&format!("/api/docs/{}", s.doc)))
        .bearer_auth(&s.token)
        .send()
        .await
        .expect("GET doc");
    assert_eq!(own.status(), 200);
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{}/api/docs/{}/ws",
        s.addr, s.doc
    ))
    .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 404),
        Err(other) => panic!("expected an HTTP 404, got {other}"),
        Ok(_) => panic!("a stranger opened a WebSocket on someone else's document"),
    }
    s.server.stop().await;
}

async fn viewers_and_commenters_are_forbidden_to_edit_but_receive_ops(backend: Backend) {
    let s = setup(backend, &[]).await;
    let (mut owner, owner_client, _) = s.open("owner").await;
    let store = s.server.store().await;
    for (n, role, name) in [
        (1u64, Role::Viewer, "viewer"),
        (2, Role::Commenter, "commenter"),
    ] {
        let user = TestUser::signup(&s.server, name).await;
        let token = user.api_token(&s.server).await;
        store
            .set_member(&s.doc, &user.id, role)
            .await
            .expect("set member");
        let mut socket = TestSocket::connect(&s.addr, &s.doc, &token).await;
        let welcome = socket.hello(&client_id(name), None).await;
        assert_eq!(welcome["role"], name);
        let head = welcome["head"].as_u64().expect("head");
        let before = s.content().await;
        socket.send(op(head, 1, json!([{"insert": "no"}]))).await;
        assert_reply(
            name,
            &socket.recv().await,
            &error("forbidden", false, Some(1)),
        );
        assert_eq!(s.content().await, before, "{name} changed the document");
        assert_usable(name, &mut socket).await;
        owner.send(op(head, n, json!([{"insert": "o"}]))).await;
        // The owner may first see the previous member leave (presence with sel null).
        assert_reply(name, &owner.recv_kind("ack").await, &ack(n, head));
        let relayed = socket.recv().await;
        assert_eq!(relayed["t"], "op", "{name}: {relayed}");
        assert_eq!(relayed["client"], owner_client.as_str());
        assert_eq!(relayed["rev"], head);
    }
    s.server.stop().await;
}

async fn rate_limited_ops_are_accepted_when_resent_later(backend: Backend) {
    let s = setup(
        backend,
        &[
            ("limits.ops_per_second", "1"),
            ("limits.ops_burst", "2"),
            ("limits.presence_per_second", "1"),
            ("limits.presence_burst", "1"),
        ],
    )
    .await;
    let (mut a, _, _) = s.open("a").await;
    a.send(op(0, 1, json!([{"insert": "a"}]))).await;
    a.send(op(1, 2, json!([{"insert": "b"}]))).await;
    a.send(op(2, 3, json!([{"insert": "c"}]))).await;
    // The refusal comes from the connection task, the acks from the hub: only the set of replies is fixed.
    let mut replies = Vec::new();
    for _ in 0..3 {
        let mut reply = a.recv().await;
        if let Some(object) = reply.as_object_mut() {
            object.remove("msg");
        }
        replies.push(reply);
    }
    replies.sort_by_key(|reply| reply["seq"].as_u64());
    assert_eq!(
        replies,
        vec![ack(1, 0), ack(2, 1), error("rate_limited", false, Some(3))]
    );
    assert_eq!(
        s.content().await,
        json!({"rev": 2, "ops": [{"insert": "ba\n"}]})
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    a.send(op(2, 3, json!([{"insert": "c"}]))).await;
    assert_reply("resent", &a.recv().await, &ack(3, 2));
    // Presence has its own budget: the second quick update is refused (no seq), the first was relayed.
    let (mut b, _, _) = s.open("b").await;
    let sel = json!({"index": 0, "length": 1});
    a.send(json!({"t": "presence", "rev": 3, "sel": sel})).await;
    a.send(json!({"t": "presence", "rev": 3, "sel": sel})).await;
    assert_reply(
        "second presence",
        &a.recv().await,
        &error("rate_limited", false, None),
    );
    let relayed = b.recv().await;
    assert_eq!((&relayed["t"], &relayed["sel"]), (&json!("presence"), &sel));
    assert_eq!(b.recv_within(Duration::from_millis(300)).await, None);
    assert_usable("presence rate limit", &mut a).await;
    assert_eq!(
        s.content().await,
        json!({"rev": 3, "ops": [{"insert": "cba\n"}]})
    );
    s.server.stop().await;
}

async fn resume_gets_the_missed_ops_including_its_own(backend: Backend) {
    let s = setup(backend, &[]).await;
    let (mut b, b_client, _) = s.open("b").await;
    let a_client = client_id("a");
    let mut a = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
    a.hello(&a_client, None).await;
    a.send(op(0, 1, json!([{"insert": "1"}]))).await;
    assert_reply("a1", &a.recv().await, &ack(1, 0));
    assert_eq!(b.recv().await["rev"], 0);
    // A's second op is committed, but A goes away before reading the ack.
    a.send(op(1, 2, json!([{"insert": "2"}]))).await;
    let seen = b.recv().await;
    assert_eq!(
        (&seen["client"], &seen["seq"]),
        (&json!(a_client), &json!(2))
    );
    drop(a);
    b.send(op(2, 1, json!([{"insert": "x"}]))).await;
    assert_reply("b1", &b.recv_kind("ack").await, &ack(1, 2));
    b.send(op(3, 2, json!([{"insert": "y"}]))).await;
    assert_reply("b2", &b.recv_kind("ack").await, &ack(2, 3));

    let mut a = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
    let welcome = a.hello(&a_client, Some(1)).await;
    assert_eq!(welcome["snapshot"], Value::Null);
    assert_eq!(welcome["reset"], false);
    assert_eq!(welcome["head"], 4);
    let missed: Vec<(Value, Value, Value, Value)> = {
        let mut frames = Vec::new();
        for i in 0..3 {
            let frame = a.recv().await;
            assert_eq!(frame["t"], "op", "{frame}");
            if i == 0 {
                // The hub rebuilds catch-up frames from its window: the same frame B saw live, author included.
                assert_eq!(frame, seen);
            }
            frames.push((
                frame["rev"].clone(),
                frame["client"].clone(),
                frame["seq"].clone(),
                frame["op"].clone(),
            ));
        }
        frames
    };
    assert_eq!(
        missed,
        vec![
            (
                json!(1),
                json!(a_client),
                json!(2),
                json!([{"insert": "2"}])
            ),
            (
                json!(2),
                json!(b_client),
                json!(1),
                json!([{"insert": "x"}])
            ),
            (
                json!(3),
                json!(b_client),
                json!(2),
                json!([{"insert": "y"}])
            ),
        ]
    );
    assert_eq!(a.recv_within(Duration::from_millis(300)).await, None);
    // Resending the op the catch-up acknowledged is a dup at its original revision.
    let before = s.content().await;
    a.send(op(1, 2, json!([{"insert": "2"}]))).await;
    assert_reply(
        "resent",
        &a.recv().await,
        &json!({"t": "ack", "seq": 2, "rev": 1, "dup": true}),
    );
    assert_eq!(s.content().await, before);
    assert_eq!(before["ops"], json!([{"insert": "yx21\n"}]));
    s.server.stop().await;
}

async fn resume_from_before_the_retained_log_resets(backend: Backend) {
    let s = setup(backend, &[("limits.max_catchup_ops", "3")]).await;
    let (mut a, a_client, _) = s.open("a").await;
    for seq in 1..=5u64 {
        a.send(op(seq - 1, seq, json!([{"insert": seq.to_string()}])))
            .await;
        assert_reply("commit", &a.recv().await, &ack(seq, seq - 1));
    }
    let current = s.content().await;
    assert_eq!(current, json!({"rev": 5, "ops": [{"insert": "54321\n"}]}));
    // Based on a revision no longer retained: rev_too_old, nothing written.
    a.send(op(0, 6, json!([{"insert": "z"}]))).await;
    assert_reply(
        "old base",
        &a.recv().await,
        &error("rev_too_old", false, Some(6)),
    );
    assert_eq!(s.content().await, current);
    let mut late = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
    let welcome = late.hello(&client_id("late"), Some(0)).await;
    assert_eq!(welcome["reset"], true);
    assert_eq!(welcome["head"], 5);
    assert_eq!(welcome["snapshot"], current);
    assert_eq!(late.recv_within(Duration::from_millis(300)).await, None);
    // Within the window: the catch-up, no snapshot.
    let mut recent = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
    let welcome = recent.hello(&a_client, Some(4)).await;
    assert_eq!(welcome["reset"], false);
    assert_eq!(welcome["snapshot"], Value::Null);
    let frame = recent.recv().await;
    assert_eq!(
        (&frame["t"], &frame["rev"], &frame["seq"]),
        (&json!("op"), &json!(4), &json!(5))
    );
    s.server.stop().await;
}

/// A client that comes back further behind than its outbound queue is long still resumes: the catch-up does not
/// go through the queue (issue 17, defect 1: it used to be closed and retry forever).
async fn resume_further_behind_than_the_queue_is_long(backend: Backend) {
    let s = setup(
        backend,
        &[("limits.outbound_queue", "4"), ("limits.ops_burst", "200")],
    )
    .await;
    let (mut a, a_client, _) = s.open("a").await;
    for seq in 1..=40u64 {
        a.send(op(seq - 1, seq, json!([{"insert": "x"}]))).await;
        assert_reply("commit", &a.recv().await, &ack(seq, seq - 1));
    }
    drop(a);
    let mut back = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
    let welcome = back.hello(&a_client, Some(3)).await;
    assert_eq!(
        (&welcome["reset"], &welcome["head"]),
        (&json!(false), &json!(40))
    );
    for rev in 3..40u64 {
        let frame = back.recv().await;
        assert_eq!(
            (&frame["t"], &frame["rev"], &frame["seq"]),
            (&json!("op"), &json!(rev), &json!(rev + 1)),
            "catch-up frame {rev}"
        );
    }
    // And the session is live: its next op is acked.
    back.send(op(40, 41, json!([{"insert": "y"}]))).await;
    assert_reply("after catch-up", &back.recv().await, &ack(41, 40));
    s.server.stop().await;
}

/// `limits.max_connections_per_user` holds (issue 17, defect 3): one more socket is told why and closed, and a
/// place freed by a closed socket can be taken again.
async fn connections_per_user_are_limited(backend: Backend) {
    let s = setup(backend, &[("limits.max_connections_per_user", "2")]).await;
    let (first, _, _) = s.open("one").await;
    let (_second, _, _) = s.open("two").await;
    let mut third = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
    let refused = third.recv().await;
    assert_eq!(
        (&refused["t"], &refused["code"]),
        (&json!("error"), &json!("rate_limited")),
        "{refused}"
    );
    assert!(third.closed_within(Duration::from_secs(2)).await);
    drop(first);
    // The server notices the closed socket shortly after; then the place is free again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut again = TestSocket::connect(&s.addr, &s.doc, &s.token).await;
        again
            .send(json!({"t": "hello", "proto": 1, "client": client_id("again"), "rev": null}))
            .await;
        if again.recv().await["t"] == "welcome" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.server.stop().await;
}

/// A socket that sends nothing for `limits.idle_timeout` is closed; one that pings stays (issue 17, defect 3).
async fn a_silent_socket_is_closed_after_the_idle_timeout(backend: Backend) {
    let s = setup(backend, &[("limits.idle_timeout", "1s")]).await;
    let (mut silent, _, _) = s.open("silent").await;
    let (mut pinging, _, _) = s.open("pinging").await;
    for id in 0..6 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        pinging.send(json!({"t": "ping", "id": id})).await;
        assert_eq!(pinging.recv_kind("pong").await["id"], id);
    }
    assert!(
        silent.closed_within(Duration::from_millis(500)).await,
        "still open after 2.3 s of silence"
    );
    s.server.stop().await;
}
