//! A small load generator for the hub: C clients type into one document at R keystrokes/s each, one op in flight
//! per client, and remote latency (op sent -> decoded by each other client) is reported as p50/p99.
//! Usage: `cargo run --release --example hub_load -- URL TOKEN CLIENTS SECONDS` (the full `quire bench` is issue 8).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const RATE_PER_SECOND: f64 = 2.0;

type SentAt = Arc<Mutex<HashMap<(usize, u64), Instant>>>;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, token) = (args[1].clone(), args[2].clone());
    let n_clients: usize = args[3].parse().expect("clients");
    let seconds: u64 = args[4].parse().expect("seconds");
    let http = reqwest::Client::new();
    let doc: Value = http
        .post(format!("{base}/api/docs"))
        .bearer_auth(&token)
        .json(&json!({"title": "load"}))
        .send()
        .await
        .expect("create doc")
        .json()
        .await
        .expect("doc");
    let doc = doc["id"].as_str().expect("id").to_string();
    let sent: SentAt = Arc::default();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now() + Duration::from_secs(2);
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for idx in 0..n_clients {
        let (base, token, doc) = (base.clone(), token.clone(), doc.clone());
        let (sent, latencies) = (sent.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            client(idx, &base, &token, &doc, sent, latencies, start, end).await
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    let mut latencies = latencies.lock().expect("lock").clone();
    latencies.sort_unstable();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "clients={n_clients} deliveries={} p50={:.1}ms p99={:.1}ms max={:.1}ms",
        latencies.len(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3
    );
}

#[allow(clippy::too_many_arguments)]
async fn client(
    idx: usize,
    base: &str,
    token: &str,
    doc: &str,
    sent: SentAt,
    latencies: Arc<Mutex<Vec<Duration>>>,
    start: Instant,
    end: Instant,
) {
    let url = format!("{}/api/docs/{doc}/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let client_id = format!("load-{idx:04}-{}", "x".repeat(16));
    ws.send(Message::Text(
        json!({"t":"hello","proto":1,"client":client_id,"rev":null})
            .to_string()
            .into(),
    ))
    .await
    .expect("hello");
    let mut rev = 0u64;
    let mut seq = 0u64;
    let mut in_flight = false;
    let mut pending_keys = 0u32;
    let phase = Duration::from_secs_f64((idx as f64 * 0.6180339) % 1.0 / RATE_PER_SECOND);
    let mut next_key = tokio::time::Instant::from_std(start + phase);
    let mut deadline_reached = false;
    loop {
        tokio::select! {
            message = ws.next() => {
                let Some(Ok(Message::Text(text))) = message else { break };
                let frame: Value = serde_json::from_str(&text).expect("json");
                match frame["t"].as_str() {
                    Some("welcome") => rev = frame["head"].as_u64().unwrap_or(0),
                    Some("op") => {
                        rev = frame["rev"].as_u64().unwrap_or(rev) + 1;
                        let author: usize = frame["client"].as_str().and_then(|c| c.get(5..9)).and_then(|n| n.parse().ok()).unwrap_or(usize::MAX);
                        let key = (author, frame["seq"].as_u64().unwrap_or(0));
                        if let Some(at) = sent.lock().expect("lock").get(&key) {
                            latencies.lock().expect("lock").push(at.elapsed());
                        }
                    }
                    Some("ack") => {
                        rev = frame["rev"].as_u64().unwrap_or(rev) + 1;
                        in_flight = false;
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(next_key), if !deadline_reached => {
                next_key += Duration::from_secs_f64(1.0 / RATE_PER_SECOND);
                pending_keys += 1;
                if Instant::now() >= end {
                    deadline_reached = true;
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(500)), if deadline_reached && !in_flight => break,
        }
        if !in_flight && pending_keys > 0 && !deadline_reached {
            // Keystrokes typed while an op was in flight are composed into one insert at the start.
            seq += 1;
            let text = "k".repeat(pending_keys as usize);
            pending_keys = 0;
            sent.lock()
                .expect("lock")
                .insert((idx, seq), Instant::now());
            let op = json!({"t":"op","rev":rev,"seq":seq,"op":[{"insert": text}]});
            ws.send(Message::Text(op.to_string().into()))
                .await
                .expect("send");
            in_flight = true;
        }
    }
}
