//! Two live sockets with one client id (PROTOCOL.md, "Client ids and users"): a second `hello` supersedes the
//! first session, whose socket is closed with 4000 and whose later ops and selections change nothing; the others
//! see the superseded session's selection go to null, then the new session's once it sends one.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    hub_client::{TestSocket, client_id},
    hub_convergence::{api_setup, content},
    support::{Backend, TestServer},
};

crate::on_both_backends!(
    a_second_hello_with_the_same_client_id_supersedes_the_first,
    the_superseded_sessions_selection_goes_to_null,
);

/// Sends a frame on a socket the server may have closed already; whether it left does not matter.
async fn send_if_open(socket: &mut TestSocket, frame: Value) {
    let _ = socket
        .ws
        .send(Message::Text(frame.to_string().into()))
        .await;
}

/// Reads `socket` until the server closes it: the close code (None when it ended without a close frame), and the
/// JSON frames that came before.
async fn close_code(socket: &mut TestSocket) -> (Option<u16>, Vec<Value>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut frames = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, socket.ws.next()).await {
            Err(_) => panic!("the socket was not closed within 10 s; it got {frames:?}"),
            Ok(None | Some(Err(_))) => return (None, frames),
            Ok(Some(Ok(Message::Close(close)))) => {
                return (close.map(|close| u16::from(close.code)), frames);
            }
            Ok(Some(Ok(Message::Text(text)))) => {
                frames.push(serde_json::from_str(&text).expect("server frames are JSON"));
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

fn sel(index: u64, length: u64) -> Value {
    json!({"index": index, "length": length})
}

/// The next presence frame about `client`, skipping others'.
async fn presence_of(socket: &mut TestSocket, client: &str) -> Value {
    loop {
        let frame = socket.recv_kind("presence").await;
        if frame["client"] == client {
            return frame;
        }
    }
}

/// A page whose socket died without the server noticing opens a new one under the same client id. The old socket
/// is closed, and an op still arriving on it is neither acknowledged nor committed: the new session's catch-up
/// is the whole truth, so the same seq sent on the new socket is a new op, not a duplicate.
async fn a_second_hello_with_the_same_client_id_supersedes_the_first(backend: Backend) {
    let server = TestServer::start_on(backend, &[]).await;
    let (token, doc) = api_setup(&server.base).await;
    let addr = server.addr.to_string();
    let client = client_id("page");
    let mut old = TestSocket::connect(&addr, &doc, &token).await;
    old.hello(&client, None).await;
    old.send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "one "}]}))
        .await;
    assert_eq!(old.recv().await, json!({"t": "ack", "seq": 1, "rev": 0}));

    let mut new = TestSocket::connect(&addr, &doc, &token).await;
    let welcome = new.hello(&client, Some(1)).await;
    assert_eq!(
        (&welcome["head"], &welcome["snapshot"], &welcome["reset"]),
        (&json!(1), &Value::Null, &json!(false)),
        "{welcome}"
    );
    // Frames still in flight on the old socket after the new hello.
    send_if_open(
        &mut old,
        json!({"t": "op", "rev": 1, "seq": 2, "op": [{"insert": "ghost "}]}),
    )
    .await;
    let (code, frames) = close_code(&mut old).await;
    assert_eq!(
        code,
        Some(4000),
        "the superseded socket is closed with 4000"
    );
    assert!(
        frames.iter().all(|frame| frame["t"] != "ack"),
        "the superseded socket got an ack: {frames:?}"
    );

    new.send(json!({"t": "op", "rev": 1, "seq": 2, "op": [{"insert": "two "}]}))
        .await;
    assert_eq!(
        new.recv_kind("ack").await,
        json!({"t": "ack", "seq": 2, "rev": 1}),
        "seq 2 on the new socket is a new op at head 1: nothing from the old socket was committed"
    );
    assert_eq!(
        content(&server.base, &doc, &token).await,
        json!({"rev": 2, "ops": [{"insert": "two one \n"}]})
    );
    server.stop().await;
}

/// Others were shown the old session's caret. The new session has none until it sends one (a late joiner sees
/// none), so the others are told it is gone, and then shown the new one; the old socket's selection never arrives.
async fn the_superseded_sessions_selection_goes_to_null(backend: Backend) {
    let server = TestServer::start_on(backend, &[]).await;
    let (token, doc) = api_setup(&server.base).await;
    let addr = server.addr.to_string();
    let mut other = TestSocket::connect(&addr, &doc, &token).await;
    other.hello(&client_id("other"), None).await;
    let client = client_id("page");
    let mut old = TestSocket::connect(&addr, &doc, &token).await;
    old.hello(&client, None).await;
    old.send(json!({"t": "op", "rev": 0, "seq": 1, "op": [{"insert": "abcdef"}]}))
        .await;
    assert_eq!(old.recv_kind("ack").await["rev"], 0);
    old.send(json!({"t": "presence", "rev": 1, "sel": sel(2, 0)}))
        .await;
    assert_eq!(presence_of(&mut other, &client).await["sel"], sel(2, 0));

    let mut new = TestSocket::connect(&addr, &doc, &token).await;
    new.hello(&client, Some(1)).await;
    let gone = presence_of(&mut other, &client).await;
    assert_eq!(
        (&gone["sel"], &gone["rev"]),
        (&Value::Null, &json!(1)),
        "the superseded session's caret is hidden: {gone}"
    );
    send_if_open(
        &mut old,
        json!({"t": "presence", "rev": 1, "sel": sel(4, 0)}),
    )
    .await;
    let (code, _) = close_code(&mut old).await;
    assert_eq!(code, Some(4000));
    new.send(json!({"t": "presence", "rev": 1, "sel": sel(5, 0)}))
        .await;
    assert_eq!(
        presence_of(&mut other, &client).await["sel"],
        sel(5, 0),
        "the next selection the others see is the new session's"
    );
    // A late joiner sees the same: the new session's caret, once.
    let mut late = TestSocket::connect(&addr, &doc, &token).await;
    late.hello(&client_id("late"), None).await;
    assert_eq!(presence_of(&mut late, &client).await["sel"], sel(5, 0));
    server.stop().await;
}
