//! Issue 20: moving an install from SQLite to PostgreSQL with `quire db copy` (everything a user sees is the same
//! afterwards; an interrupted copy is finished by `--resume`; a non-empty target is refused), and `quire backup`
//! of a live SQLite install, restored, holding every edit acknowledged before it began.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{
    cluster_client::{Typist, api, content_text, create_doc},
    hub_client::TestSocket,
    hub_convergence::api_setup,
    support::{TestPg, TestServer, run_quire},
};

/// What a person sees through the API, for comparing two installs: their document list and notifications, and for
/// each document its content, versions, people and comments.
async fn what_they_see(base: &str, token: &str) -> Value {
    let (status, list) = api(
        Method::GET,
        &format!("{base}/api/docs?scope=all"),
        token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let (status, notifications) = api(
        Method::GET,
        &format!("{base}/api/notifications"),
        token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{notifications}");
    let mut seen = json!({ "docs": list["docs"].clone(), "notifications": notifications });
    let ids: Vec<String> = list["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|doc| doc["id"].as_str().unwrap().to_string())
        .collect();
    for id in ids {
        for part in ["content", "versions", "members", "comments"] {
            let (status, body) = api(
                Method::GET,
                &format!("{base}/api/docs/{id}/{part}"),
                token,
                None,
            )
            .await;
            assert_eq!(status, 200, "{part} of {id}: {body}");
            seen[format!("{id}/{part}")] = body;
        }
    }
    seen
}

/// An SQLite install with two people, a shared document with a long log and versions, and a document of each.
async fn an_install() -> (TestServer, String, String) {
    let server = TestServer::start_with(&[
        ("limits.ops_per_second", "100000"),
        ("limits.ops_burst", "100000"),
    ])
    .await;
    let (ann, shared) = api_setup(&server.base).await;
    let (bob, bob_email) = crate::cluster_client::account(&server.base, "bob").await;
    let (status, _) = api(
        Method::PUT,
        &format!("{}/api/docs/{shared}/members/{bob_email}", server.base),
        &ann,
        Some(json!({"role": "editor"})),
    )
    .await;
    assert_eq!(status, 200);
    create_doc(&server.base, &ann, "ann's own").await;
    create_doc(&server.base, &bob, "bob's own").await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &shared, &ann).await;
    let welcome = socket
        .hello(&crate::hub_client::client_id("ann"), None)
        .await;
    let mut rev = welcome["snapshot"]["rev"].as_u64().unwrap();
    for seq in 1..=1200u64 {
        socket
            .send(json!({"t": "op", "rev": rev, "seq": seq, "op": [{"insert": format!("{seq} ")}]}))
            .await;
        let ack = socket.recv_kind("ack").await;
        rev = ack["rev"].as_u64().unwrap() + 1;
        if seq == 600 {
            let (status, _) = api(
                Method::POST,
                &format!("{}/api/docs/{shared}/versions", server.base),
                &ann,
                Some(json!({"name": "half way"})),
            )
            .await;
            assert_eq!(status, 201);
        }
    }
    drop(socket);
    // A comment mentioning Bob: a thread, a message, a mention and Bob's notification to copy.
    let (_, me) = api(Method::GET, &format!("{}/api/me", server.base), &bob, None).await;
    let (status, created) = api(
        Method::POST,
        &format!("{}/api/docs/{shared}/comments", server.base),
        &ann,
        Some(json!({"start": 0, "end": 3, "body": "@bob look", "mentions": [me["id"]]})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    (server, ann, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn an_install_copied_from_sqlite_to_postgresql_looks_the_same() {
    let (server, ann, bob) = an_install().await;
    let before = (
        what_they_see(&server.base, &ann).await,
        what_they_see(&server.base, &bob).await,
    );
    let data = server.stop_keeping_data().await;
    let dir = data.path().to_path_buf();
    let sqlite = format!("sqlite:{}", dir.join("quire.db").display());
    let pg = TestPg::start().await.expect("PostgreSQL");

    // Interrupted early, then refused without --resume, then finished with it.
    let mut first = crate::support::quire_command(&dir)
        .args(["db", "copy", "--from", &sqlite, "--to", &pg.url])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn quire db copy");
    // Killed once the log's first page is in: in the middle of the copy.
    let mut out = first.stdout.take().expect("stdout");
    let mut seen = String::new();
    let mut buffer = [0u8; 256];
    while !seen.contains("operations: 500 of") {
        let n = tokio::io::AsyncReadExt::read(&mut out, &mut buffer)
            .await
            .expect("read");
        assert!(n > 0, "the copy ended before the log: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    let _ = first.start_kill();
    let _ = first.wait().await;
    let refused = run_quire(
        &dir,
        &["db", "copy", "--from", &sqlite, "--to", &pg.url],
        &[],
        "",
    )
    .await;
    assert!(
        !refused.status.success(),
        "a non-empty target is refused without --resume"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    let resumed = run_quire(
        &dir,
        &["db", "copy", "--from", &sqlite, "--to", &pg.url, "--resume"],
        &[],
        "",
    )
    .await;
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        resumed.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(stdout.contains("the copy is complete"), "{stdout}");
    assert!(stdout.contains("operations: 1200 of 1200 rows"), "{stdout}");
    assert!(stdout.contains("comment_mentions: 1 of 1 rows"), "{stdout}");
    assert!(stdout.contains("notifications: 1 of 1 rows"), "{stdout}");

    let copied = TestServer::start_with(&[("database.url", &pg.url)]).await;
    let after = (
        what_they_see(&copied.base, &ann).await,
        what_they_see(&copied.base, &bob).await,
    );
    assert_eq!(before.0, after.0, "Ann sees the same install");
    assert_eq!(before.1, after.1, "Bob sees the same install");
    // And it goes on: the copied document takes edits at the revision it had.
    let shared = before.0["docs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|doc| doc["title"] == "simulation")
        .map(|doc| doc["id"].as_str().unwrap().to_string())
        .expect("the shared document");
    let mut socket = TestSocket::connect(&copied.addr.to_string(), &shared, &bob).await;
    let welcome = socket
        .hello(&crate::hub_client::client_id("bob"), None)
        .await;
    assert_eq!(welcome["head"], 1200);
    socket
        .send(json!({"t": "op", "rev": 1200, "seq": 1, "op": [{"insert": "after the move "}]}))
        .await;
    assert_eq!(socket.recv_kind("ack").await["rev"], 1200);
    copied.stop().await;
}

/// `quire backup` while people type; the backup, started as an install of its own, holds every edit that was
/// acknowledged before the backup began.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_people_type_holds_everything_acknowledged_before_it() {
    let server = TestServer::start().await;
    let (token, doc) = api_setup(&server.base).await;
    let (stop_tx, stop) = watch::channel(false);
    let tasks: Vec<_> = (0..2)
        .map(|i| {
            let typist = Typist::new(
                &format!("t{i}"),
                vec![server.addr.to_string()],
                &doc,
                &token,
            );
            tokio::spawn(typist.run(
                Duration::from_millis(20),
                i,
                stop.clone(),
                Duration::from_secs(60),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Everything acknowledged so far is in the content now (an ack follows the commit).
    let (before, rev_before) = content_text(&server.base, &doc, &token).await;
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("backup.db");
    let mut args: Vec<String> = server.cli_args();
    args.extend(["backup".to_string(), backup.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_quire(server.dir.path(), &args, &[], "").await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let again = run_quire(server.dir.path(), &args, &[], "").await;
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_tx.send(true).unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let (live, rev_live) = content_text(&server.base, &doc, &token).await;
    server.stop().await;

    let restored_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&backup, restored_dir.path().join("quire.db")).unwrap();
    let data_dir = restored_dir.path().display().to_string();
    let restored = TestServer::start_with(&[("storage.data_dir", &data_dir)]).await;
    let (text, rev) = content_text(&restored.base, &doc, &token).await;
    assert!(
        rev >= rev_before && rev <= rev_live,
        "{rev_before} <= {rev} <= {rev_live}"
    );
    for marker in before.split(']').filter(|m| m.contains('[')) {
        let marker = format!("{}]", &marker[marker.find('[').unwrap()..]);
        assert!(
            text.contains(&marker),
            "{marker}, acknowledged before the backup, is missing from it"
        );
    }
    assert!(
        live.len() > before.len(),
        "people kept typing during the backup"
    );
    restored.stop().await;
}

/// A counter or gauge of the test server's `/metrics` (summed over labels matching `label`).
async fn metric(server: &TestServer, name: &str, label: &str) -> f64 {
    let text = crate::support::client()
        .get(server.url("/metrics"))
        .bearer_auth("replica-metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with(name) && line.contains(label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn doc_titles(server: &TestServer, token: &str) -> Vec<String> {
    let (status, list) = api(Method::GET, &server.url("/api/docs?scope=all"), token, None).await;
    assert_eq!(status, 200, "{list}");
    list["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|doc| doc["title"].as_str().unwrap().to_string())
        .collect()
}

async fn on_replica(server: &TestServer) -> f64 {
    metric(server, "quire_db_lagging_reads", "target=\"replica\"").await
}

/// A primary and a real streaming replica: document lists go to the replica once it is caught up; the person who
/// just wrote reads the primary until the replica has their write (read-your-writes, even with replay paused); a
/// replica whose replay is paused falls behind `database.replica_max_lag` and is skipped for everyone; a stopped
/// replica is skipped at once, and the lists stay right throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn lists_read_a_caught_up_replica_and_never_miss_your_own_writes() {
    let started = std::time::Instant::now();
    let primary = TestPg::start_durable().await.expect("PostgreSQL");
    let replica = primary.start_replica().await;
    println!("primary and replica up after {:?}", started.elapsed());
    let server = TestServer::start_with(&[
        ("database.url", &primary.url),
        ("database.replicas", &replica.url),
        ("database.replica_max_lag", "1s"),
        ("metrics.token", "replica-metrics"),
    ])
    .await;
    let (ann, _) = crate::cluster_client::account(&server.base, "ann").await;
    let (bob, _) = crate::cluster_client::account(&server.base, "bob").await;
    let first = create_doc(&server.base, &ann, "first").await;
    let versions = server.url(&format!("/api/docs/{first}/versions"));
    let (status, named) = api(Method::POST, &versions, &ann, Some(json!({"name": "v1"}))).await;
    assert_eq!(status, 201, "{named}");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Caught up, and Ann's last write is older than what the replica holds: her list comes from the replica.
    let before = on_replica(&server).await;
    assert_eq!(doc_titles(&server, &ann).await, ["first"]);
    assert_eq!(
        on_replica(&server).await,
        before + 1.0,
        "a caught-up replica serves lists"
    );
    // So do the history list, a version's preview and its export.
    let before = on_replica(&server).await;
    let (status, list) = api(Method::GET, &versions, &ann, None).await;
    assert_eq!(
        (status, list["versions"][0]["name"].clone()),
        (200, json!("v1"))
    );
    let version = format!("{versions}/{}", named["id"].as_str().unwrap());
    let (status, preview) = api(Method::GET, &version, &ann, None).await;
    assert_eq!(
        (status, preview["ops"].clone()),
        (200, json!([{"insert": "\n"}]))
    );
    let export = crate::support::client()
        .get(format!("{version}?format=md"))
        .bearer_auth(&ann)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert_eq!(
        export.headers()["content-type"],
        "text/markdown; charset=utf-8"
    );
    assert_eq!(
        on_replica(&server).await,
        before + 3.0,
        "history lists, previews and exports read the replica"
    );

    // Replay paused: Ann's new document is not on the replica, yet her next list shows it (from the primary).
    let pause = sqlx::PgPool::connect(&replica.url).await.unwrap();
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&pause)
        .await
        .unwrap();
    create_doc(&server.base, &ann, "second").await;
    let before = on_replica(&server).await;
    let mut titles = doc_titles(&server, &ann).await;
    titles.sort();
    assert_eq!(titles, ["first", "second"], "read-your-writes");
    assert_eq!(
        on_replica(&server).await,
        before,
        "the lagging replica was not asked"
    );

    // Past replica_max_lag the paused replica is skipped for Bob too, who wrote nothing since.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let lag = metric(&server, "quire_db_replica_lag_milliseconds", "replica").await;
    assert!(lag >= 1000.0, "the lag shows in /metrics: {lag} ms");
    let before = on_replica(&server).await;
    create_doc(&server.base, &bob, "bob's").await;
    assert_eq!(doc_titles(&server, &bob).await, ["bob's"]);
    assert_eq!(on_replica(&server).await, before);

    // Replay resumed: it catches up and serves again.
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&pause)
        .await
        .unwrap();
    pause.close().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = on_replica(&server).await;
    assert_eq!(doc_titles(&server, &bob).await, ["bob's"]);
    assert_eq!(
        on_replica(&server).await,
        before + 1.0,
        "back in use once caught up"
    );

    // Stopped: the next list is still answered, from the primary.
    println!("replica stopped after {:?}", started.elapsed());
    replica.stop_immediate().await;
    let mut titles = doc_titles(&server, &ann).await;
    titles.sort();
    assert_eq!(titles, ["first", "second"]);
    println!("list answered after {:?}", started.elapsed());
    server.stop().await;
    println!("stopped after {:?}", started.elapsed());
}
