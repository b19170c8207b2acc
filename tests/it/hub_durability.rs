//! Durability with the real binary: content and revisions survive a clean restart, and after `kill -9` mid-stream
//! every acknowledged op is in the document, revisions continue without renumbering and clients resume.

use std::{path::Path, time::Duration};

use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    hub_convergence::{api_setup, content},
    support::{Backend, SpawnedQuire, TestPg},
};

crate::on_both_backends!(
    content_and_revisions_survive_a_clean_restart,
    acked_ops_survive_kill_9_and_clients_resume,
);

/// The database the binary runs on: its SQLite file in the working directory, or a throwaway PostgreSQL that
/// outlives the process (so a kill -9 of Quire leaves it as a crash would).
struct Database {
    pg: Option<TestPg>,
}

impl Database {
    async fn new(backend: Backend) -> Database {
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestPg::start().await.expect("PostgreSQL is installed")),
        };
        Database { pg }
    }
}

async fn start(dir: &Path, db: &Database) -> (SpawnedQuire, String) {
    start_with(dir, db, &[]).await
}

async fn start_with(dir: &Path, db: &Database, extra: &[&str]) -> (SpawnedQuire, String) {
    // The writers send as fast as acks return, which is faster than the default per-connection op budget.
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--set",
        "limits.ops_per_second=100000",
        "--set",
        "limits.ops_burst=100000",
    ];
    if let Some(pg) = &db.pg {
        args.extend(["--database-url", pg.url.as_str()]);
    }
    args.extend(extra);
    let quire = SpawnedQuire::start(dir, &args, &[]).await;
    let addr = quire.url.trim_start_matches("http://").to_string();
    (quire, addr)
}

fn text_of(content: &Value) -> String {
    content["ops"]
        .as_array()
        .expect("ops")
        .iter()
        .map(|op| op["insert"].as_str().expect("text only"))
        .collect()
}

async fn content_and_revisions_survive_a_clean_restart(backend: Backend) {
    let db = Database::new(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut quire, addr) = start(dir.path(), &db).await;
    let (token, doc) = api_setup(&quire.url).await;
    let mut socket = TestSocket::connect(&addr, &doc, &token).await;
    let client = client_id("a");
    socket.hello(&client, None).await;
    for (seq, text) in [(1u64, "one "), (2, "two "), (3, "three ")] {
        socket
            .send(json!({"t": "op", "rev": seq - 1, "seq": seq, "op": [{"insert": text}]}))
            .await;
        let ack = socket.recv().await;
        assert_eq!(ack, json!({"t": "ack", "seq": seq, "rev": seq - 1}));
    }
    let before = content(&quire.url, &doc, &token).await;
    assert_eq!(
        before,
        json!({"rev": 3, "ops": [{"insert": "three two one \n"}]})
    );
    drop(socket);
    assert!(quire.sigterm(Duration::from_secs(10)).await.success());

    let (mut quire, addr) = start(dir.path(), &db).await;
    assert_eq!(content(&quire.url, &doc, &token).await, before);
    let mut socket = TestSocket::connect(&addr, &doc, &token).await;
    let welcome = socket.hello(&client, Some(3)).await;
    assert_eq!(welcome["head"], 3);
    assert_eq!(welcome["snapshot"], Value::Null);
    // The dedup state was rebuilt from the log: the last op resent is a dup, not a second copy.
    socket
        .send(json!({"t": "op", "rev": 2, "seq": 3, "op": [{"insert": "three "}]}))
        .await;
    assert_eq!(
        socket.recv().await,
        json!({"t": "ack", "seq": 3, "rev": 2, "dup": true})
    );
    socket
        .send(json!({"t": "op", "rev": 3, "seq": 4, "op": [{"insert": "four "}]}))
        .await;
    assert_eq!(socket.recv().await, json!({"t": "ack", "seq": 4, "rev": 3}));
    assert_eq!(
        content(&quire.url, &doc, &token).await,
        json!({"rev": 4, "ops": [{"insert": "four three two one \n"}]})
    );
    drop(socket);
    assert!(quire.sigterm(Duration::from_secs(10)).await.success());
}

/// Every acked op whose marker is not in `text` exactly once.
/// What a writer saw: its client id, every acked (seq, rev), and the highest revision it knew of.
type WriterResult = (String, Vec<(u64, u64)>, u64);

fn acked_but_not_once(results: &[WriterResult], text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (n, (_, acked, _)) in results.iter().enumerate() {
        for (seq, rev) in acked {
            let marker = format!("[c{}-{seq}]", n + 1);
            let count = text.matches(&marker).count();
            if count != 1 {
                problems.push(format!(
                    "acked op {marker} (rev {rev}) is there {count} times"
                ));
            }
        }
    }
    problems
}

/// The negative control: a server that acks before it commits (and commits late) loses acked ops to a kill -9, and
/// the check above must say so. Without this, the durability test could pass on a server that never waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_acks_before_committing_is_caught() {
    let db = Database::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut quire, addr) = start_with(dir.path(), &db, &["--testing-ack-before-commit"]).await;
    let (token, doc) = api_setup(&quire.url).await;
    let writers = spawn_writers(&addr, &doc, &token);
    // Once the writers are under way (commits are seen), there is always a round acked and not yet written.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while content(&quire.url, &doc, &token).await["rev"].as_u64() < Some(2) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the writers never got going"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    quire.kill9().await;
    let mut results = Vec::new();
    for writer in writers {
        results.push(writer.await.expect("writer task"));
    }
    let (mut quire, _) = start(dir.path(), &db).await;
    let text = text_of(&content(&quire.url, &doc, &token).await);
    let problems = acked_but_not_once(&results, &text);
    assert!(
        !problems.is_empty(),
        "acks sent 300 ms before each commit, and the kill -9 lost nothing: the check cannot fail"
    );
    eprintln!(
        "caught: {} acked ops lost, e.g. {}",
        problems.len(),
        problems[0]
    );
    assert!(quire.sigterm(Duration::from_secs(10)).await.success());
}

/// Three writers, `c1` to `c3`, typing into `doc` until their socket ends.
fn spawn_writers(addr: &str, doc: &str, token: &str) -> Vec<tokio::task::JoinHandle<WriterResult>> {
    (1..=3)
        .map(|n| {
            let (addr, doc, token) = (addr.to_string(), doc.to_string(), token.to_string());
            tokio::spawn(writer(addr, doc, token, format!("c{n}")))
        })
        .collect()
}

/// One writer: one op in flight, each inserting a unique marker at position 0; returns every acked (seq, rev)
/// and the highest revision it knew of, when the socket ends.
async fn writer(addr: String, doc: String, token: String, tag: String) -> WriterResult {
    let mut socket = TestSocket::connect(&addr, &doc, &token).await;
    let client = client_id(&tag);
    let welcome = socket.hello(&client, None).await;
    let mut known = welcome["head"].as_u64().expect("head");
    let mut acked = Vec::new();
    let mut seq = 1;
    'ops: loop {
        let frame = json!({"t": "op", "rev": known, "seq": seq, "op": [{"insert": format!("[{tag}-{seq}]")}]});
        if socket.ws_send(frame).await.is_err() {
            break;
        }
        loop {
            let Some(frame) = socket.recv_within(Duration::from_secs(5)).await else {
                break 'ops;
            };
            match frame["t"].as_str() {
                Some("op") => known = known.max(frame["rev"].as_u64().expect("rev") + 1),
                Some("ack") => {
                    assert_eq!(frame["seq"], seq, "{frame}");
                    let rev = frame["rev"].as_u64().expect("rev");
                    acked.push((seq, rev));
                    known = known.max(rev + 1);
                    seq += 1;
                    continue 'ops;
                }
                Some("presence") => {}
                _ => panic!("{tag}: unexpected frame {frame}"),
            }
        }
    }
    (client, acked, known)
}

trait TrySend {
    async fn ws_send(&mut self, value: Value) -> Result<(), ()>;
}

impl TrySend for TestSocket {
    async fn ws_send(&mut self, value: Value) -> Result<(), ()> {
        use futures::SinkExt;
        self.ws
            .send(tokio_tungstenite::tungstenite::Message::Text(
                value.to_string().into(),
            ))
            .await
            .map_err(|_| ())
    }
}

async fn acked_ops_survive_kill_9_and_clients_resume(backend: Backend) {
    let db = Database::new(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut quire, addr) = start(dir.path(), &db).await;
    let (token, doc) = api_setup(&quire.url).await;
    let writers = spawn_writers(&addr, &doc, &token);
    tokio::time::sleep(Duration::from_millis(500)).await;
    quire.kill9().await;
    let mut results = Vec::new();
    for writer in writers {
        results.push(writer.await.expect("writer task"));
    }
    let total_acked: usize = results.iter().map(|(_, acked, _)| acked.len()).sum();
    assert!(
        total_acked >= 3,
        "too few ops were acked before the kill to prove anything: {total_acked}"
    );
    eprintln!("acked before kill -9: {total_acked}");
    let max_acked = results
        .iter()
        .flat_map(|(_, acked, _)| acked.iter().map(|&(_, rev)| rev))
        .max()
        .expect("some ack");

    let (mut quire, addr) = start(dir.path(), &db).await;
    let after = content(&quire.url, &doc, &token).await;
    let head = after["rev"].as_u64().expect("rev");
    let text = text_of(&after);
    let problems = acked_but_not_once(&results, &text);
    assert!(problems.is_empty(), "after kill -9: {problems:?}");
    // No renumbering and no lost or doubled revision: one marker per revision.
    assert!(head > max_acked, "head {head} <= max acked rev {max_acked}");
    assert_eq!(text.matches('[').count() as u64, head, "{text}");

    // Each writer resumes from the last revision it knew and gets the catch-up without error.
    for (client, _, known) in &results {
        let mut socket = TestSocket::connect(&addr, &doc, &token).await;
        let welcome = socket.hello(client, Some(*known)).await;
        assert_eq!(welcome["head"], head);
        assert_eq!(welcome["snapshot"], Value::Null, "{welcome}");
        assert_eq!(welcome["reset"], false);
        for rev in *known..head {
            let mut frame = socket.recv().await;
            // Another resumed client's leave may arrive in between.
            while frame["t"] == "presence" {
                frame = socket.recv().await;
            }
            assert_eq!(
                (&frame["t"], &frame["rev"]),
                (&json!("op"), &json!(rev)),
                "{frame}"
            );
        }
    }
    // A new client's op continues at head.
    let mut socket = TestSocket::connect(&addr, &doc, &token).await;
    socket.hello(&client_id("new"), None).await;
    socket
        .send(json!({"t": "op", "rev": head, "seq": 1, "op": [{"insert": "[new]"}]}))
        .await;
    assert_eq!(
        socket.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": head})
    );
    assert_eq!(content(&quire.url, &doc, &token).await["rev"], head + 1);
    drop(socket);
    assert!(quire.sigterm(Duration::from_secs(10)).await.success());
}
