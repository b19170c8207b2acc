//! `TestUser`: an account created through the JSON API, with its own cookie-keeping HTTP client.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use serde_json::{Value, json};

use super::{TestServer, cookie_value};

/// A signed-in person. `http` carries their session and CSRF cookies.
pub struct TestUser {
    pub http: reqwest::Client,
    pub id: String,
    pub email: String,
    pub name: String,
    pub password: String,
    /// The value of this browser's `quire_csrf` cookie, to send as `X-CSRF-Token` or the `csrf` form field.
    pub csrf: String,
}

static NEXT_USER: AtomicU64 = AtomicU64::new(1);

/// A fresh HTTP client with a cookie store, no proxy and no automatic decompression.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build reqwest client")
}

impl TestUser {
    /// Signs up a new account named `name` with a unique e-mail (POST /api/auth/signup).
    pub async fn signup(server: &TestServer, name: &str) -> TestUser {
        let n = NEXT_USER.fetch_add(1, Ordering::Relaxed);
        let slug: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase();
        let email = format!("{slug}.{n}.{}@example.test", std::process::id());
        let password = format!("correct horse {n}");
        let http = client();
        let response = http
            .post(server.url("/api/auth/signup"))
            .json(&json!({"email": email, "name": name, "password": password}))
            .send()
            .await
            .expect("POST /api/auth/signup");
        let status = response.status();
        let csrf = cookie_value(&response, "quire_csrf");
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 201, "sign-up of {email} failed: {body}");
        let user: Value = serde_json::from_str(&body).expect("sign-up answers JSON");
        TestUser {
            http,
            id: user["id"].as_str().expect("user id").to_string(),
            email,
            name: name.to_string(),
            password,
            csrf: csrf.expect("sign-up sets the quire_csrf cookie"),
        }
    }

    /// POSTs `body` as this user (cookie and CSRF header) and returns the JSON answer, whatever the status.
    pub async fn post_json(&self, server: &TestServer, path: &str, body: Value) -> Value {
        self.http
            .post(server.url(path))
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {path}: {err}"))
            .json()
            .await
            .unwrap_or_else(|err| panic!("POST {path}: not JSON: {err}"))
    }

    /// Creates a personal API token (POST /api/tokens) and returns its secret.
    pub async fn api_token(&self, server: &TestServer) -> String {
        let response = self
            .http
            .post(server.url("/api/tokens"))
            .header("X-CSRF-Token", &self.csrf)
            .json(&json!({"name": "test token"}))
            .send()
            .await
            .expect("POST /api/tokens");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 201, "token creation failed: {body}");
        let token: Value = serde_json::from_str(&body).expect("token JSON");
        token["token"].as_str().expect("token secret").to_string()
    }
}
