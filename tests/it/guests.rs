//! Guests, share-link visitors without an account (hardening issue, defect 5): how many can be made, that they
//! cost no password hash and can never log in, and that they get only what their link gives.

use reqwest::{Client, Response};
use serde_json::{Value, json};

use crate::support::{TestServer, TestUser, client, form_csrf, post_form, post_login};

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

/// Opens the link in a fresh browser and posts the guest form; returns the browser and the answer.
async fn join_as_guest(url: &str, name: &str) -> (Client, Response) {
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
    (browser, joined)
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
        let (_, joined) = join_as_guest(&url, name).await;
        assert_eq!(joined.url().path(), format!("/d/{doc}"), "{name} joins");
    }
    let (_, refused) = join_as_guest(&url, "Third").await;
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
        assert_eq!(join_as_guest(&url, name).await.1.status(), 200);
    }
    assert_eq!(join_as_guest(&url, "Third").await.1.status(), 429);
    server.stop().await;
}
