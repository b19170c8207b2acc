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

    /// Signs up `name` at `email` through an invitation made in the store (for `auth.signup = "invite"`, or to
    /// choose the address).
    pub async fn signup_invited(server: &TestServer, name: &str, email: &str) -> TestUser {
        let token = quire::auth::new_token();
        server
            .store()
            .await
            .create_invite(&quire::auth::token_hash(&token), email, None)
            .await
            .expect("create invite");
        let http = client();
        let password = format!(
            "invited password {}",
            NEXT_USER.fetch_add(1, Ordering::Relaxed)
        );
        let response = http
            .post(server.url("/api/auth/signup"))
            .json(&json!({"email": email, "name": name, "password": password, "invite": token}))
            .send()
            .await
            .expect("POST /api/auth/signup");
        assert_eq!(response.status(), 201, "sign-up of {email}");
        let csrf = cookie_value(&response, "quire_csrf").expect("csrf cookie");
        let user: Value = response.json().await.expect("user JSON");
        TestUser {
            http,
            id: user["id"].as_str().expect("id").to_string(),
            email: email.to_string(),
            name: name.to_string(),
            password,
            csrf,
        }
    }

    /// Creates a document titled `title` (POST /api/docs, which must answer 201) and returns its id.
    pub async fn new_document(&self, server: &TestServer, title: &str) -> String {
        let response = self
            .http
            .post(server.url("/api/docs"))
            .header("X-CSRF-Token", &self.csrf)
            .json(&json!({ "title": title }))
            .send()
            .await
            .expect("POST /api/docs");
        assert_eq!(response.status(), 201, "creating {title}");
        let doc: Value = response.json().await.expect("document JSON");
        doc["id"].as_str().expect("document id").to_string()
    }

    /// Shares `doc` with the account or address `email` as `role` (PUT .../members/{email}, which must answer 200).
    pub async fn share(&self, server: &TestServer, doc: &str, email: &str, role: &str) {
        let response = self
            .http
            .put(server.url(&format!("/api/docs/{doc}/members/{email}")))
            .header("X-CSRF-Token", &self.csrf)
            .json(&json!({ "role": role }))
            .send()
            .await
            .expect("PUT member");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "sharing {doc} with {email} as {role}: {body}");
    }
}
