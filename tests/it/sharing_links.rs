//! Share links and the edges of access: a socket that says hello after its access changed joins with the new
//! role, explicit members keep their role whatever link they open, opening a link changes nothing until the visitor
//! confirms, and anonymous guests never exceed the link.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    support::{TestServer, TestUser, client, form_csrf, post_form},
};

/// A JSON API call as `user` (cookie session plus the CSRF header).
async fn call(
    server: &TestServer,
    user: &TestUser,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = user
        .http
        .request(method, server.url(path))
        .header("X-CSRF-Token", &user.csrf);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("API call")
}

async fn create_link(
    server: &TestServer,
    owner: &TestUser,
    doc: &str,
    role: &str,
) -> (String, String) {
    let path = format!("/api/docs/{doc}/links");
    let link: Value = call(
        server,
        owner,
        reqwest::Method::POST,
        &path,
        Some(json!({ "role": role })),
    )
    .await
    .json()
    .await
    .expect("link JSON");
    (
        link["id"].as_str().expect("id").into(),
        link["url"].as_str().expect("url").into(),
    )
}

async fn role_of(server: &TestServer, user: &TestUser, doc: &str) -> Option<String> {
    let response = call(
        server,
        user,
        reqwest::Method::GET,
        &format!("/api/docs/{doc}"),
        None,
    )
    .await;
    if response.status() == 404 {
        return None;
    }
    let meta: Value = response.json().await.expect("metadata");
    meta["role"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_between_upgrade_and_hello_cannot_edit() {
    let server = TestServer::start().await;
    let owner = TestUser::signup(&server, "Owner").await;
    let editor = TestUser::signup(&server, "Editor").await;
    let doc = owner.new_document(&server, "Links").await;
    owner.share(&server, &doc, &editor.email, "editor").await;
    let token = editor.api_token(&server).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    let path = format!("/api/docs/{doc}/members/{}", editor.id);
    assert_eq!(
        call(&server, &owner, reqwest::Method::DELETE, &path, None)
            .await
            .status(),
        204
    );
    socket
        .send(json!({"t": "hello", "proto": 1, "client": client_id("ghost"), "rev": null}))
        .await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "ghost"}]}))
        .await;
    assert!(
        socket.closed_within(Duration::from_secs(2)).await,
        "the removed member's socket closes"
    );
    let owner_token = owner.api_token(&server).await;
    let content = crate::hub_convergence::content(&server.base, &doc, &owner_token).await;
    assert_eq!(
        content,
        json!({"rev": 0, "ops": [{"insert": "\n"}]}),
        "nothing was written"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_members_keep_their_role_whatever_link_they_open() {
    let server = TestServer::start().await;
    let owner = TestUser::signup(&server, "Owner").await;
    let viewer = TestUser::signup(&server, "Viewer").await;
    let doc = owner.new_document(&server, "Links").await;
    owner.share(&server, &doc, &viewer.email, "viewer").await;
    let (link_id, url) = create_link(&server, &owner, &doc, "editor").await;
    let landed = viewer.http.get(&url).send().await.expect("open link");
    assert!(
        landed.url().path().ends_with(&format!("/d/{doc}")),
        "{}",
        landed.url()
    );
    assert_eq!(
        role_of(&server, &viewer, &doc).await.as_deref(),
        Some("viewer"),
        "a link does not override a chosen role"
    );
    let path = format!("/api/docs/{doc}/links/{link_id}");
    assert_eq!(
        call(&server, &owner, reqwest::Method::DELETE, &path, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        role_of(&server, &viewer, &doc).await.as_deref(),
        Some("viewer"),
        "revoking the link keeps them"
    );
    server.stop().await;
}

/// `GET /s/{token}` may come from a cross-site navigation (a link, an image, a redirect), so it changes no membership:
/// it asks, and only the form it shows (with this browser's CSRF token) joins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_link_changes_nothing_until_the_visitor_confirms() {
    let server = TestServer::start().await;
    let owner = TestUser::signup(&server, "Owner").await;
    let visitor = TestUser::signup(&server, "Visitor").await;
    let doc = owner.new_document(&server, "Links").await;
    let (link_id, url) = create_link(&server, &owner, &doc, "commenter").await;
    let page = visitor.http.get(&url).send().await.expect("open link");
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().as_str(), url, "no redirect");
    let html = page.text().await.expect("page");
    assert!(html.contains("Open “Links”?"), "{html}");
    assert!(
        html.contains("You'll join as <strong>commenter</strong>"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "action=\"{}\"",
            url.trim_start_matches(&server.base)
        )),
        "{html}"
    );
    assert_eq!(
        role_of(&server, &visitor, &doc).await,
        None,
        "a GET adds nobody"
    );
    // A form from elsewhere, without this browser's token, is refused.
    let forged = post_form(&visitor.http, &url, &[("csrf", "forged")]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(role_of(&server, &visitor, &doc).await, None);
    let joined = post_form(&visitor.http, &url, &[("csrf", &form_csrf(&html))]).await;
    assert_eq!(joined.url().path(), format!("/d/{doc}"));
    assert_eq!(
        role_of(&server, &visitor, &doc).await.as_deref(),
        Some("commenter")
    );
    // Now a member, the visitor goes straight to the document.
    let again = visitor
        .http
        .get(&url)
        .send()
        .await
        .expect("open link again");
    assert_eq!(again.url().path(), format!("/d/{doc}"));
    // A revoked link joins nobody, even with a form shown before the revocation.
    let stranger = TestUser::signup(&server, "Stranger").await;
    let html = stranger
        .http
        .get(&url)
        .send()
        .await
        .expect("open")
        .text()
        .await
        .expect("page");
    let path = format!("/api/docs/{doc}/links/{link_id}");
    assert_eq!(
        call(&server, &owner, reqwest::Method::DELETE, &path, None)
            .await
            .status(),
        204
    );
    let late = post_form(&stranger.http, &url, &[("csrf", &form_csrf(&html))]).await;
    assert_eq!(late.status(), 404);
    assert_eq!(role_of(&server, &stranger, &doc).await, None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_guests_join_by_name_and_never_exceed_the_link() {
    let server = TestServer::start_with(&[("sharing.anonymous_links", "true")]).await;
    let owner = TestUser::signup(&server, "Owner").await;
    let doc = owner.new_document(&server, "Links").await;
    let (link_id, url) = create_link(&server, &owner, &doc, "viewer").await;
    let guest = client();
    let page = guest.get(&url).send().await.expect("open link");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("page");
    assert!(html.contains("Continue as a guest"), "{html}");
    let csrf = form_csrf(&html);
    let joined = post_form(
        &guest,
        &format!("{url}/guest"),
        &[("csrf", &csrf), ("name", "Grace")],
    )
    .await;
    assert!(
        joined.url().path().ends_with(&format!("/d/{doc}")),
        "{}",
        joined.url()
    );
    let meta: Value = guest
        .get(server.url(&format!("/api/docs/{doc}")))
        .send()
        .await
        .expect("meta")
        .json()
        .await
        .expect("JSON");
    assert_eq!(meta["role"], "viewer");
    let members: Value = guest
        .get(server.url(&format!("/api/docs/{doc}/members")))
        .send()
        .await
        .expect("members")
        .json()
        .await
        .expect("JSON");
    let me = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["name"] == "Grace (guest)")
        .cloned()
        .expect("the guest is listed");
    // The guest cannot raise their own role, nor edit through the socket.
    let raise = guest
        .put(server.url(&format!(
            "/api/docs/{doc}/members/{}",
            me["id"].as_str().expect("id")
        )))
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(raise.status(), 403);
    let stranger_doc = owner.new_document(&server, "Links").await;
    let other = guest
        .get(server.url(&format!("/api/docs/{stranger_doc}")))
        .send()
        .await
        .expect("other doc");
    assert_eq!(other.status(), 404, "the link opens one document only");
    let path = format!("/api/docs/{doc}/links/{link_id}");
    assert_eq!(
        call(&server, &owner, reqwest::Method::DELETE, &path, None)
            .await
            .status(),
        204
    );
    let after = guest
        .get(server.url(&format!("/api/docs/{doc}")))
        .send()
        .await
        .expect("meta");
    assert_eq!(
        after.status(),
        404,
        "revoking the link ends the guest's access"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_anonymous_links_guests_must_sign_in() {
    let server = TestServer::start().await;
    let owner = TestUser::signup(&server, "Owner").await;
    let doc = owner.new_document(&server, "Links").await;
    let (_, url) = create_link(&server, &owner, &doc, "editor").await;
    let guest = client();
    let page = guest.get(&url).send().await.expect("open link");
    assert!(page.url().path().starts_with("/login"), "{}", page.url());
    let csrf = form_csrf(&page.text().await.expect("login page"));
    let refused = post_form(
        &guest,
        &format!("{url}/guest"),
        &[("csrf", &csrf), ("name", "Mallory")],
    )
    .await;
    assert_eq!(
        refused.status(),
        404,
        "no guest accounts unless sharing.anonymous_links is on"
    );
    let members: Value = call(
        &server,
        &owner,
        reqwest::Method::GET,
        &format!("/api/docs/{doc}/members"),
        None,
    )
    .await
    .json()
    .await
    .expect("members");
    assert_eq!(
        members["members"].as_array().map(Vec::len),
        Some(1),
        "only the owner"
    );
    server.stop().await;
}

/// A join and a revocation of the same link at the same moment: whatever their order, nobody is left a member
/// through the revoked link (the join either comes first and is undone by the revocation, or finds the link gone).
async fn joins_racing_a_revocation(server: &TestServer) {
    let owner = TestUser::signup(server, "Owner").await;
    let mut visitors = Vec::new();
    for n in 0..12 {
        visitors.push(std::sync::Arc::new(
            TestUser::signup(server, &format!("Visitor {n}")).await,
        ));
    }
    let doc = owner.new_document(server, "Links").await;
    let store = server.store().await;
    for round in 0..8u64 {
        let (link_id, url) = create_link(server, &owner, &doc, "editor").await;
        let mut joins = Vec::new();
        for visitor in &visitors {
            let (visitor, url) = (visitor.clone(), url.clone());
            joins.push(tokio::spawn(async move {
                post_form(&visitor.http, &url, &[("csrf", &visitor.csrf)])
                    .await
                    .status()
            }));
        }
        tokio::time::sleep(Duration::from_millis(round * 3)).await;
        let path = format!("/api/docs/{doc}/links/{link_id}");
        let revoked = call(server, &owner, reqwest::Method::DELETE, &path, None).await;
        assert_eq!(revoked.status(), 204);
        for join in joins {
            let status = join.await.expect("join task");
            assert!(status == 200 || status == 404, "round {round}: {status}");
        }
        let left: Vec<String> = store
            .members(&doc)
            .await
            .expect("members")
            .into_iter()
            .filter(|member| member.via_link.as_deref() == Some(link_id.as_str()))
            .map(|member| member.name)
            .collect();
        assert_eq!(
            left,
            Vec::<String>::new(),
            "round {round}: members through a revoked link"
        );
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_racing_a_revocation_leaves_nobody_behind_sqlite() {
    let server = TestServer::start().await;
    joins_racing_a_revocation(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_racing_a_revocation_leaves_nobody_behind_postgres() {
    let Some(pg) = crate::support::TestPg::start().await else {
        return;
    };
    let server = TestServer::start_with(&[("database.url", &pg.url)]).await;
    joins_racing_a_revocation(&server).await;
    server.stop().await;
}
