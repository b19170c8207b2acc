//! Restoring a version as people use it: while others type (everyone converges, the restore is one op, and nothing
//! typed after it or during it is lost), and through the history page's form (CSRF-checked, editors only).

use std::time::Duration;

use quire::ot::Delta;
use serde_json::{Value, json};

use crate::{
    cluster_client::{Typing, content_delta_at, text_of},
    hub_client::{SimClient, TestSocket, client_id},
    hub_convergence::{api_setup, content},
    support::{Backend, TestServer, TestUser, form_csrf, get_text, post_form},
};

crate::on_both_backends!(a_restore_while_others_type_is_one_op_and_loses_nothing);

/// The version's text: no character of it is in a marker (`[t0:12]`, `[m:1]`), so the restore's common start
/// and end never reach into one.
const VERSION_TEXT: &str = "Plain words.";

/// Polls the document's revision until it reaches `rev` (30 s at most).
async fn wait_for_rev(server: &TestServer, doc: &str, token: &str, rev: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = content(&server.base, doc, token).await["rev"]
            .as_u64()
            .expect("rev");
        if now >= rev {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the document stayed at revision {now}, waiting for {rev}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `text` without the markers (everything from `[` to `]`).
fn without_markers(text: &str) -> String {
    let mut out = String::new();
    let mut in_marker = false;
    for ch in text.chars() {
        match ch {
            '[' => in_marker = true,
            ']' => in_marker = false,
            _ if !in_marker => out.push(ch),
            _ => {}
        }
    }
    out
}

/// Feeds the socket's frames to `sim` (sending its replies) until `done` holds; returns the restore ops seen.
async fn follow(
    socket: &mut TestSocket,
    sim: &mut SimClient,
    done: impl Fn(&SimClient) -> bool,
) -> Vec<Value> {
    let mut restores = Vec::new();
    while !done(sim) {
        let frame = socket.recv().await;
        if frame["t"] == "op"
            && frame["client"]
                .as_str()
                .is_some_and(|client| client.starts_with("restore-"))
        {
            restores.push(frame.clone());
        }
        for reply in sim.receive(&frame) {
            socket.send(reply).await;
        }
    }
    restores
}

async fn a_restore_while_others_type_is_one_op_and_loses_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, &[]).await;
    let (token, doc) = api_setup(&server.base).await;
    let addr = server.addr.to_string();
    let mut writer = TestSocket::connect(&addr, &doc, &token).await;
    writer.hello(&client_id("w"), None).await;
    writer
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": VERSION_TEXT}]}))
        .await;
    writer.recv_kind("ack").await;
    drop(writer);
    let named: Value = crate::support::client()
        .post(server.url(&format!("/api/docs/{doc}/versions")))
        .bearer_auth(&token)
        .json(&json!({"name": "Before the typing"}))
        .send()
        .await
        .expect("name a version")
        .json()
        .await
        .expect("version JSON");
    let version = named["id"].as_str().expect("version id").to_string();

    // A late client opens the document now and will type on this revision after the restore, not having read it.
    let mut late = TestSocket::connect(&addr, &doc, &token).await;
    let mut late_sim = SimClient::new(client_id("m"));
    let welcome = late.hello(&late_sim.client.clone(), None).await;
    late_sim.receive(&welcome);
    let typing = Typing::through(
        std::slice::from_ref(&addr),
        &doc,
        &token,
        2,
        Duration::from_millis(40),
        Duration::from_secs(90),
    );
    wait_for_rev(&server, &doc, &token, 8).await;
    let restored = crate::support::client()
        .post(server.url(&format!("/api/docs/{doc}/versions/{version}/restore")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("restore");
    assert_eq!(restored.status(), 200);
    let restore_rev = restored.json::<Value>().await.expect("JSON")["rev"]
        .as_u64()
        .expect("rev");
    let change = Delta::new().insert("[m:1]", None);
    let frame = late_sim.edit(change).expect("nothing in flight");
    assert!(frame["rev"].as_u64() < Some(restore_rev), "{frame}");
    late.send(frame).await;
    let mut restores = follow(&mut late, &mut late_sim, |sim| !sim.has_pending()).await;
    wait_for_rev(&server, &doc, &token, restore_rev + 8).await;
    let typists = typing.stop().await;
    let (served, head) = content_delta_at(&server.base, &doc, &token).await;
    restores.extend(follow(&mut late, &mut late_sim, |sim| sim.rev >= head).await);

    // Everyone converges, on what the database holds too.
    let text = text_of(&served);
    for typist in &typists {
        assert!(
            typist.sim.problems.is_empty(),
            "{}: {:?}",
            typist.tag,
            typist.sim.problems
        );
        assert_eq!(text_of(&typist.sim.doc), text, "{} differs", typist.tag);
    }
    assert!(late_sim.problems.is_empty(), "{:?}", late_sim.problems);
    assert_eq!(late_sim.doc, served, "the late client differs");
    let store = server.store().await;
    let (loaded_rev, loaded) = quire::hub::load_content(&store, &doc)
        .await
        .expect("load from the database");
    assert_eq!((loaded_rev, &loaded), (head, &served));

    // The restore is one op, seen once by a connected client.
    let log = store.ops_since(&doc, 0).await.expect("the log");
    let restore_ops: Vec<i64> = log
        .iter()
        .filter(|op| op.client.starts_with("restore-"))
        .map(|op| op.rev)
        .collect();
    assert_eq!(restore_ops, [restore_rev as i64], "one restore op");
    assert_eq!(restores.len(), 1, "{restores:?}");
    assert_eq!(restores[0]["rev"], restore_rev);

    // Nothing typed is lost: every marker was logged once; those committed after the restore, the late client's
    // (typed before it) included, are in the text once, and those before it were undone by it.
    assert_eq!(
        without_markers(&text),
        format!("{VERSION_TEXT}\n"),
        "the version, plus what was typed after"
    );
    let mut typed: Vec<&str> = typists
        .iter()
        .flat_map(|typist| typist.typed.iter().map(String::as_str))
        .collect();
    typed.push("[m:1]");
    let (mut before, mut after) = (0, 0);
    for marker in typed {
        let revs: Vec<i64> = log
            .iter()
            .filter(|op| op.op_json.contains(marker))
            .map(|op| op.rev)
            .collect();
        let [rev] = revs[..] else {
            panic!("{marker} is logged at {revs:?}");
        };
        let expected = if rev > restore_rev as i64 {
            after += 1;
            1
        } else {
            before += 1;
            0
        };
        assert_eq!(
            text.matches(marker).count(),
            expected,
            "{marker} logged at {rev}, the restore at {restore_rev}: {text}"
        );
    }
    assert!(
        before > 0 && after > 1,
        "typing before ({before}) and after ({after}) the restore"
    );
    assert!(
        text.contains("[m:1]"),
        "typed on the old revision, kept: {text}"
    );
    server.stop().await;
}

/// The owner's document with a named version "Draft" ("First draft") and newer content ("Second draft"), shared
/// with a viewer; returns (owner, owner's API token, viewer, document, version, the owner's socket). The socket
/// stays open so that no version is written on leaving while the test looks at the list.
async fn drafted(server: &TestServer) -> (TestUser, String, TestUser, String, String, TestSocket) {
    let owner = TestUser::signup(server, "Owner").await;
    let token = owner.api_token(server).await;
    let doc = crate::cluster_client::create_doc(&server.base, &token, "Drafts").await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    socket.hello(&client_id("o"), None).await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "First draft"}]}))
        .await;
    socket.recv_kind("ack").await;
    let named = owner
        .post_json(
            server,
            &format!("/api/docs/{doc}/versions"),
            json!({"name": "Draft"}),
        )
        .await;
    let version = named["id"].as_str().expect("version id").to_string();
    socket
        .send(json!({"t": "op", "rev": 1, "seq": 2, "op": [{"delete": 5}, {"insert": "Second"}]}))
        .await;
    socket.recv_kind("ack").await;
    let viewer = TestUser::signup(server, "Viewer").await;
    let shared = owner
        .http
        .put(server.url(&format!("/api/docs/{doc}/members/{}", viewer.email)))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .expect("share");
    assert_eq!(shared.status(), 200);
    (owner, token, viewer, doc, version, socket)
}

/// The content (`{rev, ops}`) and the kinds of the versions, newest first: what a refused restore leaves alone.
async fn state(server: &TestServer, doc: &str, token: &str) -> (Value, Vec<Value>) {
    let now = content(&server.base, doc, token).await;
    let versions: Value = crate::support::client()
        .get(server.url(&format!("/api/docs/{doc}/versions")))
        .bearer_auth(token)
        .send()
        .await
        .expect("versions")
        .json()
        .await
        .expect("versions JSON");
    let kinds = versions["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|version| version["kind"].clone())
        .collect();
    (now, kinds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_pages_restore_form_needs_its_csrf_token_and_an_editor() {
    let server = TestServer::start().await;
    let (owner, token, viewer, doc, version, _socket) = drafted(&server).await;
    let before = state(&server, &doc, &token).await;
    assert_eq!(
        before.0["ops"],
        json!([{"insert": "Second draft\n"}]),
        "{before:?}"
    );
    let action = format!("/d/{doc}/history/{version}/restore");
    let page = get_text(
        &owner.http,
        server.url(&format!("/d/{doc}/history?v={version}")),
    )
    .await;
    assert!(
        page.contains(&format!("action=\"{action}\"")),
        "the owner is offered the form: {page}"
    );
    let csrf = form_csrf(&page);

    // Without the token, with a wrong one, or with another browser's: refused, nothing restored.
    let other_browser = TestUser::signup(&server, "Elsewhere").await;
    for submitted in ["", "not-the-token", other_browser.csrf.as_str()] {
        let pairs: &[(&str, &str)] = if submitted.is_empty() {
            &[]
        } else {
            &[("csrf", submitted)]
        };
        let refused = post_form(&owner.http, &server.url(&action), pairs).await;
        assert_eq!(refused.status(), 403, "csrf {submitted:?}");
        let body = refused.text().await.expect("page");
        assert!(body.contains("This form expired"), "{body}");
        assert_eq!(
            state(&server, &doc, &token).await,
            before,
            "csrf {submitted:?}"
        );
    }

    // A viewer sees no form, and posting it anyway (with a valid token) is refused.
    let viewer_page = get_text(
        &viewer.http,
        server.url(&format!("/d/{doc}/history?v={version}")),
    )
    .await;
    assert!(viewer_page.contains("Version history"), "{viewer_page}");
    assert!(!viewer_page.contains(&action), "{viewer_page}");
    let refused = post_form(
        &viewer.http,
        &server.url(&action),
        &[("csrf", &form_csrf(&viewer_page))],
    )
    .await;
    assert_eq!(refused.status(), 403);
    let body = refused.text().await.expect("page");
    assert!(body.contains("editor"), "{body}");
    assert_eq!(state(&server, &doc, &token).await, before);

    // The owner's form restores, and the browser lands on the document.
    let restored = post_form(&owner.http, &server.url(&action), &[("csrf", &csrf)]).await;
    assert_eq!(restored.status(), 200);
    assert_eq!(restored.url().path(), format!("/d/{doc}"));
    let (now, kinds) = state(&server, &doc, &token).await;
    assert_eq!(now["ops"], json!([{"insert": "First draft\n"}]));
    assert_eq!(now["rev"], 3, "one op");
    assert_eq!(kinds, [json!("restore"), json!("named")]);
    server.stop().await;
}

/// The history page shows a version as the editor does (headings, bold, lists) and escapes what it holds; it asks
/// before restoring and never speaks of revision numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_page_previews_a_version_formatted_and_escaped() {
    let server = TestServer::start().await;
    let user = TestUser::signup(&server, "Previewer").await;
    let markdown =
        "# Plan for x < y\n\nSome **bold** text & <script>alert(1)</script>\n\n- one\n- two\n";
    let imported = user
        .http
        .post(server.url("/api/docs/import?title=Plan"))
        .header("X-CSRF-Token", &user.csrf)
        .header("Content-Type", "text/markdown")
        .body(markdown)
        .send()
        .await
        .expect("import");
    assert_eq!(imported.status(), 201);
    let doc: Value = imported.json().await.expect("json");
    let id = doc["id"].as_str().expect("id");
    let page = get_text(&user.http, server.url(&format!("/d/{id}/history"))).await;
    let preview = page
        .split("id=\"preview\">")
        .nth(1)
        .and_then(|rest| rest.split("</article>").next())
        .expect("a preview");
    assert!(preview.contains("<h1>Plan for x &lt; y</h1>"), "{preview}");
    assert!(preview.contains("text &amp; "), "{preview}");
    assert!(preview.contains("<strong>bold</strong>"), "{preview}");
    assert!(preview.contains("<li>one</li>"), "{preview}");
    assert!(!preview.contains("<script"), "{preview}");
    assert!(
        page.contains("data-confirm=\"Restore the version from "),
        "{page}"
    );
    assert!(page.contains("<time datetime=\""), "{page}");
    assert!(!page.to_lowercase().contains("revision"), "{page}");
    server.stop().await;
}
