//! Convergence over real WebSockets (PROTOCOL.md section 2), and the negative control proving the check can fail.

use quire::hub::load_content;
use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    hub_sim::{SimParams, content_delta, divergence, simulate},
    support::{Backend, SpawnedQuire, TestServer},
};

/// Limits high enough that the simulation's bursts are never rate limited.
const SIM_FLAGS: [(&str, &str); 4] = [
    ("limits.ops_per_second", "100000"),
    ("limits.ops_burst", "100000"),
    ("limits.presence_per_second", "100000"),
    ("limits.presence_burst", "100000"),
];

/// Signs up through the API and creates a document titled "simulation"; returns (API token, document id).
pub async fn api_setup(base: &str) -> (String, String) {
    let (token, _) = crate::cluster_client::account(base, "Sim").await;
    let doc = crate::cluster_client::create_doc(base, &token, "simulation").await;
    (token, doc)
}

pub async fn content(base: &str, doc: &str, token: &str) -> Value {
    crate::support::client()
        .get(format!("{base}/api/docs/{doc}/content?format=delta"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET content")
        .json()
        .await
        .expect("content JSON")
}

crate::on_both_backends!(
    clients_converge_with_the_server_and_a_fresh_load_from_the_database,
    clients_converge_while_compaction_runs,
);

async fn clients_converge_with_the_server_and_a_fresh_load_from_the_database(backend: Backend) {
    let (server, _, _) = converge_with(backend, &SIM_FLAGS, Resets::Never).await;
    server.stop().await;
}

/// The same simulation while versions are written every 25 ops and the log is pruned behind them: nobody notices.
/// `history.keep_bytes = 1` makes every compaction prune all it may, whatever the ops' age, so pruning surely
/// happens during the run; a client resuming from before the pruned range then gets the right snapshot.
async fn clients_converge_while_compaction_runs(backend: Backend) {
    let mut flags = SIM_FLAGS.to_vec();
    flags.extend([
        ("history.compact_every_ops", "25"),
        ("history.keep_ops", "10"),
        ("history.keep_bytes", "1"),
        // A window shorter than the run: compaction may prune behind it, and a client that comes back from
        // further behind gets a reset (which the simulation client handles as the browser does).
        ("limits.max_catchup_ops", "30"),
    ]);
    let (server, doc, token) = converge_with(backend, &flags, Resets::Allowed).await;
    let store = server.store().await;
    let n_versions = store.versions(&doc).await.expect("versions").len();
    assert!(
        n_versions > 1,
        "several versions were written during the simulation ({n_versions})"
    );
    let head = content(&server.base, &doc, &token).await;
    let n_ops = store.count_ops(&doc).await.expect("count ops");
    let rev = head["rev"].as_i64().expect("rev");
    assert!(
        n_ops < rev,
        "nothing was pruned: {n_ops} ops logged for {rev} revisions"
    );
    let mut late = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    let welcome = late.hello(&client_id("late"), Some(0)).await;
    assert_eq!(
        (&welcome["reset"], &welcome["snapshot"]),
        (&json!(true), &head),
        "a resume from before the pruned range gets the document as it is"
    );
    server.stop().await;
}

/// Whether a client may be sent a snapshot with `reset`: never while the whole run fits the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resets {
    Never,
    Allowed,
}

/// Runs the simulation on a server started with `flags`; returns the server, the document and an API token.
async fn converge_with(
    backend: Backend,
    flags: &[(&str, &str)],
    resets: Resets,
) -> (TestServer, String, String) {
    let server = TestServer::start_on(backend, flags).await;
    let (token, doc) = api_setup(&server.base).await;
    let params = SimParams::from_env();
    let content_url = server.url(&format!("/api/docs/{doc}/content"));
    let report = simulate(&server.addr.to_string(), &doc, &token, params, &content_url).await;
    let (server_doc, server_rev) = content_delta(&content(&server.base, &doc, &token).await);
    if let Some(problem) = divergence(&report, &server_doc, server_rev) {
        panic!("seed {}: {problem}", params.seed);
    }
    assert!(
        resets == Resets::Allowed || report.n_resets == 0,
        "seed {}: {} unexpected resets",
        params.seed,
        report.n_resets
    );
    assert!(server_rev > 0, "the simulation committed nothing");
    let (loaded_rev, loaded_doc) = load_content(&server.store().await, &doc)
        .await
        .expect("load from the database");
    assert_eq!(
        (loaded_rev, &loaded_doc),
        (server_rev, &server_doc),
        "seed {}: the database disagrees",
        params.seed
    );
    println!(
        "converged: {server_rev} revisions, {} clients, {} resets",
        params.n_clients, report.n_resets
    );
    (server, doc, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_transforming_with_the_wrong_priority_is_caught() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = vec!["--listen", "127.0.0.1:0", "--testing-wrong-priority"];
    let sets: Vec<String> = SIM_FLAGS
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    for set in &sets {
        args.extend(["--set", set.as_str()]);
    }
    let mut quire = SpawnedQuire::start(dir.path(), &args, &[]).await;
    let addr = quire.url.trim_start_matches("http://").to_string();
    let mut caught = Vec::new();
    // Divergence needs a concurrent tie, which random edits make likely but not certain in one run; the faster
    // the server commits, the fewer ops are concurrent, so it gets several tries (it usually needs one or two).
    for attempt in 0..16u64 {
        let (token, doc) = api_setup(&quire.url).await;
        let params = SimParams {
            n_clients: 8,
            n_actions: 80,
            seed: 1000 + attempt,
        };
        let content_url = format!("{}/api/docs/{doc}/content", quire.url);
        let report = simulate(&addr, &doc, &token, params, &content_url).await;
        let (server_doc, _) = content_delta(&content(&quire.url, &doc, &token).await);
        // Only a client whose text differs from the server's counts: a timeout or a protocol complaint could
        // have other causes, and the control must prove the convergence check itself.
        if let Some(idx) = report.docs.iter().position(|doc| *doc != server_doc) {
            println!("caught on attempt {attempt}: client {idx} diverged");
            caught.push(idx);
            break;
        }
    }
    quire.sigterm(std::time::Duration::from_secs(10)).await;
    assert!(
        !caught.is_empty(),
        "the simulation did not notice a server using the wrong transform priority"
    );
}
