//! Issue 15, single sign-on: the whole OpenID Connect flow against `TestIssuer` on loopback (discovery, JWKS,
//! PKCE, state, nonce, RS256 ID tokens), how identities find, link and create accounts, every refusal (a clear
//! 4xx page and no session), `auth.password = false` and the log-in page's buttons.

use std::time::Duration;

use reqwest::{Client, Response, redirect::Policy};
use serde_json::Value;

use crate::support::{
    Backend, NextLogin, TestIssuer, TestServer, TestUser, cookie_value, expect_json_error,
    get_text, post_form, post_login,
};

/// A browser that keeps cookies and lets the test follow each redirect itself.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .no_proxy()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build reqwest client")
}

async fn server_for(issuer: &TestIssuer, extra: &str, flags: &[(&str, &str)]) -> TestServer {
    TestServer::start_with_file(&issuer.provider_toml("test", extra), flags).await
}

fn location(response: &Response) -> String {
    assert!(
        response.status().is_redirection(),
        "{} answered {}, not a redirect",
        response.url(),
        response.status()
    );
    response.headers()["location"].to_str().unwrap().to_string()
}

/// Start → the issuer's consent: the URL the issuer sends the browser back to, not yet visited.
async fn callback_url(http: &Client, server: &TestServer, next: &str) -> String {
    let start = http
        .get(server.url(&format!("/auth/oidc/test/start?next={next}")))
        .send()
        .await
        .unwrap();
    let authorize = location(&start);
    let consent = http.get(&authorize).send().await.unwrap();
    let callback = location(&consent);
    assert!(
        callback.starts_with(&server.url("/auth/oidc/test/callback?")),
        "{callback}"
    );
    callback
}

/// The whole sign-in; returns the callback's response.
async fn sign_in(http: &Client, server: &TestServer) -> Response {
    let callback = callback_url(http, server, "/").await;
    http.get(&callback).send().await.unwrap()
}

/// `/api/me` for this browser: `None` when it has no session.
async fn me(http: &Client, server: &TestServer) -> Option<Value> {
    let response = http.get(server.url("/api/me")).send().await.unwrap();
    match response.status().as_u16() {
        200 => Some(response.json().await.unwrap()),
        401 => None,
        status => panic!("/api/me answered {status}"),
    }
}

/// A refusal: the status, a page saying `words`, no session cookie, and the browser still signed out.
async fn assert_refused(
    http: &Client,
    server: &TestServer,
    response: Response,
    status: u16,
    words: &str,
) {
    assert_eq!(response.status(), status, "status of {}", response.url());
    assert!(
        cookie_value(&response, "quire_session").is_none(),
        "a refused sign-in sets no session"
    );
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Not signed in") || page.contains("not signed in"),
        "{page}"
    );
    assert!(
        page.contains(words),
        "the page should say {words:?}: {page}"
    );
    assert!(
        me(http, server).await.is_none(),
        "no session after a refusal"
    );
}

crate::on_both_backends!(a_replayed_callback_is_refused_and_the_subject_finds_the_account);

/// On SQLite and PostgreSQL: a sign-in in progress is taken once (`DELETE … RETURNING`), so replaying its callback
/// with its state cookie is refused; an account is created with its identity, which finds it again.
async fn a_replayed_callback_is_refused_and_the_subject_finds_the_account(backend: Backend) {
    let issuer = TestIssuer::start().await;
    let toml = issuer.provider_toml("test", "create_accounts = true");
    let server = TestServer::start_on_with_file(backend, Some(&toml), &[]).await;
    issuer.next_login(NextLogin::person("sub-ann", "ann@example.com"));
    let http = browser();
    let callback = callback_url(&http, &server, "/").await;
    let state = callback.split_once("state=").unwrap().1.to_string();
    assert_eq!(http.get(&callback).send().await.unwrap().status(), 303);
    let ann = me(&http, &server).await.expect("signed in");

    let replay = browser();
    let response = replay
        .get(&callback)
        .header("Cookie", format!("quire_oidc={state}"))
        .send()
        .await
        .unwrap();
    assert_refused(&replay, &server, response, 400, "used already").await;

    issuer.next_login(NextLogin::person("sub-ann", "ann.renamed@example.com"));
    let later = browser();
    assert_eq!(sign_in(&later, &server).await.status(), 303);
    assert_eq!(
        me(&later, &server).await.expect("signed in")["id"],
        ann["id"]
    );
    server.stop().await;
}

#[tokio::test]
async fn first_sign_in_creates_the_account_and_the_session_works() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "create_accounts = true", &[]).await;
    issuer.next_login(NextLogin::person("sub-ann", "Ann@Example.com"));
    let http = browser();
    let callback = callback_url(&http, &server, "/account").await;
    let done = http.get(&callback).send().await.unwrap();
    assert_eq!(
        location(&done),
        "/account",
        "back to where the sign-in started"
    );
    assert!(cookie_value(&done, "quire_session").is_some());
    let me = me(&http, &server).await.expect("signed in");
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["name"], "Person sub-ann");

    let again = browser();
    assert_eq!(sign_in(&again, &server).await.status(), 303);
    let second = super::oidc::me(&again, &server)
        .await
        .expect("signed in again");
    assert_eq!(second["id"], me["id"], "the same account, not a second one");
    let store = server.store().await;
    let account = store
        .user_by_email("ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !quire::auth::verify_password("", &account.password_hash),
        "an account made by single sign-on has no password"
    );
}

#[tokio::test]
async fn a_verified_email_links_an_account_which_the_subject_then_finds() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "", &[]).await;
    let ann = TestUser::signup(&server, "Ann").await;

    let mut unverified = NextLogin::person("sub-ann", &ann.email);
    unverified.email_verified = false;
    issuer.next_login(unverified);
    let http = browser();
    let refused = sign_in(&http, &server).await;
    assert_refused(&http, &server, refused, 403, "has not verified your e-mail").await;

    issuer.next_login(NextLogin::person("sub-ann", &ann.email));
    assert_eq!(sign_in(&http, &server).await.status(), 303);
    assert_eq!(
        me(&http, &server).await.expect("signed in")["id"],
        ann.id.as_str()
    );

    // The provider now says another e-mail (and no longer vouches for it): the subject still finds Ann.
    let mut renamed = NextLogin::person("sub-ann", "ann.new@elsewhere.example");
    renamed.email_verified = false;
    issuer.next_login(renamed);
    let later = browser();
    assert_eq!(sign_in(&later, &server).await.status(), 303);
    assert_eq!(
        me(&later, &server).await.expect("signed in")["id"],
        ann.id.as_str()
    );
}

#[tokio::test]
async fn without_create_accounts_an_unknown_email_is_refused() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "create_accounts = false", &[]).await;
    issuer.next_login(NextLogin::person("sub-zed", "zed@example.com"));
    let http = browser();
    let response = sign_in(&http, &server).await;
    assert_refused(
        &http,
        &server,
        response,
        403,
        "There is no account for zed@example.com",
    )
    .await;
    let store = server.store().await;
    assert!(
        store
            .user_by_email("zed@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_disabled_account_is_refused() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "", &[]).await;
    let ann = TestUser::signup(&server, "Ann").await;
    server
        .store()
        .await
        .set_disabled(&ann.id, true)
        .await
        .unwrap();
    issuer.next_login(NextLogin::person("sub-ann", &ann.email));
    let http = browser();
    let response = sign_in(&http, &server).await;
    assert_refused(&http, &server, response, 403, "This account is disabled").await;
}

#[tokio::test]
async fn a_wrong_state_is_refused() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "create_accounts = true", &[]).await;
    issuer.next_login(NextLogin::person("sub-ann", "ann@example.com"));
    let http = browser();
    let callback = callback_url(&http, &server, "/").await;
    let (before, state) = callback.split_once("state=").unwrap();
    let forged = format!("{before}state=x{state}");
    let response = http.get(&forged).send().await.unwrap();
    assert_refused(&http, &server, response, 400, "not started in this browser").await;
}

#[tokio::test]
async fn a_sign_in_the_provider_declined_is_refused() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "create_accounts = true", &[]).await;
    issuer.next_login(NextLogin::person("sub-ann", "ann@example.com"));
    let http = browser();
    let callback = callback_url(&http, &server, "/").await;
    let (before, state) = callback.split_once("code=").unwrap();
    let state = state.split_once('&').unwrap().1;
    let declined = format!("{before}error=access_denied<b>&{state}");
    let response = http.get(&declined).send().await.unwrap();
    assert_refused(
        &http,
        &server,
        response,
        403,
        "Test IdP did not sign you in (it answered “access_denied",
    )
    .await;
}

#[tokio::test]
async fn a_token_signed_with_a_key_not_in_the_jwks_is_refused() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "create_accounts = true", &[]).await;
    let mut forged = NextLogin::person("sub-ann", "ann@example.com");
    forged.rogue_signature = true;
    issuer.next_login(forged);
    let http = browser();
    let response = sign_in(&http, &server).await;
    assert_refused(&http, &server, response, 403, "could not be verified").await;
    let store = server.store().await;
    assert!(
        store
            .user_by_email("ann@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_provider_that_rotates_its_keys_is_followed() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "create_accounts = true", &[]).await;
    issuer.next_login(NextLogin::person("sub-ann", "ann@example.com"));
    assert_eq!(
        sign_in(&browser(), &server).await.status(),
        303,
        "keys now cached"
    );
    issuer.rotate_keys();
    let http = browser();
    assert_eq!(
        sign_in(&http, &server).await.status(),
        303,
        "the new key is fetched"
    );
    assert!(me(&http, &server).await.is_some());
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "create_accounts = true", &[]).await;
    let mut expired = NextLogin::person("sub-ann", "ann@example.com");
    expired.expired = true;
    issuer.next_login(expired);
    let http = browser();
    let response = sign_in(&http, &server).await;
    assert_refused(&http, &server, response, 403, "could not be verified").await;
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "create_accounts = true", &[]).await;
    let mut wrong = NextLogin::person("sub-ann", "ann@example.com");
    wrong.wrong_nonce = true;
    issuer.next_login(wrong);
    let http = browser();
    let response = sign_in(&http, &server).await;
    assert_refused(&http, &server, response, 403, "could not be verified").await;
}

#[tokio::test]
async fn an_email_outside_the_allowed_domains_is_refused() {
    let issuer = TestIssuer::start().await;
    let extra = "create_accounts = true\nallowed_domains = [\"example.com\"]";
    let server = server_for(&issuer, extra, &[]).await;
    issuer.next_login(NextLogin::person("sub-eve", "eve@evil.example"));
    let http = browser();
    let response = sign_in(&http, &server).await;
    assert_refused(
        &http,
        &server,
        response,
        403,
        "Only e-mail addresses at example.com",
    )
    .await;

    issuer.next_login(NextLogin::person("sub-ann", "ann@example.com"));
    assert_eq!(
        sign_in(&http, &server).await.status(),
        303,
        "the allowed domain signs in"
    );
    assert!(me(&http, &server).await.is_some());
}

#[tokio::test]
async fn a_provider_that_is_down_gets_a_clear_page() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let toml = format!(
        "[[auth.oidc]]\nid = \"test\"\ndisplay_name = \"Down IdP\"\nissuer = \"http://127.0.0.1:{port}\"\n\
         client_id = \"x\"\nclient_secret = \"y\"\n"
    );
    let server = TestServer::start_with_file(&toml, &[]).await;
    let response = browser()
        .get(server.url("/auth/oidc/test/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Down IdP cannot be reached right now"),
        "{page}"
    );
    let unknown = browser()
        .get(server.url("/auth/oidc/nope/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn the_log_in_and_sign_up_pages_show_a_button_per_provider() {
    let issuer = TestIssuer::start().await;
    let server = server_for(&issuer, "", &[]).await;
    let http = browser();
    for path in ["/login?next=/d/abc", "/signup"] {
        let page = get_text(&http, server.url(path)).await;
        assert!(page.contains("Sign in with Test IdP"), "{path}: {page}");
        assert!(
            page.contains("name=\"password\""),
            "{path}: passwords stay on by default"
        );
    }
    let login = get_text(&http, server.url("/login?next=/d/abc")).await;
    assert!(
        login.contains("href=\"/auth/oidc/test/start?next=/d/abc\""),
        "{login}"
    );
}

#[tokio::test]
async fn with_passwords_off_only_single_sign_on_remains() {
    let issuer = TestIssuer::start().await;
    let file = format!(
        "[auth]\npassword = false\n{}",
        issuer.provider_toml("test", "create_accounts = true")
    );
    let server = TestServer::start_with_file(&file, &[]).await;
    let http = browser();
    let login_response = http.get(server.url("/login")).send().await.unwrap();
    let csrf = cookie_value(&login_response, "quire_csrf").expect("a CSRF cookie");
    let login = login_response.text().await.unwrap();
    assert!(login.contains("Sign in with Test IdP"), "{login}");
    assert!(
        !login.contains("name=\"password\""),
        "no password form: {login}"
    );
    let message = expect_json_error(
        post_login(&http, &server, "ann@example.com", "secret123").await,
        403,
        "password_disabled",
    )
    .await;
    assert!(message.contains("sign in with Test IdP"), "{message}");
    let signup = http
        .post(server.url("/api/auth/signup"))
        .json(&serde_json::json!({"email": "ann@example.com", "name": "Ann", "password": "secret123"}))
        .send()
        .await
        .unwrap();
    expect_json_error(signup, 403, "password_disabled").await;

    let signup_page = get_text(&http, server.url("/signup")).await;
    assert!(!signup_page.contains("name=\"password\""), "{signup_page}");
    let form = [
        ("csrf", csrf.as_str()),
        ("email", "ann@example.com"),
        ("password", "secret123"),
    ];
    let posted = post_form(&http, &server.url("/login"), &form).await;
    assert_eq!(posted.status(), 403);
    assert!(
        posted
            .text()
            .await
            .unwrap()
            .contains("Passwords are turned off")
    );
    assert!(
        server
            .store()
            .await
            .user_by_email("ann@example.com")
            .await
            .unwrap()
            .is_none()
    );

    issuer.next_login(NextLogin::person("sub-ann", "ann@example.com"));
    assert_eq!(sign_in(&http, &server).await.status(), 303);
    assert!(
        me(&http, &server).await.is_some(),
        "single sign-on still works"
    );
}
