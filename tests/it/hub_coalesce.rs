//! Issue 21: a busy document holds its next round (`server.coalesce_us_per_person`), so that the edits of the
//! meantime reach each person's socket in one write; nothing is lost or reordered by the hold, and with the
//! setting at 0 every round goes out at once (the negative control: the same run takes about twice the
//! writes).

use serde_json::json;

use crate::{
    hub_client::{TestSocket, client_id},
    hub_convergence::{api_setup, content},
    support::{TestServer, metric},
};

const TYPISTS: usize = 8;
const WATCHERS: usize = 12;
const OPS_EACH: u64 = 30;
const METRICS_TOKEN: &str = "metrics-token-for-the-coalescing-test";

struct Run {
    frames: f64,
    writes: f64,
}

/// Eight people type 30 ops each, one op in flight, while 12 watch; returns the server's frame and write counts
/// over the run, after checking every watcher saw every op and the document holds them all.
async fn typing_run(per_person_us: &str) -> Run {
    let server = TestServer::start_with(&[
        ("server.coalesce_us_per_person", per_person_us),
        ("metrics.token", METRICS_TOKEN),
        ("limits.ops_per_second", "100000"),
        ("limits.ops_burst", "100000"),
    ])
    .await;
    let (token, doc) = api_setup(&server.base).await;
    let addr = server.addr.to_string();
    let mut watchers = Vec::new();
    for n in 0..WATCHERS {
        let mut socket = TestSocket::connect(&addr, &doc, &token).await;
        socket.hello(&client_id(&format!("watcher{n}")), None).await;
        watchers.push(socket);
    }
    let mut typists = Vec::new();
    for n in 0..TYPISTS {
        let mut socket = TestSocket::connect(&addr, &doc, &token).await;
        let welcome = socket.hello(&client_id(&format!("typist{n}")), None).await;
        typists.push((socket, welcome["snapshot"]["rev"].as_u64().expect("rev")));
    }
    let before = metrics(&server).await;
    let typing = typists
        .into_iter()
        .enumerate()
        .map(|(n, (mut socket, mut rev))| async move {
            for seq in 1..=OPS_EACH {
                let letter = char::from(b'a' + n as u8).to_string();
                socket
                    .send(json!({"t": "op", "rev": rev, "seq": seq, "op": [{"insert": letter}]}))
                    .await;
                rev = loop {
                    let frame = socket.recv().await;
                    if frame["t"] == "ack" {
                        assert_eq!(frame["seq"], seq, "{frame}");
                        break frame["rev"].as_u64().expect("ack rev") + 1;
                    }
                };
            }
        });
    futures::future::join_all(typing).await;
    let total = TYPISTS as u64 * OPS_EACH;
    for watcher in &mut watchers {
        let mut seen = 0;
        while seen < total {
            if watcher.recv().await["t"] == "op" {
                seen += 1;
            }
        }
    }
    let after = metrics(&server).await;
    let text: String = content(&server.base, &doc, &token).await["ops"]
        .as_array()
        .expect("ops")
        .iter()
        .filter_map(|op| op["insert"].as_str())
        .collect();
    assert_eq!(text.trim_end().len() as u64, total, "{text:?}");
    server.stop().await;
    Run {
        frames: after.0 - before.0,
        writes: after.1 - before.1,
    }
}

async fn metrics(server: &TestServer) -> (f64, f64) {
    (
        metric(&server.base, METRICS_TOKEN, "quire_ws_frames").await,
        metric(&server.base, METRICS_TOKEN, "quire_ws_writes").await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_document_sends_the_edits_of_a_hold_in_one_write_per_socket() {
    // 1 ms per person: 20 people hold each round 20 ms, enough for all eight typists' next ops to gather.
    let held = typing_run("1000").await;
    let at_once = typing_run("0").await;
    let ratio = |run: &Run| run.frames / run.writes;
    assert!(
        held.frames >= at_once.frames * 0.9 && held.frames <= at_once.frames * 1.1,
        "the same frames either way: {} and {}",
        held.frames,
        at_once.frames
    );
    assert!(
        held.writes * 1.5 < at_once.writes,
        "held rounds take far fewer writes: {} against {} ({:.2} and {:.2} frames per write)",
        held.writes,
        at_once.writes,
        ratio(&held),
        ratio(&at_once)
    );
}
