//! Configuration through the real binary (file < environment < flag, exit status 2 on a bad value)
//! and `config.example.toml` checked against the built-in defaults.

use std::path::Path;

use quire::config::{self, RawConfig, Sources};

use crate::support::run_quire;

/// `quire user invite` prints `{server.public_url}/signup?invite=...`: a cheap way to observe the merged configuration.
async fn public_url_seen(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = args.to_vec();
    all.extend(["user", "invite", "--email", "someone@example.test"]);
    let output = run_quire(cwd, &all, env, "").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "quire {all:?}: {stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (origin, _) = stdout
        .trim()
        .split_once("/signup?invite=")
        .expect("an invitation link");
    origin.to_string()
}

#[tokio::test]
async fn precedence_is_file_then_env_then_flag() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    assert_eq!(
        public_url_seen(dir, &[], &[]).await,
        "http://127.0.0.1:8080",
        "derived from server.listen"
    );

    std::fs::write(
        dir.join("quire.toml"),
        "[server]\npublic_url = \"https://file.example\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("other.toml"),
        "[server]\npublic_url = \"https://other.example\"\n",
    )
    .unwrap();
    assert_eq!(
        public_url_seen(dir, &[], &[]).await,
        "https://file.example",
        "./quire.toml is read"
    );
    let named = [("QUIRE_CONFIG", "other.toml")];
    assert_eq!(
        public_url_seen(dir, &[], &named).await,
        "https://other.example",
        "QUIRE_CONFIG names the file"
    );
    assert_eq!(
        public_url_seen(dir, &["--config", "other.toml"], &[]).await,
        "https://other.example"
    );

    let env = [("QUIRE_SERVER__PUBLIC_URL", "https://env.example")];
    assert_eq!(
        public_url_seen(dir, &[], &env).await,
        "https://env.example",
        "env beats the file"
    );
    let flag = ["--public-url", "https://flag.example"];
    assert_eq!(
        public_url_seen(dir, &flag, &env).await,
        "https://flag.example",
        "a flag beats env"
    );
    let set = ["--set", "server.public_url=https://set.example"];
    assert_eq!(
        public_url_seen(dir, &set, &env).await,
        "https://set.example",
        "--set is a flag too"
    );
}

/// Runs `quire migrate` with a bad setting and returns its standard error, asserting exit status 2.
async fn refused(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = args.to_vec();
    all.push("migrate");
    let output = run_quire(cwd, &all, env, "").await;
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        output.status.code(),
        Some(2),
        "quire {all:?} should exit 2; stderr: {stderr}"
    );
    stderr
}

/// Settings that parse but do not work where Quire starts: a port in use, a database that does not answer, and a
/// file that is not TOML. Each is exit 2 with the key in the message, as for invalid values (issue 18).
#[tokio::test]
async fn settings_that_do_not_work_here_exit_2_naming_the_key() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = run_quire(dir, &["--listen", &addr], &[], "").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("server.listen") && stderr.contains(&addr),
        "{stderr}"
    );

    let unreachable = "postgres://quire:s3cret@127.0.0.1:1/quire";
    let args = ["--listen", "127.0.0.1:0", "--database-url", unreachable];
    let output = run_quire(dir, &args, &[], "").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("database.url"), "{stderr}");
    assert!(
        !stderr.contains("s3cret"),
        "the password is not printed: {stderr}"
    );

    std::fs::write(dir.join("broken.toml"), "[server\nlisten = ").unwrap();
    let stderr = refused(dir, &["--config", "broken.toml"], &[]).await;
    assert!(
        stderr.contains("broken.toml") && stderr.contains("TOML"),
        "{stderr}"
    );
    drop(taken);
}

#[tokio::test]
async fn invalid_values_exit_2_naming_the_key() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    let stderr = refused(dir, &["--set", "auth.signup=maybe"], &[]).await;
    assert!(
        stderr.contains("auth.signup") && stderr.contains("maybe") && stderr.contains("invite"),
        "{stderr}"
    );
    let stderr = refused(dir, &[], &[("QUIRE_SERVER__LISTEN", "not-an-address")]).await;
    assert!(
        stderr.contains("server.listen") && stderr.contains("not-an-address"),
        "{stderr}"
    );
    let stderr = refused(dir, &["--listen", "127.0.0.1:99999"], &[]).await;
    assert!(stderr.contains("server.listen"), "{stderr}");

    std::fs::write(dir.join("bad.toml"), "[limits]\nmax_doc_len = \"big\"\n").unwrap();
    let stderr = refused(dir, &["--config", "bad.toml"], &[]).await;
    assert!(stderr.contains("limits.max_doc_len"), "{stderr}");
    std::fs::write(dir.join("typo.toml"), "[server]\nlisen = \"127.0.0.1:1\"\n").unwrap();
    let stderr = refused(dir, &["--config", "typo.toml"], &[]).await;
    assert!(stderr.contains("server.lisen"), "{stderr}");
    let stderr = refused(dir, &["--config", "missing.toml"], &[]).await;
    assert!(stderr.contains("missing.toml"), "{stderr}");
    assert!(
        !dir.join("quire-data").exists(),
        "nothing is created before the configuration is valid"
    );
}

/// Issue 12: a cluster needs PostgreSQL and a node id and secret, and a ZooKeeper that answers; each is exit 2.
#[tokio::test]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn a_cluster_that_cannot_work_is_refused_at_start_up() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    let secret = ("QUIRE_CLUSTER__SECRET", "0123456789abcdef0123456789abcdef");
    let enabled = ("QUIRE_CLUSTER__ENABLED", "true");
    let node = ("QUIRE_CLUSTER__NODE_ID", "n1");
    let stderr = refused(dir, &[], &[enabled, node, secret]).await;
    assert!(
        stderr.contains("cluster.enabled") && stderr.contains("PostgreSQL"),
        "SQLite belongs to one machine: {stderr}"
    );
    let pg = crate::support::TestPg::start().await.expect("PostgreSQL");
    let database = ("QUIRE_DATABASE__URL", pg.url.as_str());
    let stderr = refused(dir, &[], &[enabled, database, secret]).await;
    assert!(stderr.contains("cluster.node_id"), "{stderr}");
    let short = ("QUIRE_CLUSTER__SECRET", "short");
    let stderr = refused(dir, &[], &[enabled, database, node, short]).await;
    assert!(
        stderr.contains("cluster.secret") && !stderr.contains("short"),
        "named, not printed: {stderr}"
    );
    // Nothing listens on port 1: the node gives up after 10 s instead of serving without a cluster.
    let nowhere = ("QUIRE_CLUSTER__ZOOKEEPER", "127.0.0.1:1");
    let listen = ("QUIRE_SERVER__LISTEN", "127.0.0.1:0");
    let output = run_quire(
        dir,
        &["serve"],
        &[enabled, database, node, secret, nowhere, listen],
        "",
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cluster.zookeeper") && stderr.contains("127.0.0.1:1"),
        "{stderr}"
    );
}

const EXAMPLE: &str = include_str!("../../config.example.toml");

/// `config.example.toml` must list exactly the keys of `RawConfig`, each with its default value.
/// `server.public_url` and `database.url` default to "" (derived from `server.listen` and `storage.data_dir`),
/// and the example shows them as "" too, with a comment saying so.
#[test]
fn example_config_lists_every_key_with_its_default() {
    let example: toml::Table = toml::from_str(EXAMPLE).expect("config.example.toml is valid TOML");
    let defaults = config::default_table();
    let mut problems = Vec::new();
    for (section, keys) in &defaults {
        let keys = keys.as_table().expect("default sections are tables");
        for (key, default) in keys {
            match example.get(section).and_then(|table| table.get(key)) {
                None => problems.push(format!(
                    "{section}.{key} is missing from config.example.toml"
                )),
                Some(value) if value != default => problems.push(format!(
                    "{section}.{key} = {value} in the example, but the default is {default}"
                )),
                Some(_) => {}
            }
        }
    }
    for (section, keys) in &example {
        let Some(keys) = keys.as_table() else {
            problems.push(format!(
                "{section} is not a [section] in config.example.toml"
            ));
            continue;
        };
        for key in keys.keys() {
            if defaults
                .get(section)
                .and_then(|table| table.get(key))
                .is_none()
            {
                problems.push(format!(
                    "{section}.{key} is in config.example.toml but not in RawConfig"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "config.example.toml and the code disagree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn example_config_documents_every_key_with_a_comment() {
    let mut previous = "";
    for line in EXAMPLE.lines() {
        let line = line.trim();
        let is_key = line.contains(" = ") && !line.starts_with('#');
        assert!(
            !is_key || previous.starts_with('#'),
            "no comment above `{line}` in config.example.toml"
        );
        previous = line;
    }
}

#[test]
fn example_config_loads_to_the_defaults() {
    let sources = Sources {
        file: Some(("config.example.toml".into(), EXAMPLE.to_string())),
        ..Sources::default()
    };
    let from_example = config::load(&sources).expect("the example is a valid configuration");
    let defaults = config::load(&Sources::default()).expect("the defaults are valid");
    assert_eq!(format!("{from_example:?}"), format!("{defaults:?}"));
    assert_eq!(
        defaults.listen.to_string(),
        "127.0.0.1:8080",
        "no configuration at all binds loopback port 8080"
    );
    assert_eq!(defaults.database.as_str(), "sqlite://./quire-data/quire.db");
    assert_eq!(RawConfig::default().storage.data_dir, "./quire-data");
}
