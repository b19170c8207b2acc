//! Issue 12: the cluster with a real ZooKeeper, a real PostgreSQL and real `quire` processes on loopback.
//! Redirects to the owner, hand-off when a node joins, and fencing of a paused owner; the fence itself is
//! proven at the store in `store.rs`.

use std::{path::PathBuf, time::Duration};

use quire::cluster::Ring;
use tokio::sync::watch;

use reqwest::Method;

use crate::{
    cluster_client::{
        Typing, Typist, account, api, check_markers, content_text, create_doc, share_as,
    },
    hub_client::TestSocket,
    hub_convergence::api_setup,
    support::TestCluster,
};

const SESSION: Duration = Duration::from_secs(2);
/// Typists of these tests type every 40 ms and give up after two minutes.
const PACE: Duration = Duration::from_millis(40);
const LIMIT: Duration = Duration::from_secs(120);

/// Runs typists until `stop` is sent, and returns them finished.
fn spawn_typists(
    typists: Vec<Typist>,
    pace: Duration,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<Typist>> {
    typists
        .into_iter()
        .enumerate()
        .map(|(i, typist)| {
            let stop = stop.clone();
            tokio::spawn(typist.run(pace, 1000 + i as u64, stop, LIMIT))
        })
        .collect()
}

async fn finish(tasks: Vec<tokio::task::JoinHandle<Typist>>) -> Vec<Typist> {
    let mut typists = Vec::new();
    for task in tasks {
        typists.push(task.await.expect("typist task"));
    }
    typists
}

fn ring_of(ids: &[&str]) -> Ring {
    Ring::new(ids.iter().copied(), 128)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn a_client_entering_through_any_node_is_sent_to_the_owner_and_converges() {
    let Some(cluster) = TestCluster::start(&["n1", "n2", "n3"], SESSION).await else {
        return;
    };
    let (token, doc) = api_setup(&cluster.node("n1").url).await;
    let owner = cluster.owner_of(&doc).await;
    assert_eq!(owner, ring_of(&["n1", "n2", "n3"]).owner(&doc).unwrap());
    // A raw client through a node that does not own the document gets `redirect` to the owner, with a ticket.
    let other = cluster.nodes.iter().find(|node| node.id != owner).unwrap();
    let mut socket = TestSocket::connect(other.addr(), &doc, &token).await;
    socket
        .send(serde_json::json!({"t": "hello", "proto": 1, "client": crate::hub_client::client_id("raw"), "rev": null}))
        .await;
    let redirect = socket.recv().await;
    assert_eq!(redirect["t"], "redirect", "{redirect}");
    let url = redirect["url"].as_str().unwrap();
    let owner_addr = cluster.node(&owner).addr().to_string();
    assert!(
        url.starts_with(&format!("ws://{owner_addr}/api/docs/{doc}/ws?ticket=")),
        "{url}"
    );
    assert!(socket.closed_within(Duration::from_secs(5)).await);
    // The ticket alone (no cookie, no token) opens the document on the owner...
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ticket");
    futures::SinkExt::send(&mut ws, tokio_tungstenite::tungstenite::Message::Text(
        serde_json::json!({"t": "hello", "proto": 1, "client": crate::hub_client::client_id("tkt"), "rev": null}).to_string().into(),
    ))
    .await
    .unwrap();
    let mut ticketed = TestSocket { ws };
    assert_eq!(ticketed.recv().await["t"], "welcome");
    // ...and only that document: the same ticket for another one is refused.
    let other_doc = create_doc(&cluster.node("n1").url, &token, "other").await;
    let forged = url.replace(&format!("/docs/{doc}/"), &format!("/docs/{other_doc}/"));
    if let Ok((ws, _)) = tokio_tungstenite::connect_async(forged).await {
        let mut refused = TestSocket { ws };
        refused
            .send(serde_json::json!({"t": "hello", "proto": 1, "client": crate::hub_client::client_id("bad"), "rev": null}))
            .await;
        let answer = refused.recv_within(Duration::from_secs(5)).await;
        assert!(
            answer.as_ref().is_none_or(|frame| frame["t"] != "welcome"),
            "a ticket opened another document: {answer:?}"
        );
    }

    // Typists entering through each of the three nodes type together, while the browser's own client under node
    // types into a document of its own (its random edits would cut the typists' markers) through a node that
    // does not own it; all converge and nothing typed is lost.
    let js_doc = create_doc(&cluster.node("n1").url, &token, "js").await;
    let js_owner = ring_of(&["n1", "n2", "n3"])
        .owner(&js_doc)
        .unwrap()
        .to_string();
    let js_entry = cluster
        .nodes
        .iter()
        .find(|node| node.id != js_owner)
        .unwrap();
    let origins: Vec<String> = cluster.nodes.iter().map(|n| n.addr().to_string()).collect();
    let typing = Typing::through(&origins, &doc, &token, 3, PACE, LIMIT);
    let js = run_js_client(&js_entry.url, &token, &js_doc);
    let js_output = tokio::time::timeout(Duration::from_secs(180), js)
        .await
        .expect("the JS clients finished within 180 s")
        .expect("run node");
    let typists = typing.stop().await;
    let stdout = String::from_utf8_lossy(&js_output.stdout);
    assert!(
        js_output.status.success(),
        "the JS clients through {} did not converge:\n{stdout}\n{}",
        js_entry.id,
        String::from_utf8_lossy(&js_output.stderr)
    );
    let (text, _) = content_text(&cluster.node(&owner).url, &doc, &token).await;
    let problems = check_markers(&text, &typists);
    assert!(problems.is_empty(), "{problems:#?}");
    let redirected: u32 = typists.iter().map(|t| t.redirects).sum();
    assert!(
        redirected >= 2,
        "two typists entered through non-owners: {redirected} redirects"
    );
    assert!(
        js_entry.metric("quire_cluster_redirects").await >= 3.0,
        "the JS clients went through {} and must have been redirected",
        js_entry.id
    );
    // Every node reads the same committed content.
    for node in &cluster.nodes {
        assert_eq!(content_text(&node.url, &doc, &token).await.0, text);
    }
}

/// `web/test/server-convergence.mjs` (the browser's DocSync under node) against one node.
fn run_js_client(
    base: &str,
    token: &str,
    doc: &str,
) -> impl std::future::Future<Output = std::io::Result<std::process::Output>> {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web");
    tokio::process::Command::new("node")
        .arg("test/server-convergence.mjs")
        .current_dir(web)
        .env("QUIRE_URL", base)
        .env("QUIRE_TOKEN", token)
        .env("QUIRE_DOC", doc)
        .env("QUIRE_CLIENTS", "2")
        .env("QUIRE_STEPS", "150")
        .kill_on_drop(true)
        .output()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn documents_move_to_a_node_that_joins_while_people_type_and_nothing_is_lost() {
    let Some(mut cluster) = TestCluster::start(&["n1", "n2"], SESSION).await else {
        return;
    };
    let base = cluster.node("n1").url.clone();
    let (token, first) = api_setup(&base).await;
    // Documents until two will move to n3 when it joins and two will stay.
    let (before, after) = (ring_of(&["n1", "n2"]), ring_of(&["n1", "n2", "n3"]));
    let (mut moving, mut staying) = (Vec::new(), Vec::new());
    let mut candidate = first;
    while moving.len() < 3 || staying.len() < 2 {
        if after.owner(&candidate) == Some("n3") {
            moving.push(candidate);
        } else {
            assert_eq!(
                before.owner(&candidate),
                after.owner(&candidate),
                "only ids of n3 move"
            );
            staying.push(candidate);
        }
        candidate = create_doc(&base, &token, "doc").await;
    }
    let docs: Vec<String> = moving
        .iter()
        .take(3)
        .chain(staying.iter().take(2))
        .cloned()
        .collect();
    let origins: Vec<String> = cluster.nodes.iter().map(|n| n.addr().to_string()).collect();
    let (stop_tx, stop) = watch::channel(false);
    let typists: Vec<Typist> = docs
        .iter()
        .enumerate()
        .map(|(i, doc)| Typist::new(&format!("t{i}"), origins.clone(), doc, &token))
        .collect();
    let tasks = spawn_typists(typists, Duration::from_millis(30), &stop);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.add_node("n3").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop_tx.send(true).unwrap();
    let typists = finish(tasks).await;
    for (doc, typist) in docs.iter().zip(&typists) {
        assert_eq!(cluster.owner_of(doc).await, after.owner(doc).unwrap());
        let (text, _) = content_text(&base, doc, &token).await;
        let problems = check_markers(&text, std::slice::from_ref(typist));
        assert!(problems.is_empty(), "{doc}: {problems:#?}");
        assert!(
            typist.typed.len() > 20,
            "{} typed only {}",
            typist.tag,
            typist.typed.len()
        );
    }
    // The moving documents were handed off (each whose hub was open at the change: under load a typist may be
    // between sessions, and its hub closed) and their typists followed to n3.
    let handed: f64 = cluster.node("n1").metric("quire_cluster_hand_offs").await
        + cluster.node("n2").metric("quire_cluster_hand_offs").await;
    println!("{handed} hand-offs");
    assert!(handed >= 1.0, "no document was handed off");
    for typist in &typists[..3] {
        assert!(
            typist.redirects >= 1,
            "{} never followed its document",
            typist.tag
        );
    }
    assert!(cluster.node("n3").metric("quire_ops_committed").await > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn a_paused_owner_cannot_write_after_another_node_took_over() {
    let Some(mut cluster) = TestCluster::start(&["n1", "n2", "n3"], SESSION).await else {
        return;
    };
    let (token, doc) = api_setup(&cluster.node("n1").url).await;
    let owner = cluster.owner_of(&doc).await;
    let origins: Vec<String> = cluster.nodes.iter().map(|n| n.addr().to_string()).collect();
    let typing = Typing::through(&origins, &doc, &token, 3, PACE, LIMIT);
    // A raw session on the owner, at head, with an op it will send while the owner is frozen.
    let owner_addr = cluster.node(&owner).addr().to_string();
    let mut raw = TestSocket::connect(&owner_addr, &doc, &token).await;
    let raw_client = crate::hub_client::client_id("raw");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let welcome = raw.hello(&raw_client, None).await;
    let rev = welcome["snapshot"]["rev"].as_u64().unwrap();

    cluster.node_mut(&owner).pause();
    raw.send(serde_json::json!({"t": "op", "rev": rev, "seq": 1, "op": [{"insert": "(frozen)"}]}))
        .await;
    // Past the session timeout, the others see it gone and the document's new owner accepts edits.
    cluster.wait_until_all_see_members().await;
    let survivors: Vec<&str> = cluster
        .nodes
        .iter()
        .filter(|n| !n.paused)
        .map(|n| n.id.as_str())
        .collect();
    let new_owner = ring_of(&survivors).owner(&doc).unwrap().to_string();
    let new_base = cluster.node(&new_owner).url.clone();
    let (_, rev_at_takeover) = content_text(&new_base, &doc, &token).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while content_text(&new_base, &doc, &token).await.1 < rev_at_takeover + 10 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{new_owner} accepted no edits"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    cluster.node_mut(&owner).resume();
    // The frozen op reaches the old owner's hub, whose claim is gone: never acknowledged there.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while let Some(frame) = raw
        .recv_within(deadline - tokio::time::Instant::now())
        .await
    {
        assert_ne!(
            frame["t"], "ack",
            "the paused owner acknowledged an op after losing the document: {frame}"
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let typists = typing.stop().await;
    let (text, head) = content_text(&new_base, &doc, &token).await;
    let problems = check_markers(&text, &typists);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        !text.contains("(frozen)"),
        "an op the paused owner never acked is in the document"
    );
    // No fork: one op per revision, every revision from 0 to head present (the doctor checks the chain).
    let doctor = cluster.doctor().await;
    assert!(
        doctor.status.success(),
        "quire doctor: {}",
        String::from_utf8_lossy(&doctor.stdout)
    );
    let refused = cluster
        .node(&owner)
        .metric("quire_cluster_fenced_commits")
        .await;
    let handed = cluster.node(&owner).metric("quire_cluster_hand_offs").await;
    println!("head {head}; on the old owner: {refused} fenced commits, {handed} hand-offs");
}

/// The fence, end to end and deterministically: another claim is written over the owner's (as a node with a newer
/// view would), and the owner's next commit is refused, acknowledged to nobody, and its hub cannot start again
/// while the newer claim stands; once it is released, the client's op goes in, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn a_node_whose_claim_was_taken_commits_nothing_until_it_is_its_own_again() {
    let Some(cluster) = TestCluster::start(&["n1"], SESSION).await else {
        return;
    };
    let node = cluster.node("n1");
    let (token, doc) = api_setup(&node.url).await;
    let origins = [node.addr().to_string()];
    let typing = Typing::through(
        &origins,
        &doc,
        &token,
        1,
        Duration::from_millis(50),
        Duration::from_secs(90),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while content_text(&node.url, &doc, &token).await.1 < 10 {
        assert!(tokio::time::Instant::now() < deadline, "no edits committed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pool = sqlx::PgPool::connect(&cluster.pg.url)
        .await
        .expect("PostgreSQL");
    sqlx::query("UPDATE documents SET owner_node = 'ghost', owner_view = 1000000000 WHERE id = $1")
        .bind(&doc)
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, frozen_head) = content_text(&node.url, &doc, &token).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        content_text(&node.url, &doc, &token).await.1,
        frozen_head,
        "the node committed while another held the document"
    );
    assert!(node.metric("quire_cluster_fenced_commits").await >= 1.0);
    assert!(node.metric("quire_cluster_claims_refused").await >= 1.0);
    sqlx::query("UPDATE documents SET owner_node = NULL, owner_view = NULL WHERE id = $1")
        .bind(&doc)
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let typist = typing.stop().await.remove(0);
    let (text, head) = content_text(&node.url, &doc, &token).await;
    assert!(
        head > frozen_head + 5,
        "the document took edits again: {frozen_head} -> {head}"
    );
    let problems = check_markers(&text, std::slice::from_ref(&typist));
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        typist.internal_errors >= 1,
        "the refused commit was reported to its client"
    );
}

/// What people do on the pages of any node reaches the document's hub on its owner at once: a role change, a named
/// version, a restore, a removal and a trash made through a node that does not own the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn sharing_and_history_made_on_any_node_reach_the_owners_hub() {
    let Some(cluster) = TestCluster::start(&["n1", "n2"], SESSION).await else {
        return;
    };
    let n1 = cluster.node("n1").url.clone();
    let (ann, _) = account(&n1, "ann").await;
    let (bob, bob_email) = account(&n1, "bob").await;
    let doc = create_doc(&n1, &ann, "shared").await;
    let owner = ring_of(&["n1", "n2"]).owner(&doc).unwrap().to_string();
    let other = cluster
        .nodes
        .iter()
        .find(|node| node.id != owner)
        .unwrap()
        .url
        .clone();
    let (status, member) = api(
        Method::PUT,
        &format!("{other}/api/docs/{doc}/members/{bob_email}"),
        &ann,
        Some(serde_json::json!({"role": "editor"})),
    )
    .await;
    assert_eq!(status, 200, "{member}");
    let bob_id = member["id"].as_str().unwrap().to_string();
    // Bob's socket is on the owner; Ann works through the other node.
    let mut socket = TestSocket::connect(cluster.node(&owner).addr(), &doc, &bob).await;
    let welcome = socket
        .hello(&crate::hub_client::client_id("bob"), None)
        .await;
    let rev = welcome["snapshot"]["rev"].as_u64().unwrap();
    socket
        .send(
            serde_json::json!({"t": "op", "rev": rev, "seq": 1, "op": [{"insert": "first draft"}]}),
        )
        .await;
    assert_eq!(socket.recv_kind("ack").await["seq"], 1);

    let (status, version) = api(
        Method::POST,
        &format!("{other}/api/docs/{doc}/versions"),
        &ann,
        Some(serde_json::json!({"name": "draft"})),
    )
    .await;
    assert_eq!(status, 201, "naming a version through {other}: {version}");
    let version = version["id"].as_str().unwrap().to_string();
    socket
        .send(serde_json::json!({"t": "op", "rev": rev + 1, "seq": 2, "op": [{"retain": 11}, {"insert": ", then more"}]}))
        .await;
    assert_eq!(socket.recv_kind("ack").await["seq"], 2);
    let (status, restored) = api(
        Method::POST,
        &format!("{other}/api/docs/{doc}/versions/{version}/restore"),
        &ann,
        None,
    )
    .await;
    assert_eq!(status, 200, "restoring through {other}: {restored}");
    // An image uploaded through one node is served, byte for byte, by every node (it lives in the database).
    let http = crate::support::client();
    let image = [crate::images::PNG.as_slice(), b"cluster"].concat();
    let uploaded: serde_json::Value = http
        .post(format!("{other}/api/docs/{doc}/images"))
        .bearer_auth(&ann)
        .body(image.clone())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("upload JSON");
    let path = uploaded["url"]
        .as_str()
        .unwrap_or_else(|| panic!("upload: {uploaded}"))
        .to_string();
    for node in &cluster.nodes {
        let served = http
            .get(format!("{}{path}", node.url))
            .bearer_auth(&bob)
            .send()
            .await
            .expect("GET image");
        assert_eq!(served.status(), 200, "{} serves the image", node.id);
        assert_eq!(
            served.bytes().await.unwrap().as_ref(),
            image.as_slice(),
            "{}",
            node.id
        );
    }
    let op = socket.recv_kind("op").await;
    assert_eq!(
        op["user"]["name"], "ann",
        "the restore reaches Bob live: {op}"
    );
    assert!(
        content_text(&n1, &doc, &ann)
            .await
            .0
            .starts_with("first draft\n")
    );

    let (status, _) = api(
        Method::PUT,
        &format!("{other}/api/docs/{doc}/members/{bob_id}"),
        &ann,
        Some(serde_json::json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, 200);
    let role = socket.recv_kind("role").await;
    assert_eq!(
        role["role"], "viewer",
        "the demotion reaches Bob's open socket on {owner}"
    );
    let (status, _) = api(
        Method::DELETE,
        &format!("{other}/api/docs/{doc}/members/{bob_id}"),
        &ann,
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        socket.closed_within(Duration::from_secs(5)).await,
        "a removed member's socket on the owner is closed"
    );
}

/// A planned stop (SIGTERM, as an upgrade does) hands the node's documents off before it exits: the node leaves
/// ZooKeeper, commits, and sends its sessions to the new owner, instead of leaving them to find out after a
/// session timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn a_node_stopped_on_purpose_hands_its_documents_off_first() {
    let Some(mut cluster) = TestCluster::start(&["n1", "n2"], Duration::from_secs(4)).await else {
        return;
    };
    let n2 = cluster.node("n2").url.clone();
    let (token, mut doc) = api_setup(&n2).await;
    while ring_of(&["n1", "n2"]).owner(&doc) != Some("n1") {
        doc = create_doc(&n2, &token, "on n1").await;
    }
    let origins = vec![
        cluster.node("n1").addr().to_string(),
        cluster.node("n2").addr().to_string(),
    ];
    let typing = Typing::through(
        &origins,
        &doc,
        &token,
        1,
        Duration::from_millis(30),
        Duration::from_secs(60),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, before) = content_text(&n2, &doc, &token).await;
    let stopped_at = tokio::time::Instant::now();
    let status = cluster
        .node_mut("n1")
        .process
        .sigterm(Duration::from_secs(15))
        .await;
    assert!(status.success(), "n1 stopped cleanly: {status}");
    let stop_took = stopped_at.elapsed();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while content_text(&n2, &doc, &token).await.1 < before + 5 {
        assert!(tokio::time::Instant::now() < deadline, "n2 took no edits");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "n1 stopped in {stop_took:?}; edits again on n2 {:?} after the SIGTERM",
        stopped_at.elapsed()
    );
    let typist = typing.stop().await.remove(0);
    let (text, _) = content_text(&n2, &doc, &token).await;
    let problems = check_markers(&text, std::slice::from_ref(&typist));
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        typist.redirects >= 1,
        "n1 sent its session to n2 before exiting"
    );
    assert_eq!(typist.internal_errors, 0, "nothing failed to commit");
    // One session on n1, one on n2: no detour through a dead node or a stale view (4 s session timeout: a crash
    // would have left the document unowned that long, and the typist bouncing).
    assert_eq!(typist.sessions, 2, "the typist moved once");
}

/// Comments made through a node that does not own the document are asked of the owner (issue 14): the answer comes
/// back through the asking node, and a socket on the owner hears the change live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn comments_made_on_any_node_go_through_the_owners_hub() {
    let Some(cluster) = TestCluster::start(&["n1", "n2"], SESSION).await else {
        return;
    };
    let n1 = cluster.node("n1").url.clone();
    let (ann, _) = account(&n1, "ann").await;
    let doc = create_doc(&n1, &ann, "commented").await;
    let owner = ring_of(&["n1", "n2"]).owner(&doc).unwrap().to_string();
    let other = cluster
        .nodes
        .iter()
        .find(|node| node.id != owner)
        .unwrap()
        .url
        .clone();
    let mut socket = TestSocket::connect(cluster.node(&owner).addr(), &doc, &ann).await;
    socket
        .send(serde_json::json!({"t": "hello", "proto": 1, "client": crate::hub_client::client_id("ann"), "rev": null, "comments": true}))
        .await;
    socket.recv_kind("comments").await;
    socket
        .send(serde_json::json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "commented text"}]}))
        .await;
    socket.recv_kind("ack").await;
    let url = format!("{other}/api/docs/{doc}/comments");
    let (_, me) = api(Method::GET, &format!("{n1}/api/me"), &ann, None).await;
    let ann_id = me["id"].as_str().expect("id");
    // Mentions cross the peer channel too: a refused one keeps its code, an accepted one comes back named.
    let body = serde_json::json!({"start": 10, "end": 14, "body": "@x", "mentions": ["nobody"]});
    let (status, refused) = api(Method::POST, &url, &ann, Some(body)).await;
    assert_eq!(status, 400, "{refused}");
    let body = serde_json::json!({"start": 10, "end": 14, "body": "which?", "mentions": [ann_id]});
    let (status, created) = api(Method::POST, &url, &ann, Some(body)).await;
    assert_eq!(status, 201, "commenting through {other}: {created}");
    assert_eq!(created["thread"]["quote"], "text");
    assert_eq!(
        created["message"]["mentions"],
        serde_json::json!([{"id": ann_id, "name": "ann"}])
    );
    let heard = socket.recv_kind("comment").await;
    assert_eq!(heard["thread"]["id"], created["thread"]["id"], "{heard}");
    let (status, listing) = api(Method::GET, &url, &ann, None).await;
    assert_eq!(
        (status, listing["rev"].as_u64()),
        (200, Some(1)),
        "{listing}"
    );
    let thread = created["thread"]["id"].as_str().unwrap();
    let (status, refused) = api(Method::POST, &format!("{url}/nope/resolve"), &ann, None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (404, Some("not_found")),
        "the owner's refusal keeps its code: {refused}"
    );
    let (status, _) = api(Method::POST, &format!("{url}/{thread}/resolve"), &ann, None).await;
    assert_eq!(status, 200);
    assert_eq!(socket.recv_kind("comment").await["event"], "resolved");
}

/// `GET /api/docs/{id}/authors` answers on any node: the owner from its hub, another node from the database, and
/// both say the same, who wrote what as of the last commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(quire_no_postgres, quire_no_zookeeper),
    ignore = "PostgreSQL or ZooKeeper is not installed; ./scripts/test installs them"
)]
async fn authors_asked_on_any_node_are_the_owners_as_of_its_last_commit() {
    let Some(cluster) = TestCluster::start(&["n1", "n2"], SESSION).await else {
        return;
    };
    let n1 = cluster.node("n1").url.clone();
    let (ann, _) = account(&n1, "ann").await;
    let (bob, bob_email) = account(&n1, "bob").await;
    let doc = create_doc(&n1, &ann, "written by two").await;
    share_as(&n1, &ann, &doc, &bob_email, "editor").await;
    let owner = ring_of(&["n1", "n2"]).owner(&doc).unwrap().to_string();
    let other = cluster.nodes.iter().find(|node| node.id != owner).unwrap();
    for (rev, (token, text)) in [(&ann, "Ann wrote this. "), (&bob, "Bob this.")]
        .into_iter()
        .enumerate()
    {
        let mut socket = TestSocket::connect(cluster.node(&owner).addr(), &doc, token).await;
        socket
            .hello(&crate::hub_client::client_id(&format!("w{rev}")), None)
            .await;
        let op = match rev {
            0 => serde_json::json!([{"insert": text}]),
            _ => serde_json::json!([{"retain": 16}, {"insert": text}]),
        };
        socket
            .send(serde_json::json!({"t": "op", "rev": rev, "seq": 1, "op": op}))
            .await;
        socket.recv_kind("ack").await;
    }
    let ids = {
        let mut ids = Vec::new();
        for token in [&ann, &bob] {
            let (_, me) = api(Method::GET, &format!("{n1}/api/me"), token, None).await;
            ids.push(me["id"].as_str().expect("id").to_string());
        }
        ids
    };
    let path = format!("/api/docs/{doc}/authors");
    let (status, from_owner) = api(
        Method::GET,
        &format!("{}{path}", cluster.node(&owner).url),
        &bob,
        None,
    )
    .await;
    assert_eq!(status, 200, "{from_owner}");
    let (status, from_other) = api(Method::GET, &format!("{}{path}", other.url), &bob, None).await;
    assert_eq!(status, 200, "asked on {}: {from_other}", other.id);
    assert_eq!(from_other, from_owner, "the two nodes disagree");
    assert_eq!(from_other["rev"], 2);
    assert_eq!(
        from_other["spans"],
        serde_json::json!([[16, ids[0]], [9, ids[1]], [1, null]]),
        "{from_other}"
    );
    assert_eq!(from_other["people"][&ids[1]], "bob");
}
