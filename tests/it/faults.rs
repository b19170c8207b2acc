//! Issue 13: faults injected into a running cluster (real ZooKeeper, PostgreSQL and `quire` processes) while
//! people type; after each, the history checker (`checker.rs`) must find every acknowledged op in the log exactly
//! once, in order, the content equal to the log's replay and to every client's document. A negative control
//! shows the checker catching a node that acknowledges before it commits.

use std::time::Duration;

use crate::{
    checker::{Verdict, check},
    cluster_client::{Typing, Typist, content_delta_at, content_text, create_doc},
    hub_convergence::api_setup,
    support::TestCluster,
};
use quire::{cluster::Ring, config::DatabaseUrl};

const SESSION: Duration = Duration::from_secs(2);

/// Typists on one document, entering through the cluster's nodes in turn, typing every 40 ms.
fn typing(cluster: &TestCluster, doc: &str, token: &str, n: usize) -> Typing {
    typing_for(cluster, doc, token, n, Duration::from_secs(150))
}

/// `typing`, with typists that give up after `limit`.
fn typing_for(cluster: &TestCluster, doc: &str, token: &str, n: usize, limit: Duration) -> Typing {
    let origins: Vec<String> = cluster
        .nodes
        .iter()
        .map(|node| node.addr().to_string())
        .collect();
    Typing::through(&origins, doc, token, n, PACE, limit)
}

const PACE: Duration = Duration::from_millis(40);

/// Stops typing, lets everything be acknowledged, and checks the history against the log.
async fn finish(typing: Typing, cluster: &TestCluster) -> (Vec<Typist>, Verdict) {
    let base = cluster
        .nodes
        .iter()
        .find(|node| !node.paused && !node.stopped)
        .expect("a running node")
        .url
        .clone();
    finish_on(
        typing,
        &base,
        &DatabaseUrl::Postgres(cluster.pg.url.clone()),
    )
    .await
}

/// `finish`, reading the content through `base` and the log from `database`.
async fn finish_on(typing: Typing, base: &str, database: &DatabaseUrl) -> (Vec<Typist>, Verdict) {
    let (doc, token) = (typing.doc.clone(), typing.token.clone());
    let typists = typing.stop().await;
    let (content, _) = content_delta_at(base, &doc, &token).await;
    let verdict = check(database, &doc, &content, &typists).await;
    (typists, verdict)
}

/// Waits until the document has taken `more` edits after `from` (read through `base`); the time it took.
async fn edits_resume(base: &str, doc: &str, token: &str, from: u64, more: u64) -> Duration {
    let started = tokio::time::Instant::now();
    loop {
        if content_text(base, doc, token).await.1 >= from + more {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no edits for 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn owner_in(nodes: &[&str], doc: &str) -> String {
    Ring::new(nodes.iter().copied(), 128)
        .owner(doc)
        .expect("a member")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn killing_the_owner_of_a_busy_document_loses_nothing() {
    let Some(mut cluster) = TestCluster::start(&["n1", "n2", "n3"], SESSION).await else {
        return;
    };
    let (token, doc) = api_setup(&cluster.node("n1").url).await;
    let owner = owner_in(&["n1", "n2", "n3"], &doc);
    let typing = typing(&cluster, &doc, &token, 3);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let survivors: Vec<&str> = ["n1", "n2", "n3"]
        .into_iter()
        .filter(|id| *id != owner)
        .collect();
    let new_owner = owner_in(&survivors, &doc);
    let base = cluster.node(&new_owner).url.clone();
    let (_, head) = content_text(&base, &doc, &token).await;
    cluster.kill_node(&owner).await;
    let resumed = edits_resume(&base, &doc, &token, head, 10).await;
    println!(
        "kill -9 of {owner}: edits again on {new_owner} after {resumed:?} (session timeout {SESSION:?})"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, verdict) = finish(typing, &cluster).await;
    verdict.assert_clean("after kill -9 of the owner");
    assert!(verdict.acked > 50, "only {} ops acked", verdict.acked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn a_pause_shorter_than_the_session_timeout_moves_nothing() {
    let session = Duration::from_secs(4);
    let Some(mut cluster) = TestCluster::start(&["n1", "n2", "n3"], session).await else {
        return;
    };
    let (token, doc) = api_setup(&cluster.node("n1").url).await;
    let owner = owner_in(&["n1", "n2", "n3"], &doc);
    let typing = typing(&cluster, &doc, &token, 3);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.node_mut(&owner).pause();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.node_mut(&owner).resume();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, verdict) = finish(typing, &cluster).await;
    verdict.assert_clean("after a short pause of the owner");
    for node in &cluster.nodes {
        assert_eq!(
            node.metric("quire_cluster_hand_offs").await,
            0.0,
            "{} handed a document off after a pause shorter than the session timeout",
            node.id
        );
        assert_eq!(
            node.metric("quire_cluster_members").await,
            3.0,
            "{} lost a member",
            node.id
        );
    }
    assert_eq!(cluster.owner_of(&doc).await, owner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn a_rolling_restart_of_every_node_loses_nothing() {
    let Some(mut cluster) = TestCluster::start(&["n1", "n2", "n3"], SESSION).await else {
        return;
    };
    let (token, first) = api_setup(&cluster.node("n1").url).await;
    let second = create_doc(&cluster.node("n2").url, &token, "second").await;
    let typing = [
        typing(&cluster, &first, &token, 2),
        typing(&cluster, &second, &token, 2),
    ];
    tokio::time::sleep(Duration::from_secs(1)).await;
    for id in ["n1", "n2", "n3"] {
        cluster.restart_node(id).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for typing in typing {
        let doc = typing.doc.clone();
        let (typists, verdict) = finish(typing, &cluster).await;
        verdict.assert_clean(&format!("{doc} after a rolling restart"));
        for typist in &typists {
            // Entering (maybe redirected), then per restart at most: moved off the stopped node and back when it
            // rejoined.
            println!(
                "{}: {} sessions, {} redirects",
                typist.tag, typist.sessions, typist.redirects
            );
            assert!(
                typist.sessions <= 2 + 2 * 3,
                "{} reconnected {} times",
                typist.tag,
                typist.sessions
            );
            assert_eq!(typist.internal_errors, 0, "{}: a commit failed", typist.tag);
        }
    }
}

/// The negative control: nodes that acknowledge a round before they commit it (`--testing-ack-before-commit`,
/// test builds only) lose acknowledged ops when the owner is killed, and the checker must say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn the_checker_catches_a_cluster_that_acks_before_committing() {
    let Some(zk) = crate::support::TestZk::start().await else {
        return;
    };
    let pg = crate::support::TestPg::start().await.expect("PostgreSQL");
    let mut cluster = TestCluster::from_parts(zk, pg, SESSION, &["--testing-ack-before-commit"]);
    for id in ["n1", "n2"] {
        cluster.add_node(id).await;
    }
    let (token, doc) = api_setup(&cluster.node("n1").url).await;
    let owner = owner_in(&["n1", "n2"], &doc);
    let typing = typing_for(&cluster, &doc, &token, 3, Duration::from_secs(15));
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.kill_node(&owner).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, verdict) = finish(typing, &cluster).await;
    assert!(
        verdict.lost > 0,
        "acks before commits and a kill -9 must lose acknowledged ops, and the checker must see it: {verdict:?}"
    );
}

/// The status of `GET /readyz`.
async fn readiness(base: &str) -> u16 {
    crate::support::client()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map_or(0, |response| response.status().as_u16())
}

async fn wait_for_readiness(base: &str, status: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while readiness(base).await != status {
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz never answered {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A single node on PostgreSQL whose database crashes (`pg_ctl stop -m immediate`) and stays down for
/// 10 seconds while people type: commits fail and nothing unsaved is acknowledged, readiness says so while it lasts,
/// and when the database is back the same process takes edits again, with nothing acknowledged lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn a_database_crash_under_a_single_node_loses_nothing_and_heals_without_a_restart() {
    let pg = crate::support::TestPg::start_durable()
        .await
        .expect("PostgreSQL");
    let server = crate::support::TestServer::start_with_pg(pg, &[]).await;
    let (token, doc) = api_setup(&server.base).await;
    let origins = vec![server.addr.to_string()];
    let typing = Typing::through(&origins, &doc, &token, 3, PACE, Duration::from_secs(150));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(readiness(&server.base).await, 200);
    let pg = server.pg().expect("on PostgreSQL");
    pg.stop_immediate().await;
    wait_for_readiness(&server.base, 503).await;
    // Down, refusing connections, for 10 s.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (_, head) = {
        pg.start_again().await;
        wait_for_readiness(&server.base, 200).await;
        content_text(&server.base, &doc, &token).await
    };
    let resumed = edits_resume(&server.base, &doc, &token, head, 10).await;
    println!("edits resumed {resumed:?} after the database was back");
    let database = DatabaseUrl::Postgres(pg.url.clone());
    let (typists, verdict) = finish_on(typing, &server.base, &database).await;
    verdict.assert_clean("after a PostgreSQL crash");
    let failed: u32 = typists.iter().map(|t| t.internal_errors).sum();
    println!(
        "{} acked; {failed} commits reported failed to their clients and resent",
        verdict.acked
    );
    server.stop().await;
}

/// A primary and a synchronous streaming replica, with `database.url` naming both hosts (libpq's host list with
/// `target_session_attrs=read-write`). The primary crashes and the replica is promoted, as Patroni or a managed
/// service would do it: the same Quire process finds the new primary on its own, edits resume, and every op
/// acknowledged before, during and after the switch is in the new primary's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn a_primary_switch_is_followed_without_a_restart_and_loses_nothing() {
    let primary = crate::support::TestPg::start_durable()
        .await
        .expect("PostgreSQL");
    let replica = primary.start_replica().await;
    make_synchronous(&primary).await;
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/quire?target_session_attrs=read-write",
        primary.port, replica.port
    );
    let server = crate::support::TestServer::start_with(&[("database.url", &url)]).await;
    let (token, doc) = api_setup(&server.base).await;
    let origins = vec![server.addr.to_string()];
    let typing = Typing::through(&origins, &doc, &token, 3, PACE, Duration::from_secs(150));
    let (_, before) = content_text(&server.base, &doc, &token).await;
    edits_resume(&server.base, &doc, &token, before, 20).await;

    primary.stop_immediate().await;
    let switch = tokio::time::Instant::now();
    // The operator's tooling notices after a moment; meanwhile commits fail and nothing is acknowledged.
    tokio::time::sleep(Duration::from_secs(1)).await;
    replica.promote().await;
    let (_, head) = content_text(&server.base, &doc, &token).await;
    edits_resume(&server.base, &doc, &token, head, 10).await;
    println!(
        "edits resumed {:?} after the primary crashed (promoted after 1 s)",
        switch.elapsed()
    );
    let database = DatabaseUrl::Postgres(replica.url.clone());
    let (typists, verdict) = finish_on(typing, &server.base, &database).await;
    verdict.assert_clean("after the primary moved to another host");
    let failed: u32 = typists.iter().map(|t| t.internal_errors).sum();
    println!(
        "{} acked; {failed} commits reported failed to their clients and resent",
        verdict.acked
    );
    server.stop().await;
}

/// Commits on `primary` wait until a standby has flushed them, so a promoted standby holds everything acked.
async fn make_synchronous(primary: &crate::support::TestPg) {
    let admin = sqlx::PgPool::connect(&primary.url).await.unwrap();
    for sql in [
        "ALTER SYSTEM SET synchronous_standby_names = '*'",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::query(sql).execute(&admin).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let sync: Option<String> =
            sqlx::query_scalar("SELECT sync_state FROM pg_stat_replication LIMIT 1")
                .fetch_optional(&admin)
                .await
                .unwrap();
        if sync.as_deref() == Some("sync") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replica never became synchronous: {sync:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    admin.close().await;
}

/// A three-server ZooKeeper loses its quorum (two servers stop) while people type: once the nodes can no longer
/// confirm their sessions they own nothing, so nothing is committed, while pages and content stay readable and
/// readiness says why; when the quorum is back the nodes register again, editing resumes, and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn losing_the_zookeeper_quorum_stops_edits_until_it_is_back_and_loses_nothing() {
    let Some(zk) = crate::support::TestZk::start_ensemble().await else {
        return;
    };
    let pg = crate::support::TestPg::start().await.expect("PostgreSQL");
    let mut cluster = TestCluster::from_parts(zk, pg, SESSION, &[]);
    for id in ["n1", "n2"] {
        cluster.add_node(id).await;
    }
    let base = cluster.node("n1").url.clone();
    let (token, doc) = api_setup(&base).await;
    let typing = typing(&cluster, &doc, &token, 2);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.zk.stop_server(0);
    cluster.zk.stop_server(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for node in &cluster.nodes {
        while node.metric("quire_cluster_live").await != 0.0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} still live without a quorum",
                node.id
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (_, frozen) = content_text(&base, &doc, &token).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for node in &cluster.nodes {
        let (_, rev) = content_text(&node.url, &doc, &token).await;
        assert_eq!(rev, frozen, "{} committed without a quorum", node.id);
        assert_eq!(
            readiness(&node.url).await,
            503,
            "{} says it is ready without a quorum",
            node.id
        );
    }
    cluster.zk.start_server(0).await;
    cluster.zk.start_server(1).await;
    cluster.wait_until_all_see_members().await;
    let resumed = edits_resume(&base, &doc, &token, frozen, 10).await;
    println!("edits resumed {resumed:?} after the quorum was back");
    let (_, verdict) = finish(typing, &cluster).await;
    verdict.assert_clean("after losing the ZooKeeper quorum");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    KillAndRestart,
    ShortPause,
    LongPause,
    PlannedRestart,
    DatabaseCrash,
    DatabaseOutage,
    QuorumLoss,
}

const FAULTS: [Fault; 7] = [
    Fault::KillAndRestart,
    Fault::ShortPause,
    Fault::LongPause,
    Fault::PlannedRestart,
    Fault::DatabaseCrash,
    Fault::DatabaseOutage,
    Fault::QuorumLoss,
];

/// Every fault above, mixed at random while people type into three documents over three nodes, a three-server
/// ZooKeeper and a PostgreSQL that keeps its commits through its own crash. `QUIRE_FAULT_ROUNDS` sets the
/// number of faults (default: each kind once, in a random order) and `QUIRE_FAULT_SEED` replays a run (the seed
/// is printed). Prints the table of issue 13: each fault, how often, the time until every document took edits
/// again (median and worst), and what the checker found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn a_random_mix_of_faults_loses_nothing() {
    use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
    let seed: u64 = std::env::var("QUIRE_FAULT_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    let mut rng = StdRng::seed_from_u64(seed);
    let rounds: Option<usize> = std::env::var("QUIRE_FAULT_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok());
    let mut plan: Vec<Fault> = match rounds {
        Some(n) => (0..n)
            .map(|_| FAULTS[rng.random_range(0..FAULTS.len())])
            .collect(),
        None => FAULTS.to_vec(),
    };
    plan.shuffle(&mut rng);
    println!(
        "fault mix: seed {seed} (QUIRE_FAULT_SEED={seed} replays it), {} faults: {plan:?}",
        plan.len()
    );

    let Some(zk) = crate::support::TestZk::start_ensemble().await else {
        return;
    };
    let pg = crate::support::TestPg::start_durable()
        .await
        .expect("PostgreSQL");
    let mut cluster = TestCluster::from_parts(zk, pg, SESSION, &[]);
    let ids = ["n1", "n2", "n3"];
    for id in ids {
        cluster.add_node(id).await;
    }
    let (token, first) = api_setup(&cluster.node("n1").url).await;
    let mut docs = vec![first];
    for title in ["two", "three"] {
        docs.push(create_doc(&cluster.node("n2").url, &token, title).await);
    }
    let typing: Vec<Typing> = docs
        .iter()
        .map(|doc| typing_for(&cluster, doc, &token, 2, Duration::from_secs(600)))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Per fault: from its start until every document took edits again, and from when it was undone (a node
    // started again, the database or the quorum back) until then.
    let mut resumed: std::collections::BTreeMap<Fault, Vec<(Duration, Duration)>> =
        Default::default();
    for fault in plan {
        let node = ids[rng.random_range(0..ids.len())];
        let started = tokio::time::Instant::now();
        inject(&mut cluster, fault, node).await;
        let after_undone = all_take_edits(&cluster, &docs, &token).await;
        let total = started.elapsed();
        println!(
            "{fault:?} on {node}: edits everywhere {total:?} after it began, {after_undone:?} after it was undone"
        );
        resumed
            .entry(fault)
            .or_default()
            .push((total, after_undone));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let mut totals = Verdict::default();
    for typing in typing {
        let (_, verdict) = finish(typing, &cluster).await;
        totals.acked += verdict.acked;
        totals.lost += verdict.lost;
        totals.duplicates += verdict.duplicates;
        totals.divergent += verdict.divergent;
        totals.problems.extend(verdict.problems);
    }
    println!(
        "| fault | injected | from its start: median, worst | after it was undone: median, worst |"
    );
    println!("|---|---|---|---|");
    for (fault, times) in resumed {
        let (mut total, mut after): (Vec<Duration>, Vec<Duration>) = times.into_iter().unzip();
        total.sort();
        after.sort();
        let middle = total.len() / 2;
        println!(
            "| {fault:?} | {} | {:.2} s, {:.2} s | {:.2} s, {:.2} s |",
            total.len(),
            total[middle].as_secs_f64(),
            total[total.len() - 1].as_secs_f64(),
            after[middle].as_secs_f64(),
            after[after.len() - 1].as_secs_f64()
        );
    }
    println!(
        "ops acked {}, lost {}, duplicated {}, divergent clients {} (seed {seed})",
        totals.acked, totals.lost, totals.duplicates, totals.divergent
    );
    totals.assert_clean(&format!("a random mix of faults (seed {seed})"));
}

/// Does `fault` to `node` (or to the shared services) and undoes it.
async fn inject(cluster: &mut TestCluster, fault: Fault, node: &str) {
    match fault {
        Fault::KillAndRestart => cluster.crash_and_restart(node).await,
        Fault::ShortPause => {
            cluster.node_mut(node).pause();
            tokio::time::sleep(SESSION / 2).await;
            cluster.node_mut(node).resume();
        }
        Fault::LongPause => {
            cluster.node_mut(node).pause();
            cluster.wait_until_only_running_are_members().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            cluster.node_mut(node).resume();
            cluster.wait_until_all_see_members().await;
        }
        Fault::PlannedRestart => cluster.restart_node(node).await,
        Fault::DatabaseCrash => {
            cluster.pg.stop_immediate().await;
            cluster.pg.start_again().await;
        }
        Fault::DatabaseOutage => {
            // Crashed, and refusing connections for 10 s.
            cluster.pg.stop_immediate().await;
            tokio::time::sleep(Duration::from_secs(10)).await;
            cluster.pg.start_again().await;
        }
        Fault::QuorumLoss => {
            cluster.zk.stop_server(0);
            cluster.zk.stop_server(1);
            tokio::time::sleep(SESSION + Duration::from_secs(1)).await;
            cluster.zk.start_server(0).await;
            cluster.zk.start_server(1).await;
            cluster.wait_until_all_see_members().await;
        }
    }
}

/// How long until every document has taken a few more edits (read through any running node).
async fn all_take_edits(cluster: &TestCluster, docs: &[String], token: &str) -> Duration {
    let base = cluster
        .nodes
        .iter()
        .find(|node| !node.paused && !node.stopped)
        .expect("a running node")
        .url
        .clone();
    let started = tokio::time::Instant::now();
    for doc in docs {
        let (_, rev) = content_text(&base, doc, token).await;
        edits_resume(&base, doc, token, rev, 3).await;
    }
    started.elapsed()
}

/// SQLite on a disk that fills up while people type: commits fail with a clear error and nothing unsaved is
/// acknowledged; when space returns, the same process takes edits again and nothing acknowledged is lost.
/// (Mounts a small tmpfs: root only, as CI runs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_sqlite_loses_nothing_and_heals_when_space_returns() {
    let Some(disk) = SmallDisk::mount(24) else {
        return;
    };
    let data = disk.path.join("data");
    let data_dir = data.display().to_string();
    let server = crate::support::TestServer::start_with(&[("storage.data_dir", &data_dir)]).await;
    let (token, doc) = api_setup(&server.base).await;
    let origins = [server.addr.to_string()];
    let typing = Typing::through(&origins, &doc, &token, 2, PACE, Duration::from_secs(150));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let filler = disk.fill();
    // Commits may go on until the pages the WAL had left are used up; then nothing moves for a second.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut stuck = content_text(&server.base, &doc, &token).await.1;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = content_text(&server.base, &doc, &token).await.1;
        if now == stuck {
            break;
        }
        stuck = now;
        assert!(
            tokio::time::Instant::now() < deadline,
            "edits kept committing on a full disk"
        );
    }
    std::fs::remove_file(&filler).expect("free the disk");
    let resumed = edits_resume(&server.base, &doc, &token, stuck, 10).await;
    println!("edits resumed {resumed:?} after space returned");
    let database = server.config.database.clone();
    let (typists, verdict) = finish_on(typing, &server.base, &database).await;
    verdict.assert_clean("after a full disk");
    let failed: u32 = typists.iter().map(|t| t.internal_errors).sum();
    assert!(
        failed >= 1,
        "the full disk was reported to the clients whose edits failed"
    );
    server.stop().await;
}

/// A tmpfs of a few MB, unmounted on drop.
struct SmallDisk {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (after printing SKIPPED) when not root; with `QUIRE_REQUIRE_SERVICES=1` that is a failure.
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::Builder::new()
            .prefix("quire-disk-")
            .tempdir()
            .expect("temp dir");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status();
        if !status.is_ok_and(|status| status.success()) {
            assert!(
                !crate::support::require_services(),
                "QUIRE_REQUIRE_SERVICES=1 but a tmpfs cannot be mounted here (run as root)"
            );
            eprintln!("SKIPPED: mounting a tmpfs needs root");
            return None;
        }
        Some(SmallDisk {
            path: dir.path().to_path_buf(),
            _dir: dir,
        })
    }

    /// Fills what is left with one file, whose path is returned.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.path.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.flush();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// `kill -9` of `quire compact` at many points of its work on a long log (writing the version, moving the current
/// one, pruning the log behind it): afterwards `quire doctor` finds the current version plus the log after it
/// replaying to the same document, every time (no half-written version is current, no op is lost), and a
/// compaction run to the end still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_compaction_at_any_point_loses_nothing() {
    const OPS: i64 = 20_000;
    let expected = format!("{}\n", "ab".repeat(OPS as usize));
    // Prune everything older than a second beyond the last 100 ops: the compaction's last step has work to do.
    let env = [
        ("QUIRE_HISTORY__KEEP_OPS", "100"),
        ("QUIRE_HISTORY__KEEP_AGE", "1s"),
    ];
    // How long a whole compaction takes here, on a log just like the one the kills hit.
    let timing = long_log(OPS).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = std::time::Instant::now();
    let whole =
        crate::support::run_quire(timing.path(), &["compact", "--doc", "d1"], &env, "").await;
    let took = started.elapsed();
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    println!("a whole compaction took {took:?}");
    let dir = long_log(OPS).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for percent in [30u32, 50, 70, 80, 85, 90, 95, 100, 110] {
        let delay = took * percent / 100;
        let mut compact = crate::support::quire_command(dir.path())
            .args(["compact", "--doc", "d1"])
            .envs(env)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn quire compact");
        tokio::time::sleep(delay).await;
        let _ = compact.start_kill();
        let _ = compact.wait().await;
        let doctor = crate::support::run_quire(dir.path(), &["doctor"], &[], "").await;
        assert!(
            doctor.status.success(),
            "after a kill at {delay:?} the doctor found: {}",
            String::from_utf8_lossy(&doctor.stdout)
        );
        let (rev, text, version, logged) = content_of(dir.path()).await;
        println!(
            "kill -9 after {delay:?}: current version at {version:?}, {logged} ops left in the log"
        );
        assert_eq!(
            (rev, text.len()),
            (OPS as u64, expected.len()),
            "after a kill at {delay:?}"
        );
        assert_eq!(text, expected, "after a kill at {delay:?}");
    }
    let finished =
        crate::support::run_quire(dir.path(), &["compact", "--doc", "d1"], &env, "").await;
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let doctor = crate::support::run_quire(dir.path(), &["doctor"], &[], "").await;
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );
    let (_, text, version, logged) = content_of(dir.path()).await;
    assert_eq!((text, version), (expected, Some(OPS)));
    assert!(
        logged <= 100,
        "the log behind the version was pruned: {logged} ops left"
    );
}

fn sqlite_in(dir: &std::path::Path) -> DatabaseUrl {
    DatabaseUrl::Sqlite(format!("sqlite://{}/quire-data/quire.db", dir.display()))
}

/// A data dir (`quire-data/` in the returned dir) whose document `d1` is `ops` inserts of "ab", all in the log.
async fn long_log(ops: i64) -> tempfile::TempDir {
    use quire::{config::SyncMode, store::NewOp};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("quire-data")).unwrap();
    let store = quire::store::Store::open(&sqlite_in(dir.path()), 2, SyncMode::Normal)
        .await
        .unwrap();
    store
        .create_user("ann", "ann@example.test", "Ann", "$argon2id$fake")
        .await
        .unwrap();
    store.create_document("d1", "Long", "ann").await.unwrap();
    let all: Vec<NewOp> = (0..ops)
        .map(|rev| NewOp {
            rev,
            client: "c1".into(),
            seq: rev + 1,
            author_id: Some("ann".into()),
            op_json: r#"[{"insert":"ab"}]"#.into(),
            len_after: 2 * (rev + 1) + 1,
        })
        .collect();
    for batch in all.chunks(1000) {
        store.append_ops("d1", batch).await.unwrap();
    }
    store.close().await;
    dir
}

/// `d1`'s head, text, current version's revision and logged ops, read as a fresh process would.
async fn content_of(dir: &std::path::Path) -> (u64, String, Option<i64>, i64) {
    use quire::config::SyncMode;
    let store = quire::store::Store::open(&sqlite_in(dir), 2, SyncMode::Normal)
        .await
        .unwrap();
    let (rev, content) = quire::hub::load_content(&store, "d1").await.unwrap();
    let version = store
        .current_snapshot("d1")
        .await
        .unwrap()
        .map(|snapshot| snapshot.rev);
    let logged = store.count_ops("d1").await.unwrap();
    store.close().await;
    (rev, content.text(), version, logged)
}
