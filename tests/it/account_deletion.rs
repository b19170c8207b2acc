//! Issue 15, deleting one's account from the account page: the documents go to another person or are deleted, as
//! chosen, the person's sessions, tokens and sockets end, and every refusal (wrong password, unknown or own
//! e-mail, no choice, a forged form, a guest) changes nothing.

use std::time::Duration;

use reqwest::{Client, Method};
use serde_json::Value;

use crate::hub_client::{TestSocket, client_id};
use crate::support::{TestServer, TestUser, client, form_csrf, get_text, post_form, post_login};

/// A form's fields.
type Form<'a> = [(&'a str, &'a str)];

/// How soon a socket whose account or document went away must close.
const AT_ONCE: Duration = Duration::from_secs(2);

/// Sends a JSON API request as `user` and returns the status.
async fn api(
    server: &TestServer,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> u16 {
    let mut request = user
        .http
        .request(method, server.url(path))
        .header("X-CSRF-Token", &user.csrf);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect(path).status().as_u16()
}

/// The caller's role on a document (`None` when they cannot see it), from GET /api/docs/{id}.
async fn role(server: &TestServer, user: &TestUser, doc: &str) -> Option<String> {
    let response = user
        .http
        .get(server.url(&format!("/api/docs/{doc}")))
        .send()
        .await
        .expect("GET /api/docs/{id}");
    if response.status() != 200 {
        return None;
    }
    let meta: Value = response.json().await.expect("JSON");
    meta["role"].as_str().map(str::to_string)
}

/// The names in a document's member list (the owner first), as `user` gets it.
async fn member_names(server: &TestServer, user: &TestUser, doc: &str) -> Vec<String> {
    let path = format!("/api/docs/{doc}/members");
    let response = user.http.get(server.url(&path)).send().await;
    let members: Value = response.expect(&path).json().await.expect("JSON");
    let listed = members["members"].as_array().expect("members");
    listed
        .iter()
        .map(|member| member["name"].as_str().expect("a name").to_string())
        .collect()
}

async fn me_status(server: &TestServer, browser: &Client) -> u16 {
    let response = browser
        .get(server.url("/api/me"))
        .send()
        .await
        .expect("GET /api/me");
    response.status().as_u16()
}

async fn logs_in(server: &TestServer, user: &TestUser) -> bool {
    post_login(&client(), server, &user.email, &user.password)
        .await
        .status()
        == 200
}

/// Posts the delete form with the account page's CSRF token plus `fields`; returns status and page.
async fn delete_account(
    server: &TestServer,
    user: &TestUser,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let csrf = form_csrf(&get_text(&user.http, server.url("/account")).await);
    let mut pairs = vec![("csrf", csrf.as_str())];
    pairs.extend_from_slice(fields);
    let response = post_form(&user.http, &server.url("/account/delete"), &pairs).await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("page"))
}

async fn open_socket(server: &TestServer, doc: &str, token: &str) -> TestSocket {
    let mut socket = TestSocket::connect(&server.addr.to_string(), doc, token).await;
    socket.hello(&client_id("deletion"), None).await;
    socket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_can_go_to_another_person_and_the_account_ends_everywhere() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let bob = TestUser::signup(&server, "Bob").await;
    let carl = TestUser::signup(&server, "Carl").await;
    let plans = ann.new_document(&server, "Plans").await;
    let trashed = ann.new_document(&server, "Old notes").await;
    let status = api(
        &server,
        &ann,
        Method::DELETE,
        &format!("/api/docs/{trashed}"),
        None,
    )
    .await;
    assert_eq!(status, 204, "trashed");
    ann.share(&server, &plans, &bob.email, "viewer").await;
    ann.share(&server, &plans, &carl.email, "editor").await;
    let bobs = bob.new_document(&server, "Bob's").await;
    bob.share(&server, &bobs, &ann.email, "editor").await;
    let token = ann.api_token(&server).await;
    let mut socket = open_socket(&server, &plans, &token).await;
    let page = get_text(&ann.http, server.url("/account")).await;
    assert!(
        page.contains("Your 2 documents (the trash included)"),
        "{page}"
    );

    let wrong = [
        ("documents", "transfer"),
        ("transfer_to", bob.email.as_str()),
        ("confirm", "not it"),
    ];
    let (status, page) = delete_account(&server, &ann, &wrong).await;
    assert_eq!(status, 403, "a wrong password: {page}");
    assert!(page.contains("The current password is wrong."), "{page}");
    assert_eq!(me_status(&server, &ann.http).await, 200, "still signed in");
    assert_eq!(role(&server, &ann, &plans).await.as_deref(), Some("owner"));

    let right = [
        ("documents", "transfer"),
        ("transfer_to", bob.email.as_str()),
        ("confirm", ann.password.as_str()),
    ];
    let (status, page) = delete_account(&server, &ann, &right).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account was deleted"), "{page}");
    assert!(
        page.contains("Your 2 documents now belong to Bob"),
        "{page}"
    );

    assert_eq!(
        me_status(&server, &ann.http).await,
        401,
        "the session ended"
    );
    assert!(!logs_in(&server, &ann).await, "the account is gone");
    let bearer = client()
        .get(server.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await;
    assert_eq!(
        bearer.expect("GET /api/me").status(),
        401,
        "the token ended"
    );
    assert!(
        socket.closed_within(AT_ONCE).await,
        "the token's socket stays open"
    );
    assert_eq!(
        role(&server, &bob, &plans).await.as_deref(),
        Some("owner"),
        "Bob owns it now"
    );
    assert_eq!(
        role(&server, &bob, &trashed).await.as_deref(),
        Some("owner"),
        "the trash too"
    );
    assert_eq!(
        role(&server, &carl, &plans).await.as_deref(),
        Some("editor"),
        "Carl keeps his role"
    );
    let bobs_members = member_names(&server, &bob, &bobs).await;
    assert_eq!(
        bobs_members,
        ["Bob"],
        "Ann left the documents shared with her"
    );
    let plans_members = member_names(&server, &bob, &plans).await;
    assert_eq!(
        plans_members,
        ["Bob", "Carl"],
        "Bob is the owner, not also a viewer"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_can_be_deleted_with_the_account_and_their_editors_are_told() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let carl = TestUser::signup(&server, "Carl").await;
    let plans = ann.new_document(&server, "Plans").await;
    ann.share(&server, &plans, &carl.email, "editor").await;
    let carls_token = carl.api_token(&server).await;
    let mut carls_socket = open_socket(&server, &plans, &carls_token).await;

    let fields = [("documents", "delete"), ("confirm", ann.password.as_str())];
    let (status, page) = delete_account(&server, &ann, &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Your document was deleted with it."),
        "{page}"
    );
    assert_eq!(
        role(&server, &carl, &plans).await,
        None,
        "the document is gone"
    );
    assert!(
        carls_socket.closed_within(AT_ONCE).await,
        "Carl's editor stays open on a deleted document"
    );
    assert_eq!(
        me_status(&server, &carl.http).await,
        200,
        "Carl is untouched"
    );
    let store = server.store().await;
    assert!(store.document(&plans).await.expect("store").is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_deletion_changes_nothing() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let eve = TestUser::signup(&server, "Eve").await;
    let plans = ann.new_document(&server, "Plans").await;
    let password = ann.password.as_str();
    let refusals: [(&Form, u16, &str); 4] = [
        (
            &[
                ("documents", "transfer"),
                ("transfer_to", "nobody@example.test"),
                ("confirm", password),
            ],
            404,
            "Nobody here has an account",
        ),
        (
            &[
                ("documents", "transfer"),
                ("transfer_to", ann.email.as_str()),
                ("confirm", password),
            ],
            400,
            "someone else",
        ),
        (
            &[
                ("documents", "transfer"),
                ("transfer_to", ""),
                ("confirm", password),
            ],
            400,
            "Give the e-mail",
        ),
        (&[("confirm", password)], 400, "Choose whether"),
    ];
    for (fields, expected, why) in refusals {
        let (status, page) = delete_account(&server, &ann, fields).await;
        assert_eq!(status, expected, "{why}: {page}");
        assert!(page.contains(why), "{why}: {page}");
    }
    for forged in ["", "guessed", eve.csrf.as_str()] {
        let mut pairs = vec![("documents", "delete"), ("confirm", password)];
        if !forged.is_empty() {
            pairs.push(("csrf", forged));
        }
        let response = post_form(&ann.http, &server.url("/account/delete"), &pairs).await;
        assert_eq!(response.status(), 403, "csrf {forged:?}");
    }
    assert_eq!(me_status(&server, &ann.http).await, 200, "still signed in");
    assert!(logs_in(&server, &ann).await, "the account stays");
    assert_eq!(
        role(&server, &ann, &plans).await.as_deref(),
        Some("owner"),
        "the document stays"
    );

    let stranger = post_form(
        &client(),
        &server.url("/account/delete"),
        &[("documents", "delete")],
    )
    .await;
    assert_eq!(
        stranger.status(),
        403,
        "a stranger's form has no CSRF token"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sessions_list_says_which_browser_and_where_from() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .user_agent(firefox)
        .build()
        .expect("client");
    let response = post_login(&browser, &server, &ann.email, &ann.password).await;
    assert_eq!(response.status(), 200);
    let before = get_text(&ann.http, server.url("/account")).await;
    assert!(before.contains("Not used since signing in"), "{before}");
    get_text(&browser, server.url("/")).await;
    let page = get_text(&ann.http, server.url("/account")).await;
    assert!(page.contains("Firefox on Linux"), "{page}");
    assert!(page.contains("just now from 127.0.0.1"), "{page}");
    server.stop().await;
}
