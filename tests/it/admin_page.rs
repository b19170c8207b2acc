//! Issue 15, the admin page: hidden (the ordinary 404) from everyone but `auth.admins` on every route and method,
//! the users list and its search (wildcards taken literally), Disable that ends sessions and closes sockets at
//! once and Enable that lets the person back in, invitation links, the counts, and CSRF on every form.

use std::time::Duration;

use reqwest::{Client, Method};
use serde_json::json;

use crate::hub_client::{TestSocket, client_id};
use crate::support::{Backend, TestServer, TestUser, client, get_text, post_form, post_login};

/// Sockets must close because the page told them to, not at the periodic recheck.
const AT_ONCE: Duration = Duration::from_secs(2);

fn admin_email() -> String {
    format!(
        "boss.{}@example.test",
        quire::auth::random_id(8).to_lowercase()
    )
}

async fn start_with_admin(extra: &[(&str, &str)]) -> (TestServer, TestUser) {
    start_with_admin_on(Backend::Sqlite, extra).await
}

async fn start_with_admin_on(backend: Backend, extra: &[(&str, &str)]) -> (TestServer, TestUser) {
    let email = admin_email();
    let mut flags = vec![
        ("auth.admins", email.as_str()),
        ("limits.recheck_every", "1h"),
    ];
    flags.extend_from_slice(extra);
    let server = TestServer::start_on(backend, &flags).await;
    let admin = TestUser::signup_invited(&server, "Boss", &email).await;
    (server, admin)
}

async fn me_status(server: &TestServer, user: &TestUser) -> u16 {
    user.http
        .get(server.url("/api/me"))
        .send()
        .await
        .expect("GET /api/me")
        .status()
        .as_u16()
}

async fn log_in_status(server: &TestServer, user: &TestUser) -> u16 {
    post_login(&client(), server, &user.email, &user.password)
        .await
        .status()
        .as_u16()
}

async fn disabled_in_store(server: &TestServer, user: &TestUser) -> bool {
    let found = server
        .store()
        .await
        .user_by_id(&user.id)
        .await
        .expect("read user");
    found.expect("user exists").disabled
}

/// The admin page with `query` (already URL-encoded), as `user` sees it: status and body.
async fn admin_page(server: &TestServer, http: &Client, query: &str) -> (u16, String) {
    let response = http
        .get(server.url(&format!("/admin{query}")))
        .send()
        .await
        .expect("GET /admin");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The text of the element with `id` (up to its closing tag).
fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let open_end = start + html[start..].find('>').expect("tag end") + 1;
    let close = open_end + html[open_end..].find('<').expect("closing tag");
    html[open_end..close].trim().to_string()
}

/// A method, a path and the form fields to post (none: no body).
type RouteCall<'a> = (Method, String, Vec<(&'a str, &'a str)>);

/// Every admin route and a method it does not take, posted by `http` with `csrf` as a browser would.
async fn every_admin_route(
    server: &TestServer,
    http: &Client,
    csrf: &str,
    victim: &TestUser,
) -> Vec<(String, u16, String)> {
    let disable = format!("/admin/users/{}/disable", victim.id);
    let enable = format!("/admin/users/{}/enable", victim.id);
    let requests: Vec<RouteCall> = vec![
        (Method::GET, "/admin".into(), vec![]),
        (Method::GET, "/admin?q=a".into(), vec![]),
        (Method::GET, "/admin?q=%25&offset=nonsense".into(), vec![]),
        (Method::POST, disable.clone(), vec![("csrf", csrf)]),
        (Method::POST, enable.clone(), vec![("csrf", csrf)]),
        (
            Method::POST,
            "/admin/invite".into(),
            vec![("csrf", csrf), ("email", "sneaky@example.test")],
        ),
        (Method::GET, disable, vec![]),
        (Method::GET, "/admin/invite".into(), vec![]),
        (Method::DELETE, "/admin".into(), vec![]),
        (Method::POST, "/admin".into(), vec![("csrf", csrf)]),
    ];
    let mut answers = Vec::new();
    for (method, path, fields) in requests {
        let mut request = http.request(method.clone(), server.url(&path));
        if !fields.is_empty() {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(crate::support::form_body(&fields));
        }
        let response = request.send().await.expect("admin route");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        answers.push((format!("{method} {path}"), status, body));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_is_the_404_page_to_the_signed_out_and_to_non_admins() {
    let (server, admin) = start_with_admin(&[]).await;
    let member = TestUser::signup(&server, "Nora Member").await;
    let victim = TestUser::signup(&server, "Vic Victim").await;
    let signed_out = client();
    // The signed-out browser gets a CSRF cookie (and so a token) from any page, as a real one would.
    get_text(&signed_out, server.url("/login")).await;

    for (who, http, csrf) in [
        ("signed out", &signed_out, "no-session-token"),
        ("non-admin", &member.http, member.csrf.as_str()),
    ] {
        for (request, status, body) in every_admin_route(&server, http, csrf, &victim).await {
            assert_eq!(status, 404, "{who}: {request}");
            assert!(body.contains("Page not found"), "{who}: {request}: {body}");
            assert!(!body.contains("/signup?invite="), "{who}: {request}");
        }
    }
    assert!(
        !disabled_in_store(&server, &victim).await,
        "nothing was disabled"
    );
    assert_eq!(
        me_status(&server, &victim).await,
        200,
        "the victim's session lives"
    );

    // The header links to the page for the administrator only.
    let member_home = get_text(&member.http, server.url("/")).await;
    assert!(!member_home.contains("href=\"/admin\""), "{member_home}");
    let admin_home = get_text(&admin.http, server.url("/")).await;
    assert!(admin_home.contains("href=\"/admin\""), "{admin_home}");
    let (status, page) = admin_page(&server, &admin.http, "").await;
    assert_eq!(status, 200);
    assert!(page.contains(&member.email) && page.contains(&victim.email));
    server.stop().await;
}

// The search's SQL (LIKE with ESCAPE, lower()) and the counts' (COUNT, the size pragma or pg_database_size) differ
// enough between the databases to run on both.
crate::on_both_backends!(
    search_matches_part_of_the_email_or_name_and_takes_wildcards_literally,
    counts_and_settings_show_what_the_server_holds_and_is_configured_with,
);

async fn search_matches_part_of_the_email_or_name_and_takes_wildcards_literally(backend: Backend) {
    let (server, admin) = start_with_admin_on(backend, &[]).await;
    let percent = TestUser::signup(&server, "Half 50% Off").await;
    let plain = TestUser::signup(&server, "Half 50 Plain").await;
    let underscore = TestUser::signup(&server, "Snake_Case").await;
    let no_underscore = TestUser::signup(&server, "SnakeXCase").await;
    let everyone = [&percent, &plain, &underscore, &no_underscore];

    let (_, all) = admin_page(&server, &admin.http, "").await;
    for user in everyone {
        assert!(all.contains(&user.email), "listed: {}", user.email);
        assert!(all.contains(&user.name), "named: {}", user.name);
    }

    let found = |page: &str| -> Vec<String> {
        everyone
            .iter()
            .filter(|user| page.contains(&user.email))
            .map(|user| user.name.clone())
            .collect()
    };
    // Part of an e-mail, in other case.
    let email_part = percent.email[2..12].to_uppercase();
    let (_, page) = admin_page(&server, &admin.http, &format!("?q={email_part}")).await;
    assert_eq!(found(&page), ["Half 50% Off"], "e-mail part {email_part}");
    // Part of a name, in other case.
    let (_, page) = admin_page(&server, &admin.http, "?q=sNAKEx").await;
    assert_eq!(found(&page), ["SnakeXCase"]);
    // `%` and `_` match themselves, not anything.
    let (_, page) = admin_page(&server, &admin.http, "?q=50%25").await;
    assert_eq!(found(&page), ["Half 50% Off"], "a % is literal");
    let (_, page) = admin_page(&server, &admin.http, "?q=e_c").await;
    assert_eq!(found(&page), ["Snake_Case"], "an _ is literal");
    let (_, page) = admin_page(&server, &admin.http, "?q=nobody-here").await;
    assert_eq!(found(&page), Vec::<String>::new());
    assert!(page.contains("No account matches"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_and_enable_from_a_search_come_back_to_the_same_search() {
    let (server, admin) = start_with_admin(&[]).await;
    let found = TestUser::signup(&server, "Searched Sam").await;
    let other = TestUser::signup(&server, "Other Olga").await;
    let (_, page) = admin_page(&server, &admin.http, "?q=searched%20sam").await;
    assert!(
        page.contains(r#"name="q" value="searched sam""#),
        "row forms carry the search"
    );

    for action in ["disable", "enable"] {
        let url = server.url(&format!("/admin/users/{}/{action}", found.id));
        let done = post_form(
            &admin.http,
            &url,
            &[("csrf", &admin.csrf), ("q", "searched sam")],
        )
        .await;
        assert_eq!(done.status(), 200, "{action}");
        assert_eq!(
            done.url().query(),
            Some("q=searched+sam"),
            "{action}: same search"
        );
        let page = done.text().await.expect("page");
        assert!(
            page.contains(&found.email),
            "{action}: the account is still listed"
        );
        assert!(
            !page.contains(&other.email),
            "{action}: the list is still filtered"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_ends_sessions_and_closes_sockets_at_once_and_enable_lets_them_back() {
    let (server, admin) = start_with_admin(&[]).await;
    let victim = TestUser::signup(&server, "Vic Victim").await;
    let doc = victim.new_document(&server, "Open while disabled").await;
    let token = victim.api_token(&server).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    socket.hello(&client_id("admin"), None).await;
    assert_eq!(me_status(&server, &victim).await, 200);

    let disable = server.url(&format!("/admin/users/{}/disable", victim.id));
    let done = post_form(&admin.http, &disable, &[("csrf", &admin.csrf)]).await;
    assert_eq!(done.status(), 200, "back to the admin page");
    assert_eq!(done.url().path(), "/admin");
    let page = done.text().await.expect("page");
    let row = &page[page.find(&victim.email).expect("victim listed")..];
    assert!(row[..row.find("</tr>").expect("row end")].contains("disabled"));

    assert_eq!(me_status(&server, &victim).await, 401, "the session ended");
    assert!(
        socket.closed_within(AT_ONCE).await,
        "the open WebSocket closed at once"
    );
    assert_eq!(log_in_status(&server, &victim).await, 401, "log-in refused");

    let enable = server.url(&format!("/admin/users/{}/enable", victim.id));
    let done = post_form(&admin.http, &enable, &[("csrf", &admin.csrf)]).await;
    assert_eq!(done.status(), 200);
    assert!(!disabled_in_store(&server, &victim).await);
    assert_eq!(
        log_in_status(&server, &victim).await,
        200,
        "log-in works again"
    );

    // An administrator cannot lock themselves out.
    let own = server.url(&format!("/admin/users/{}/disable", admin.id));
    let refused = post_form(&admin.http, &own, &[("csrf", &admin.csrf)]).await;
    assert_eq!(refused.status(), 400);
    let page = refused.text().await.expect("page");
    assert!(page.contains("cannot disable your own account"), "{page}");
    assert!(!disabled_in_store(&server, &admin).await);
    assert_eq!(me_status(&server, &admin).await, 200);

    // Someone who does not exist.
    let ghost = server.url("/admin/users/no-such-user/disable");
    let missing = post_form(&admin.http, &ghost, &[("csrf", &admin.csrf)]).await;
    assert_eq!(missing.status(), 404);
    server.stop().await;
}

/// The invitation link shown on the page (the read-only field's value).
fn invite_link(page: &str) -> String {
    let marker = "id=\"invite-link\" value=\"";
    let start = page.find(marker).expect("the page shows a link") + marker.len();
    let end = start + page[start..].find('"').expect("closing quote");
    page[start..end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_from_the_page_lets_that_email_sign_up_under_invite_only() {
    let (server, admin) = start_with_admin(&[("auth.signup", "invite")]).await;
    let email = format!(
        "newbie.{}@example.test",
        quire::auth::random_id(6).to_lowercase()
    );
    let made = post_form(
        &admin.http,
        &server.url("/admin/invite"),
        &[("csrf", &admin.csrf), ("email", &email)],
    )
    .await;
    assert_eq!(made.status(), 200);
    let page = made.text().await.expect("page");
    assert!(page.contains("E-mail is off: copy the link"), "{page}");
    let link = invite_link(&page);
    assert!(link.starts_with(&server.url("/signup?invite=")), "{link}");
    let token = link.split("invite=").nth(1).expect("token");

    let signup = |invite: Option<String>| {
        let body = json!({"email": email, "name": "Newbie", "password": "newbie password 1", "invite": invite});
        client()
            .post(server.url("/api/auth/signup"))
            .json(&body)
            .send()
    };
    assert_ne!(
        signup(None).await.expect("sign up").status(),
        201,
        "invite only"
    );
    assert_eq!(
        signup(Some(token.to_string()))
            .await
            .expect("sign up")
            .status(),
        201,
        "the link's invitation works"
    );

    let bad = post_form(
        &admin.http,
        &server.url("/admin/invite"),
        &[("csrf", &admin.csrf), ("email", "not-an-address")],
    )
    .await;
    assert_eq!(bad.status(), 200);
    let page = bad.text().await.expect("page");
    assert!(page.contains("Not a valid e-mail address"), "{page}");
    assert!(!page.contains("id=\"invite-link\""));
    server.stop().await;
}

async fn counts_and_settings_show_what_the_server_holds_and_is_configured_with(backend: Backend) {
    let (server, admin) = start_with_admin_on(backend, &[("auth.signup", "invite")]).await;
    let ann = TestUser::signup_invited(&server, "Ann", "ann.counts@example.test").await;
    TestUser::signup_invited(&server, "Ben", "ben.counts@example.test").await;
    let doc = ann.new_document(&server, "one").await;
    ann.new_document(&server, "two").await;
    admin.new_document(&server, "three").await;
    let token = ann.api_token(&server).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    socket.hello(&client_id("count"), None).await;

    let (_, page) = admin_page(&server, &admin.http, "").await;
    assert_eq!(element_text(&page, "count-users"), "3");
    assert_eq!(element_text(&page, "count-documents"), "3");
    assert_eq!(element_text(&page, "count-open-documents"), "1");
    assert_eq!(element_text(&page, "count-connections"), "1");
    let size = element_text(&page, "database-size");
    assert!(size.ends_with("KB") || size.ends_with("MB"), "{size}");
    assert_eq!(element_text(&page, "setting-signup"), "invite");
    assert_eq!(element_text(&page, "setting-email"), "off");
    assert_eq!(element_text(&page, "setting-admins"), admin.email);
    drop(socket);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_forms_without_the_pages_token_are_refused_and_change_nothing() {
    let (server, admin) = start_with_admin(&[]).await;
    let victim = TestUser::signup(&server, "Vic Victim").await;
    let disable = server.url(&format!("/admin/users/{}/disable", victim.id));
    let invite = server.url("/admin/invite");
    for token in ["", "guessed-token", victim.csrf.as_str()] {
        let mut fields = vec![("email", "forged@example.test")];
        if !token.is_empty() {
            fields.push(("csrf", token));
        }
        for url in [&disable, &invite] {
            let response = post_form(&admin.http, url, &fields).await;
            assert_eq!(response.status(), 403, "{url} with csrf {token:?}");
            let page = response.text().await.expect("page");
            assert!(page.contains("This form expired"), "{url}: {page}");
            assert!(!page.contains("/signup?invite="));
        }
    }
    assert!(!disabled_in_store(&server, &victim).await);
    assert_eq!(me_status(&server, &victim).await, 200);
    server.stop().await;
}
