//! Suggestion mode (issue 14, docs/protocol-notes.md) over real sockets: a commenter's suggestions are committed and
//! seen by others while anything else from them is refused; nobody can sign a mark with someone else's id; an editor
//! accepts and rejects, alone and while others type, and everyone (and the database) agrees; exports leave pending
//! suggestions out; restoring a version with suggestions keeps the log a faithful history; and who may suggest,
//! accept and reject, by role.

use quire::ot::Delta;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    cluster_client::{account, api, content_delta_at, create_doc, share_as},
    hub_client::{SimClient, TestSocket, client_id, delta},
    support::{Backend, TestServer, TestUser},
};

/// The log is kept whole (nothing pruned), so it can be replayed from the start.
const FLAGS: [(&str, &str); 4] = [
    ("limits.ops_per_second", "100000"),
    ("limits.ops_burst", "100000"),
    ("history.keep_ops", "100000"),
    ("history.compact_every_ops", "100000"),
];

/// One person's socket with the protocol's client state machine.
struct Peer {
    socket: TestSocket,
    sim: SimClient,
    id: String,
}

impl Peer {
    async fn join(server: &TestServer, doc: &str, token: &str) -> Peer {
        let mut socket = TestSocket::connect(&server.addr.to_string(), doc, token).await;
        let mut sim = SimClient::new(client_id("s"));
        let welcome = socket.hello(&sim.client.clone(), None).await;
        sim.receive(&welcome);
        let id = welcome["you"]["user"]["id"]
            .as_str()
            .expect("welcome names me")
            .to_string();
        Peer { socket, sim, id }
    }

    /// Reads frames until this client has seen every op up to `head` and has nothing in flight.
    async fn settle(&mut self, head: u64) {
        while self.sim.rev < head || self.sim.has_pending() {
            let frame = self.socket.recv().await;
            for reply in self.sim.receive(&frame) {
                self.socket.send(reply).await;
            }
        }
        assert!(self.sim.problems.is_empty(), "{:?}", self.sim.problems);
    }

    /// Sends `op` on the current head (nothing else may be in flight) and returns the answer: `ack` or `error`.
    /// An acked op is applied to this client's document.
    async fn attempt(&mut self, op: Value) -> Value {
        let seq = self.sim.next_seq;
        self.sim.next_seq += 1;
        let rev = self.sim.rev;
        self.socket
            .send(json!({"t": "op", "rev": rev, "seq": seq, "op": op}))
            .await;
        loop {
            let frame = self.socket.recv().await;
            let mine = frame["seq"] == seq;
            match frame["t"].as_str() {
                Some("ack") if mine => {
                    self.sim.doc = self.sim.doc.compose(&delta(&op));
                    self.sim.rev = rev + 1;
                    self.sim.acked.insert(seq);
                    return frame;
                }
                Some("error") if mine => return frame,
                _ => {
                    self.sim.receive(&frame);
                }
            }
        }
    }

    /// A local edit through the client state machine (concurrent with others).
    async fn edit(&mut self, op: Value) {
        if let Some(frame) = self.sim.edit(delta(&op)) {
            self.socket.send(frame).await;
        }
    }
}

fn ins(text: &str, by: &str, id: &str) -> Value {
    json!({"insert": text, "attributes": {"suggest-insert": {"id": id, "by": by}}})
}

fn del_mark(count: u64, by: &str, id: &str) -> Value {
    json!({"retain": count, "attributes": {"suggest-delete": {"id": id, "by": by}}})
}

struct Cast {
    server: TestServer,
    doc: String,
    owner: String,
    editor: String,
    commenter: String,
    viewer: String,
}

/// A document reading "The quick fox\n", with an editor, a commenter and a viewer.
async fn cast(backend: Backend) -> Cast {
    let server = TestServer::start_on(backend, &FLAGS).await;
    let (owner, _) = account(&server.base, "Owner").await;
    let doc = create_doc(&server.base, &owner, "suggestions").await;
    let mut tokens = Vec::new();
    for (name, role) in [
        ("Editor", "editor"),
        ("Commenter", "commenter"),
        ("Viewer", "viewer"),
    ] {
        let (token, email) = account(&server.base, name).await;
        share_as(&server.base, &owner, &doc, &email, role).await;
        tokens.push(token);
    }
    let mut setup = Peer::join(&server, &doc, &owner).await;
    let answer = setup.attempt(json!([{"insert": "The quick fox"}])).await;
    assert_eq!(answer["t"], "ack", "{answer}");
    let [editor, commenter, viewer] = <[String; 3]>::try_from(tokens).expect("three");
    Cast {
        server,
        doc,
        owner,
        editor,
        commenter,
        viewer,
    }
}

impl Cast {
    async fn join(&self, token: &str) -> Peer {
        Peer::join(&self.server, &self.doc, token).await
    }

    async fn stored(&self) -> (Delta, u64) {
        content_delta_at(&self.server.base, &self.doc, &self.owner).await
    }

    async fn export(&self, format: &str) -> String {
        let response = crate::support::client()
            .get(
                self.server
                    .url(&format!("/api/docs/{}/content?format={format}", self.doc)),
            )
            .bearer_auth(&self.owner)
            .send()
            .await
            .expect("export");
        assert_eq!(response.status(), 200);
        response.text().await.expect("text")
    }
}

crate::on_both_backends!(a_commenters_suggestions_are_committed_and_anything_else_is_refused);

async fn a_commenters_suggestions_are_committed_and_anything_else_is_refused(backend: Backend) {
    let cast = cast(backend).await;
    let mut commenter = cast.join(&cast.commenter).await;
    let mut editor = cast.join(&cast.editor).await;
    let me = commenter.id.clone();

    // Suggest "very " before "quick" and the deletion of "fox": committed, and the editor sees both.
    let suggestion =
        json!([{"retain": 4}, ins("very ", &me, "c1"), {"retain": 6}, del_mark(3, &me, "c2")]);
    let answer = commenter.attempt(suggestion.clone()).await;
    assert_eq!(answer["t"], "ack", "{answer}");
    let seen = editor.socket.recv_kind("op").await;
    assert_eq!(delta(&seen["op"]), delta(&suggestion), "{seen}");
    editor.sim.receive(&seen);
    // Removing part of their own pending insertion really deletes it.
    let answer = commenter
        .attempt(json!([{"retain": 4}, {"delete": 1}]))
        .await;
    assert_eq!(answer["t"], "ack", "{answer}");
    let (before, head) = cast.stored().await;
    editor.settle(head).await;
    assert_eq!(before.text(), "The ery quick fox\n");

    // Anything that is not their own suggestion is refused and changes nothing.
    let other = editor.attempt(json!([ins("E", &editor.id, "e1")])).await;
    assert_eq!(other["t"], "ack", "{other}");
    let (before, head) = cast.stored().await;
    commenter.settle(head).await;
    let refused = [
        json!([{"insert": "plain"}]),
        json!([{"delete": 1}]),
        json!([{"retain": 2}, {"delete": 2}]),
        json!([{"retain": 2, "attributes": {"bold": true}}]),
        json!([{"retain": 1, "attributes": {"suggest-delete": {"id": "x", "by": me}, "italic": true}}]),
        // Deleting the editor's suggestion, or half of one's own and half of the text around it.
        json!([{"delete": 1}]),
        json!([{"retain": 7}, {"delete": 4}]),
        // Clearing a mark is accepting or rejecting: editors only (withdrawing one's own deletion aside, below).
        json!([{"retain": 5}, {"retain": 3, "attributes": {"suggest-insert": null}}]),
        json!([{"retain": 14}, {"retain": 4, "attributes": {"suggest-delete": null}}]),
        // An insertion signed with the editor's id.
        json!([ins("forged", &editor.id, "f1")]),
    ];
    for op in refused {
        let answer = commenter.attempt(op.clone()).await;
        assert_eq!(answer["t"], "error", "{op} was not refused: {answer}");
        assert_eq!(answer["code"], "forbidden", "{op}: {answer}");
        assert_eq!(answer["fatal"], false, "{answer}");
    }
    assert_eq!(
        cast.stored().await,
        (before, head),
        "a refusal changed nothing"
    );
    // Withdrawing their own suggested deletion (an undo) is theirs to do.
    let answer = commenter
        .attempt(json!([{"retain": 15}, {"retain": 3, "attributes": {"suggest-delete": null}}]))
        .await;
    assert_eq!(answer["t"], "ack", "{answer}");
    let (_, head) = cast.stored().await;

    // A viewer cannot even suggest.
    let mut viewer = cast.join(&cast.viewer).await;
    let answer = viewer.attempt(json!([ins("v", &viewer.id, "v1")])).await;
    assert_eq!(answer["code"], "forbidden", "{answer}");
    assert_eq!(cast.stored().await.1, head);
    cast.server.stop().await;
}

#[tokio::test]
async fn nobody_can_sign_a_mark_with_someone_elses_id() {
    let cast = cast(Backend::Sqlite).await;
    let mut owner = cast.join(&cast.owner).await;
    let mut editor = cast.join(&cast.editor).await;
    let mut commenter = cast.join(&cast.commenter).await;
    let victim = commenter.id.clone();
    let (before, head) = cast.stored().await;
    for peer in [&mut owner, &mut editor] {
        peer.settle(head).await;
        for op in [
            json!([ins("x", &victim, "f1")]),
            json!([del_mark(3, &victim, "f2")]),
            json!([{"insert": "y", "attributes": {"suggest-delete": {"id": "f3", "by": victim}}}]),
        ] {
            let answer = peer.attempt(op.clone()).await;
            assert_eq!(answer["code"], "forbidden", "{op}: {answer}");
        }
        // A malformed mark is not an op at all.
        for bad in [
            json!({"id": "", "by": peer.id}),
            json!({"id": "no spaces", "by": peer.id}),
            json!({"by": peer.id}),
            json!("s1:someone"),
        ] {
            let answer = peer
                .attempt(json!([{"insert": "z", "attributes": {"suggest-insert": bad}}]))
                .await;
            assert_eq!(answer["t"], "error", "{answer}");
        }
    }
    let answer = commenter.attempt(json!([ins("x", &editor.id, "f4")])).await;
    assert_eq!(answer["code"], "forbidden", "{answer}");
    assert_eq!(cast.stored().await, (before, head), "nothing changed");
    cast.server.stop().await;
}

/// The accept and reject ops a browser builds (web/src/editor/suggest-ops.js), written out for the test.
fn resolve(doc: &Delta, id: &str, accept: bool) -> Value {
    let (keep, drop) = if accept {
        ("suggest-insert", "suggest-delete")
    } else {
        ("suggest-delete", "suggest-insert")
    };
    let mut op = Delta::new();
    for run in doc.ops() {
        let marked = |key: &str| {
            run.attributes()
                .and_then(|a| a.get(key))
                .is_some_and(|m| m["id"] == id)
        };
        let len = run.len();
        if marked(drop) {
            op = op.delete(len);
        } else if marked(keep) {
            let mut clear = serde_json::Map::new();
            clear.insert(keep.into(), Value::Null);
            op = op.retain(len, Some(clear));
        } else {
            op = op.retain(len, None);
        }
    }
    serde_json::to_value(op.chopped()).expect("json")
}

crate::on_both_backends!(an_editor_accepts_and_rejects_alone_and_while_others_type);

async fn an_editor_accepts_and_rejects_alone_and_while_others_type(backend: Backend) {
    let cast = cast(backend).await;
    let mut commenter = cast.join(&cast.commenter).await;
    let mut editor = cast.join(&cast.editor).await;
    let mut owner = cast.join(&cast.owner).await;
    let c = commenter.id.clone();
    // "The quick fox": suggest "very " (s1), "brown " (s2), and deleting "The " (s3) and "fox" (s4).
    let answer = commenter
        .attempt(json!([
            del_mark(4, &c, "s3"),
            ins("very ", &c, "s1"),
            {"retain": 6},
            ins("brown ", &c, "s2"),
            del_mark(3, &c, "s4")
        ]))
        .await;
    assert_eq!(answer["t"], "ack", "{answer}");
    let (doc, head) = cast.stored().await;
    assert_eq!(doc.text(), "The very quick brown fox\n");
    editor.settle(head).await;
    owner.settle(head).await;

    // Alone: the editor accepts s1 and rejects s3.
    for (id, accept) in [("s1", true), ("s3", false)] {
        let op = resolve(&editor.sim.doc, id, accept);
        let answer = editor.attempt(op).await;
        assert_eq!(answer["t"], "ack", "{answer}");
    }
    let (doc, head) = cast.stored().await;
    assert_eq!(doc.text(), "The very quick brown fox\n");
    let marks = |doc: &Delta| -> Vec<String> {
        doc.ops()
            .iter()
            .filter_map(|op| op.attributes())
            .flat_map(|a| {
                a.values()
                    .filter_map(|m| m["id"].as_str().map(String::from))
            })
            .collect()
    };
    assert_eq!(marks(&doc), ["s2", "s4"], "{doc:?}");

    // While others type: the editor accepts s2 and the owner rejects s4 on the same revision as the commenter
    // suggests more inside s2 and the owner types plain text after it.
    owner.settle(head).await;
    commenter.settle(head).await;
    let accept = resolve(&editor.sim.doc, "s2", true);
    let reject = resolve(&owner.sim.doc, "s4", false);
    editor.edit(accept).await;
    owner.edit(reject).await;
    commenter
        .edit(json!([{"retain": 17}, ins("dark ", &c, "s5")]))
        .await;
    owner.edit(json!([{"retain": 24}, {"insert": "!"}])).await;
    let mut peers = [editor, owner, commenter];
    // Each settles its own ops first; then all catch up to the final head.
    for peer in peers.iter_mut() {
        let rev = peer.sim.rev;
        peer.settle(rev).await;
    }
    let (stored, head) = cast.stored().await;
    for peer in peers.iter_mut() {
        peer.settle(head).await;
        assert_eq!(peer.sim.doc, stored, "a client differs from the database");
    }
    assert_eq!(
        stored.text(),
        "The very quick brdark own fox!\n",
        "{stored:?}"
    );
    assert_eq!(marks(&stored), ["s5"]);
    let store = cast.server.store().await;
    let (_, loaded) = quire::hub::load_content(&store, &cast.doc)
        .await
        .expect("load");
    assert_eq!(loaded, stored, "reloaded from the database");
    cast.server.stop().await;
}

#[tokio::test]
async fn exports_leave_pending_suggestions_out() {
    let cast = cast(Backend::Sqlite).await;
    let mut editor = cast.join(&cast.editor).await;
    let e = editor.id.clone();
    let (_, head) = cast.stored().await;
    editor.settle(head).await;
    let answer = editor
        .attempt(json!([
            {"retain": 4},
            del_mark(6, &e, "d1"),
            {"retain": 3},
            {"insert": " jumped", "attributes": {"suggest-insert": {"id": "i1", "by": e}, "bold": true}}
        ]))
        .await;
    assert_eq!(answer["t"], "ack", "{answer}");
    assert_eq!(cast.export("text").await, "The quick fox\n");
    let markdown = cast.export("markdown").await;
    assert_eq!(markdown.trim_end(), "The quick fox");
    let html = cast.export("html").await;
    assert!(html.contains("The quick fox"), "{html}");
    for pending in ["jumped", "suggest-", "data-suggest", "<strong>"] {
        assert!(!html.contains(pending), "{pending} in {html}");
    }
    cast.server.stop().await;
}

crate::on_both_backends!(restoring_a_version_with_suggestions_keeps_the_log_consistent);

async fn restoring_a_version_with_suggestions_keeps_the_log_consistent(backend: Backend) {
    let cast = cast(backend).await;
    let mut commenter = cast.join(&cast.commenter).await;
    let mut editor = cast.join(&cast.editor).await;
    let c = commenter.id.clone();
    let answer = commenter
        .attempt(json!([{"retain": 10}, ins("red ", &c, "r1"), del_mark(3, &c, "r2")]))
        .await;
    assert_eq!(answer["t"], "ack", "{answer}");
    let (with_suggestions, head) = cast.stored().await;
    let (status, version) = api(
        Method::POST,
        &cast.server.url(&format!("/api/docs/{}/versions", cast.doc)),
        &cast.owner,
        Some(json!({"name": "With suggestions"})),
    )
    .await;
    assert!(matches!(status, 200 | 201), "{status} {version}");
    // Accept everything: plain text, no marks.
    editor.settle(head).await;
    for id in ["r1", "r2"] {
        let op = resolve(&editor.sim.doc, id, true);
        assert_eq!(editor.attempt(op).await["t"], "ack");
    }
    assert_eq!(cast.stored().await.0.text(), "The quick red \n");
    let restored = crate::support::client()
        .post(cast.server.url(&format!(
            "/api/docs/{}/versions/{}/restore",
            cast.doc,
            version["id"].as_str().expect("id")
        )))
        .bearer_auth(&cast.owner)
        .send()
        .await
        .expect("restore");
    assert_eq!(restored.status(), 200);

    // The marks are back, and the log replayed from the start gives what is stored.
    let (after, head) = cast.stored().await;
    assert_eq!(
        after, with_suggestions,
        "the restore brought the suggestions back"
    );
    let store = cast.server.store().await;
    let log = store.ops_since(&cast.doc, 0).await.expect("the log");
    assert_eq!(log.len() as u64, head, "the whole log is kept");
    let replayed = log.iter().fold(Delta::new().insert("\n", None), |doc, op| {
        let value: Value = serde_json::from_str(&op.op_json).expect("op JSON");
        doc.compose(&delta(&value))
    });
    assert_eq!(replayed, after, "replaying the log gives the snapshot");
    // And the commenter can still withdraw part of the restored suggestion.
    commenter.settle(head).await;
    let answer = commenter
        .attempt(json!([{"retain": 10}, {"delete": 4}]))
        .await;
    assert_eq!(answer["t"], "ack", "{answer}");
    cast.server.stop().await;
}

/// Who may suggest, accept and reject: owner, editor, commenter, viewer and a guest who came through a
/// commenter link, each on a fresh suggestion.
#[tokio::test]
async fn suggestion_actions_by_role() {
    let cast = cast(Backend::Sqlite).await;
    let (status, link) = api(
        Method::POST,
        &cast.server.url(&format!("/api/docs/{}/links", cast.doc)),
        &cast.owner,
        Some(json!({"role": "commenter"})),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let guest = TestUser::signup(&cast.server, "Guest").await;
    let link_url = link["url"].as_str().expect("url").to_string();
    crate::sharing_matrix::open_link(&cast.server, &guest, &link_url, &cast.doc).await;
    let guest_token = guest.api_token(&cast.server).await;
    let people = [
        ("owner", cast.owner.clone(), [true, true, true]),
        ("editor", cast.editor.clone(), [true, true, true]),
        ("commenter", cast.commenter.clone(), [true, false, false]),
        ("viewer", cast.viewer.clone(), [false, false, false]),
        ("link commenter", guest_token, [true, false, false]),
    ];
    let mut author = cast.join(&cast.editor).await;
    for (n, (who, token, [suggest, accept, reject])) in people.into_iter().enumerate() {
        let mut peer = cast.join(&token).await;
        let (_, head) = cast.stored().await;
        peer.settle(head).await;
        let answer = peer
            .attempt(json!([ins("s", &peer.id.clone(), &format!("p{n}"))]))
            .await;
        assert_eq!(answer["t"] == "ack", suggest, "{who} suggests: {answer}");
        for (act, allowed) in [(true, accept), (false, reject)] {
            let (_, head) = cast.stored().await;
            author.settle(head).await;
            let id = format!("a{n}{act}");
            let offered = author
                .attempt(json!([ins("q", &author.id.clone(), &id)]))
                .await;
            assert_eq!(offered["t"], "ack", "{offered}");
            let (_, head) = cast.stored().await;
            peer.settle(head).await;
            let op = resolve(&peer.sim.doc, &id, act);
            let answer = peer.attempt(op).await;
            let verb = if act { "accepts" } else { "rejects" };
            assert_eq!(answer["t"] == "ack", allowed, "{who} {verb}: {answer}");
            if !allowed {
                assert_eq!(answer["code"], "forbidden", "{answer}");
            }
        }
    }
    cast.server.stop().await;
}

/// A commenter withdrawing a suggestion ("very " inserted, "fox" to delete) while an editor accepts it, in both
/// orders. Acceptance first: the withdrawal would now delete accepted text, so it is refused (`forbidden`) and
/// changes nothing. Withdrawal first: what is left of the acceptance is the editor's deletion of "fox", which an
/// editor may make, so it is committed. Either way every client ends equal to the database.
#[tokio::test]
async fn a_withdrawal_racing_an_acceptance_is_settled_by_the_order_the_hub_saw() {
    for accept_first in [true, false] {
        let cast = cast(Backend::Sqlite).await;
        let mut commenter = cast.join(&cast.commenter).await;
        let mut editor = cast.join(&cast.editor).await;
        let c = commenter.id.clone();
        let suggested = commenter
            .attempt(json!([{"retain": 4}, ins("very ", &c, "s1"), {"retain": 6}, del_mark(3, &c, "s2")]))
            .await;
        assert_eq!(suggested["t"], "ack", "{suggested}");
        let (_, head) = cast.stored().await;
        editor.settle(head).await;
        let accept = json!([
            {"retain": 4},
            {"retain": 5, "attributes": {"suggest-insert": null}},
            {"retain": 6},
            {"delete": 3}
        ]);
        let withdraw = json!([
            {"retain": 4},
            {"delete": 5},
            {"retain": 6},
            {"retain": 3, "attributes": {"suggest-delete": null}}
        ]);
        let expected = if accept_first {
            let accepted = editor.attempt(accept).await;
            assert_eq!(accepted["t"], "ack", "{accepted}");
            // Sent on the revision before the acceptance, which the commenter has not read yet.
            let refused = commenter.attempt(withdraw).await;
            assert_eq!(refused["t"], "error", "{refused}");
            assert_eq!(refused["code"], "forbidden", "{refused}");
            "The very quick \n"
        } else {
            let withdrawn = commenter.attempt(withdraw).await;
            assert_eq!(withdrawn["t"], "ack", "{withdrawn}");
            editor.edit(accept).await;
            let rev = editor.sim.rev;
            editor.settle(rev).await;
            "The quick \n"
        };
        let (stored, head) = cast.stored().await;
        assert_eq!(stored.text(), expected, "accept first: {accept_first}");
        assert!(
            stored.ops().iter().all(|op| op.attributes().is_none()),
            "no mark is left: {stored:?}"
        );
        for peer in [&mut commenter, &mut editor] {
            peer.settle(head).await;
            assert_eq!(peer.sim.doc, stored, "a client differs from the database");
        }
        cast.server.stop().await;
    }
}
