//! Issue 15, the account page at /account: changing the name and the password (the current one checked, the other
//! sessions ended), signing out the other sessions and revoking tokens (their sockets close), each form refused
//! without the page's CSRF token, strangers sent to log in, and names escaped.

use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

use crate::hub_client::{TestSocket, client_id};
use crate::support::{
    TestServer, TestUser, client, form_csrf, get_text, me_status, post_form, post_login,
    second_browser, socket_with_session, submit,
};

/// How soon a socket whose credential ended must close.
const AT_ONCE: Duration = Duration::from_secs(1);
/// How long a socket that must stay open is watched.
const QUIET: Duration = Duration::from_millis(500);

/// GET /api/me as `browser` gets it.
async fn me(server: &TestServer, browser: &Client) -> Value {
    let response = browser.get(server.url("/api/me")).send().await;
    response.expect("GET /api/me").json().await.expect("JSON")
}

/// GET /api/me's status with an API token: 200 while it holds, 401 after.
async fn bearer_status(server: &TestServer, token: &str) -> u16 {
    let response = client()
        .get(server.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await;
    response.expect("GET /api/me").status().as_u16()
}

/// The person's API tokens, as GET /api/tokens lists them.
async fn tokens(server: &TestServer, user: &TestUser) -> Value {
    let response = user.http.get(server.url("/api/tokens")).send().await;
    response
        .expect("GET /api/tokens")
        .json()
        .await
        .expect("JSON")
}

/// The `csrf` field of the account page as `browser` gets it.
async fn page_csrf(server: &TestServer, browser: &Client) -> String {
    form_csrf(&get_text(browser, server.url("/account")).await)
}

/// Whether a fresh log-in with this password works.
async fn logs_in(server: &TestServer, email: &str, password: &str) -> bool {
    let response = post_login(&client(), server, email, password).await;
    match response.status().as_u16() {
        200 => true,
        401 => false,
        status => panic!("log-in answered {status}"),
    }
}

/// Opens the document's socket with an API token and says hello.
async fn socket_with_token(server: &TestServer, doc: &str, token: &str) -> TestSocket {
    let mut socket = TestSocket::connect(&server.addr.to_string(), doc, token).await;
    socket.hello(&client_id("account"), None).await;
    socket
}

/// The password form's fields.
fn password_form<'a>(
    csrf: &'a str,
    current: &'a str,
    new: &'a str,
    again: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("csrf", csrf),
        ("current_password", current),
        ("new_password", new),
        ("repeat_password", again),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_checks_the_current_one_and_ends_the_other_sessions() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let (other, _) = second_browser(&server, &ann.email, &ann.password).await;
    let csrf = page_csrf(&server, &ann.http).await;
    let new_password = "a much better password";
    let wrong = password_form(&csrf, "not my password", new_password, new_password);
    let (status, _, page) = submit(&server, &ann.http, "/account/password", &wrong).await;
    assert_eq!(status, 403, "a wrong current password: {page}");
    assert!(page.contains("The current password is wrong."), "{page}");
    assert!(logs_in(&server, &ann.email, &ann.password).await);
    assert!(!logs_in(&server, &ann.email, new_password).await);
    assert_eq!(me_status(&server, &other).await, 200, "nothing changed");

    let current = ann.password.as_str();
    for (refused, why) in [
        (
            password_form(&csrf, current, new_password, "a much better passwort"),
            "differ",
        ),
        (
            password_form(&csrf, current, "short", "short"),
            "at least 8 characters",
        ),
    ] {
        let (status, path, page) = submit(&server, &ann.http, "/account/password", &refused).await;
        assert_eq!((status, path.as_str()), (400, "/account/password"), "{why}");
        assert!(page.contains(why), "{why}: {page}");
        assert!(logs_in(&server, &ann.email, &ann.password).await, "{why}");
        assert_eq!(me_status(&server, &other).await, 200, "{why}");
    }

    let right = password_form(&csrf, current, new_password, new_password);
    let (status, path, page) = submit(&server, &ann.http, "/account/password", &right).await;
    assert_eq!((status, path.as_str()), (200, "/account"), "{page}");
    assert!(page.contains("Your password was changed."), "{page}");
    assert!(logs_in(&server, &ann.email, new_password).await);
    assert!(!logs_in(&server, &ann.email, &ann.password).await);
    assert_eq!(
        me_status(&server, &other).await,
        401,
        "the other session ended"
    );
    assert_eq!(me_status(&server, &ann.http).await, 200, "this one stays");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_the_other_sessions_ends_them_and_closes_their_sockets() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let doc = ann.new_document(&server, "Notes").await;
    let (this, this_session) = second_browser(&server, &ann.email, &ann.password).await;
    let (other, other_session) = second_browser(&server, &ann.email, &ann.password).await;
    let mut this_socket = socket_with_session(&server, &doc, &this_session, "account").await;
    let mut other_socket = socket_with_session(&server, &doc, &other_session, "account").await;

    let page = get_text(&this, server.url("/account")).await;
    assert_eq!(page.matches("This session").count(), 1, "{page}");
    assert!(page.contains("Sign out other sessions (2)"), "{page}");
    let csrf = form_csrf(&page);
    let (status, path, page) = submit(
        &server,
        &this,
        "/account/sessions/end-others",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!((status, path.as_str()), (200, "/account"), "{page}");
    assert!(
        page.contains("Your other sessions were signed out."),
        "{page}"
    );
    assert!(page.contains("No other session is signed in."), "{page}");

    assert_eq!(me_status(&server, &other).await, 401);
    assert_eq!(
        me_status(&server, &ann.http).await,
        401,
        "the sign-up's too"
    );
    assert_eq!(me_status(&server, &this).await, 200, "this one stays");
    assert!(
        other_socket.closed_within(AT_ONCE).await,
        "the other session's socket stays open"
    );
    assert!(
        !this_socket.closed_within(QUIET).await,
        "this session's socket closed"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_shown_once_and_revoking_it_closes_its_sockets() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let doc = ann.new_document(&server, "Notes").await;
    let csrf = page_csrf(&server, &ann.http).await;

    let (status, _, page) = submit(
        &server,
        &ann.http,
        "/account/tokens",
        &[("csrf", &csrf), ("name", "nightly export")],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let marker = "value=\"qt_";
    let start = page.find(marker).expect("the secret is shown") + "value=\"".len();
    let secret = page[start..start + page[start..].find('"').expect("quote")].to_string();
    let again = get_text(&ann.http, server.url("/account")).await;
    assert!(again.contains("nightly export"), "listed: {again}");
    assert!(!again.contains(&secret), "the secret is shown only once");

    assert_eq!(bearer_status(&server, &secret).await, 200);
    let mut socket = socket_with_token(&server, &doc, &secret).await;
    let listed = tokens(&server, &ann).await;
    let id = listed["tokens"][0]["id"].as_str().expect("token id");

    let revoke = format!("/account/tokens/{id}/revoke");
    let (status, path, page) = submit(&server, &ann.http, &revoke, &[("csrf", &csrf)]).await;
    assert_eq!((status, path.as_str()), (200, "/account"), "{page}");
    assert!(page.contains("The token was revoked."), "{page}");
    assert!(!page.contains("nightly export"), "{page}");
    assert_eq!(bearer_status(&server, &secret).await, 401);
    assert!(
        socket.closed_within(AT_ONCE).await,
        "the revoked token's socket stays open"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_account_form_needs_the_pages_csrf_token_and_changes_nothing_without_it() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let eve = TestUser::signup(&server, "Eve").await;
    let (other, _) = second_browser(&server, &ann.email, &ann.password).await;
    let token = ann.api_token(&server).await;
    let listed = tokens(&server, &ann).await;
    let token_id = listed["tokens"][0]["id"].as_str().expect("id").to_string();
    let revoke = format!("/account/tokens/{token_id}/revoke");
    let password = ann.password.as_str();
    let forms: [(&str, Vec<(&str, &str)>); 5] = [
        ("/account/name", vec![("name", "Forged")]),
        (
            "/account/password",
            vec![
                ("current_password", password),
                ("new_password", "forged password"),
                ("repeat_password", "forged password"),
            ],
        ),
        ("/account/sessions/end-others", vec![]),
        ("/account/tokens", vec![("name", "forged token")]),
        (revoke.as_str(), vec![]),
    ];
    for (path, fields) in &forms {
        for forged in ["", "guessed-token", eve.csrf.as_str()] {
            let mut pairs = fields.clone();
            if !forged.is_empty() {
                pairs.push(("csrf", forged));
            }
            let (status, _, page) = submit(&server, &ann.http, path, &pairs).await;
            assert_eq!(status, 403, "{path} with csrf {forged:?}");
            assert!(page.contains("This form expired"), "{path}: {page}");
        }
    }

    let me = me(&server, &ann.http).await;
    assert_eq!(me["name"], "Ann", "the name is unchanged");
    assert!(
        logs_in(&server, &ann.email, password).await,
        "same password"
    );
    assert!(!logs_in(&server, &ann.email, "forged password").await);
    assert_eq!(
        me_status(&server, &other).await,
        200,
        "the other session holds"
    );
    assert_eq!(bearer_status(&server, &token).await, 200, "the token holds");
    let listed = tokens(&server, &ann).await;
    assert_eq!(listed["tokens"].as_array().expect("tokens").len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_log_in_first_and_names_are_checked_and_escaped() {
    let server = TestServer::start().await;
    let stranger = client()
        .get(server.url("/account"))
        .send()
        .await
        .expect("GET /account");
    assert_eq!(stranger.url().path(), "/login");
    assert_eq!(stranger.url().query(), Some("next=/account"));

    let ann = TestUser::signup(&server, "<script>alert(1)</script>").await;
    let page = get_text(&ann.http, server.url("/account")).await;
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
    let home = get_text(&ann.http, server.url("/")).await;
    assert!(home.contains("href=\"/account\""), "the header links it");

    let csrf = form_csrf(&page);
    for refused in ["   ", "Ann\u{7}", &"x".repeat(101)] {
        let (status, _, page) = submit(
            &server,
            &ann.http,
            "/account/name",
            &[("csrf", &csrf), ("name", refused)],
        )
        .await;
        assert_eq!(status, 400, "{refused:?}");
        assert!(page.contains("1 to 100 characters"), "{page}");
    }
    let (status, path, page) = submit(
        &server,
        &ann.http,
        "/account/name",
        &[("csrf", &csrf), ("name", "  Ann <b>B</b>  ")],
    )
    .await;
    assert_eq!((status, path.as_str()), (200, "/account"));
    assert!(page.contains("Your name was changed."), "{page}");
    assert!(page.contains("Ann &#60;b&#62;B&#60;/b&#62;"), "{page}");
    let me = me(&server, &ann.http).await;
    assert_eq!(me["name"], "Ann <b>B</b>", "trimmed");
    server.stop().await;
}

/// A guest who joined by link has no password and may hold no tokens nor rename themselves (their name says they
/// are a guest): the page shows only their sessions, and the forms refuse them with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_sees_only_their_sessions() {
    let server = TestServer::start_with(&[("sharing.anonymous_links", "true")]).await;
    let owner = TestUser::signup(&server, "Owner").await;
    let doc = owner.new_document(&server, "Notes").await;
    let link: Value = owner
        .post_json(
            &server,
            &format!("/api/docs/{doc}/links"),
            json!({"role": "viewer"}),
        )
        .await;
    let url = link["url"].as_str().expect("link url");
    let guest = client();
    let csrf = form_csrf(&get_text(&guest, url).await);
    let joined = post_form(
        &guest,
        &format!("{url}/guest"),
        &[("csrf", &csrf), ("name", "Gus")],
    )
    .await;
    assert_eq!(joined.url().path(), format!("/d/{doc}"));

    let page = get_text(&guest, server.url("/account")).await;
    assert!(page.contains("This session"), "{page}");
    for absent in [
        "/account/password",
        "/account/name",
        "/account/tokens",
        "/account/delete",
    ] {
        assert!(!page.contains(absent), "a guest's page offers {absent}");
    }
    for (path, fields) in [
        ("/account/name", vec![("name", "Not a guest")]),
        ("/account/tokens", vec![("name", "guest token")]),
        (
            "/account/password",
            vec![
                ("current_password", ""),
                ("new_password", "guest password"),
                ("repeat_password", "guest password"),
            ],
        ),
        (
            "/account/delete",
            vec![("documents", "delete"), ("confirm", "")],
        ),
    ] {
        let mut pairs = fields.clone();
        pairs.push(("csrf", &csrf));
        let (status, _, page) = submit(&server, &guest, path, &pairs).await;
        assert_eq!(status, 403, "{path}: {page}");
        assert!(
            page.contains("Guests who joined through a link cannot"),
            "{path}: {page}"
        );
    }
    let me = me(&server, &guest).await;
    assert_eq!(me["name"], "Gus (guest)");
    server.stop().await;
}
