//! Quotas one signed-up user cannot go past (issue 17, defect 3): documents owned, named versions per document,
//! and versions saved or restored per minute. Each refusal is a clear JSON error and changes nothing.

use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

use crate::{hub_convergence::api_setup, support::TestServer};

async fn call(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> Response {
    Client::new()
        .request(method, server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// Asserts the status and error code; returns the `Retry-After` header, if any.
async fn refused(response: Response, status: u16, code: &str) -> Option<String> {
    assert_eq!(response.status(), status);
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], code, "{body}");
    retry_after
}

async fn owned(server: &TestServer, token: &str) -> usize {
    let list: Value = call(
        server,
        token,
        Method::GET,
        "/api/docs?scope=all",
        Value::Null,
    )
    .await
    .json()
    .await
    .expect("list");
    list["docs"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_per_user_are_limited_for_create_and_import() {
    let server = TestServer::start_with(&[("limits.max_documents_per_user", "2")]).await;
    let (token, _first) = api_setup(&server.base).await;
    let second = call(
        &server,
        &token,
        Method::POST,
        "/api/docs",
        json!({"title": "two"}),
    )
    .await;
    assert_eq!(second.status(), 201);
    let third = call(
        &server,
        &token,
        Method::POST,
        "/api/docs",
        json!({"title": "three"}),
    )
    .await;
    refused(third, 403, "limit_reached").await;
    let import = Client::new()
        .post(server.url("/api/docs/import"))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body("imported")
        .send()
        .await
        .expect("import");
    refused(import, 403, "limit_reached").await;
    assert_eq!(owned(&server, &token).await, 2, "nothing was created");
    // Another user has a quota of their own.
    let (other, _) = api_setup(&server.base).await;
    assert_eq!(owned(&server, &other).await, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_versions_are_limited_per_document_and_per_minute() {
    let server = TestServer::start_with(&[
        ("limits.max_named_versions", "2"),
        ("limits.versions_per_minute", "3"),
    ])
    .await;
    let (token, doc) = api_setup(&server.base).await;
    let path = format!("/api/docs/{doc}/versions");
    for name in ["one", "two"] {
        let named = call(&server, &token, Method::POST, &path, json!({"name": name})).await;
        assert_eq!(named.status(), 201, "{name}");
    }
    let third = call(
        &server,
        &token,
        Method::POST,
        &path,
        json!({"name": "three"}),
    )
    .await;
    refused(third, 403, "limit_reached").await;
    // That refusal took the third token of the minute: the next write is throttled, with a time to wait.
    let listed: Value = call(&server, &token, Method::GET, &path, Value::Null)
        .await
        .json()
        .await
        .expect("versions");
    assert_eq!(listed["versions"].as_array().map(Vec::len), Some(2));
    let version = listed["versions"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let restore = format!("/api/docs/{doc}/versions/{version}/restore");
    let throttled = call(&server, &token, Method::POST, &restore, Value::Null).await;
    let wait: u64 = refused(throttled, 429, "rate_limited")
        .await
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    server.stop().await;
}
