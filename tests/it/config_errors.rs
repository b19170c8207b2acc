//! `quire serve` refuses bad values of `server.public_url`, `database.url` and `storage.sync` (issue 18): exit
//! status 2 before anything is created, with a message naming the key and what it allows, and never a password.

use std::{path::Path, process::Stdio, time::Duration};

use crate::support::quire_command;

/// Runs `quire ARGS serve` in `cwd` on a free port and returns its standard error, asserting exit status 2.
/// A value that is wrongly accepted starts a server, which is killed after 20 s and fails the test.
async fn serve_refused(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = quire_command(cwd);
    command
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .arg("serve")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let output = tokio::time::timeout(Duration::from_secs(20), command.output())
        .await
        .unwrap_or_else(|_| panic!("quire {args:?} {env:?} serve accepted the value and served"))
        .expect("run quire");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        output.status.code(),
        Some(2),
        "quire {args:?} {env:?} serve should exit 2; stderr: {stderr}"
    );
    assert!(
        !cwd.join("quire-data").exists(),
        "nothing is created before the configuration is valid"
    );
    stderr
}

#[tokio::test]
async fn a_bad_public_url_is_refused_naming_the_key() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    for value in ["docs.example.com", "https://docs.example.com/quire"] {
        let set = format!("server.public_url={value}");
        let stderr = serve_refused(dir, &["--set", &set], &[]).await;
        assert!(
            stderr.contains("server.public_url")
                && stderr.contains(value)
                && stderr.contains("no path"),
            "{stderr}"
        );
    }
    let env = [("QUIRE_SERVER__PUBLIC_URL", "ftp://docs.example.com")];
    let stderr = serve_refused(dir, &[], &env).await;
    assert!(stderr.contains("server.public_url"), "{stderr}");
}

#[tokio::test]
async fn a_bad_database_url_is_refused_naming_the_key_without_its_password() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    let mysql = "mysql://quire:s3cret@db.example/quire";
    let stderr = serve_refused(dir, &["--database-url", mysql], &[]).await;
    assert!(
        stderr.contains("database.url") && stderr.contains("postgres://"),
        "the message says what is allowed: {stderr}"
    );
    assert!(
        !stderr.contains("s3cret"),
        "the password is not printed: {stderr}"
    );
    std::fs::write(dir.join("quire.toml"), "[database]\nurl = \"quire.db\"\n").unwrap();
    let stderr = serve_refused(dir, &[], &[]).await;
    assert!(
        stderr.contains("database.url") && stderr.contains("quire.db"),
        "a bare path is not a URL: {stderr}"
    );
}

#[tokio::test]
async fn a_bad_storage_sync_is_refused_naming_the_key() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    let stderr = serve_refused(dir, &["--set", "storage.sync=sometimes"], &[]).await;
    assert!(
        stderr.contains("storage.sync")
            && stderr.contains("sometimes")
            && stderr.contains("\"normal\" or \"full\""),
        "{stderr}"
    );
    let stderr = serve_refused(dir, &[], &[("QUIRE_STORAGE__SYNC", "off")]).await;
    assert!(
        stderr.contains("storage.sync") && stderr.contains("off"),
        "{stderr}"
    );
}
