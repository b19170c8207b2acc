//! Versions and compaction (the history issue): versions are written when the last person leaves and every N ops,
//! the log is pruned behind them without changing content or revisions, and restoring is a live, logged op.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    hub_convergence::{api_setup, content},
    support::{Backend, TestServer},
};

// Every test here runs against SQLite and PostgreSQL.
crate::on_both_backends!(
    compaction_prunes_the_log_without_changing_content_or_revisions,
    the_last_person_leaving_writes_exactly_one_version,
    restoring_a_version_is_a_live_op_and_a_new_version,
    old_automatic_versions_are_thinned_but_named_ones_stay,
    large_pastes_are_bounded_by_bytes_in_memory_and_on_disk,
);

async fn versions(server: &TestServer, doc: &str, token: &str) -> Vec<Value> {
    let body: Value = reqwest::Client::new()
        .get(server.url(&format!("/api/docs/{doc}/versions")))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET versions")
        .json()
        .await
        .expect("versions JSON");
    body["versions"].as_array().expect("versions array").clone()
}

/// Sends `n` one-letter inserts at the start, each after the previous ack; returns the head.
async fn type_ops(socket: &mut TestSocket, first_seq: u64, head: u64, n: u64) -> u64 {
    let mut head = head;
    for seq in first_seq..first_seq + n {
        socket
            .send(json!({"t": "op", "rev": head, "seq": seq, "op": [{"insert": "x"}]}))
            .await;
        let ack = socket.recv_kind("ack").await;
        assert_eq!(ack["rev"], head);
        head += 1;
    }
    head
}

/// Waits until a version at `rev` exists.
async fn wait_for_version_at(server: &TestServer, doc: &str, token: &str, rev: u64) -> Vec<Value> {
    for _ in 0..400 {
        let found = versions(server, doc, token).await;
        if found.iter().any(|version| version["rev"] == rev) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no version at rev {rev} after 20 s");
}

async fn compaction_prunes_the_log_without_changing_content_or_revisions(backend: Backend) {
    let server = TestServer::start_on(
        backend,
        &[
            ("history.compact_every_ops", "10"),
            ("history.keep_ops", "5"),
            ("history.keep_age", "1s"),
            ("limits.max_catchup_ops", "5"),
        ],
    )
    .await;
    let (token, doc) = api_setup(&server.base).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    let client = client_id("w");
    socket.hello(&client, None).await;
    // Ten ops at a time, each round's version awaited: a compaction that falls due while another runs is merged
    // into the next one, so typing ahead could skip a cadence point.
    let mut head = 0;
    for round in 0..3 {
        head = type_ops(&mut socket, 1 + round * 10, head, 10).await;
        wait_for_version_at(&server, &doc, &token, head).await;
    }
    let before = content(&server.base, &doc, &token).await;
    // Ops become prunable once older than keep_age; the next compaction (at 40 ops) removes them.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let head = type_ops(&mut socket, 31, head, 10).await;
    wait_for_version_at(&server, &doc, &token, head).await;
    let store = server.store().await;
    let mut n_ops = i64::MAX;
    for _ in 0..400 {
        n_ops = store.count_ops(&doc).await.expect("count ops");
        if n_ops <= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(n_ops <= 10, "the log still holds {n_ops} ops");
    let after = content(&server.base, &doc, &token).await;
    assert_eq!(after["rev"], head, "revisions are never renumbered");
    let expected = format!("{}\n", "x".repeat(40));
    assert_eq!(after["ops"], json!([{"insert": expected}]));
    assert_ne!(before, after);

    // A client based on a kept rev catches up with ops; one based on a pruned rev gets the snapshot.
    let mut kept = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    let welcome = kept.hello(&client_id("k"), Some(head - 3)).await;
    assert_eq!(
        (welcome["reset"].clone(), welcome["snapshot"].clone()),
        (json!(false), Value::Null)
    );
    for rev in head - 3..head {
        assert_eq!(kept.recv_kind("op").await["rev"], rev);
    }
    let mut behind = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    let welcome = behind.hello(&client_id("b"), Some(3)).await;
    assert_eq!(welcome["reset"], true);
    assert_eq!(welcome["snapshot"]["rev"], head);
    assert_eq!(welcome["snapshot"]["ops"], after["ops"]);
    // An op based on a pruned revision is refused, not applied against the wrong text.
    behind
        .send(json!({"t": "op", "rev": 3, "seq": 1, "op": [{"insert": "late"}]}))
        .await;
    assert_eq!(behind.recv_kind("error").await["code"], "rev_too_old");
    server.stop().await;
}

async fn the_last_person_leaving_writes_exactly_one_version(backend: Backend) {
    let server = TestServer::start_on(backend, &[("history.idle_grace", "1s")]).await;
    let (token, doc) = api_setup(&server.base).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    socket.hello(&client_id("a"), None).await;
    let head = type_ops(&mut socket, 1, 0, 3).await;
    // Longer than the grace period, with the socket open: still connected, so no version yet.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        versions(&server, &doc, &token).await.is_empty(),
        "no version while someone is still here"
    );
    drop(socket);
    let written = wait_for_version_at(&server, &doc, &token, head).await;
    // Three more grace periods: a hub that kept exiting and reloading would write more.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let written_later = versions(&server, &doc, &token).await;
    assert_eq!(
        written_later.len(),
        1,
        "exactly one version: {written_later:?}"
    );
    assert_eq!(written[0]["rev"], head);
    assert_eq!(written[0]["kind"], "compaction");
    assert_eq!(written[0]["contributors"][0]["name"], "Sim");
    let meta = server
        .store()
        .await
        .document(&doc)
        .await
        .expect("doc")
        .expect("exists");
    assert_eq!(
        meta.current_version_id.as_deref(),
        written[0]["id"].as_str(),
        "current_version_id moved"
    );
    server.stop().await;
}

async fn restoring_a_version_is_a_live_op_and_a_new_version(backend: Backend) {
    let server = TestServer::start_on(backend, &[]).await;
    let (token, doc) = api_setup(&server.base).await;
    let http = reqwest::Client::new();
    let mut writer = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    writer.hello(&client_id("w"), None).await;
    writer.send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "First draft", "attributes": {"bold": true}}]})).await;
    writer.recv_kind("ack").await;
    let named: Value = http
        .post(server.url(&format!("/api/docs/{doc}/versions")))
        .bearer_auth(&token)
        .json(&json!({"name": "Draft 1"}))
        .send()
        .await
        .expect("name version")
        .json()
        .await
        .expect("JSON");
    let draft = content(&server.base, &doc, &token).await;
    writer
        .send(json!({"t": "op", "rev": 1, "seq": 2, "op": [{"delete": 5}, {"insert": "Second"}]}))
        .await;
    writer.recv_kind("ack").await;
    let mut watcher = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    watcher.hello(&client_id("v"), None).await;

    let restored: Value = http
        .post(server.url(&format!(
            "/api/docs/{doc}/versions/{}/restore",
            named["id"].as_str().expect("id")
        )))
        .bearer_auth(&token)
        .send()
        .await
        .expect("restore")
        .json()
        .await
        .expect("JSON");
    assert_eq!(restored["rev"], 2);
    let now = content(&server.base, &doc, &token).await;
    assert_eq!(now["ops"], draft["ops"], "the content equals the version");
    assert_eq!(now["rev"], 3, "history only grows");
    let seen = watcher.recv_kind("op").await;
    assert_eq!(
        seen["rev"], 2,
        "connected people receive the restore as an op"
    );
    let seen_by_writer = writer.recv_kind("op").await;
    assert_eq!(seen_by_writer["rev"], 2);
    let all = versions(&server, &doc, &token).await;
    let kinds: Vec<&str> = all
        .iter()
        .filter_map(|version| version["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["restore", "named"], "newest first");
    assert_eq!(all[1]["name"], "Draft 1");
    server.stop().await;
}

async fn old_automatic_versions_are_thinned_but_named_ones_stay(backend: Backend) {
    let server = TestServer::start_on(
        backend,
        &[
            ("history.compact_every_ops", "2"),
            ("history.keep_versions", "3"),
        ],
    )
    .await;
    let (token, doc) = api_setup(&server.base).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    socket.hello(&client_id("w"), None).await;
    let head = type_ops(&mut socket, 1, 0, 4).await;
    let named = reqwest::Client::new()
        .post(server.url(&format!("/api/docs/{doc}/versions")))
        .bearer_auth(&token)
        .json(&json!({"name": "Keep me"}))
        .send()
        .await
        .expect("name version");
    assert_eq!(named.status(), 201);
    let mut head = head;
    for round in 0..8u64 {
        head = type_ops(&mut socket, 5 + round * 2, head, 2).await;
        // Each background compaction finishes before the next is due (one due meanwhile would be merged).
        wait_for_version_at(&server, &doc, &token, head).await;
    }
    let all = versions(&server, &doc, &token).await;
    let automatic = all
        .iter()
        .filter(|version| version["kind"] == "compaction")
        .count();
    // Ten were written (every 2 of 20 ops); thinning keeps exactly the newest keep_versions today.
    assert_eq!(
        automatic, 3,
        "exactly keep_versions automatic versions today: {all:?}"
    );
    assert!(
        all.iter().any(|version| version["name"] == "Keep me"),
        "named versions are never thinned"
    );
    assert_eq!(content(&server.base, &doc, &token).await["rev"], head);
    server.stop().await;
}

/// Large pastes and deletes, alternating, are bounded by bytes (issue 17, defect 3): a version is written after
/// `history.compact_every_bytes` although few ops were made, the log is pruned down to what the window needs though
/// every op is younger than `keep_age` and fewer than `keep_ops`, and the window refuses what it dropped.
async fn large_pastes_are_bounded_by_bytes_in_memory_and_on_disk(backend: Backend) {
    let server = TestServer::start_on(
        backend,
        &[
            ("history.compact_every_bytes", "100000"),
            ("history.keep_bytes", "150000"),
            ("limits.max_catchup_bytes", "100000"),
        ],
    )
    .await;
    let (token, doc) = api_setup(&server.base).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    socket.hello(&client_id("paste"), None).await;
    let paste = "p".repeat(30_000);
    let mut head = 0;
    for seq in 1..=20u64 {
        let op = if seq % 2 == 1 {
            json!([{"insert": paste}])
        } else {
            json!([{"delete": 30_000}])
        };
        socket
            .send(json!({"t": "op", "rev": head, "seq": seq, "op": op}))
            .await;
        assert_eq!(socket.recv_kind("ack").await["rev"], head);
        head += 1;
    }
    // 10 pastes of 30 kB: a version by bytes at least every 4 pastes, though compact_every_ops is 1,000.
    let written = versions(&server, &doc, &token).await;
    assert!(!written.is_empty(), "no version written by bytes");
    let store = server.store().await;
    let mut logged = i64::MAX;
    for _ in 0..200 {
        logged = store.log_bytes(&doc, i64::MAX).await.expect("log bytes");
        if logged <= 250_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        logged <= 250_000,
        "the log keeps {logged} bytes of 300,000 pasted"
    );
    // The window holds at most about 100 kB: an op based on rev 0 is refused rather than transformed.
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 21, "op": [{"insert": "x"}]}))
        .await;
    assert_eq!(socket.recv_kind("error").await["code"], "rev_too_old");
    let after = content(&server.base, &doc, &token).await;
    assert_eq!(after["rev"], head);
    assert_eq!(after["ops"], json!([{"insert": "\n"}]));
    server.stop().await;
}
