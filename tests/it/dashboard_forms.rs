//! The dashboard's form actions (new, rename, trash, restore, delete forever) as a browser posts them: with the
//! page's CSRF token each does its job and goes back to the list; without it, with a made-up one or with another
//! browser's, each is a 403 page and changes nothing.

use serde_json::Value;

use crate::support::{TestServer, TestUser, form_csrf, get_text, post_form};

/// The tokens a forged form could carry: none, a guess, and a valid token of another browser.
fn forged(other: &TestUser) -> [&str; 3] {
    ["", "guessed-token", other.csrf.as_str()]
}

/// Posts the form at `path` once with each forged token, and asserts that each is refused with the 403 page.
async fn refused_each_time(
    server: &TestServer,
    user: &TestUser,
    other: &TestUser,
    path: &str,
    fields: &[(&str, &str)],
) {
    for token in forged(other) {
        let mut pairs = fields.to_vec();
        if !token.is_empty() {
            pairs.push(("csrf", token));
        }
        let response = post_form(&user.http, &server.url(path), &pairs).await;
        assert_eq!(response.status(), 403, "{path} with csrf {token:?}");
        let page = response.text().await.expect("page");
        assert!(page.contains("This form expired"), "{path}: {page}");
    }
}

/// The document as the JSON API shows it to `user` (`None` when it is gone).
async fn document(server: &TestServer, user: &TestUser, doc: &str) -> Option<Value> {
    let response = user
        .http
        .get(server.url(&format!("/api/docs/{doc}")))
        .send()
        .await
        .expect("GET document");
    match response.status().as_u16() {
        200 => Some(response.json().await.expect("document JSON")),
        404 => None,
        status => panic!("GET /api/docs/{doc}: {status}"),
    }
}

async fn owned_count(server: &TestServer, user: &TestUser) -> usize {
    let listed: Value = user
        .http
        .get(server.url("/api/docs?scope=owned"))
        .send()
        .await
        .expect("GET /api/docs")
        .json()
        .await
        .expect("list JSON");
    listed["docs"].as_array().expect("docs").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_forms_act_with_the_pages_token_and_change_nothing_without_it() {
    let server = TestServer::start().await;
    let user = TestUser::signup(&server, "Dana").await;
    let other = TestUser::signup(&server, "Eve").await;
    let csrf = form_csrf(&get_text(&user.http, server.url("/")).await);

    // New document.
    refused_each_time(&server, &user, &other, "/docs/new", &[]).await;
    assert_eq!(owned_count(&server, &user).await, 0, "nothing was created");
    let created = post_form(&user.http, &server.url("/docs/new"), &[("csrf", &csrf)]).await;
    assert_eq!(created.status(), 200);
    let path = created.url().path().to_string();
    let doc = path
        .strip_prefix("/d/")
        .unwrap_or_else(|| panic!("New document opens the editor, not {path}"))
        .to_string();
    assert_eq!(owned_count(&server, &user).await, 1);

    // Rename.
    let rename = format!("/docs/{doc}/rename");
    refused_each_time(&server, &user, &other, &rename, &[("title", "Forged")]).await;
    let meta = document(&server, &user, &doc).await.expect("exists");
    assert_eq!(meta["title"], "Untitled document");
    let renamed = post_form(
        &user.http,
        &server.url(&rename),
        &[("csrf", &csrf), ("title", "Minutes")],
    )
    .await;
    assert_eq!(
        (renamed.status().as_u16(), renamed.url().path()),
        (200, "/")
    );
    assert!(renamed.text().await.expect("page").contains("Minutes"));
    assert_eq!(
        document(&server, &user, &doc).await.expect("exists")["title"],
        "Minutes"
    );

    // Move to the trash.
    let trash = format!("/docs/{doc}/trash");
    refused_each_time(&server, &user, &other, &trash, &[]).await;
    assert_eq!(
        document(&server, &user, &doc).await.expect("exists")["trashed"],
        false
    );
    let trashed = post_form(&user.http, &server.url(&trash), &[("csrf", &csrf)]).await;
    assert_eq!(
        (trashed.status().as_u16(), trashed.url().path()),
        (200, "/")
    );
    assert_eq!(
        document(&server, &user, &doc).await.expect("exists")["trashed"],
        true
    );

    // Restore from the trash.
    let restore = format!("/docs/{doc}/restore");
    refused_each_time(&server, &user, &other, &restore, &[]).await;
    assert_eq!(
        document(&server, &user, &doc).await.expect("exists")["trashed"],
        true
    );
    let restored = post_form(&user.http, &server.url(&restore), &[("csrf", &csrf)]).await;
    assert_eq!(restored.status(), 200);
    assert_eq!(restored.url().query(), Some("scope=trash"));
    assert_eq!(
        document(&server, &user, &doc).await.expect("exists")["trashed"],
        false
    );

    // Delete forever (from the trash).
    let trashed = post_form(&user.http, &server.url(&trash), &[("csrf", &csrf)]).await;
    assert_eq!(trashed.status(), 200);
    let delete = format!("/docs/{doc}/delete");
    refused_each_time(&server, &user, &other, &delete, &[]).await;
    assert!(
        document(&server, &user, &doc).await.is_some(),
        "still in the trash"
    );
    let deleted = post_form(&user.http, &server.url(&delete), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(document(&server, &user, &doc).await, None, "gone for good");
    assert_eq!(owned_count(&server, &user).await, 0);
    server.stop().await;
}
