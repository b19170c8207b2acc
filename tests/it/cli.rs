//! `quire user ...` run as a separate process against the database of a running server, then checked through HTTP.

use serde_json::json;

use crate::support::{TestPg, TestServer, TestUser, client, get_text, post_login, run_quire};

/// Runs `quire <server's database flags> ARGS` in the server's data directory and asserts success; returns stdout.
async fn quire_ok(server: &TestServer, args: &[&str], stdin: &str) -> String {
    let output = quire_for(server, args, stdin).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "quire {args:?} failed ({}): {stderr}",
        output.status
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

async fn quire_for(server: &TestServer, args: &[&str], stdin: &str) -> std::process::Output {
    let mut all: Vec<String> = server.cli_args();
    all.extend(args.iter().map(|arg| arg.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    run_quire(server.dir.path(), &all, &[], stdin).await
}

async fn user_add_then_log_in(server: &TestServer) {
    let stdout = quire_ok(
        server,
        &[
            "user",
            "add",
            "--email",
            "Carol@Example.test",
            "--name",
            "Carol",
        ],
        "carol's password\n",
    )
    .await;
    assert!(stdout.contains("carol@example.test"), "{stdout}");
    let response = post_login(&client(), server, "carol@example.test", "carol's password").await;
    assert_eq!(response.status(), 200);
    let me: serde_json::Value = response.json().await.unwrap();
    assert_eq!(me["name"], "Carol");
}

#[tokio::test]
async fn user_add_then_log_in_over_http_sqlite() {
    let server = TestServer::start().await;
    user_add_then_log_in(&server).await;
    server.stop().await;
}

#[tokio::test]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn user_add_then_log_in_over_http_postgres() {
    let Some(pg) = TestPg::start().await else {
        return;
    };
    let server = TestServer::start_with(&[("database.url", &pg.url)]).await;
    user_add_then_log_in(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn user_add_refuses_short_passwords_and_taken_emails() {
    let server = TestServer::start().await;
    let short = quire_for(
        &server,
        &["user", "add", "--email", "d@example.test", "--name", "D"],
        "short\n",
    )
    .await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));
    let ann = TestUser::signup(&server, "Ann").await;
    let taken = quire_for(
        &server,
        &["user", "add", "--email", &ann.email, "--name", "A"],
        "long enough\n",
    )
    .await;
    assert!(!taken.status.success(), "a taken e-mail is an error");
    assert_eq!(
        post_login(&client(), &server, &ann.email, &ann.password)
            .await
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn user_list_shows_accounts_and_their_state() {
    let server = TestServer::start_with(&[("auth.admins", "boss@example.test")]).await;
    let ann = TestUser::signup(&server, "Ann").await;
    quire_ok(
        &server,
        &[
            "user",
            "add",
            "--email",
            "boss@example.test",
            "--name",
            "Boss",
        ],
        "boss password\n",
    )
    .await;
    let listing = quire_ok(
        &server,
        &["--set", "auth.admins=boss@example.test", "user", "list"],
        "",
    )
    .await;
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(
        lines[0].contains(&ann.email) && lines[0].contains("Ann") && lines[0].contains("active"),
        "{listing}"
    );
    assert!(
        lines[1].contains("boss@example.test") && lines[1].ends_with("admin"),
        "{listing}"
    );
    assert!(!lines[0].ends_with("admin"));
    server.stop().await;
}

#[tokio::test]
async fn reset_password_replaces_it_and_ends_sessions() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    quire_ok(
        &server,
        &["user", "reset-password", "--email", &ann.email],
        "a brand new password\n",
    )
    .await;
    assert_eq!(
        ann.http
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "sessions end"
    );
    assert_eq!(
        post_login(&client(), &server, &ann.email, &ann.password)
            .await
            .status(),
        401
    );
    assert_eq!(
        post_login(&client(), &server, &ann.email, "a brand new password")
            .await
            .status(),
        200
    );
    let nobody = quire_for(
        &server,
        &["user", "reset-password", "--email", "nobody@example.test"],
        "whatever123\n",
    )
    .await;
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("nobody@example.test"));
    server.stop().await;
}

#[tokio::test]
async fn disable_blocks_log_in_and_ends_sessions_and_enable_restores() {
    let server = TestServer::start().await;
    let ann = TestUser::signup(&server, "Ann").await;
    let secret = ann.api_token(&server).await;
    quire_ok(&server, &["user", "disable", "--email", &ann.email], "").await;
    assert_eq!(
        ann.http
            .get(server.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let bearer = client()
        .get(server.url("/api/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(
        bearer.status(),
        401,
        "a disabled user's tokens stop working"
    );
    assert_eq!(
        post_login(&client(), &server, &ann.email, &ann.password)
            .await
            .status(),
        401
    );
    let listing = quire_ok(&server, &["user", "list"], "").await;
    assert!(listing.contains("disabled"), "{listing}");

    quire_ok(&server, &["user", "enable", "--email", &ann.email], "").await;
    assert_eq!(
        post_login(&client(), &server, &ann.email, &ann.password)
            .await
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn invite_prints_a_signup_link_that_works_once() {
    let server = TestServer::start_with(&[("auth.signup", "invite")]).await;
    let public_url = format!("--public-url={}", server.base);
    let stdout = quire_ok(
        &server,
        &[&public_url, "user", "invite", "--email", "dee@example.test"],
        "",
    )
    .await;
    let link = stdout.trim();
    let prefix = format!("{}/signup?invite=", server.base);
    let token = link
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("unexpected link {link}"));
    let page = get_text(&client(), link).await;
    assert!(
        page.contains(token),
        "the sign-up form carries the invitation"
    );
    let body = json!({"email": "dee@example.test", "name": "Dee", "password": "long enough", "invite": token});
    let signup = client()
        .post(server.url("/api/auth/signup"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    server.stop().await;
}

#[tokio::test]
async fn migrate_creates_the_database_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = run_quire(dir.path(), &["migrate"], &[], "").await;
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(dir.path().join("quire-data/quire.db").is_file());
}
