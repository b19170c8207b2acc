//! The echo fixture that measures the generator's own ceiling: a WebSocket server speaking just enough of
//! protocol v1 (hello -> welcome, op -> ack + broadcast to the document's other clients) with no OT, no
//! storage and no auth. Each broadcast is built once and shared; each connection's writer coalesces its queue.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use anyhow::Result;
use futures::{SinkExt, StreamExt};
use tokio::{net::TcpListener, sync::mpsc};
use tokio_tungstenite::tungstenite::{
    Message, Utf8Bytes,
    handshake::server::{Request, Response},
    protocol::WebSocketConfig,
};

use super::wire;

#[derive(Default)]
struct Doc {
    head: u64,
    peers: Vec<(u64, mpsc::UnboundedSender<Utf8Bytes>)>,
}

type Docs = Rc<RefCell<HashMap<String, Rc<RefCell<Doc>>>>>;

/// Serves until killed; prints `quire-bench echo listening on ws://ADDR` when ready.
pub async fn serve(listen: &str, nagle: bool) -> Result<()> {
    let listener = TcpListener::bind(listen).await?;
    println!(
        "quire-bench echo listening on ws://{}",
        listener.local_addr()?
    );
    let docs: Docs = Rc::default();
    let mut next_id = 0u64;
    loop {
        let (stream, _) = listener.accept().await?;
        if !nagle {
            let _ = stream.set_nodelay(true);
        }
        next_id += 1;
        let (docs, id) = (docs.clone(), next_id);
        tokio::task::spawn_local(async move {
            let _ = connection(stream, docs, id).await;
        });
    }
}

#[allow(clippy::result_large_err)] // the handshake callback's error type is tungstenite's
async fn connection(stream: tokio::net::TcpStream, docs: Docs, id: u64) -> Result<()> {
    let path = Rc::new(RefCell::new(String::new()));
    let seen = path.clone();
    let callback = move |request: &Request, response: Response| {
        *seen.borrow_mut() = request.uri().path().to_string();
        Ok(response)
    };
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let ws =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await?;
    let doc_id = path.borrow().clone();
    let doc = docs.borrow_mut().entry(doc_id.clone()).or_default().clone();
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    doc.borrow_mut().peers.push((id, tx.clone()));
    let writer = tokio::task::spawn_local(async move {
        while let Some(first) = rx.recv().await {
            if sink.feed(Message::Text(first)).await.is_err() {
                return;
            }
            while let Ok(next) = rx.try_recv() {
                if sink.feed(Message::Text(next)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let mut client = String::new();
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Some(f) = wire::scan(&text) else { continue };
        match f.t {
            "hello" => {
                client = f.client.unwrap_or_default().to_string();
                let head = doc.borrow().head;
                let welcome = format!(
                    r#"{{"t":"welcome","proto":1,"head":{head},"role":"editor","snapshot":{{"rev":{head},"ops":[{{"insert":"\n"}}]}},"reset":false,"limits":{{}},"you":{{"client":"{client}","user":{{"id":"echo","name":"echo"}}}}}}"#
                );
                let _ = tx.send(welcome.into());
            }
            "op" => {
                let (Some(seq), Some(op)) = (f.seq, f.op) else {
                    continue;
                };
                let mut d = doc.borrow_mut();
                let rev = d.head;
                d.head += 1;
                let _ = tx.send(format!(r#"{{"t":"ack","seq":{seq},"rev":{rev}}}"#).into());
                let frame: Utf8Bytes = format!(
                    r##"{{"t":"op","rev":{rev},"op":{op},"client":"{client}","seq":{seq},"user":{{"id":"echo","name":"echo","color":"#000"}}}}"##
                )
                .into();
                for (peer, sender) in &d.peers {
                    if *peer != id {
                        let _ = sender.send(frame.clone());
                    }
                }
            }
            "ping" => {
                let _ = tx.send(r#"{"t":"pong"}"#.into());
            }
            _ => {}
        }
    }
    doc.borrow_mut().peers.retain(|(peer, _)| *peer != id);
    writer.abort();
    if doc.borrow().peers.is_empty() {
        docs.borrow_mut().remove(&doc_id);
    }
    Ok(())
}
