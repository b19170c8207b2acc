//! Accounts through HTTP: sign-up, log-in, sessions, CSRF, throttling, the sign-up policy, API tokens and JSON errors.

use quire::auth;
use serde_json::{Value, json};

use crate::support::{
    TestServer, TestUser, client, cookie_value, expect_json_error, form_csrf, get_text, post_form,
    post_login, set_cookies,
};

#[tokio::test]
async fn signup_login_me_logout_and_the_session_ends() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let me: Value = ann
        .http
        .get(server.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], ann.id.as_str());
    assert_eq!(me["email"], ann.email.as_str());
    assert_eq!(me["name"], "Ann");

    let browser = client();
    let response = post_login(&browser, &server, &ann.email.to_uppercase(), &ann.password).await;
    assert_eq!(response.status(), 200, "e-mails are case-insensitive");
    let session = cookie_value(&response, "quire_session").expect("log-in sets the session cookie");
    let csrf = cookie_value(&response, "quire_csrf").expect("a new browser gets a CSRF cookie");
    let me: Value = browser
        .get(server.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], ann.id.as_str());

    let response = browser
        .post(server.url("/api/auth/logout"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    expect_json_error(
        browser.get(server.url("/api/me")).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    // The server forgot the session: replaying the old cookie does not bring it back.
    let replay = client()
        .get(server.url("/api/me"))
        .header("Cookie", format!("quire_session={session}"))
        .send()
        .await
        .unwrap();
    expect_json_error(replay, 401, "unauthorized").await;
    let me = ann.http.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(
        me.status(),
        200,
        "logging out one browser leaves the others signed in"
    );
    server.stop().await;
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let response = post_login(&client(), &server, &ann.email, &ann.password).await;
    let cookies = set_cookies(&response);
    let session = cookies
        .iter()
        .find(|cookie| cookie.starts_with("quire_session="))
        .expect("session cookie");
    let attributes: Vec<String> = session
        .split(';')
        .map(|part| part.trim().to_lowercase())
        .collect();
    assert!(attributes.contains(&"httponly".to_string()), "{session}");
    assert!(
        attributes.contains(&"samesite=lax".to_string()),
        "{session}"
    );
    assert!(attributes.contains(&"path=/".to_string()), "{session}");
    assert!(
        !attributes.contains(&"secure".to_string()),
        "plain http public URL: {session}"
    );
    server.stop().await;
}

#[tokio::test]
async fn secure_cookie_when_the_public_url_is_https() {
    let server =
        TestServer::start_with(&[("server.public_url", "https://docs.example.test")]).await;
    let response = client()
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": "sec@example.test", "name": "Sec", "password": "long enough"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let cookies = set_cookies(&response);
    assert!(!cookies.is_empty());
    for cookie in cookies {
        assert!(cookie.to_lowercase().contains("; secure"), "{cookie}");
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_password_is_401_and_sets_no_cookie() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let browser = client();
    // Visit a page first, as a browser would, so the CSRF cookie is already in place.
    browser.get(server.url("/login")).send().await.unwrap();
    let response = post_login(&browser, &server, &ann.email, "not the password").await;
    assert!(
        set_cookies(&response).is_empty(),
        "{:?}",
        set_cookies(&response)
    );
    expect_json_error(response, 401, "invalid_credentials").await;
    let unknown = post_login(&browser, &server, "nobody@example.test", "whatever123").await;
    assert!(cookie_value(&unknown, "quire_session").is_none());
    expect_json_error(unknown, 401, "invalid_credentials").await;
    expect_json_error(
        browser.get(server.url("/api/me")).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn signup_form_needs_the_csrf_token() {
    let server = TestServer::start().await;
    let browser = client();
    let page = get_text(&browser, server.url("/signup")).await;
    let csrf = form_csrf(&page);
    let fields = [
        ("name", "Form Person"),
        ("email", "form@example.test"),
        ("password", "form password"),
    ];

    let without = post_form(&browser, &server.url("/signup"), &fields).await;
    assert_eq!(without.status(), 403);
    let mut wrong = fields.to_vec();
    wrong.push(("csrf", "forged"));
    assert_eq!(
        post_form(&browser, &server.url("/signup"), &wrong)
            .await
            .status(),
        403
    );
    let login = post_login(&client(), &server, "form@example.test", "form password").await;
    assert_eq!(login.status(), 401, "a refused form creates no account");

    let mut with = fields.to_vec();
    with.push(("csrf", &csrf));
    let landed = post_form(&browser, &server.url("/signup"), &with).await;
    assert_eq!(landed.status(), 200);
    assert_eq!(landed.url().path(), "/", "sign-up lands on the home page");
    let home = landed.text().await.unwrap();
    assert!(
        home.contains("Form Person"),
        "the home page shows who is signed in: {home}"
    );
    assert!(home.contains("action=\"/logout\""), "with a log-out button");
    server.stop().await;
}

#[tokio::test]
async fn login_and_logout_forms_need_the_csrf_token() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let browser = client();
    let page = get_text(&browser, server.url("/login")).await;
    let csrf = form_csrf(&page);
    let fields = [
        ("email", ann.email.as_str()),
        ("password", ann.password.as_str()),
    ];
    assert_eq!(
        post_form(&browser, &server.url("/login"), &fields)
            .await
            .status(),
        403
    );
    assert_eq!(
        browser
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let mut with = fields.to_vec();
    with.push(("csrf", &csrf));
    let home = post_form(&browser, &server.url("/login"), &with).await;
    assert_eq!(home.url().path(), "/");
    assert!(home.text().await.unwrap().contains("Ann"));

    assert_eq!(
        post_form(&browser, &server.url("/logout"), &[])
            .await
            .status(),
        403
    );
    assert_eq!(
        browser
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let out = post_form(&browser, &server.url("/logout"), &[("csrf", &csrf)]).await;
    assert_eq!(out.url().path(), "/login");
    assert_eq!(
        browser
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    server.stop().await;
}

/// The editor page has the header's log-out form too: the editor's log-out guard (web/src/ui/logout-guard.js) acts
/// on the submit of a form that posts to /logout, so without one on the page it never ran.
#[tokio::test]
async fn the_editor_page_has_the_log_out_form() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let doc = ann
        .post_json(&server, "/api/docs", json!({"title": "Notes"}))
        .await;
    let page = get_text(
        &ann.http,
        server.url(&format!("/d/{}", doc["id"].as_str().unwrap())),
    )
    .await;
    let form = page
        .find("<form method=\"post\" action=\"/logout\"")
        .map(|start| &page[start..])
        .unwrap_or_else(|| panic!("no log-out form on the editor page: {page}"));
    let form = &form[..form.find("</form>").expect("the form ends")];
    assert_eq!(form_csrf(form), ann.csrf, "the form carries the CSRF token");
    assert!(
        form.contains("<button type=\"submit\">Log out</button>"),
        "{form}"
    );
    let out = post_form(&ann.http, &server.url("/logout"), &[("csrf", &ann.csrf)]).await;
    assert_eq!(out.url().path(), "/login");
    assert_eq!(
        ann.http
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    server.stop().await;
}

#[tokio::test]
async fn cookie_api_writes_need_json_or_the_csrf_header() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    // What a cross-site form could send: the cookies ride along, but neither a JSON type nor the header.
    let forged = post_form(&ann.http, &server.url("/api/auth/logout"), &[]).await;
    expect_json_error(forged, 403, "forbidden").await;
    let cross_origin = ann
        .http
        .post(server.url("/api/tokens"))
        .header("Origin", "https://evil.example")
        .json(&json!({"name": "stolen"}))
        .send()
        .await
        .unwrap();
    expect_json_error(cross_origin, 403, "forbidden").await;
    assert_eq!(
        ann.http
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let tokens: Value = ann
        .http
        .get(server.url("/api/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["tokens"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_429() {
    let server = TestServer::start_with(&[("auth.login_max_failures", "3")]).await;
    let ann = TestUser::signup(&server, "Ann").await;
    let browser = client();
    for _ in 0..3 {
        let response = post_login(&browser, &server, &ann.email, "wrong password").await;
        assert_eq!(response.status(), 401);
    }
    let throttled = post_login(&browser, &server, &ann.email, "wrong password").await;
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    expect_json_error(throttled, 429, "rate_limited").await;
    let correct = post_login(&browser, &server, &ann.email, &ann.password).await;
    assert!(cookie_value(&correct, "quire_session").is_none());
    expect_json_error(correct, 429, "rate_limited").await;
    // Another account from the same address is not locked out by Ann's failures alone.
    let bob = TestUser::signup(&server, "Bob").await;
    assert_eq!(
        post_login(&client(), &server, &bob.email, &bob.password)
            .await
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn closed_signup_is_refused_by_api_and_page() {
    let server = TestServer::start_with(&[("auth.signup", "closed")]).await;
    let browser = client();
    let response = browser
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": "new@example.test", "name": "New", "password": "long enough"}))
        .send()
        .await
        .unwrap();
    expect_json_error(response, 403, "forbidden").await;
    let page = get_text(&browser, server.url("/signup")).await;
    assert!(page.contains("Sign-up is closed"), "{page}");
    assert!(
        !page.contains("action=\"/signup\""),
        "no sign-up form when closed"
    );
    let login_page = get_text(&browser, server.url("/login")).await;
    assert!(
        !login_page.contains("href=\"/signup\""),
        "the log-in page does not advertise sign-up"
    );
    let csrf = form_csrf(&login_page);
    let fields = [
        ("csrf", csrf.as_str()),
        ("name", "New"),
        ("email", "new@example.test"),
        ("password", "long enough"),
    ];
    assert_eq!(
        post_form(&browser, &server.url("/signup"), &fields)
            .await
            .status(),
        403
    );
    assert_eq!(
        post_login(&client(), &server, "new@example.test", "long enough")
            .await
            .status(),
        401
    );
    server.stop().await;
}

#[tokio::test]
async fn invite_signup_needs_an_unused_invitation_for_that_email() {
    let server = TestServer::start_with(&[("auth.signup", "invite")]).await;
    let store = server.store().await;
    let token = auth::new_token();
    store
        .create_invite(&auth::token_hash(&token), "Invited@Example.test", None)
        .await
        .unwrap();
    store.close().await;
    let signup = |email: &str, invite: Option<&str>| {
        let body =
            json!({"email": email, "name": "Invited", "password": "long enough", "invite": invite});
        client()
            .post(server.url("/api/auth/signup"))
            .json(&body)
            .send()
    };
    expect_json_error(
        signup("invited@example.test", None).await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    expect_json_error(
        signup("invited@example.test", Some("made-up"))
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    expect_json_error(
        signup("other@example.test", Some(&token)).await.unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        signup("invited@example.test", Some(&token))
            .await
            .unwrap()
            .status(),
        201
    );
    let reused = signup("invited@example.test", Some(&token)).await.unwrap();
    assert_eq!(reused.status(), 403, "an invitation is used once");
    server.stop().await;
}

#[tokio::test]
async fn a_failed_invited_signup_keeps_its_invitation() {
    let server = TestServer::start_with(&[("auth.signup", "invite")]).await;
    let store = server.store().await;
    let token = auth::new_token();
    let email = "kept@example.test";
    store
        .create_invite(&auth::token_hash(&token), email, None)
        .await
        .unwrap();
    let signup = |email: &str, name: &str, password: &str| {
        let body = json!({"email": email, "name": name, "password": password, "invite": token});
        client()
            .post(server.url("/api/auth/signup"))
            .json(&body)
            .send()
    };
    expect_json_error(
        signup(email, "Kept", "short").await.unwrap(),
        400,
        "bad_request",
    )
    .await;
    expect_json_error(
        signup(email, " ", "long enough").await.unwrap(),
        400,
        "bad_request",
    )
    .await;
    assert!(
        store
            .invite_usable(&auth::token_hash(&token), email)
            .await
            .unwrap(),
        "refused sign-ups did not use the invitation"
    );
    assert_eq!(
        signup(email, "Kept", "long enough").await.unwrap().status(),
        201
    );
    // An e-mail that has an account already: 409, and that invitation is not lost either.
    let token = auth::new_token();
    store
        .create_invite(&auth::token_hash(&token), email, None)
        .await
        .unwrap();
    let body = json!({"email": email, "name": "Twice", "password": "long enough", "invite": token});
    let taken = client()
        .post(server.url("/api/auth/signup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_json_error(taken, 409, "email_taken").await;
    assert!(
        store
            .invite_usable(&auth::token_hash(&token), email)
            .await
            .unwrap()
    );
    store.close().await;
    server.stop().await;
}

#[tokio::test]
async fn api_token_works_as_bearer_until_revoked() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let secret = ann.api_token(&server).await;
    let bearer = client();
    let me = bearer
        .get(server.url("/api/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(
        set_cookies(&me)
            .iter()
            .all(|cookie| !cookie.starts_with("quire_session"))
    );
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], ann.email.as_str());

    // Bearer requests are not cookie-borne, so they need no CSRF proof.
    let second = bearer
        .post(server.url("/api/tokens"))
        .bearer_auth(&secret)
        .header("Content-Type", "application/json")
        .body(r#"{"name":"made by a script"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 201);

    let listed: Value = ann
        .http
        .get(server.url("/api/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(
        tokens.iter().all(|token| token.get("token").is_none()),
        "secrets are shown once: {listed}"
    );
    let first_id = tokens
        .iter()
        .find(|token| token["name"] == "test token")
        .unwrap()["id"]
        .as_str()
        .unwrap();

    let revoked = ann
        .http
        .delete(server.url(&format!("/api/tokens/{first_id}")))
        .header("X-CSRF-Token", &ann.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let after = bearer
        .get(server.url("/api/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    expect_json_error(after, 401, "unauthorized").await;
    let again = ann
        .http
        .delete(server.url(&format!("/api/tokens/{first_id}")))
        .header("X-CSRF-Token", &ann.csrf)
        .send()
        .await
        .unwrap();
    expect_json_error(again, 404, "not_found").await;
    server.stop().await;
}

#[tokio::test]
async fn bad_bearer_token_is_401_even_with_a_valid_cookie() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let response = client()
        .get(server.url("/api/me"))
        .bearer_auth("qt_not-a-token")
        .send()
        .await
        .unwrap();
    expect_json_error(response, 401, "unauthorized").await;
    let mixed = ann
        .http
        .get(server.url("/api/me"))
        .bearer_auth("qt_not-a-token")
        .send()
        .await
        .unwrap();
    expect_json_error(mixed, 401, "unauthorized").await;
    server.stop().await;
}

#[tokio::test]
async fn api_errors_are_json_and_pages_are_html() {
    let server = TestServer::start().await;
    let http = client();
    expect_json_error(
        http.get(server.url("/api/me")).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    expect_json_error(
        http.get(server.url("/api/no-such-route"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    let page = http.get(server.url("/no-such-page")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    let content_type = page.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let short = http
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": "short@example.test", "name": "Short", "password": "1234567"}))
        .send()
        .await
        .unwrap();
    let message = expect_json_error(short, 400, "bad_request").await;
    assert!(message.contains('8'), "says how long: {message}");
    let taken = TestUser::signup(&server, "Ann").await;
    let again = http
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": taken.email, "name": "Ann 2", "password": "long enough"}))
        .send()
        .await
        .unwrap();
    expect_json_error(again, 409, "email_taken").await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_is_400_and_changes_nothing() {
    let server = TestServer::start().await;
    let http = client();
    let broken = http
        .post(server.url("/api/auth/signup"))
        .header("Content-Type", "application/json")
        .body(r#"{"email": "broken@example.test", "name": "Broken", "password": "long enough""#)
        .send()
        .await
        .unwrap();
    expect_json_error(broken, 400, "bad_request").await;
    let missing_field = http
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": "broken@example.test", "password": "long enough"}))
        .send()
        .await
        .unwrap();
    assert!(missing_field.status().is_client_error());
    expect_json_error(missing_field, 422, "bad_request").await;
    assert_eq!(
        post_login(&http, &server, "broken@example.test", "long enough")
            .await
            .status(),
        401
    );

    let ann = TestUser::signup(&server, "Ann").await;
    let broken_token = ann
        .http
        .post(server.url("/api/tokens"))
        .header("Content-Type", "application/json")
        .body("{name:")
        .send()
        .await
        .unwrap();
    expect_json_error(broken_token, 400, "bad_request").await;
    let tokens: Value = ann
        .http
        .get(server.url("/api/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["tokens"], json!([]));
    server.stop().await;
}
