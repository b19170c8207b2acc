//! Issue 15, e-mail: password reset by e-mail (a link under server.public_url that works once, expires, and ends
//! every session and token), the forgot form that tells nothing about accounts, the admin page's reset and
//! mailed invitations, share notices and invitations, mail off (links to copy, nothing sent), and a dead mail
//! server (a clear error, nothing changed). Mail goes to a real SMTP server on loopback (`support::SmtpSink`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::hub_client::{TestSocket, client_id};
use crate::support::{
    Backend, Received, SmtpSink, TestServer, TestUser, client, form_csrf, get_text, login_status,
    me_status, second_browser, socket_with_session, submit,
};

/// How long a message may take to arrive.
const ARRIVES: Duration = Duration::from_secs(10);
/// How long we watch for a message that must not come.
const QUIET: Duration = Duration::from_millis(800);
/// How soon a socket whose credential ended must close.
const AT_ONCE: Duration = Duration::from_secs(2);

async fn start_with_mail(sink: &SmtpSink, extra: &[(&str, &str)]) -> TestServer {
    start_with_mail_on(Backend::Sqlite, sink, extra).await
}

async fn start_with_mail_on(
    backend: Backend,
    sink: &SmtpSink,
    extra: &[(&str, &str)],
) -> TestServer {
    let flags = sink.flags();
    let mut all: Vec<(&str, &str)> = flags.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.push(("limits.recheck_every", "1h"));
    all.extend_from_slice(extra);
    TestServer::start_on(backend, &all).await
}

/// Fills in "Forgot your password?" for `email` from a fresh browser; returns the answer's status and page.
async fn ask_for_reset(server: &TestServer, email: &str) -> (u16, String) {
    let browser = client();
    // The log-in page's form carries the same token, and is there whether e-mail is on or off.
    let csrf = form_csrf(&get_text(&browser, server.url("/login")).await);
    let (status, _, page) = submit(
        server,
        &browser,
        "/forgot",
        &[("csrf", &csrf), ("email", email)],
    )
    .await;
    (status, page)
}

/// Sets a new password through a reset link from a fresh browser; returns the final status, path and page.
async fn use_reset_link(
    server: &TestServer,
    link: &str,
    password: &str,
    repeated: &str,
) -> (u16, String, String) {
    let browser = client();
    let page = browser.get(link).send().await.expect("GET reset link");
    assert_eq!(page.status(), 200, "the link shows its form");
    let csrf = form_csrf(&page.text().await.expect("page"));
    let path = link
        .strip_prefix(&server.url(""))
        .expect("link under public_url");
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", password),
        ("repeated", repeated),
    ];
    submit(server, &browser, path, &fields).await
}

/// The page's `<main>`, without the head's per-browser CSRF token.
fn main_part(page: &str) -> &str {
    let start = page.find("<main").expect("<main>");
    let end = page.find("</main>").expect("</main>");
    &page[start..end]
}

fn reset_link(server: &TestServer, message: &Received) -> String {
    message
        .link_starting(&server.url("/reset/"))
        .unwrap_or_else(|| panic!("no reset link in {}", message.data))
}

// The reset's SQL (a migration of its own, the one-use update in a transaction with the password change) runs
// on both databases.
crate::on_both_backends!(
    a_reset_link_is_mailed_works_once_and_ends_every_session_and_token,
    an_expired_link_is_refused_and_changes_nothing,
);

async fn a_reset_link_is_mailed_works_once_and_ends_every_session_and_token(backend: Backend) {
    let sink = SmtpSink::start().await;
    let server = start_with_mail_on(backend, &sink, &[]).await;
    let ann = TestUser::signup(&server, "Ann").await;
    let doc = ann.new_document(&server, "Notes").await;
    let (other, other_session) = second_browser(&server, &ann.email, &ann.password).await;
    let token = ann.api_token(&server).await;
    let mut session_socket = socket_with_session(&server, &doc, &other_session, "mail").await;
    let mut token_socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    token_socket.hello(&client_id("mail"), None).await;

    let login = get_text(&client(), server.url("/login")).await;
    assert!(login.contains("href=\"/forgot\""), "{login}");
    let (status, page) = ask_for_reset(&server, &ann.email).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("If an account exists"), "{page}");

    let message = sink.next(ARRIVES).await.expect("the reset e-mail arrives");
    assert_eq!(message.to, [ann.email.as_str()]);
    assert_eq!(message.from, "quire@example.test");
    assert_eq!(message.subject(), "Reset your Quire password");
    let link = reset_link(&server, &message);

    let (status, _, page) = use_reset_link(&server, &link, "brand new pass", "other pass 1").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("The two passwords differ."), "{page}");
    let (status, _, page) = use_reset_link(&server, &link, "short", "short").await;
    assert_eq!(status, 400, "{page}");
    assert_eq!(
        me_status(&server, &other).await,
        200,
        "a refused form ends nothing"
    );
    assert_eq!(login_status(&server, &ann.email, &ann.password).await, 200);

    let (status, path, page) =
        use_reset_link(&server, &link, "brand new pass", "brand new pass").await;
    assert_eq!(
        (status, path.as_str()),
        (200, "/"),
        "signed in after the reset: {page}"
    );
    assert_eq!(me_status(&server, &other).await, 401, "old sessions end");
    assert_eq!(
        me_status(&server, &ann.http).await,
        401,
        "the sign-up's too"
    );
    assert!(
        session_socket.closed_within(AT_ONCE).await,
        "the session's socket stays open"
    );
    assert!(
        token_socket.closed_within(AT_ONCE).await,
        "the token's socket stays open"
    );
    let api = client()
        .get(server.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401, "the API token is revoked");
    assert_eq!(login_status(&server, &ann.email, &ann.password).await, 401);
    assert_eq!(
        login_status(&server, &ann.email, "brand new pass").await,
        200
    );

    let again = client().get(&link).send().await.unwrap();
    assert_eq!(again.status(), 404, "a used link is dead");
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("This link no longer works")
    );
    let browser = client();
    let csrf = form_csrf(&get_text(&browser, server.url("/login")).await);
    let path = link.strip_prefix(&server.url("")).unwrap();
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", "third password"),
        ("repeated", "third password"),
    ];
    let (status, _, _) = submit(&server, &browser, path, &fields).await;
    assert_eq!(status, 404, "a used link sets nothing");
    assert_eq!(
        login_status(&server, &ann.email, "brand new pass").await,
        200
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forgot_form_answers_the_same_for_an_unknown_address_and_sends_nothing() {
    let sink = SmtpSink::start().await;
    let server = start_with_mail(&sink, &[]).await;
    let ann = TestUser::signup(&server, "Ann").await;
    let stranger = "nobody.here@example.test";

    let (status, unknown_page) = ask_for_reset(&server, stranger).await;
    assert_eq!(status, 200);
    sink.expect_nothing(QUIET).await;
    let (status, known_page) = ask_for_reset(&server, &ann.email).await;
    assert_eq!(status, 200);
    assert_eq!(
        main_part(&unknown_page).replace(stranger, "EMAIL"),
        main_part(&known_page).replace(&ann.email, "EMAIL"),
        "the answers differ only by the address typed"
    );
    assert_eq!(
        sink.next(ARRIVES).await.expect("Ann's e-mail").to,
        [ann.email.as_str()]
    );

    // A few a minute per address, whoever asks: the form cannot flood someone's inbox.
    for _ in 0..6 {
        ask_for_reset(&server, &ann.email).await;
    }
    let mut arrived = 0;
    while sink.next(QUIET).await.is_some() {
        arrived += 1;
    }
    assert_eq!(arrived, 4, "five a minute, one of them used above");

    let (status, page) = ask_for_reset(&server, "not an address").await;
    assert_eq!(status, 400, "{page}");
    let browser = client();
    get_text(&browser, server.url("/forgot")).await;
    let (status, _, _) = submit(
        &server,
        &browser,
        "/forgot",
        &[("csrf", "forged"), ("email", &ann.email)],
    )
    .await;
    assert_eq!(status, 403, "the form needs its CSRF token");
    sink.expect_nothing(QUIET).await;
    server.stop().await;
}

async fn an_expired_link_is_refused_and_changes_nothing(backend: Backend) {
    let sink = SmtpSink::start().await;
    let server = start_with_mail_on(backend, &sink, &[("mail.reset_lifetime", "1s")]).await;
    let ann = TestUser::signup(&server, "Ann").await;
    ask_for_reset(&server, &ann.email).await;
    let message = sink.next(ARRIVES).await.expect("the reset e-mail");
    assert!(
        message.body().contains("within 1 second"),
        "{}",
        message.data
    );
    let link = reset_link(&server, &message);
    let browser = client();
    let form = get_text(&browser, &link).await;
    let csrf = form_csrf(&form);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(client().get(&link).send().await.unwrap().status(), 404);
    let path = link.strip_prefix(&server.url("")).unwrap();
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", "too late pass"),
        ("repeated", "too late pass"),
    ];
    let (status, _, page) = submit(&server, &browser, path, &fields).await;
    assert_eq!(status, 404, "{page}");
    assert_eq!(
        me_status(&server, &ann.http).await,
        200,
        "the session holds"
    );
    assert_eq!(login_status(&server, &ann.email, &ann.password).await, 200);
    assert_eq!(
        login_status(&server, &ann.email, "too late pass").await,
        401
    );
    server.stop().await;
}

fn unique_email(who: &str) -> String {
    format!(
        "{who}.{}@example.test",
        quire::auth::random_id(6).to_lowercase()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_mails_resets_and_invitations() {
    let sink = SmtpSink::start().await;
    let boss = unique_email("boss");
    let server = start_with_mail(&sink, &[("auth.admins", &boss), ("auth.signup", "invite")]).await;
    let admin = TestUser::signup_invited(&server, "Boss", &boss).await;
    let ann = TestUser::signup_invited(&server, "Ann", &unique_email("ann")).await;

    let page = get_text(&admin.http, server.url("/admin")).await;
    assert!(page.contains("id=\"setting-email\">on<"), "{page}");
    assert!(
        page.contains(&format!("action=\"/admin/users/{}/reset\"", ann.id)),
        "{page}"
    );
    let csrf = form_csrf(&page);
    let (status, _, page) = submit(
        &server,
        &admin.http,
        &format!("/admin/users/{}/reset", ann.id),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("Sent a password-reset link to {}.", ann.email)),
        "{page}"
    );
    let message = sink.next(ARRIVES).await.expect("the reset e-mail");
    assert_eq!(message.to, [ann.email.as_str()]);
    let link = reset_link(&server, &message);
    let (status, path, _) = use_reset_link(&server, &link, "reset by boss", "reset by boss").await;
    assert_eq!((status, path.as_str()), (200, "/"));
    assert_eq!(
        login_status(&server, &ann.email, "reset by boss").await,
        200
    );

    let (status, _, page) = submit(
        &server,
        &admin.http,
        "/admin/users/x/reset",
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(status, 403, "{page}");

    let newbie = unique_email("newbie");
    let (status, _, page) = submit(
        &server,
        &admin.http,
        "/admin/invite",
        &[("csrf", &csrf), ("email", &newbie)],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("Sent an invitation to {newbie}.")),
        "{page}"
    );
    assert!(
        !page.contains("id=\"invite-link\""),
        "no link to copy when it was mailed"
    );
    let message = sink.next(ARRIVES).await.expect("the invitation");
    assert_eq!(message.to, [newbie.as_str()]);
    assert!(
        message.subject().contains("Boss invites you"),
        "{}",
        message.subject()
    );
    let link = message
        .link_starting(&server.url("/signup?invite="))
        .expect("a sign-up link");
    let token = link.split("invite=").nth(1).expect("token");
    let signed_up = client()
        .post(server.url("/api/auth/signup"))
        .json(&json!({"email": newbie, "name": "Newbie", "password": "newbie password 1", "invite": token}))
        .send()
        .await
        .expect("sign up");
    assert_eq!(signed_up.status(), 201, "the mailed invitation signs up");
    server.stop().await;
}

async fn share(
    server: &TestServer,
    owner: &TestUser,
    doc: &str,
    who: &str,
    role: &str,
) -> (u16, Value) {
    let response = owner
        .http
        .put(server.url(&format!("/api/docs/{doc}/members/{who}")))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({ "role": role }))
        .send()
        .await
        .expect("PUT member");
    (
        response.status().as_u16(),
        response.json().await.expect("JSON"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_mails_a_notice_to_a_person_and_an_invitation_to_an_address_without_account() {
    let sink = SmtpSink::start().await;
    let server = start_with_mail(&sink, &[]).await;
    let ann = TestUser::signup(&server, "Ann").await;
    let bob = TestUser::signup(&server, "Bob").await;
    let doc = ann.new_document(&server, "Plans").await;

    let (status, body) = share(&server, &ann, &doc, &bob.email, "editor").await;
    assert_eq!(status, 200, "{body}");
    let notice = sink.next(ARRIVES).await.expect("the notice");
    assert_eq!(notice.to, [bob.email.as_str()]);
    assert_eq!(notice.subject(), "Ann shared \"Plans\" with you");
    assert_eq!(
        notice.link_starting("http").as_deref(),
        Some(server.url(&format!("/d/{doc}")).as_str())
    );
    assert!(notice.body().contains("you can edit it"), "{}", notice.data);
    let (status, _) = share(&server, &ann, &doc, &bob.email, "viewer").await;
    assert_eq!(status, 200);
    sink.expect_nothing(QUIET).await;

    let stranger = unique_email("stranger");
    let (status, body) = share(&server, &ann, &doc, &stranger, "viewer").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "no_account");
    assert_eq!(body["error"]["invited_by_mail"], true, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("we e-mailed them an invitation")
    );
    let invitation = sink.next(ARRIVES).await.expect("the invitation");
    assert_eq!(invitation.to, [stranger.as_str()]);
    assert!(
        invitation
            .subject()
            .contains("Ann wants to share \"Plans\""),
        "{}",
        invitation.subject()
    );
    assert!(
        invitation.link_starting(&server.url("/signup")).is_some(),
        "{}",
        invitation.data
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mail_off_nothing_is_sent_and_the_pages_offer_links_to_copy() {
    let sink = SmtpSink::start().await;
    let boss = unique_email("boss");
    let port = sink.port.to_string();
    // Everything but `enabled`: an address to send to is not enough to send.
    let flags = [
        ("mail.host", "127.0.0.1"),
        ("mail.port", port.as_str()),
        ("mail.tls", "none"),
        ("mail.from", "quire@example.test"),
        ("auth.admins", boss.as_str()),
        ("auth.signup", "invite"),
    ];
    let server = TestServer::start_with(&flags).await;
    let admin = TestUser::signup_invited(&server, "Boss", &boss).await;
    let ann = TestUser::signup_invited(&server, "Ann", &unique_email("ann")).await;

    let login = get_text(&client(), server.url("/login")).await;
    assert!(!login.contains("/forgot"), "{login}");
    let forgot = get_text(&client(), server.url("/forgot")).await;
    assert!(forgot.contains("E-mail is off on this server"), "{forgot}");
    let (status, page) = ask_for_reset(&server, &ann.email).await;
    assert_eq!(status, 404, "{page}");

    let page = get_text(&admin.http, server.url("/admin")).await;
    assert!(page.contains("id=\"setting-email\">off<"), "{page}");
    assert!(!page.contains("/reset\""), "no reset button: {page}");
    let csrf = form_csrf(&page);
    let (status, _, page) = submit(
        &server,
        &admin.http,
        &format!("/admin/users/{}/reset", ann.id),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("quire user reset-password"), "{page}");
    let newbie = unique_email("newbie");
    let (status, _, page) = submit(
        &server,
        &admin.http,
        "/admin/invite",
        &[("csrf", &csrf), ("email", &newbie)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("E-mail is off: copy the link"), "{page}");
    assert!(page.contains("id=\"invite-link\""), "{page}");

    let doc = admin.new_document(&server, "Plans").await;
    let (status, body) = share(&server, &admin, &doc, &unique_email("stranger"), "viewer").await;
    assert_eq!(status, 404);
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("e-mail is off on this server"),
        "{message}"
    );
    let url = body["error"]["invite_url"]
        .as_str()
        .expect("a link to copy");
    assert!(url.starts_with(&server.url("/signup?invite=")), "{url}");
    let (status, _) = share(&server, &admin, &doc, &ann.email, "viewer").await;
    assert_eq!(status, 200);
    sink.expect_nothing(QUIET).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_mail_server_gives_a_clear_error_and_changes_nothing() {
    // A port that was just free: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let boss = unique_email("boss");
    let flags = [
        ("mail.enabled", "true"),
        ("mail.host", "127.0.0.1"),
        ("mail.port", port.as_str()),
        ("mail.tls", "none"),
        ("mail.from", "quire@example.test"),
        ("mail.timeout", "3s"),
        ("auth.admins", boss.as_str()),
        ("auth.signup", "invite"),
    ];
    let server = TestServer::start_with(&flags).await;
    let admin = TestUser::signup_invited(&server, "Boss", &boss).await;
    let ann = TestUser::signup_invited(&server, "Ann", &unique_email("ann")).await;
    let page = get_text(&admin.http, server.url("/admin")).await;
    let csrf = form_csrf(&page);

    let (status, _, page) = submit(
        &server,
        &admin.http,
        &format!("/admin/users/{}/reset", ann.id),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("could not be sent"), "{page}");
    assert!(page.contains("nothing was changed"), "{page}");
    assert_eq!(
        me_status(&server, &ann.http).await,
        200,
        "Ann's session holds"
    );
    assert_eq!(login_status(&server, &ann.email, &ann.password).await, 200);

    let newbie = unique_email("newbie");
    let (status, _, page) = submit(
        &server,
        &admin.http,
        "/admin/invite",
        &[("csrf", &csrf), ("email", &newbie)],
    )
    .await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("could not be sent"), "{page}");
    assert!(!page.contains("id=\"invite-link\""), "{page}");

    let doc = admin.new_document(&server, "Plans").await;
    let (status, body) = share(&server, &admin, &doc, &newbie, "viewer").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "mail_failed");

    let (status, page) = ask_for_reset(&server, &ann.email).await;
    assert_eq!(status, 200, "the forgot form answers as always: {page}");
    assert_eq!(login_status(&server, &ann.email, &ann.password).await, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_mail_server_holds_a_request_no_longer_than_the_timeout() {
    // Accepts connections and never says a word, as a hung server would.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let boss = unique_email("boss");
    let flags = [
        ("mail.enabled", "true"),
        ("mail.host", "127.0.0.1"),
        ("mail.port", port.as_str()),
        ("mail.tls", "none"),
        ("mail.from", "quire@example.test"),
        ("mail.timeout", "1s"),
        ("auth.admins", boss.as_str()),
        ("auth.signup", "invite"),
    ];
    let server = TestServer::start_with(&flags).await;
    let admin = TestUser::signup_invited(&server, "Boss", &boss).await;
    let csrf = form_csrf(&get_text(&admin.http, server.url("/admin")).await);
    let newbie = unique_email("newbie");
    let started = std::time::Instant::now();
    let (status, _, page) = submit(
        &server,
        &admin.http,
        "/admin/invite",
        &[("csrf", &csrf), ("email", &newbie)],
    )
    .await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("did not answer within"), "{page}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "held for {:?}",
        started.elapsed()
    );
    held.abort();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quire_mail_test_sends_one_message_or_says_why_not() {
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data").display().to_string();
    let mut args = vec!["--data-dir".to_string(), data];
    for (key, value) in sink.flags() {
        args.extend(["--set".to_string(), format!("{key}={value}")]);
    }
    let run = async |extra: &[&str]| {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend_from_slice(extra);
        crate::support::run_quire(dir.path(), &all, &[], "").await
    };

    let output = run(&["mail-test", "ann@example.test"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("sent a test message to ann@example.test"),
        "{stdout}"
    );
    let message = sink.next(ARRIVES).await.expect("the test message");
    assert_eq!(message.to, ["ann@example.test"]);
    assert_eq!(message.subject(), "Quire test message");

    let output = run(&[
        "--set",
        "mail.enabled=false",
        "mail-test",
        "ann@example.test",
    ])
    .await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("e-mail is off"), "{stderr}");
    sink.expect_nothing(QUIET).await;
}

/// A mention mails the person mentioned "NAME mentioned you in TITLE" with the start of the message and the link
/// to its thread; the author mentioning themselves gets nothing, nor does an edit that keeps the mention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_mails_the_person_mentioned_a_link_to_the_thread() {
    let sink = SmtpSink::start().await;
    let server = start_with_mail(&sink, &[]).await;
    let ann = TestUser::signup(&server, "Ann").await;
    let bob = TestUser::signup(&server, "Bob").await;
    let doc = ann.new_document(&server, "Plans").await;
    ann.share(&server, &doc, &bob.email, "commenter").await;
    sink.next(ARRIVES).await.expect("the share notice");
    let token = ann.api_token(&server).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    socket.hello(&client_id("ann"), None).await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "Hello world"}]}))
        .await;
    socket.recv_kind("ack").await;

    let opened = ann
        .post_json(
            &server,
            &format!("/api/docs/{doc}/comments"),
            json!({"start": 0, "end": 5, "body": "@Bob @Ann can you check this?", "mentions": [bob.id, ann.id]}),
        )
        .await;
    let thread = opened["thread"]["id"].as_str().expect("thread");
    let message = sink.next(ARRIVES).await.expect("the mention e-mail");
    assert_eq!(message.to, [bob.email.as_str()]);
    assert_eq!(message.subject(), "Ann mentioned you in \"Plans\"");
    assert!(
        message.body().contains("> @Bob @Ann can you check this?"),
        "{}",
        message.body()
    );
    let link = format!("{}/d/{doc}#comment-{thread}", server.base);
    assert_eq!(message.link_starting(&server.base), Some(link));
    sink.expect_nothing(QUIET).await;

    let message_id = opened["message"]["id"].as_str().expect("message");
    let edited = ann
        .http
        .patch(server.url(&format!("/api/docs/{doc}/comments/{message_id}")))
        .header("X-CSRF-Token", &ann.csrf)
        .json(&json!({"body": "@Bob please", "mentions": [bob.id]}))
        .send()
        .await
        .expect("edit");
    assert_eq!(edited.status(), 200);
    sink.expect_nothing(QUIET).await;
    server.stop().await;
}
