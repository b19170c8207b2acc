//! Sharing changes reach open WebSockets at once (issue 6, tests 2 and 3): removal closes the member's socket, a
//! role change arrives as `{"t":"role"}` and governs the next op on the same connection, revoking a link removes
//! its visitors (and only them), trashing shuts everyone but the owner out until the restore, and a transfer of
//! ownership moves the owner's powers.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    sharing_matrix::{Cast, Fixture, doc_state, open_link, upgrade_status},
    support::{Backend, TestUser},
};

// Every test here runs against SQLite and PostgreSQL.
crate::on_both_backends!(
    removing_a_member_closes_their_socket_at_once,
    a_removed_member_is_told_before_the_close,
    an_editor_made_viewer_is_refused_on_the_same_connection,
    a_viewer_made_editor_can_edit_on_the_same_connection,
    revoking_a_link_removes_its_visitors_at_once_and_only_them,
    trashing_shuts_out_everyone_but_the_owner_until_the_restore,
    a_transfer_of_ownership_moves_the_owners_powers,
    a_client_id_cannot_be_taken_over_by_another_user,
);

/// "Within a second" from the issue.
const AT_ONCE: Duration = Duration::from_secs(1);
/// How long to wait for a frame that must not come.
const QUIET: Duration = Duration::from_millis(300);

/// Opens the document's WebSocket as `user` and says hello; asserts the welcome's role.
async fn join(c: &Cast, user: &TestUser, doc: &str, role: &str) -> TestSocket {
    let mut socket = TestSocket::connect(&c.addr(), doc, c.token(user)).await;
    let welcome = socket.hello(&client_id("live"), None).await;
    assert_eq!(welcome["role"], role, "{}: {welcome}", user.name);
    socket
}

fn op(rev: u64, seq: u64, text: &str) -> Value {
    json!({"t": "op", "rev": rev, "seq": seq, "op": [{"insert": text}]})
}

async fn status(c: &Cast, user: &TestUser, method: Method, path: &str) -> u16 {
    c.call_as(Some(user), method, path, None)
        .await
        .status()
        .as_u16()
}

/// Whether the document is in the user's `GET /api/docs` (any scope but the trash).
async fn listed(c: &Cast, user: &TestUser, fx: &Fixture) -> bool {
    let mut found = false;
    for scope in ["all", "owned", "shared"] {
        let path = format!("/api/docs?scope={scope}&q={}", fx.title);
        let response = c.call_as(Some(user), Method::GET, &path, None).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("list JSON");
        let here = body["docs"]
            .as_array()
            .expect("docs")
            .iter()
            .any(|doc| doc["id"] == fx.doc.as_str());
        if scope == "all" {
            found = here;
        } else if here {
            assert!(found, "{scope} lists what all does not");
        }
    }
    found
}

/// The user has no access at all: 404 on metadata, content and the WebSocket, and the document is not listed.
async fn shut_out(c: &Cast, user: &TestUser, fx: &Fixture) {
    let doc = &fx.doc;
    for path in [
        format!("/api/docs/{doc}"),
        format!("/api/docs/{doc}/content"),
    ] {
        assert_eq!(
            status(c, user, Method::GET, &path).await,
            404,
            "{} GET {path}",
            user.name
        );
    }
    assert!(
        matches!(
            upgrade_status(&c.addr(), doc, c.token(user)).await,
            Err(404)
        ),
        "{}: the WebSocket upgrade must answer 404",
        user.name
    );
    assert!(!listed(c, user, fx).await, "{} still lists it", user.name);
}

/// The op frame another member receives for an op, with the author's fields checked loosely.
async fn expect_op(socket: &mut TestSocket, rev: u64, text: &str, who: &str) {
    let frame = socket.recv_kind("op").await;
    assert_eq!(frame["rev"], rev, "{who}: {frame}");
    assert_eq!(frame["op"], json!([{"insert": text}]), "{who}: {frame}");
}

async fn removing_a_member_closes_their_socket_at_once(backend: Backend) {
    let c = Cast::new_on(backend).await;
    let fx = c.fixture("live-remove").await;
    let doc = fx.doc.as_str();
    let mut owner = join(&c, &c.owner, doc, "owner").await;
    let mut editor = join(&c, &c.editor, doc, "editor").await;
    let mut viewer = join(&c, &c.viewer, doc, "viewer").await;
    c.must(
        &c.owner,
        Method::DELETE,
        &format!("/api/docs/{doc}/members/{}", c.editor.id),
        None,
        204,
    )
    .await;
    assert!(
        editor.closed_within(AT_ONCE).await,
        "the removed editor's socket stays open"
    );
    shut_out(&c, &c.editor, &fx).await;
    // Everyone else stays connected: the owner's op reaches the viewer.
    owner.send(op(0, 1, "still here")).await;
    assert_eq!(
        owner.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": 0})
    );
    expect_op(&mut viewer, 0, "still here", "viewer").await;
    // A member who leaves by themselves is disconnected too.
    c.must(
        &c.viewer,
        Method::DELETE,
        &format!("/api/docs/{doc}/members/{}", c.viewer.id),
        None,
        204,
    )
    .await;
    assert!(
        viewer.closed_within(AT_ONCE).await,
        "the viewer who left is still connected"
    );
    shut_out(&c, &c.viewer, &fx).await;
    // An op the removed editor still sends (its page does not know yet) never reaches anyone. Everything the owner
    // hears from now on is looked at, not just the first frame (usually someone's leave).
    let late = op(1, 1, "from the removed").to_string();
    let _ = futures::SinkExt::send(&mut editor.ws, late.into()).await;
    while let Some(frame) = owner.recv_within(QUIET).await {
        assert_ne!(frame["t"], "op", "an op after the removal: {frame}");
    }
    let content = crate::hub_convergence::content(&c.server.base, doc, c.token(&c.owner)).await;
    assert_eq!(content["ops"], json!([{"insert": "still here\n"}]));
    c.server.stop().await;
}

/// The page of a removed member locks itself at once (issue 19) instead of reconnecting into a 404: the hub says
/// `{"t":"role","role":null}` and only then closes the socket. An op sent in the same moment is never committed.
async fn a_removed_member_is_told_before_the_close(backend: Backend) {
    let c = Cast::new_on(backend).await;
    let fx = c.fixture("live-told").await;
    let doc = fx.doc.as_str();
    let mut owner = join(&c, &c.owner, doc, "owner").await;
    let mut editor = join(&c, &c.editor, doc, "editor").await;
    c.must(
        &c.owner,
        Method::DELETE,
        &format!("/api/docs/{doc}/members/{}", c.editor.id),
        None,
        204,
    )
    .await;
    assert_eq!(
        editor.recv_kind("role").await,
        json!({"t": "role", "role": null})
    );
    assert!(
        editor.closed_within(AT_ONCE).await,
        "the removed editor's socket stays open after being told"
    );
    owner.send(op(0, 1, "owner")).await;
    assert_eq!(
        owner.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": 0})
    );
    let content = crate::hub_convergence::content(&c.server.base, doc, c.token(&c.owner)).await;
    assert_eq!(content["ops"], json!([{"insert": "owner\n"}]));
    c.server.stop().await;
}

async fn an_editor_made_viewer_is_refused_on_the_same_connection(backend: Backend) {
    let c = Cast::new_on(backend).await;
    let store = c.server.store().await;
    let fx = c.fixture("live-demote").await;
    let doc = fx.doc.as_str();
    let mut owner = join(&c, &c.owner, doc, "owner").await;
    let mut editor = join(&c, &c.editor, doc, "editor").await;
    editor.send(op(0, 1, "a")).await;
    assert_eq!(
        editor.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": 0})
    );
    expect_op(&mut owner, 0, "a", "owner").await;

    c.must(
        &c.owner,
        Method::PUT,
        &format!("/api/docs/{doc}/members/{}", c.editor.email),
        Some(json!({"role": "viewer"})),
        200,
    )
    .await;
    assert_eq!(
        editor.recv().await,
        json!({"t": "role", "role": "viewer"}),
        "the role frame comes next"
    );
    let before = doc_state(&store, doc).await;
    editor.send(op(1, 2, "b")).await;
    let reply = editor.recv().await;
    assert_eq!(reply["t"], "error", "{reply}");
    assert_eq!(reply["code"], "forbidden", "{reply}");
    assert_eq!(reply["seq"], 2, "{reply}");
    assert_eq!(reply["fatal"], false, "{reply}");
    let after = doc_state(&store, doc).await;
    assert_eq!(after, before, "the refused op changed the document");
    assert_eq!(after.as_ref().map(|state| state.rev), Some(1));
    assert_eq!(
        owner.recv_within(QUIET).await,
        None,
        "the owner saw something of the refused op"
    );
    // The connection stays open (read-only), and the REST API agrees.
    editor.send(json!({"t": "ping", "id": 7})).await;
    assert_eq!(editor.recv().await, json!({"t": "pong", "id": 7}));
    let meta = c
        .must(
            &c.editor,
            Method::GET,
            &format!("/api/docs/{doc}"),
            None,
            200,
        )
        .await;
    assert_eq!(meta["role"], "viewer", "{meta}");
    c.refused(
        doc,
        Some(&c.editor),
        (
            Method::PATCH,
            format!("/api/docs/{doc}"),
            Some(json!({"title": "nope"})),
        ),
        403,
        "forbidden",
    )
    .await;
    c.server.stop().await;
}

async fn a_viewer_made_editor_can_edit_on_the_same_connection(backend: Backend) {
    let c = Cast::new_on(backend).await;
    let store = c.server.store().await;
    let fx = c.fixture("live-promote").await;
    let doc = fx.doc.as_str();
    let mut owner = join(&c, &c.owner, doc, "owner").await;
    let mut viewer = join(&c, &c.viewer, doc, "viewer").await;
    viewer.send(op(0, 1, "v")).await;
    let reply = viewer.recv().await;
    assert_eq!(reply["code"], "forbidden", "{reply}");
    c.must(
        &c.owner,
        Method::PUT,
        &format!("/api/docs/{doc}/members/{}", c.viewer.id),
        Some(json!({"role": "editor"})),
        200,
    )
    .await;
    assert_eq!(viewer.recv().await, json!({"t": "role", "role": "editor"}));
    viewer.send(op(0, 2, "v")).await;
    assert_eq!(viewer.recv().await, json!({"t": "ack", "seq": 2, "rev": 0}));
    expect_op(&mut owner, 0, "v", "owner").await;
    let state = doc_state(&store, doc).await.expect("doc");
    assert_eq!((state.rev, state.text.as_str()), (1, "v\n"));
    // The owner's own socket got no role frame: only the person whose role changed is told.
    assert_eq!(owner.recv_within(QUIET).await, None);
    c.server.stop().await;
}

async fn revoking_a_link_removes_its_visitors_at_once_and_only_them(backend: Backend) {
    let c = Cast::new_on(backend).await;
    let store = c.server.store().await;
    let fx = c.fixture("live-revoke").await;
    let doc = fx.doc.as_str();
    // A second visitor through the same link, and an editor who opened it too (and stays an editor).
    open_link(&c.server, &c.stranger, &fx.link_url, doc).await;
    open_link(&c.server, &c.editor, &fx.link_url, doc).await;
    let state = doc_state(&store, doc).await.expect("doc");
    assert_eq!(
        state.members.get(&c.stranger.id),
        Some(&(quire::store::Role::Viewer, true))
    );
    assert!(listed(&c, &c.visitor, &fx).await);
    let mut owner = join(&c, &c.owner, doc, "owner").await;
    let mut visitor = join(&c, &c.visitor, doc, "viewer").await;
    let mut stranger = join(&c, &c.stranger, doc, "viewer").await;
    let mut viewer = join(&c, &c.viewer, doc, "viewer").await;
    let mut editor = join(&c, &c.editor, doc, "editor").await;

    c.must(
        &c.owner,
        Method::DELETE,
        &format!("/api/docs/{doc}/links/{}", fx.link_id),
        None,
        204,
    )
    .await;
    assert!(visitor.closed_within(AT_ONCE).await, "link visitor 1");
    assert!(stranger.closed_within(AT_ONCE).await, "link visitor 2");
    shut_out(&c, &c.visitor, &fx).await;
    shut_out(&c, &c.stranger, &fx).await;
    let state = doc_state(&store, doc).await.expect("doc");
    assert!(state.links.is_empty());
    assert!(!state.members.contains_key(&c.visitor.id));
    assert!(!state.members.contains_key(&c.stranger.id));

    // The people added by name keep their access and their connections.
    owner.send(op(0, 1, "after")).await;
    assert_eq!(owner.recv_kind("ack").await["seq"], 1);
    expect_op(&mut viewer, 0, "after", "viewer").await;
    expect_op(&mut editor, 0, "after", "editor").await;
    editor.send(op(1, 1, "E")).await;
    assert_eq!(
        editor.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": 1})
    );
    for (user, role) in [(&c.viewer, "viewer"), (&c.editor, "editor")] {
        let meta = c
            .must(user, Method::GET, &format!("/api/docs/{doc}"), None, 200)
            .await;
        assert_eq!(meta["role"], role, "{}: {meta}", user.name);
        assert_eq!(
            status(&c, user, Method::GET, &format!("/api/docs/{doc}/content")).await,
            200
        );
        assert!(listed(&c, user, &fx).await, "{}", user.name);
    }
    c.server.stop().await;
}

async fn trashing_shuts_out_everyone_but_the_owner_until_the_restore(backend: Backend) {
    let c = Cast::new_on(backend).await;
    let store = c.server.store().await;
    let fx = c.fixture("live-trash").await;
    let doc = fx.doc.as_str();
    let mut owner = join(&c, &c.owner, doc, "owner").await;
    owner.send(op(0, 1, "kept")).await;
    assert_eq!(owner.recv_kind("ack").await["seq"], 1);
    let others = [
        (&c.editor, "editor"),
        (&c.commenter, "commenter"),
        (&c.viewer, "viewer"),
        (&c.visitor, "viewer"),
    ];
    let mut sockets = Vec::new();
    for (user, role) in others {
        sockets.push(join(&c, user, doc, role).await);
    }
    let before = doc_state(&store, doc).await.expect("doc");

    c.must(
        &c.owner,
        Method::DELETE,
        &format!("/api/docs/{doc}"),
        None,
        204,
    )
    .await;
    for ((user, _), socket) in others.iter().zip(&mut sockets) {
        assert!(
            socket.closed_within(AT_ONCE).await,
            "{}'s socket stayed open on a trashed document",
            user.name
        );
    }
    for (user, _) in others {
        shut_out(&c, user, &fx).await;
        assert_eq!(
            status(&c, user, Method::GET, &format!("/api/docs/{doc}/members")).await,
            404
        );
    }
    // The owner still has it, in the trash, and may reopen it.
    let meta = c
        .must(
            &c.owner,
            Method::GET,
            &format!("/api/docs/{doc}"),
            None,
            200,
        )
        .await;
    assert_eq!(meta["trashed"], true, "{meta}");
    join(&c, &c.owner, doc, "owner").await;

    let restored = c
        .must(
            &c.owner,
            Method::POST,
            &format!("/api/docs/{doc}/restore"),
            None,
            200,
        )
        .await;
    assert_eq!(restored["trashed"], false, "{restored}");
    let after = doc_state(&store, doc).await.expect("doc");
    assert_eq!(
        after, before,
        "trash and restore kept members, links and content"
    );
    for (user, role) in others {
        let content = c
            .must(
                user,
                Method::GET,
                &format!("/api/docs/{doc}/content"),
                None,
                200,
            )
            .await;
        assert_eq!(content["rev"], 1, "{}: {content}", user.name);
        assert!(listed(&c, user, &fx).await, "{}", user.name);
        join(&c, user, doc, role).await;
    }
    c.server.stop().await;
}

async fn a_transfer_of_ownership_moves_the_owners_powers(backend: Backend) {
    let c = Cast::new_on(backend).await;
    let store = c.server.store().await;
    let fx = c.fixture("live-transfer").await;
    let doc = fx.doc.as_str();
    let mut old_owner = join(&c, &c.owner, doc, "owner").await;
    let mut new_owner = join(&c, &c.target, doc, "viewer").await;

    let moved = c
        .must(
            &c.owner,
            Method::PUT,
            &format!("/api/docs/{doc}/members/{}", c.target.email),
            Some(json!({"role": "owner"})),
            200,
        )
        .await;
    assert_eq!(moved["role"], "owner", "{moved}");
    assert_eq!(
        new_owner.recv().await,
        json!({"t": "role", "role": "owner"})
    );
    assert_eq!(
        old_owner.recv().await,
        json!({"t": "role", "role": "editor"})
    );
    let state = doc_state(&store, doc).await.expect("doc");
    assert_eq!(state.owner_id, c.target.id);
    assert_eq!(
        state.members.get(&c.owner.id),
        Some(&(quire::store::Role::Editor, false))
    );
    assert!(!state.members.contains_key(&c.target.id));
    let members = c
        .must(
            &c.target,
            Method::GET,
            &format!("/api/docs/{doc}/members"),
            None,
            200,
        )
        .await;
    assert_eq!(members["members"][0]["id"], c.target.id.as_str());
    assert_eq!(members["members"][0]["role"], "owner");
    assert_eq!(members["can_share"], true);
    assert_eq!(members["links"].as_array().map(Vec::len), Some(1));

    // The old owner is an editor now: edits still go through, owner-only actions do not.
    old_owner.send(op(0, 1, "mine")).await;
    assert_eq!(
        old_owner.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": 0})
    );
    expect_op(&mut new_owner, 0, "mine", "new owner").await;
    let owner = Some(&c.owner);
    let refusals = [
        (Method::DELETE, format!("/api/docs/{doc}"), None),
        (
            Method::PATCH,
            format!("/api/docs/{doc}"),
            Some(json!({"editors_can_share": true})),
        ),
        (
            Method::PUT,
            format!("/api/docs/{doc}/members/{}", c.owner.id),
            Some(json!({"role": "owner"})),
        ),
        (
            Method::PUT,
            format!("/api/docs/{doc}/members/{}", c.newcomer.email),
            Some(json!({"role": "viewer"})),
        ),
        (
            Method::POST,
            format!("/api/docs/{doc}/links"),
            Some(json!({"role": "editor"})),
        ),
        (
            Method::DELETE,
            format!("/api/docs/{doc}/links/{}", fx.link_id),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/docs/{doc}/members/{}", c.target.id),
            None,
        ),
    ];
    for request in refusals {
        c.refused(doc, owner, request, 403, "forbidden").await;
    }

    // The new owner can trash it, and then the old owner loses it.
    c.must(
        &c.target,
        Method::DELETE,
        &format!("/api/docs/{doc}"),
        None,
        204,
    )
    .await;
    assert!(old_owner.closed_within(AT_ONCE).await);
    shut_out(&c, &c.owner, &fx).await;
    c.refused(
        doc,
        owner,
        (Method::POST, format!("/api/docs/{doc}/restore"), None),
        404,
        "not_found",
    )
    .await;
    let trash = c
        .must(
            &c.target,
            Method::GET,
            &format!("/api/docs?scope=trash&q={}", fx.title),
            None,
            200,
        )
        .await;
    assert_eq!(trash["docs"][0]["id"], doc, "{trash}");
    c.server.stop().await;
}

/// A client id is bound to its user (issue 17, defect 2): a viewer who copies an editor's id from a broadcast can
/// neither kick the editor's session nor poison its seq, whether the editor is connected or has just left.
async fn a_client_id_cannot_be_taken_over_by_another_user(backend: Backend) {
    let c = Cast::new_on(backend).await;
    let fx = c.fixture("client-binding").await;
    let editor_client = client_id("editor");
    let mut editor = TestSocket::connect(&c.addr(), &fx.doc, c.token(&c.editor)).await;
    editor.hello(&editor_client, None).await;
    editor.send(op(0, 1, "a")).await;
    assert_eq!(editor.recv_kind("ack").await["seq"], 1);

    for attacker in [&c.viewer, &c.owner] {
        let mut thief = TestSocket::connect(&c.addr(), &fx.doc, c.token(attacker)).await;
        thief
            .send(json!({"t": "hello", "proto": 1, "client": editor_client, "rev": null}))
            .await;
        let refused = thief.recv().await;
        assert_eq!(
            (&refused["t"], &refused["code"], &refused["fatal"]),
            (&json!("error"), &json!("bad_message"), &json!(true)),
            "{}: {refused}",
            attacker.name
        );
        assert!(thief.closed_within(AT_ONCE).await);
    }
    // The editor's session was not superseded: its next op is acked on the same socket.
    editor.send(op(1, 2, "b")).await;
    assert_eq!(editor.recv_kind("ack").await["seq"], 2);

    // Gone, but its ops are in the window: the id is still the editor's, and the editor gets it back.
    drop(editor);
    let mut thief = TestSocket::connect(&c.addr(), &fx.doc, c.token(&c.owner)).await;
    thief
        .send(json!({"t": "hello", "proto": 1, "client": editor_client, "rev": 2}))
        .await;
    assert_eq!(thief.recv().await["code"], "bad_message");
    let mut editor = TestSocket::connect(&c.addr(), &fx.doc, c.token(&c.editor)).await;
    let welcome = editor.hello(&editor_client, Some(2)).await;
    assert_eq!(welcome["head"], 2);
    editor.send(op(2, 3, "c")).await;
    assert_eq!(editor.recv_kind("ack").await["seq"], 3);
    let content = crate::hub_convergence::content(&c.server.base, &fx.doc, c.token(&c.owner)).await;
    assert_eq!(content["ops"], json!([{"insert": "cba\n"}]));
}

/// Revocation reaches open sockets (issue 17, defect 7): revoking the API token a socket was opened with closes
/// that socket at once (`unauthorized`) and leaves the user's other token's socket alone; disabling the account
/// from the CLI, another process, closes the rest within `limits.recheck_every`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_credentials_close_the_sockets_opened_with_them() {
    let server = crate::support::TestServer::start_with(&[("limits.recheck_every", "1s")]).await;
    let user = TestUser::signup(&server, "Revoked").await;
    let mut tokens = Vec::new();
    for name in ["first", "second"] {
        let created = user
            .post_json(&server, "/api/tokens", json!({"name": name}))
            .await;
        tokens.push((
            created["id"].as_str().unwrap().to_string(),
            created["token"].as_str().unwrap().to_string(),
        ));
    }
    let doc = user
        .post_json(&server, "/api/docs", json!({"title": "revocation"}))
        .await;
    let doc = doc["id"].as_str().unwrap();
    let addr = server.addr.to_string();
    let mut first = TestSocket::connect(&addr, doc, &tokens[0].1).await;
    first.hello(&client_id("first"), None).await;
    let mut second = TestSocket::connect(&addr, doc, &tokens[1].1).await;
    second.hello(&client_id("second"), None).await;

    let revoked = user
        .http
        .delete(server.url(&format!("/api/tokens/{}", tokens[0].0)))
        .header("X-CSRF-Token", &user.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let told = first.recv_kind("error").await;
    assert_eq!(
        (&told["code"], &told["fatal"]),
        (&json!("unauthorized"), &json!(true))
    );
    assert!(first.closed_within(AT_ONCE).await);
    second.send(json!({"t": "ping", "id": 1})).await;
    assert_eq!(
        second.recv_kind("pong").await["id"],
        1,
        "the other token's socket stays"
    );

    let mut args = server.cli_args();
    args.extend(["user", "disable", "--email", &user.email].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let disabled = crate::support::run_quire(server.dir.path(), &args, &[], "").await;
    assert!(disabled.status.success(), "{disabled:?}");
    let told = second.recv_kind("error").await;
    assert_eq!(told["code"], "unauthorized");
    assert!(second.closed_within(Duration::from_secs(3)).await);
    server.stop().await;
}
