//! Small HTTP helpers: cookies from responses, the JSON error shape, URL-encoded form bodies, and `/metrics`.

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use super::TestServer;

/// A counter or gauge from `{base}/metrics` (its `_total` sample for a counter), 0 when absent.
pub async fn metric(base: &str, token: &str, name: &str) -> f64 {
    let text = super::client()
        .get(format!("{base}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once(' '))
        .filter(|(key, _)| *key == name || key.starts_with(&format!("{name}_total")))
        .filter_map(|(_, value)| value.trim().parse::<f64>().ok())
        .sum()
}

/// GETs a page and returns its body, whatever the status.
pub async fn get_text(http: &Client, url: impl reqwest::IntoUrl) -> String {
    http.get(url)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body text")
}

/// Every `Set-Cookie` header of a response, as text.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_string)
        .collect()
}

/// The value a response sets for cookie `name`, if it sets one.
pub fn cookie_value(response: &Response, name: &str) -> Option<String> {
    set_cookies(response).iter().find_map(|cookie| {
        let pair = cookie.split(';').next()?;
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().to_string())
    })
}

/// Asserts the status and the `{"error": {"code", "message"}}` shape, and returns the message.
pub async fn expect_json_error(response: Response, status: u16, code: &str) -> String {
    assert_eq!(
        response.status(),
        StatusCode::from_u16(status).expect("status"),
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type:?}"
    );
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], code, "error code in {body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("error.message is a string");
    assert!(!message.is_empty(), "empty error message in {body}");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["error"], "only `error` at the top level: {body}");
    message.to_string()
}

/// `application/x-www-form-urlencoded` text for the pairs.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Posts an HTML form as a browser would.
pub async fn post_form(http: &Client, url: &str, pairs: &[(&str, &str)]) -> Response {
    http.post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form_body(pairs))
        .send()
        .await
        .expect("form post")
}

/// The hidden `csrf` field of the first form in a page.
pub fn form_csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("the page has a csrf field") + marker.len();
    let len = html[start..].find('"').expect("closing quote");
    html[start..start + len].to_string()
}

/// POST /api/auth/login with JSON credentials.
pub async fn post_login(
    http: &Client,
    server: &TestServer,
    email: &str,
    password: &str,
) -> Response {
    http.post(server.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("POST /api/auth/login")
}
