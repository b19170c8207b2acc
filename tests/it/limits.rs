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

/// A flood of sign-ups and log-ins from one address (behind the trusted proxy) is refused at
/// `limits.auth_per_minute` with 429 and Retry-After, while someone at another address still signs in, and the
/// flood's forged `X-Forwarded-For` entries cannot make it look like many addresses (issue 17, defect 6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_is_refused_while_others_log_in() {
    let server = TestServer::start_with(&[
        ("server.trusted_proxies", "127.0.0.1"),
        ("limits.auth_per_minute", "10"),
    ])
    .await;
    let (legit, legit_email) = ("legit password 1", "legit@example.test");
    let signup = Client::new()
        .post(server.url("/api/auth/signup"))
        .header("X-Forwarded-For", "203.0.113.5")
        .json(&json!({"email": legit_email, "name": "Legit", "password": legit}))
        .send()
        .await
        .expect("sign up");
    assert_eq!(signup.status(), 201);

    let flood = (0..60).map(|n| {
        let server_url = server.url(if n % 2 == 0 {
            "/api/auth/signup"
        } else {
            "/api/auth/login"
        });
        async move {
            let body = json!({
                "email": format!("flood{n}@example.test"),
                "name": "Flood",
                "password": "flood password 1",
            });
            let response = Client::new()
                .post(server_url)
                // The attacker writes a new address every time; the proxy appends the one it saw.
                .header("X-Forwarded-For", format!("10.0.{n}.1, 198.51.100.66"))
                .json(&body)
                .send()
                .await
                .expect("flood request");
            let retry_after = response.headers().contains_key("retry-after");
            (response.status().as_u16(), retry_after)
        }
    });
    let answers = futures::future::join_all(flood).await;
    let refused = answers.iter().filter(|(status, _)| *status == 429).count();
    assert!(
        (50..=50).contains(&refused),
        "10 of 60 pass the limit, the rest are refused: {answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|(status, retry)| *status != 429 || *retry),
        "every 429 says when to retry"
    );
    let login = Client::new()
        .post(server.url("/api/auth/login"))
        .header("X-Forwarded-For", "203.0.113.5")
        .json(&json!({"email": legit_email, "password": legit}))
        .send()
        .await
        .expect("log in");
    assert_eq!(login.status(), 200, "the legitimate user is not locked out");
    server.stop().await;
}

/// Parallel guesses at one account are counted before their password checks finish: of 20 at once, only
/// `auth.login_max_failures` reach the password check; the others are refused with 429 (issue 17, defect 6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_password_guesses_cannot_pass_the_per_email_limit() {
    let server = TestServer::start_with(&[("auth.login_max_failures", "5")]).await;
    let email = "target@example.test";
    let signup = Client::new()
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": email, "name": "Target", "password": "the real password"}))
        .send()
        .await
        .expect("sign up");
    assert_eq!(signup.status(), 201);
    let guesses = (0..20).map(|n| {
        let url = server.url("/api/auth/login");
        async move {
            Client::new()
                .post(url)
                .json(&json!({"email": email, "password": format!("guess {n}")}))
                .send()
                .await
                .expect("guess")
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|status| **status == 401).count();
    let refused = statuses.iter().filter(|status| **status == 429).count();
    assert_eq!((checked, refused), (5, 15), "{statuses:?}");
    server.stop().await;
}
