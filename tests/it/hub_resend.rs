//! Ops in flight when the server is killed with `kill -9` (PROTOCOL.md, "Resume, catch-up and reset"): after the
//! restart each client resumes and resends its op with the same seq, and every op is in the document exactly once,
//! whether the server had committed it (its ack was lost) or never read it.

use std::{path::Path, time::Duration};

use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    hub_convergence::{api_setup, content},
    support::{Backend, SpawnedQuire, TestPg},
};

crate::on_both_backends!(an_op_in_flight_at_a_kill_9_is_applied_once_when_resent);

/// The binary on the SQLite file in `dir`, or on `pg`, which outlives the process as a database outlives a crash.
async fn start(dir: &Path, pg: Option<&TestPg>) -> (SpawnedQuire, String) {
    let mut args = vec!["--listen", "127.0.0.1:0"];
    if let Some(pg) = pg {
        args.extend(["--database-url", pg.url.as_str()]);
    }
    let quire = SpawnedQuire::start(dir, &args, &[]).await;
    let addr = quire.url.trim_start_matches("http://").to_string();
    (quire, addr)
}

/// SIGSTOP: the process keeps its sockets but reads nothing more from them.
fn freeze(quire: &SpawnedQuire) {
    let pid = quire.child.id().expect("the process is running");
    let status = std::process::Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -STOP {pid}");
}

/// Reads the socket until it ends (the server died), failing on any ack.
async fn ends_without_ack(socket: &mut TestSocket) {
    while let Some(frame) = socket.recv_within(Duration::from_secs(10)).await {
        assert_ne!(frame["t"], "ack", "an ack arrived before the kill: {frame}");
    }
}

async fn an_op_in_flight_at_a_kill_9_is_applied_once_when_resent(backend: Backend) {
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(TestPg::start().await.expect("PostgreSQL is installed")),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut quire, addr) = start(dir.path(), pg.as_ref()).await;
    let (token, doc) = api_setup(&quire.url).await;
    let (ann_id, bob_id) = (client_id("ann"), client_id("bob"));
    let mut ann = TestSocket::connect(&addr, &doc, &token).await;
    ann.hello(&ann_id, None).await;
    let mut bob = TestSocket::connect(&addr, &doc, &token).await;
    bob.hello(&bob_id, None).await;

    // Ann's op is committed (Bob receives it, which happens only after the commit), but Ann never reads her ack:
    // it is lost with the server.
    ann.send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "[ann]"}]}))
        .await;
    let seen = bob.recv_kind("op").await;
    assert_eq!((&seen["rev"], &seen["client"]), (&json!(0), &json!(ann_id)));
    // Bob's op leaves while the server is frozen, so it is never read; then the server dies.
    freeze(&quire);
    bob.send(json!({"t": "op", "rev": 1, "seq": 1, "op": [{"insert": "[bob]"}]}))
        .await;
    quire.kill9().await;
    ends_without_ack(&mut bob).await;
    drop(ann);

    let (mut quire, addr) = start(dir.path(), pg.as_ref()).await;
    // Ann resumes from what she knew: the catch-up holds her op, which is its ack. A resend with the same seq
    // (a client that sent before reading the catch-up) is a duplicate, not a second copy.
    let mut ann = TestSocket::connect(&addr, &doc, &token).await;
    let welcome = ann.hello(&ann_id, Some(0)).await;
    assert_eq!(
        (&welcome["head"], &welcome["snapshot"]),
        (&json!(1), &Value::Null)
    );
    let own = ann.recv().await;
    assert_eq!(
        (&own["t"], &own["rev"], &own["client"], &own["seq"]),
        (&json!("op"), &json!(0), &json!(ann_id), &json!(1)),
        "{own}"
    );
    ann.send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "[ann]"}]}))
        .await;
    assert_eq!(
        ann.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": 0, "dup": true})
    );

    // Bob's catch-up is empty: his op was not committed, so he resends it with the same seq, and it is new.
    let mut bob = TestSocket::connect(&addr, &doc, &token).await;
    let welcome = bob.hello(&bob_id, Some(1)).await;
    assert_eq!(
        (&welcome["head"], &welcome["snapshot"], &welcome["reset"]),
        (&json!(1), &Value::Null, &json!(false))
    );
    bob.send(json!({"t": "op", "rev": 1, "seq": 1, "op": [{"insert": "[bob]"}]}))
        .await;
    assert_eq!(
        bob.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": 1})
    );
    bob.send(json!({"t": "op", "rev": 1, "seq": 1, "op": [{"insert": "[bob]"}]}))
        .await;
    assert_eq!(
        bob.recv_kind("ack").await,
        json!({"t": "ack", "seq": 1, "rev": 1, "dup": true})
    );
    assert_eq!(ann.recv_kind("op").await["client"], json!(bob_id));
    assert_eq!(
        content(&quire.url, &doc, &token).await,
        json!({"rev": 2, "ops": [{"insert": "[bob][ann]\n"}]}),
        "each op exactly once"
    );
    drop((ann, bob));
    assert!(quire.sigterm(Duration::from_secs(10)).await.success());
}
