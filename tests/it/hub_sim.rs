//! The convergence simulation: many `SimClient`s edit one document over real WebSockets with random edits,
//! delays, dropped connections, lost acks and duplicate resends; then everyone must agree with the server.

use std::{sync::Arc, time::Duration};

use quire::ot::Delta;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Map, Value, json};
use tokio::sync::{Barrier, watch};

use crate::hub_client::{SimClient, Ws, client_id, delta, try_connect};

#[derive(Debug, Clone, Copy)]
pub struct SimParams {
    pub n_clients: usize,
    pub n_actions: usize,
    pub seed: u64,
}

impl SimParams {
    /// Size from `QUIRE_SIM_CLIENTS` / `QUIRE_SIM_ACTIONS`, seed from `QUIRE_SIM_SEED` or random; the seed is printed.
    pub fn from_env() -> SimParams {
        let read = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let params = SimParams {
            n_clients: read("QUIRE_SIM_CLIENTS", 8) as usize,
            n_actions: read("QUIRE_SIM_ACTIONS", 120) as usize,
            seed: read("QUIRE_SIM_SEED", rand::rng().random()),
        };
        println!(
            "convergence simulation: {params:?} (rerun with QUIRE_SIM_SEED={})",
            params.seed
        );
        params
    }
}

pub struct SimReport {
    pub docs: Vec<Delta>,
    pub n_acked: u64,
    /// Ops in flight given up at a `reset` (see `SimClient::given_up_in_flight`), and how many resets there were.
    pub n_given_up: u64,
    pub n_resets: u64,
    pub problems: Vec<String>,
}

/// Runs the clients to completion and returns each one's final document once all have caught up with head.
pub async fn simulate(
    addr: &str,
    doc: &str,
    token: &str,
    params: SimParams,
    head_url: &str,
) -> SimReport {
    let barrier = Arc::new(Barrier::new(params.n_clients + 1));
    let (head_tx, head_rx) = watch::channel(None::<u64>);
    let mut tasks = Vec::new();
    for idx in 0..params.n_clients {
        let (addr, doc, token) = (addr.to_string(), doc.to_string(), token.to_string());
        let (barrier, head_rx) = (barrier.clone(), head_rx.clone());
        let seed = params.seed.wrapping_add(idx as u64);
        tasks.push(tokio::spawn(async move {
            run_client(
                &addr,
                &doc,
                &token,
                seed,
                params.n_actions,
                barrier,
                head_rx,
            )
            .await
        }));
    }
    barrier.wait().await;
    let head = fetch_head(head_url, token).await;
    let _ = head_tx.send(Some(head));
    let mut report = SimReport {
        docs: Vec::new(),
        n_acked: 0,
        n_given_up: 0,
        n_resets: 0,
        problems: Vec::new(),
    };
    for task in tasks {
        let sim = task.await.expect("client task");
        report.n_acked += sim.acked.len() as u64;
        report.n_given_up += sim.given_up_in_flight;
        report.n_resets += sim.resets;
        report
            .problems
            .extend(sim.problems.iter().map(|p| format!("{}: {p}", sim.client)));
        report.docs.push(sim.doc);
    }
    report
}

async fn fetch_head(content_url: &str, token: &str) -> u64 {
    let content: Value = reqwest::Client::new()
        .get(content_url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET content")
        .json()
        .await
        .expect("content JSON");
    content["rev"].as_u64().expect("rev")
}

struct Driver {
    sim: SimClient,
    ws: Option<Ws>,
    addr: String,
    doc: String,
    token: String,
}

async fn run_client(
    addr: &str,
    doc: &str,
    token: &str,
    seed: u64,
    n_actions: usize,
    barrier: Arc<Barrier>,
    mut head_rx: watch::Receiver<Option<u64>>,
) -> SimClient {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut driver = Driver {
        sim: SimClient::new(client_id("sim")),
        ws: None,
        addr: addr.to_string(),
        doc: doc.to_string(),
        token: token.to_string(),
    };
    driver.connect(true).await;
    driver.pump(Duration::from_millis(200)).await;
    for _ in 0..n_actions {
        driver.random_action(&mut rng).await;
        let delay = Duration::from_millis(rng.random_range(0..15));
        driver.pump(delay).await;
    }
    if driver.ws.is_none() {
        driver.connect(false).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while driver.sim.has_pending() && tokio::time::Instant::now() < deadline {
        driver.pump(Duration::from_millis(50)).await;
    }
    if driver.sim.has_pending() {
        driver
            .sim
            .problems
            .push("pending ops never acknowledged".into());
    }
    barrier.wait().await;
    let head = loop {
        if let Some(head) = *head_rx.borrow() {
            break head;
        }
        if head_rx.changed().await.is_err() {
            return driver.sim;
        }
    };
    while driver.sim.rev < head && tokio::time::Instant::now() < deadline {
        driver.pump(Duration::from_millis(50)).await;
    }
    driver.sim
}

impl Driver {
    async fn connect(&mut self, first: bool) {
        let Some(mut ws) = try_connect(&self.addr, &self.doc, &self.token).await else {
            return;
        };
        let mut hello = self.sim.hello();
        if first {
            hello["rev"] = Value::Null;
        }
        if futures::SinkExt::send(&mut ws, hello.to_string().into())
            .await
            .is_ok()
        {
            self.ws = Some(ws);
            self.sim.connected();
        }
    }

    async fn send(&mut self, frame: Value) {
        let Some(ws) = self.ws.as_mut() else { return };
        self.sim.note(format!(
            "send {} rev={} seq={}",
            frame["t"], frame["rev"], frame["seq"]
        ));
        if frame["t"] == "op" {
            self.sim.sent_here = true;
        }
        if futures::SinkExt::send(ws, frame.to_string().into())
            .await
            .is_err()
        {
            self.ws = None;
        }
    }

    /// Handles incoming frames for `wait`.
    async fn pump(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Some(ws) = self.ws.as_mut() else {
                tokio::time::sleep_until(deadline).await;
                return;
            };
            let message =
                match tokio::time::timeout_at(deadline, futures::StreamExt::next(ws)).await {
                    Err(_) => return,
                    Ok(Some(Ok(message))) => message,
                    Ok(_) => {
                        self.ws = None;
                        continue;
                    }
                };
            let tokio_tungstenite::tungstenite::Message::Text(text) = message else {
                continue;
            };
            let frame: Value = serde_json::from_str(&text).expect("JSON frame");
            for reply in self.sim.receive(&frame) {
                self.send(reply).await;
            }
            if std::mem::take(&mut self.sim.wants_resume) {
                self.sim.note("resume after rev_too_old".into());
                self.ws = None;
                self.connect(false).await;
            }
        }
    }

    async fn random_action(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..100) {
            0..60 => {
                let change = random_change(&self.sim.doc, rng).chopped();
                if change.is_empty() {
                    return;
                }
                if let Some(frame) = self.sim.edit(change) {
                    self.send(frame).await;
                }
            }
            // Dropping the socket right after sending is how acks get lost.
            60..66 => {
                self.sim.note("drop socket".into());
                self.ws = None;
            }
            66..74 if self.ws.is_none() => self.connect(false).await,
            74..80 => {
                if let Some(frame) = self.sim.outstanding_frame() {
                    self.send(frame).await;
                }
            }
            _ => {}
        }
    }
}

const SNIPPETS: [&str; 10] = [
    "a",
    "hé",
    "e\u{301}",
    "😀",
    "👩\u{200d}👩\u{200d}👧",
    "中文",
    " ",
    "\n",
    "xyz",
    "ß",
];

/// A random valid change of `doc`: an insert, a delete or a format over code-point boundaries, never touching
/// the final newline. Inserts land at the start a quarter of the time, so concurrent ties are common.
pub fn random_change(doc: &Delta, rng: &mut StdRng) -> Delta {
    let text = doc.text();
    let mut bounds = vec![0u64];
    for ch in text.chars() {
        bounds.push(bounds[bounds.len() - 1] + ch.len_utf16() as u64);
    }
    let len = *bounds.last().unwrap_or(&1);
    // Boundaries strictly before the final newline.
    let inner: Vec<u64> = bounds.iter().copied().filter(|b| *b < len).collect();
    let pick = |rng: &mut StdRng| inner[rng.random_range(0..inner.len())];
    match rng.random_range(0..10) {
        0..5 => {
            let at = if rng.random_bool(0.25) { 0 } else { pick(rng) };
            let snippet = SNIPPETS[rng.random_range(0..SNIPPETS.len())];
            let attributes = rng.random_bool(0.2).then(|| attrs("bold", json!(true)));
            Delta::new().retain(at, None).insert(snippet, attributes)
        }
        5..8 if inner.len() > 1 => {
            let (start, end) = ordered(pick(rng), pick(rng));
            let end = if end == start { len - 1 } else { end };
            Delta::new().retain(start, None).delete(end - start)
        }
        _ => {
            let (start, end) = ordered(pick(rng), pick(rng));
            let end = if end == start { len - 1 } else { end };
            let name = if rng.random_bool(0.5) {
                "bold"
            } else {
                "italic"
            };
            let value = if rng.random_bool(0.3) {
                Value::Null
            } else {
                json!(true)
            };
            Delta::new()
                .retain(start, None)
                .retain(end - start, Some(attrs(name, value)))
        }
    }
}

fn ordered(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

fn attrs(name: &str, value: Value) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(name.into(), value);
    map
}

/// Everything the simulation requires: no problems, every client equal to the server, one revision per accepted op.
pub fn divergence(report: &SimReport, server_doc: &Delta, server_rev: u64) -> Option<String> {
    if !report.problems.is_empty() {
        return Some(format!(
            "protocol problems: {:?}",
            &report.problems[..report.problems.len().min(5)]
        ));
    }
    if let Some(idx) = report.docs.iter().position(|doc| doc != server_doc) {
        return Some(format!(
            "client {idx} diverged:\n client: {:?}\n server: {:?}",
            report.docs[idx].text(),
            server_doc.text()
        ));
    }
    // Every revision is an acknowledged op, or one given up in flight at a reset that may have committed.
    if !(report.n_acked..=report.n_acked + report.n_given_up).contains(&server_rev) {
        return Some(format!(
            "{} acknowledged ops ({} more given up at resets) but {server_rev} revisions",
            report.n_acked, report.n_given_up
        ));
    }
    None
}

pub fn content_delta(content: &Value) -> (Delta, u64) {
    (
        delta(&content["ops"]),
        content["rev"].as_u64().expect("rev"),
    )
}
