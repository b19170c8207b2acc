//! Issue 19, item 9: the pages people land on when something is wrong. A missing document and one the caller may
//! not see get the same 404 page with the app's header, plain words and a way to switch account; a wrong password
//! keeps the e-mail and focuses the password field; a taken e-mail at sign-up offers to log in instead.

use serde_json::json;

use crate::support::{TestServer, TestUser, client, form_csrf, get_text, post_form};

/// The page at `path` as `user` sees it: status and body.
async fn page(server: &TestServer, http: &reqwest::Client, path: &str) -> (u16, String) {
    let response = http.get(server.url(path)).send().await.expect("GET page");
    let status = response.status().as_u16();
    (status, response.text().await.expect("page body"))
}

#[tokio::test]
async fn missing_and_forbidden_documents_get_the_same_page_with_the_header() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann Reader").await;
    let bob = TestUser::signup(&server, "Bob Owner").await;
    let created = bob
        .post_json(&server, "/api/docs", json!({"title": "Bob's secret plans"}))
        .await;
    let secret = created["id"].as_str().expect("document id").to_string();

    for suffix in ["", "/history"] {
        let (missing_status, missing) =
            page(&server, &ann.http, &format!("/d/no-such-document{suffix}")).await;
        let (forbidden_status, forbidden) =
            page(&server, &ann.http, &format!("/d/{secret}{suffix}")).await;
        assert_eq!(missing_status, 404, "{missing}");
        assert_eq!(forbidden_status, 404, "{forbidden}");
        // Existence is not leaked: the two pages differ only by the address they were asked for.
        assert_eq!(
            missing.replace("no-such-document", "ID"),
            forbidden.replace(&secret, "ID"),
            "/d/…{suffix}"
        );
        assert!(!forbidden.contains("Bob's secret plans"), "{forbidden}");

        assert!(
            forbidden.contains("<header class=\"topbar\">"),
            "{forbidden}"
        );
        assert!(
            forbidden.contains("Ann Reader"),
            "the header names who is signed in"
        );
        assert!(
            forbidden.contains("<h1>Document not found, or you don’t have access</h1>"),
            "{forbidden}"
        );
        assert!(!forbidden.contains("404 Not Found"), "{forbidden}");
        // Switch account: the CSRF-protected log-out form, which comes back here after the next log-in.
        assert!(forbidden.contains("Switch account"), "{forbidden}");
        assert!(
            forbidden.contains(&format!("name=\"next\" value=\"/d/{secret}{suffix}\"")),
            "{forbidden}"
        );
        assert_eq!(form_csrf(&forbidden), ann.csrf);
    }

    // Switching account logs Ann out and sends her to log in, then back to the document.
    let response = post_form(
        &ann.http,
        &server.url("/logout"),
        &[("csrf", &ann.csrf), ("next", &format!("/d/{secret}"))],
    )
    .await;
    // The test client follows the redirect.
    assert_eq!(response.status(), 200);
    assert_eq!(
        (response.url().path(), response.url().query()),
        ("/login", Some(format!("next=/d/{secret}").as_str()))
    );
    let login = response.text().await.expect("log-in page");
    assert!(
        login.contains(&format!("name=\"next\" value=\"/d/{secret}\"")),
        "{login}"
    );
    let (status, _) = page(&server, &ann.http, "/api/me").await;
    assert_eq!(status, 401, "still signed in after switching account");
    // Without the page's token the switch is refused, like any log-out.
    let response = post_form(
        &bob.http,
        &server.url("/logout"),
        &[("csrf", "guessed"), ("next", "/")],
    )
    .await;
    assert_eq!(response.status(), 403);
    // A next that leaves the site is dropped.
    let response = post_form(
        &bob.http,
        &server.url("/logout"),
        &[("csrf", &bob.csrf), ("next", "//evil.example")],
    )
    .await;
    assert_eq!(response.url().query(), Some("next=/"));
}

#[tokio::test]
async fn an_unknown_page_has_the_header_and_a_way_to_log_in() {
    let server = TestServer::start().await;
    let (status, body) = page(&server, &client(), "/no/such/page").await;
    assert_eq!(status, 404);
    assert!(body.contains("<header class=\"topbar\">"), "{body}");
    assert!(body.contains("href=\"/login\""), "{body}");
    assert!(body.contains("<h1>Page not found</h1>"), "{body}");
    assert!(!body.contains("Switch account"), "{body}");
}

#[tokio::test]
async fn a_wrong_password_focuses_the_password_field() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let http = client();
    let login = get_text(&http, server.url("/login")).await;
    let csrf = form_csrf(&login);
    // Before any attempt the e-mail field has the focus.
    assert!(autofocused(&login, "email"), "{login}");
    assert!(!autofocused(&login, "password"), "{login}");

    let response = post_form(
        &http,
        &server.url("/login"),
        &[
            ("csrf", &csrf),
            ("email", &ann.email),
            ("password", "not the password"),
        ],
    )
    .await;
    assert_eq!(response.status(), 401);
    let again = response.text().await.expect("page");
    assert!(again.contains("Wrong e-mail or password."), "{again}");
    assert!(
        again.contains(&format!("value=\"{}\"", ann.email)),
        "{again}"
    );
    assert!(autofocused(&again, "password"), "{again}");
    assert!(!autofocused(&again, "email"), "{again}");
}

#[tokio::test]
async fn a_taken_email_at_sign_up_offers_to_log_in_instead() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let http = client();
    let csrf = form_csrf(&get_text(&http, server.url("/signup")).await);
    let response = post_form(
        &http,
        &server.url("/signup"),
        &[
            ("csrf", &csrf),
            ("name", "Ann again"),
            ("email", &ann.email),
            ("password", "another long password"),
        ],
    )
    .await;
    assert_eq!(response.status(), 409);
    let body = response.text().await.expect("page");
    let encoded = ann.email.replace('@', "%40");
    assert!(
        body.contains(&format!("href=\"/login?email={encoded}\""))
            && body.contains("Log in instead"),
        "{body}"
    );
    // The log-in page it leads to has the e-mail filled in.
    let login = get_text(&http, server.url(&format!("/login?email={encoded}"))).await;
    assert!(
        login.contains(&format!("value=\"{}\"", ann.email)),
        "{login}"
    );

    // Any other sign-up error does not offer it.
    let response = post_form(
        &http,
        &server.url("/signup"),
        &[
            ("csrf", &csrf),
            ("name", "Short"),
            ("email", "short@example.test"),
            ("password", "1234567"),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.expect("page");
    assert!(!body.contains("Log in instead"), "{body}");
}

/// Whether the `<input>` named `name` carries `autofocus`.
fn autofocused(html: &str, name: &str) -> bool {
    let marker = format!("name=\"{name}\"");
    let Some(at) = html.find(&marker) else {
        return false;
    };
    let end = html[at..].find('>').map_or(html.len(), |len| at + len);
    html[at..end].contains("autofocus")
}
