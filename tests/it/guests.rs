//! Guests, share-link visitors without an account (hardening issue, defect 5): how many can be made, that they
//! cost no password hash and can never log in, and that they get only what their link gives.

use reqwest::{Client, Response};
use serde_json::{Value, json};

use crate::support::{
    TestServer, TestUser, client, expect_json_error, form_csrf, get_text, post_form, post_login,
};

/// A document of `owner` with a share link of `role`; returns (document id, link URL).
async fn doc_with_link(server: &TestServer, owner: &TestUser, role: &str) -> (String, String) {
    let doc: Value = owner
        .http
        .post(server.url("/api/docs"))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({"title": "Open to guests"}))
        .send()
        .await
        .expect("POST /api/docs")
        .json()
        .await
        .expect("doc JSON");
    let doc = doc["id"].as_str().expect("id").to_string();
    let link: Value = owner
        .http
        .post(server.url(&format!("/api/docs/{doc}/links")))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({ "role": role }))
        .send()
        .await
        .expect("POST link")
        .json()
        .await
        .expect("link JSON");
    (doc, link["url"].as_str().expect("url").to_string())
}

/// Opens the link in a fresh browser and posts the guest form; returns the browser, its CSRF token and the answer.
async fn join_as_guest(url: &str, name: &str) -> (Client, String, Response) {
    let browser = client();
    let page = browser.get(url).send().await.expect("open link");
    assert_eq!(page.status(), 200);
    let csrf = form_csrf(&page.text().await.expect("guest page"));
    let joined = post_form(
        &browser,
        &format!("{url}/guest"),
        &[("csrf", &csrf), ("name", name)],
    )
    .await;
    (browser, csrf, joined)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_are_limited_per_address_and_have_no_password() {
    let server = TestServer::start_with(&[
        ("sharing.anonymous_links", "true"),
        ("sharing.guests_per_address_per_minute", "2"),
    ])
    .await;
    let owner = TestUser::signup(&server, "Owner").await;
    let (doc, url) = doc_with_link(&server, &owner, "viewer").await;
    for name in ["First", "Second"] {
        let (_, _, joined) = join_as_guest(&url, name).await;
        assert_eq!(joined.url().path(), format!("/d/{doc}"), "{name} joins");
    }
    let (_, _, refused) = join_as_guest(&url, "Third").await;
    assert_eq!(refused.status(), 429, "a third guest from one address");
    assert!(
        refused.headers().contains_key("retry-after"),
        "{:?}",
        refused.headers()
    );
    let page = refused.text().await.expect("page");
    assert!(page.contains("Too many guests"), "{page}");

    let store = server.store().await;
    let guests: Vec<_> = store
        .list_users()
        .await
        .expect("users")
        .into_iter()
        .filter(|user| user.guest)
        .collect();
    assert_eq!(guests.len(), 2, "the refused guest was not created");
    for guest in &guests {
        assert_eq!(
            guest.password_hash,
            quire::auth::NO_PASSWORD,
            "a guest costs no argon2 hash"
        );
        assert!(guest.email.ends_with("@guest.invalid"), "{}", guest.email);
        let login = post_login(&client(), &server, &guest.email, quire::auth::NO_PASSWORD).await;
        assert_eq!(login.status(), 401, "a guest can never log in");
    }
    store.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_are_limited_overall() {
    let server = TestServer::start_with(&[
        ("sharing.anonymous_links", "true"),
        ("sharing.guests_per_address_per_minute", "100"),
        ("sharing.guests_per_minute", "2"),
    ])
    .await;
    let owner = TestUser::signup(&server, "Owner").await;
    let (_, url) = doc_with_link(&server, &owner, "viewer").await;
    for name in ["First", "Second"] {
        assert_eq!(join_as_guest(&url, name).await.2.status(), 200);
    }
    assert_eq!(join_as_guest(&url, "Third").await.2.status(), 429);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_get_only_what_their_link_gives() {
    let server = TestServer::start_with(&[("sharing.anonymous_links", "true")]).await;
    let owner = TestUser::signup(&server, "Owner").await;
    let friend = TestUser::signup(&server, "Friend").await;
    let (doc, url) = doc_with_link(&server, &owner, "editor").await;
    // Editors may share here, so only being a guest stands in the way.
    let allowed = owner
        .http
        .patch(server.url(&format!("/api/docs/{doc}")))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({"editors_can_share": true}))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(allowed.status(), 200);
    let (guest, csrf, joined) = join_as_guest(&url, "Grace").await;
    assert_eq!(joined.url().path(), format!("/d/{doc}"));
    let me: Value = guest
        .get(server.url("/api/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("me JSON");
    let guest_id = me["id"].as_str().expect("id").to_string();
    let meta: Value = guest
        .get(server.url(&format!("/api/docs/{doc}")))
        .send()
        .await
        .expect("meta")
        .json()
        .await
        .expect("meta JSON");
    assert_eq!(meta["role"], "editor", "the link's role");

    let post_json = |path: &str, body: Value| {
        guest
            .post(server.url(path))
            .header("X-CSRF-Token", &csrf)
            .json(&body)
            .send()
    };
    let message = expect_json_error(
        post_json("/api/docs", json!({"title": "Mine"}))
            .await
            .expect("POST"),
        403,
        "guest",
    )
    .await;
    assert!(message.contains("create documents"), "{message}");
    let import = guest
        .post(server.url("/api/docs/import?title=Imported"))
        .header("X-CSRF-Token", &csrf)
        .header("Content-Type", "text/markdown")
        .body("# Imported\n")
        .send()
        .await
        .expect("import");
    expect_json_error(import, 403, "guest").await;
    let token = post_json("/api/tokens", json!({"name": "script"}))
        .await
        .expect("POST token");
    expect_json_error(token, 403, "guest").await;
    let shared = guest
        .put(server.url(&format!("/api/docs/{doc}/members/{}", friend.email)))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .expect("PUT member");
    expect_json_error(shared, 403, "guest").await;
    let removed = guest
        .delete(server.url(&format!("/api/docs/{doc}/members/{}", owner.id)))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .expect("DELETE member");
    expect_json_error(removed, 403, "guest").await;
    let members: Value = guest
        .get(server.url(&format!("/api/docs/{doc}/members")))
        .send()
        .await
        .expect("members")
        .json()
        .await
        .expect("members JSON");
    assert_eq!(members["can_share"], false, "{members}");
    for member in members["members"].as_array().expect("members") {
        let own = member["id"] == guest_id.as_str();
        assert_eq!(member.get("email").is_some(), own, "{member}");
    }

    // The pages: no buttons to create or import, and the form route refuses too.
    let home = get_text(&guest, server.url("/")).await;
    assert!(
        home.contains("Open to guests"),
        "the shared document is listed: {home}"
    );
    assert!(!home.contains("new-document"), "{home}");
    assert!(!home.contains("import-form"), "{home}");
    let new_doc = post_form(&guest, &server.url("/docs/new"), &[("csrf", &csrf)]).await;
    assert_eq!(new_doc.status(), 403);
    let owned: Value = guest
        .get(server.url("/api/docs?scope=owned"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    assert_eq!(owned["docs"], json!([]), "the guest owns nothing");

    // Nor can the owner hand the document to a guest.
    let transfer = owner
        .http
        .put(server.url(&format!("/api/docs/{doc}/members/{guest_id}")))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({"role": "owner"}))
        .send()
        .await
        .expect("transfer");
    expect_json_error(transfer, 403, "guest").await;
    // People with accounts are not affected: the owner still creates documents and tokens.
    assert_eq!(owner.api_token(&server).await.len(), 46);
    server.stop().await;
}
