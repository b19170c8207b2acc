//! Presence (PROTOCOL.md section 3, "Presence"): selections move with committed ops (another person's insert at a
//! caret does not move it, one's own does; a selection grows when someone else types at its end), frames are stamped
//! with head, late joiners get everyone's selection right after `welcome`, and a leaver's selection goes to null.

use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    hub_convergence::{api_setup, content},
    support::TestServer,
};

struct Doc {
    server: TestServer,
    addr: String,
    token: String,
    doc: String,
}

impl Doc {
    async fn new() -> Doc {
        let server = TestServer::start().await;
        let (token, doc) = api_setup(&server.base).await;
        Doc {
            addr: server.addr.to_string(),
            server,
            token,
            doc,
        }
    }

    async fn join(&self, tag: &str) -> (TestSocket, String) {
        let mut socket = TestSocket::connect(&self.addr, &self.doc, &self.token).await;
        let client = client_id(tag);
        socket.hello(&client, None).await;
        (socket, client)
    }

    async fn head(&self) -> u64 {
        content(&self.server.base, &self.doc, &self.token).await["rev"]
            .as_u64()
            .expect("rev")
    }

    /// What a late joiner sees right after `welcome`: client -> sel. Every frame is stamped with head.
    async fn late_view(&self) -> BTreeMap<String, Value> {
        let mut socket = TestSocket::connect(&self.addr, &self.doc, &self.token).await;
        let welcome = socket.hello(&client_id("late"), None).await;
        let head = welcome["head"].clone();
        let mut seen = BTreeMap::new();
        while let Some(frame) = socket.recv_within(Duration::from_millis(400)).await {
            assert_eq!(frame["t"], "presence", "{frame}");
            assert_eq!(
                frame["rev"], head,
                "presence not stamped with head: {frame}"
            );
            let client = frame["client"].as_str().expect("client").to_string();
            assert!(
                seen.insert(client, frame["sel"].clone()).is_none(),
                "two presences for one client: {frame}"
            );
        }
        seen
    }
}

fn sel(index: u64, length: u64) -> Value {
    json!({"index": index, "length": length})
}

/// The next presence frame about `client`, skipping others' (such as a late joiner's leave).
async fn presence_of(socket: &mut TestSocket, client: &str) -> Value {
    loop {
        let frame = socket.recv_kind("presence").await;
        if frame["client"] == client {
            return frame;
        }
    }
}

async fn ack(socket: &mut TestSocket, seq: u64) -> u64 {
    let ack = socket.recv_kind("ack").await;
    assert_eq!(ack["seq"], seq, "{ack}");
    assert!(ack.get("dup").is_none(), "{ack}");
    ack["rev"].as_u64().expect("rev")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carets_move_with_their_own_inserts_only() {
    let d = Doc::new().await;
    let (mut a, a_client) = d.join("a").await;
    let (mut b, b_client) = d.join("b").await;
    a.send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "hello"}]}))
        .await;
    assert_eq!(ack(&mut a, 1).await, 0);
    assert_eq!(b.recv_kind("op").await["rev"], 0);

    // A's caret at 2 ("he|llo"), relayed to B stamped with head.
    a.send(json!({"t": "presence", "rev": 1, "sel": sel(2, 0)}))
        .await;
    let relayed = b.recv_kind("presence").await;
    assert_eq!(relayed["client"], a_client.as_str());
    assert_eq!(relayed["rev"], 1);
    assert_eq!(relayed["sel"], sel(2, 0));
    assert_eq!(relayed["user"]["name"], "Sim");

    // B types exactly at A's caret: A's caret stays before B's text.
    b.send(json!({"t": "op", "rev": 1, "seq": 1, "op": [{"retain": 2}, {"insert": "XY"}]}))
        .await;
    assert_eq!(ack(&mut b, 1).await, 1);
    assert_eq!(a.recv_kind("op").await["client"], b_client.as_str());
    assert_eq!(d.head().await, 2);
    assert_eq!(
        d.late_view().await,
        BTreeMap::from([(a_client.clone(), sel(2, 0))])
    );
    // A restates its caret relative to rev 1 (before B's insert): moved to head the same way, relayed at head.
    a.send(json!({"t": "presence", "rev": 1, "sel": sel(2, 0)}))
        .await;
    let relayed = presence_of(&mut b, &a_client).await;
    assert_eq!((&relayed["rev"], &relayed["sel"]), (&json!(2), &sel(2, 0)));

    // A types at its own caret: the caret moves past A's text.
    a.send(json!({"t": "op", "rev": 2, "seq": 2, "op": [{"retain": 2}, {"insert": "ab"}]}))
        .await;
    assert_eq!(ack(&mut a, 2).await, 2);
    assert_eq!(
        d.late_view().await,
        BTreeMap::from([(a_client.clone(), sel(4, 0))])
    );
    // Text before the caret by someone else shifts it; text after does not.
    b.send(json!({"t": "op", "rev": 3, "seq": 2, "op": [{"insert": "123"}]}))
        .await;
    assert_eq!(ack(&mut b, 2).await, 3);
    b.send(json!({"t": "op", "rev": 4, "seq": 3, "op": [{"retain": 8}, {"insert": "zz"}]}))
        .await;
    assert_eq!(ack(&mut b, 3).await, 4);
    assert_eq!(
        d.late_view().await,
        BTreeMap::from([(a_client.clone(), sel(7, 0))])
    );
    assert_eq!(
        content(&d.server.base, &d.doc, &d.token).await["ops"],
        json!([{"insert": "123heabXzzYllo\n"}])
    );
    d.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selections_grow_late_joiners_see_all_and_leavers_go_null() {
    let d = Doc::new().await;
    let (mut a, a_client) = d.join("a").await;
    let (mut b, b_client) = d.join("b").await;
    a.send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "abcdef"}]}))
        .await;
    assert_eq!(ack(&mut a, 1).await, 0);
    // A selects "bcd" (1..4), B puts its caret at 6 (end of text).
    a.send(json!({"t": "presence", "rev": 1, "sel": sel(1, 3)}))
        .await;
    b.send(json!({"t": "presence", "rev": 1, "sel": sel(6, 0)}))
        .await;
    assert_eq!(presence_of(&mut b, &a_client).await["sel"], sel(1, 3));
    assert_eq!(presence_of(&mut a, &b_client).await["sel"], sel(6, 0));
    assert_eq!(
        d.late_view().await,
        BTreeMap::from([(a_client.clone(), sel(1, 3)), (b_client.clone(), sel(6, 0))])
    );
    // B types at the end of A's selection: the selection grows to include it.
    b.send(json!({"t": "op", "rev": 1, "seq": 1, "op": [{"retain": 4}, {"insert": "XY"}]}))
        .await;
    assert_eq!(ack(&mut b, 1).await, 1);
    // Someone else typing at the start of A's selection: the start stays put, as a caret would.
    b.send(json!({"t": "op", "rev": 2, "seq": 2, "op": [{"retain": 1}, {"insert": "Q"}]}))
        .await;
    assert_eq!(ack(&mut b, 2).await, 2);
    // "aQbcdXYef": A's selection is "QbcdXY" (1..7); B's caret (6, after "abcdef") moved by B's 3 inserts to 9.
    assert_eq!(
        d.late_view().await,
        BTreeMap::from([(a_client.clone(), sel(1, 6)), (b_client.clone(), sel(9, 0))])
    );
    assert_eq!(
        content(&d.server.base, &d.doc, &d.token).await["ops"],
        json!([{"insert": "aQbcdXYef\n"}])
    );
    // A leaves: B gets A's presence with sel null, stamped with head.
    drop(a);
    let gone = presence_of(&mut b, &a_client).await;
    assert_eq!(gone["sel"], Value::Null);
    assert_eq!(gone["rev"], 3);
    assert_eq!(
        d.late_view().await,
        BTreeMap::from([(b_client.clone(), sel(9, 0))])
    );
    d.server.stop().await;
}
