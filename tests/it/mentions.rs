//! Issue 14, mentions and notifications: `mentions` on comment messages over the WebSocket and HTTP, checked
//! against the document's people; one notification per person newly mentioned by someone else; the list, the
//! unread count and marking read over HTTP, only one's own; notifications hidden once access is gone; the people
//! route's permissions; and the dashboard's badge and notifications page.

use quire::store::{OwnedDocuments, Store};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    cluster_client::{api, create_doc, share_as},
    hub_client::{TestSocket, client_id},
    support::{Backend, TestServer, TestUser, form_csrf, get_text, post_form},
};

/// A person with an API token for the JSON calls.
struct Who {
    user: TestUser,
    token: String,
}

async fn who(server: &TestServer, name: &str) -> Who {
    let user = TestUser::signup(server, name).await;
    let token = user.api_token(server).await;
    Who { user, token }
}

impl Who {
    fn id(&self) -> &str {
        &self.user.id
    }
}

async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    who: &Who,
    body: Option<Value>,
) -> (u16, Value) {
    api(method, &server.url(path), &who.token, body).await
}

async fn notifications(server: &TestServer, who: &Who) -> Value {
    let (status, body) = call(server, Method::GET, "/api/notifications", who, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn unread(server: &TestServer, who: &Who) -> i64 {
    notifications(server, who).await["unread"]
        .as_i64()
        .expect("unread")
}

async fn mark_read(server: &TestServer, who: &Who, body: Value) -> (u16, Value) {
    call(
        server,
        Method::POST,
        "/api/notifications/read",
        who,
        Some(body),
    )
    .await
}

/// Every message of the document, in thread order, as the JSON API lists them.
async fn messages(server: &TestServer, doc: &str, who: &Who) -> Vec<Value> {
    let (status, body) = call(
        server,
        Method::GET,
        &format!("/api/docs/{doc}/comments"),
        who,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["threads"]
        .as_array()
        .expect("threads")
        .iter()
        .flat_map(|thread| thread["messages"].as_array().expect("messages").clone())
        .collect()
}

/// The ids of the people a message object mentions.
fn mentioned(message: &Value) -> Vec<String> {
    message["mentions"]
        .as_array()
        .unwrap_or_else(|| panic!("no mentions in {message}"))
        .iter()
        .map(|mention| mention["id"].as_str().expect("id").to_string())
        .collect()
}

/// Rows of the notifications table, whoever may see them.
async fn stored_notifications(store: &Store) -> i64 {
    let counts = store.table_counts().await.expect("counts");
    counts
        .iter()
        .find(|(table, _)| *table == "notifications")
        .expect("table")
        .1
}

/// A socket of `who` on `doc` that asked for comments.
async fn comment_socket(server: &TestServer, doc: &str, who: &Who, tag: &str) -> TestSocket {
    let mut socket = TestSocket::connect(&server.addr.to_string(), doc, &who.token).await;
    socket
        .send(json!({"t": "hello", "proto": 1, "client": client_id(tag), "rev": null, "comments": true}))
        .await;
    socket.recv_kind("comments").await;
    socket
}

/// A document of `owner` holding "Hello brave world", with a socket of the owner on it at revision 1.
async fn document_with_text(server: &TestServer, owner: &Who, title: &str) -> (String, TestSocket) {
    let doc = create_doc(&server.base, &owner.token, title).await;
    let mut socket = comment_socket(server, &doc, owner, "owner").await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "Hello brave world"}]}))
        .await;
    socket.recv_kind("ack").await;
    (doc, socket)
}

/// Opens a thread over HTTP on "Hello" mentioning `mentions`; returns (thread, message).
async fn open_thread(
    server: &TestServer,
    doc: &str,
    by: &Who,
    body: &str,
    mentions: &[&str],
) -> (String, String) {
    let path = format!("/api/docs/{doc}/comments");
    let request = json!({"start": 0, "end": 5, "body": body, "mentions": mentions});
    let (status, answer) = call(server, Method::POST, &path, by, Some(request)).await;
    assert_eq!(status, 201, "{answer}");
    let thread = answer["thread"]["id"].as_str().expect("thread").to_string();
    (
        thread,
        answer["message"]["id"]
            .as_str()
            .expect("message")
            .to_string(),
    )
}

crate::on_both_backends!(
    a_mention_notifies_each_person_newly_mentioned_once_over_the_websocket_and_http,
    a_mention_of_someone_who_is_not_a_person_of_the_document_stores_nothing,
    notifications_are_listed_marked_read_only_by_their_owner_and_hidden_without_access,
);

async fn a_mention_notifies_each_person_newly_mentioned_once_over_the_websocket_and_http(
    backend: Backend,
) {
    let server = TestServer::start_on(backend, &[]).await;
    let (ann, bob, cy) = (
        who(&server, "Ann").await,
        who(&server, "Bob").await,
        who(&server, "Cy").await,
    );
    let (doc, mut socket) = document_with_text(&server, &ann, "Plans").await;
    share_as(&server.base, &ann.token, &doc, &bob.user.email, "commenter").await;
    share_as(&server.base, &ann.token, &doc, &cy.user.email, "editor").await;

    // Over the WebSocket: Ann mentions Bob and herself; only Bob hears of it.
    socket
        .send(
            json!({"t": "comment_new", "ref": "n", "rev": 1, "start": 6, "end": 11,
                     "body": "@Bob @Ann look", "mentions": [bob.id(), ann.id()]}),
        )
        .await;
    let created = socket.recv_kind("comment").await;
    assert_eq!(created["event"], "created", "{created}");
    assert_eq!(mentioned(&created["message"]), [bob.id(), ann.id()]);
    assert_eq!(created["message"]["mentions"][0]["name"], "Bob");
    let message = created["message"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        (
            unread(&server, &bob).await,
            unread(&server, &ann).await,
            unread(&server, &cy).await
        ),
        (1, 0, 0)
    );

    // An edit that keeps Bob notifies nobody again; one that adds Cy notifies Cy alone.
    socket
        .send(json!({"t": "comment_edit", "ref": "e1", "message": message, "body": "@Bob look!", "mentions": [bob.id()]}))
        .await;
    assert_eq!(
        mentioned(&socket.recv_kind("comment").await["message"]),
        [bob.id()]
    );
    socket
        .send(json!({"t": "comment_edit", "ref": "e2", "message": message, "body": "@Bob @Cy", "mentions": [bob.id(), cy.id()]}))
        .await;
    socket.recv_kind("comment").await;
    assert_eq!(
        (unread(&server, &bob).await, unread(&server, &cy).await),
        (1, 1)
    );

    // Over HTTP: Cy replies mentioning Bob; an edit without mentions drops them and notifies nobody.
    let thread = created["thread"]["id"].as_str().expect("thread");
    let (status, reply) = call(
        &server,
        Method::POST,
        &format!("/api/docs/{doc}/comments/{thread}/replies"),
        &cy,
        Some(json!({"body": "@Bob agreed", "mentions": [bob.id()]})),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(mentioned(&reply["message"]), [bob.id()]);
    assert_eq!(unread(&server, &bob).await, 2);
    let reply_id = reply["message"]["id"].as_str().expect("id");
    let (status, edited) = call(
        &server,
        Method::PATCH,
        &format!("/api/docs/{doc}/comments/{reply_id}"),
        &cy,
        Some(json!({"body": "agreed"})),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["message"]["mentions"], json!([]));
    assert_eq!(unread(&server, &bob).await, 2);

    // The listing carries every message's mentions, and a new socket's `comments` frame too.
    let listed = messages(&server, &doc, &ann).await;
    assert_eq!(mentioned(&listed[0]), [bob.id(), cy.id()]);
    assert_eq!(mentioned(&listed[1]), Vec::<String>::new());
    let mut late = TestSocket::connect(&server.addr.to_string(), &doc, &bob.token).await;
    late.send(json!({"t": "hello", "proto": 1, "client": client_id("late"), "rev": null, "comments": true}))
        .await;
    let frame = late.recv_kind("comments").await;
    assert_eq!(
        mentioned(&frame["threads"][0]["messages"][0]),
        [bob.id(), cy.id()]
    );

    // Bob's notifications say who, where and what, newest first.
    let bobs = notifications(&server, &bob).await;
    let items = bobs["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{bobs}");
    assert_eq!(items[0]["by"]["name"], "Cy");
    assert_eq!(items[0]["excerpt"], "agreed");
    assert_eq!(items[1]["by"]["name"], "Ann");
    assert_eq!(items[1]["doc"], json!({"id": doc, "title": "Plans"}));
    assert_eq!(items[1]["thread"], thread);
    assert_eq!(items[1]["message"], message.as_str());
    assert_eq!(items[1]["read"], false);

    // A deleted message takes its notification from the list and the count.
    let path = format!("/api/docs/{doc}/comments/{message}");
    let (status, body) = call(&server, Method::DELETE, &path, &ann, None).await;
    assert_eq!(status, 200, "{body}");
    let after = notifications(&server, &bob).await;
    let items = after["items"].as_array().map(Vec::len);
    assert_eq!(
        (after["unread"].as_i64(), items),
        (Some(1), Some(1)),
        "{after}"
    );
    assert_eq!(after["items"][0]["by"]["name"], "Cy");
    server.stop().await;
}

async fn a_mention_of_someone_who_is_not_a_person_of_the_document_stores_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, &[]).await;
    let (ann, bob, eve) = (
        who(&server, "Ann").await,
        who(&server, "Bob").await,
        who(&server, "Eve").await,
    );
    let (doc, mut socket) = document_with_text(&server, &ann, "Plans").await;
    share_as(&server.base, &ann.token, &doc, &bob.user.email, "viewer").await;
    let (thread, message) = open_thread(&server, &doc, &ann, "first", &[]).await;
    let before = messages(&server, &doc, &ann).await;

    let twenty_one: Vec<String> = (0..21).map(|i| format!("id{i}")).collect();
    let refused = [
        json!([eve.id()]),
        json!(["no-such-id"]),
        json!([bob.id(), bob.id()]),
        json!(twenty_one),
    ];
    for mentions in &refused {
        for (method, path, body) in [
            (
                Method::POST,
                format!("/api/docs/{doc}/comments"),
                json!({"start": 0, "end": 5, "body": "x", "mentions": mentions}),
            ),
            (
                Method::POST,
                format!("/api/docs/{doc}/comments/{thread}/replies"),
                json!({"body": "x", "mentions": mentions}),
            ),
            (
                Method::PATCH,
                format!("/api/docs/{doc}/comments/{message}"),
                json!({"body": "x", "mentions": mentions}),
            ),
        ] {
            let (status, answer) = call(&server, method, &path, &ann, Some(body)).await;
            assert_eq!(status, 400, "{path} {mentions}: {answer}");
        }
        for (t, frame) in [
            (
                "n",
                json!({"t": "comment_new", "rev": 1, "start": 0, "end": 5, "body": "x", "mentions": mentions}),
            ),
            (
                "r",
                json!({"t": "comment_reply", "thread": thread, "body": "x", "mentions": mentions}),
            ),
            (
                "e",
                json!({"t": "comment_edit", "message": message, "body": "x", "mentions": mentions}),
            ),
        ] {
            let mut frame = frame;
            frame["ref"] = t.into();
            socket.send(frame).await;
            let error = socket.recv_kind("error").await;
            assert_eq!(
                (error["code"].as_str(), error["ref"].as_str()),
                (Some("bad_comment"), Some(t)),
                "{error}"
            );
        }
    }
    assert_eq!(
        messages(&server, &doc, &ann).await,
        before,
        "nothing was stored"
    );
    assert_eq!(
        (unread(&server, &bob).await, unread(&server, &eve).await),
        (0, 0)
    );

    // A viewer is one of the document's people: mentioning them works.
    open_thread(&server, &doc, &ann, "@Bob see", &[bob.id()]).await;
    assert_eq!(unread(&server, &bob).await, 1);
    server.stop().await;
}

async fn notifications_are_listed_marked_read_only_by_their_owner_and_hidden_without_access(
    backend: Backend,
) {
    let server = TestServer::start_on(backend, &[]).await;
    let (ann, bob) = (who(&server, "Ann").await, who(&server, "Bob").await);
    let (one, _s1) = document_with_text(&server, &ann, "One").await;
    let (two, _s2) = document_with_text(&server, &ann, "Two").await;
    share_as(&server.base, &ann.token, &one, &bob.user.email, "commenter").await;
    share_as(&server.base, &ann.token, &two, &bob.user.email, "commenter").await;
    open_thread(&server, &one, &ann, "first @Bob", &[bob.id()]).await;
    open_thread(&server, &one, &ann, "second @Bob", &[bob.id()]).await;
    open_thread(&server, &two, &ann, "third @Bob", &[bob.id()]).await;
    open_thread(&server, &one, &bob, "for @Ann", &[ann.id()]).await;
    let listed = notifications(&server, &bob).await;
    assert_eq!(listed["unread"], 3);
    let ids: Vec<String> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_string())
        .collect();
    let anns = notifications(&server, &ann).await;
    let anns_id = anns["items"][0]["id"].as_str().expect("id").to_string();

    // Bob cannot mark Ann's, by id or by document or all at once.
    assert_eq!(
        mark_read(&server, &bob, json!({"ids": [anns_id]})).await,
        (200, json!({"unread": 3}))
    );
    mark_read(&server, &bob, json!({"doc": one})).await;
    mark_read(&server, &bob, json!({"all": true})).await;
    assert_eq!(
        unread(&server, &ann).await,
        1,
        "Ann's notification is untouched"
    );

    // By ids, by document, then all, for Bob's own.
    assert_eq!(ids.len(), 3);
    assert_eq!(
        mark_read(&server, &ann, json!({"all": true})).await,
        (200, json!({"unread": 0}))
    );
    let bob_fresh = {
        open_thread(&server, &one, &ann, "fourth @Bob", &[bob.id()]).await;
        open_thread(&server, &two, &ann, "fifth @Bob", &[bob.id()]).await;
        notifications(&server, &bob).await
    };
    assert_eq!(bob_fresh["unread"], 2);
    let newest = bob_fresh["items"][0]["id"].as_str().expect("id");
    assert_eq!(
        mark_read(&server, &bob, json!({"ids": [newest]})).await,
        (200, json!({"unread": 1}))
    );
    let items = notifications(&server, &bob).await["items"].clone();
    assert_eq!(
        (items[0]["read"].as_bool(), items[1]["read"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(
        mark_read(&server, &bob, json!({"doc": two})).await,
        (200, json!({"unread": 1}))
    );
    assert_eq!(
        mark_read(&server, &bob, json!({"doc": one})).await,
        (200, json!({"unread": 0}))
    );
    for bad in [
        json!({}),
        json!({"all": false}),
        json!({"ids": ["x"], "all": true}),
        json!({"every": true}),
    ] {
        let (status, body) = mark_read(&server, &bob, bad.clone()).await;
        // 422 for a field that does not exist, as for every JSON body.
        assert!(status == 400 || status == 422, "{bad}: {status}");
        assert_eq!(body["error"]["code"], "bad_request", "{bad}: {body}");
    }

    // Removed from "One", Bob no longer sees its notifications; "Two"'s stay.
    open_thread(&server, &one, &ann, "sixth @Bob", &[bob.id()]).await;
    assert_eq!(unread(&server, &bob).await, 1);
    let path = format!("/api/docs/{one}/members/{}", bob.user.email);
    let (status, body) = call(&server, Method::DELETE, &path, &ann, None).await;
    assert!(status == 200 || status == 204, "{status} {body}");
    let after = notifications(&server, &bob).await;
    assert_eq!(after["unread"], 0);
    let docs: Vec<&str> = after["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["doc"]["title"].as_str().expect("title"))
        .collect();
    assert_eq!(docs, ["Two", "Two"]);

    // Deleting "Two" forever takes its notifications; deleting Bob's account takes the rest.
    for (method, path) in [
        (Method::DELETE, format!("/api/docs/{two}")),
        (Method::DELETE, format!("/api/docs/{two}/forever")),
    ] {
        let (status, body) = call(&server, method, &path, &ann, None).await;
        assert!(status < 300, "{path}: {status} {body}");
    }
    let store = server.store().await;
    // Bob had six (four on "One", two on "Two"), Ann one on "One".
    assert_eq!(stored_notifications(&store).await, 5);
    let deleted = store.delete_account(bob.id(), OwnedDocuments::Delete).await;
    assert!(deleted.expect("delete account").is_some());
    assert_eq!(stored_notifications(&store).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn the_people_route_is_for_those_who_may_comment() {
    let server = TestServer::start().await;
    let (ann, zed, bob, vi, eve) = (
        who(&server, "Ann").await,
        who(&server, "Zed").await,
        who(&server, "Bob").await,
        who(&server, "Vi").await,
        who(&server, "Eve").await,
    );
    let doc = create_doc(&server.base, &ann.token, "People").await;
    share_as(&server.base, &ann.token, &doc, &zed.user.email, "editor").await;
    share_as(&server.base, &ann.token, &doc, &bob.user.email, "commenter").await;
    share_as(&server.base, &ann.token, &doc, &vi.user.email, "viewer").await;
    let path = format!("/api/docs/{doc}/people");
    let expected = json!({"people": [
        {"id": ann.id(), "name": "Ann", "role": "owner"},
        {"id": bob.id(), "name": "Bob", "role": "commenter"},
        {"id": vi.id(), "name": "Vi", "role": "viewer"},
        {"id": zed.id(), "name": "Zed", "role": "editor"},
    ]});
    for person in [&ann, &zed, &bob] {
        assert_eq!(
            call(&server, Method::GET, &path, person, None).await,
            (200, expected.clone())
        );
    }
    // A visitor who joined through a commenter link may read the list, but is not on it.
    let links = format!("/api/docs/{doc}/links");
    let (status, link) = call(
        &server,
        Method::POST,
        &links,
        &ann,
        Some(json!({"role": "commenter"})),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let url = link["url"].as_str().expect("url");
    let guest = who(&server, "Guest").await;
    let form = get_text(&guest.user.http, url).await;
    let joined = post_form(&guest.user.http, url, &[("csrf", &form_csrf(&form))]).await;
    assert_eq!(joined.url().path(), format!("/d/{doc}"));
    assert_eq!(
        call(&server, Method::GET, &path, &guest, None).await,
        (200, expected.clone())
    );
    let (status, body) = call(&server, Method::GET, &path, &vi, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, body) = call(&server, Method::GET, &path, &eve, None).await;
    assert_eq!(status, 404, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_unread_count_and_the_notifications_page_lists_them() {
    let server = TestServer::start().await;
    let (ann, bob) = (who(&server, "Ann <b>").await, who(&server, "Bob").await);
    let (doc, _socket) = document_with_text(&server, &ann, "<i>Plans</i>").await;
    share_as(&server.base, &ann.token, &doc, &bob.user.email, "commenter").await;

    let home = get_text(&bob.user.http, server.url("/")).await;
    assert!(
        home.contains(
            "id=\"notifications-link\" href=\"/notifications\" aria-label=\"Notifications\">"
        ),
        "the header links to notifications"
    );
    assert!(
        !home.contains("id=\"notifications-count\""),
        "no count when nothing is unread"
    );

    let (thread, _) = open_thread(
        &server,
        &doc,
        &ann,
        "<script>alert(1)</script> @Bob",
        &[bob.id()],
    )
    .await;
    open_thread(&server, &doc, &ann, "again @Bob", &[bob.id()]).await;
    let home = get_text(&bob.user.http, server.url("/")).await;
    assert!(
        home.contains("aria-label=\"Notifications, 2 unread\">"),
        "{home}"
    );
    assert!(
        home.contains("id=\"notifications-count\">2</span>"),
        "{home}"
    );

    let page = get_text(&bob.user.http, server.url("/notifications")).await;
    assert!(
        page.contains(&format!("href=\"/d/{doc}#comment-{thread}\"")),
        "{page}"
    );
    assert!(
        page.contains("&#60;i&#62;Plans&#60;/i&#62;"),
        "the title is escaped: {page}"
    );
    assert!(page.contains("Ann &#60;b&#62;"), "the name is escaped");
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62; @Bob"),
        "the excerpt is escaped"
    );
    assert!(!page.contains("<script>alert"), "nothing unescaped");
    assert_eq!(page.matches("class=\"notification unread\"").count(), 2);

    // "Mark all read" needs the page's token; with it the badge goes.
    let forged = post_form(
        &bob.user.http,
        &server.url("/notifications/read"),
        &[("csrf", "guessed")],
    )
    .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(unread(&server, &bob).await, 2);
    let csrf = form_csrf(&page);
    let done = post_form(
        &bob.user.http,
        &server.url("/notifications/read"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(
        (done.status().as_u16(), done.url().path()),
        (200, "/notifications")
    );
    let page = done.text().await.expect("page");
    assert_eq!(page.matches("class=\"notification unread\"").count(), 0);
    assert_eq!(page.matches("class=\"notification\"").count(), 2);
    assert!(!page.contains("id=\"notifications-count\""));
    assert_eq!(unread(&server, &bob).await, 0);
    // Ann, who was mentioned by nobody, has an empty page.
    let anns = get_text(&ann.user.http, server.url("/notifications")).await;
    assert!(anns.contains("id=\"notifications-empty\""));
    server.stop().await;
}
