//! The workload of research/perf.md section 3: D documents x C clients, joined 25 at a time, each typing CHARS
//! characters every 1/RATE s (random phase) with one op in flight and the keystrokes typed meanwhile composed,
//! each transforming its ops with the client rules of PROTOCOL.md section 2 and keeping its view's length;
//! warm-up, window, drain.

use std::{
    cell::{Cell, RefCell},
    collections::BTreeMap,
    rc::Rc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use futures::{SinkExt, StreamExt};
use quire::ot::{Attributes, Delta};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use serde_json::Value;
use tokio::sync::{Notify, Semaphore, watch};
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

use super::{cluster, procfs, stamped::StampedTcp, wire};

/// The editor's keepalive period (web/src/connection.js `PING_MS`).
const PING_EVERY: Duration = Duration::from_secs(20);
/// Redirects followed in a row before a join gives up, as the browser client bounds them (a loop is a bug).
const MAX_REDIRECTS: u32 = 3;

/// What to run.
#[derive(Debug, Clone)]
pub struct Workload {
    pub scenario: String,
    pub docs: usize,
    pub clients: usize,
    pub rate: f64,
    pub chars: usize,
    pub bold: f64,
    pub warmup: f64,
    pub window: f64,
    pub drain: f64,
    pub prefill: u64,
    pub idle: bool,
    pub seed: u64,
    pub join_concurrency: usize,
}

/// Where to run it: `ws_base` is `ws://host:port`; without a token the documents are not created through the
/// API but named `bench-N` (the echo fixture accepts any).
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: String,
    pub http_base: Option<String>,
    pub ws_base: String,
    pub token: Option<String>,
    pub server_pid: Option<u32>,
    /// The `metrics.token` of a spawned server, for its commits per window (ops per transaction).
    pub metrics_token: Option<String>,
    /// Cluster mode: every member's `ws://host:port`, entered round-robin as a load balancer would; empty for
    /// one server.
    pub nodes: Vec<String>,
    /// The members' pids in the order of `nodes`, for their CPU and RSS; empty when not given.
    pub node_pids: Vec<u32>,
}

impl Target {
    /// Where connection (or request) number `index` enters.
    pub fn entry(&self, index: usize) -> &str {
        match self.nodes.len() {
            0 => &self.ws_base,
            n => &self.nodes[index % n],
        }
    }

    /// The HTTP base for API request number `index`: any member serves the JSON API.
    fn http_entry(&self, index: usize) -> Option<String> {
        match self.nodes.len() {
            0 => self.http_base.clone(),
            _ => Some(self.entry(index).replacen("ws://", "http://", 1)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct SentOp {
    sent: Instant,
    first_key: Instant,
    keys: u32,
    in_window: bool,
    deliveries: u32,
    acked: bool,
}

#[derive(Debug, Default)]
struct Shared {
    sent: Vec<Vec<SentOp>>,
    remote: Vec<u32>,
    key_to_remote: Vec<u32>,
    ack: Vec<u32>,
    join: Vec<u32>,
    /// Join times of the clients that entered at the owner, and of those redirected there (cluster mode).
    join_direct: Vec<u32>,
    join_redirected: Vec<u32>,
    redirects: u64,
    /// (document index, the node a client finally landed on), cluster mode.
    landed: Vec<(usize, String)>,
    errors: BTreeMap<String, u64>,
    joined: usize,
    failed_joins: usize,
    closed_early: usize,
    rev_mismatches: u64,
    apply_errors: u64,
    /// Ops and acks received, and how many of them the kernel stamped with their arrival (`stamped.rs`).
    received: u64,
    stamped: u64,
}

impl Shared {
    fn count_arrival(&mut self, stamped: bool) {
        self.received += 1;
        self.stamped += u64::from(stamped);
    }

    fn error(&mut self, what: impl Into<String>) {
        *self.errors.entry(what.into()).or_default() += 1;
    }
}

#[derive(Debug, Clone, Copy)]
struct Times {
    start: Instant,
    window_start: Instant,
    window_end: Instant,
    stop: Instant,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

type Ws = tokio_tungstenite::WebSocketStream<StampedTcp>;

async fn connect(target: &Target, url: &str) -> Result<Ws> {
    let mut request = url.into_client_request()?;
    // Sent on redirects too, as the browser would: harmless there, the ticket is what counts.
    if let Some(token) = &target.token {
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}"))?,
        );
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .max_message_size(Some(256 << 20));
    let uri = request.uri();
    if uri.scheme_str() != Some("ws") {
        anyhow::bail!("{url}: the generator speaks ws:// only");
    }
    let addr = format!(
        "{}:{}",
        uri.host().context("a URL without a host")?,
        uri.port_u16().unwrap_or(80)
    );
    let tcp = StampedTcp::connect(&addr)
        .await
        .with_context(|| format!("connect {url}"))?;
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
        .await
        .with_context(|| format!("connect {url}"))?;
    Ok(ws)
}

/// When the frame just read reached this machine, and whether the kernel said so (else: now, the loop's time).
fn arrival(ws: &Ws) -> (Instant, bool) {
    let now = Instant::now();
    match ws.get_ref().arrived(now) {
        Some(at) => (at, true),
        None => (now, false),
    }
}

/// What a node answers to `hello`.
enum Answer {
    /// head, document
    Welcome(u64, wire::View),
    /// The document lives on another node: this URL, with a ticket.
    Redirect(String),
}

/// Sends `hello` and reads up to `welcome` or `redirect`.
async fn join(ws: &mut Ws, client: &str) -> Result<Answer> {
    ws.send(Message::text(wire::hello(client))).await?;
    while let Some(message) = ws.next().await {
        if let Message::Text(text) = message? {
            let Some(fields) = wire::scan(&text) else {
                continue;
            };
            match fields.t {
                "welcome" => {
                    let head = fields.head.unwrap_or(0);
                    let view = fields
                        .snapshot
                        .and_then(wire::parse_snapshot)
                        .unwrap_or_default();
                    return Ok(Answer::Welcome(head, view));
                }
                "redirect" => {
                    let url = fields.url.context("redirect without a url")?;
                    return Ok(Answer::Redirect(url.to_string()));
                }
                "error" => anyhow::bail!("join refused: {text}"),
                _ => {}
            }
        }
    }
    anyhow::bail!("closed before welcome")
}

/// A socket that has its `welcome`, and how it got there.
pub struct Entered {
    pub ws: Ws,
    pub head: u64,
    pub view: wire::View,
    /// The `ws://host:port` that welcomed it.
    pub node: String,
    pub redirects: u32,
}

/// Joins `doc` through `entry` (`ws://host:port`) and follows redirects as the browser client does: connect
/// to the URL given, then `hello` again there.
pub async fn enter(target: &Target, entry: &str, doc: &str, client: &str) -> Result<Entered> {
    let mut url = format!("{entry}/api/docs/{doc}/ws");
    for redirects in 0..=MAX_REDIRECTS {
        let mut ws = connect(target, &url).await?;
        match join(&mut ws, client).await? {
            Answer::Welcome(head, view) => {
                let node = cluster::origin(&url).to_string();
                return Ok(Entered {
                    ws,
                    head,
                    view,
                    node,
                    redirects,
                });
            }
            Answer::Redirect(to) => url = to,
        }
    }
    anyhow::bail!("more than {MAX_REDIRECTS} redirects in a row (last to {url})")
}

/// One op of `chars` characters in 50-character runs alternating plain and bold, inserted before the final
/// newline, acked before returning.
async fn prefill(target: &Target, doc: &str, chars: u64) -> Result<()> {
    let client = wire::client_id(99_999_999, 0xfeed);
    let Entered { mut ws, head, .. } = enter(target, target.entry(0), doc, &client).await?;
    let mut delta = Delta::new();
    let mut bold = Attributes::new();
    bold.insert("bold".into(), Value::Bool(true));
    let mut left = chars;
    let mut n = 0u64;
    while left > 0 {
        let run = left.min(50);
        let text: String = (0..run)
            .map(|i| (b'a' + ((n + i) % 26) as u8) as char)
            .collect();
        delta = delta.insert(text, (n / 50 % 2 == 1).then(|| bold.clone()));
        left -= run;
        n += run;
    }
    ws.send(Message::text(wire::op(head, 1, &delta))).await?;
    while let Some(message) = ws.next().await {
        if let Message::Text(text) = message? {
            match wire::scan(&text).map(|f| f.t) {
                Some("ack") => {
                    let _ = ws.close(None).await;
                    return Ok(());
                }
                Some("error") => anyhow::bail!("prefill refused: {text}"),
                _ => {}
            }
        }
    }
    anyhow::bail!("closed before the prefill ack")
}

struct Pending {
    delta: Delta,
    keys: u32,
    first_key: Instant,
}

struct Outstanding {
    delta: Delta,
    seq: u64,
}

/// One simulated editor.
#[allow(clippy::too_many_arguments)]
async fn client(
    index: usize,
    doc_id: String,
    target: Rc<Target>,
    work: Rc<Workload>,
    shared: Rc<RefCell<Shared>>,
    gate: Rc<Semaphore>,
    joined: Rc<Notify>,
    mut start: watch::Receiver<Option<Times>>,
) {
    let client_id = wire::client_id(
        index,
        work.seed.wrapping_mul(31).wrapping_add(index as u64) | 1 << 60,
    );
    let permit = gate.acquire().await;
    let began = Instant::now();
    let entered = enter(&target, target.entry(index), &doc_id, &client_id).await;
    drop(permit);
    let (mut ws, mut rev, mut view) = {
        let mut s = shared.borrow_mut();
        s.joined += 1;
        joined.notify_one();
        match entered {
            Ok(e) => {
                let took = micros(began.elapsed());
                s.join.push(took);
                if !target.nodes.is_empty() {
                    s.redirects += u64::from(e.redirects);
                    match e.redirects {
                        0 => s.join_direct.push(took),
                        _ => s.join_redirected.push(took),
                    }
                    s.landed.push((index / work.clients, e.node));
                }
                (e.ws, e.head, e.view)
            }
            Err(err) => {
                s.failed_joins += 1;
                s.error(format!("join: {err:#}"));
                return;
            }
        }
    };
    let Ok(times) = start
        .wait_for(Option::is_some)
        .await
        .map(|t| t.expect("set"))
    else {
        return;
    };
    let mut rng =
        SmallRng::seed_from_u64(work.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let period = Duration::from_secs_f64(1.0 / work.rate);
    let mut next_key = times.start + period.mul_f64(rng.random::<f64>());
    let mut bold = Attributes::new();
    bold.insert("bold".into(), Value::Bool(true));
    let typing = !work.idle;
    let key_timer = tokio::time::sleep_until(next_key.into());
    let stop_timer = tokio::time::sleep_until(times.stop.into());
    let resend_timer = tokio::time::sleep_until(times.stop.into());
    // Pings as the editor does, so that the server's idle timeout (`limits.idle_timeout`) leaves idle clients be.
    let ping_timer = tokio::time::sleep(PING_EVERY);
    tokio::pin!(key_timer, stop_timer, resend_timer, ping_timer);
    let mut resend_armed = false;
    let mut seq = 0u64;
    let mut outstanding: Option<Outstanding> = None;
    let mut buffer: Option<Pending> = None;
    let mut send_now = false;
    loop {
        tokio::select! {
            biased;
            () = &mut stop_timer => break,
            () = &mut key_timer, if typing => {
                let now = Instant::now();
                let pos = rng.random_range(0..view.len.max(1));
                let text: String = (0..work.chars)
                    .map(|_| b"abcdefghijklmnopqrstuvwxyz "[rng.random_range(0..27usize)] as char)
                    .collect();
                let attrs = rng.random_bool(work.bold).then(|| bold.clone());
                let change = Delta::new().retain(pos, None).insert(text, attrs);
                if !view.apply(&change) {
                    shared.borrow_mut().apply_errors += 1;
                }
                buffer = Some(match buffer.take() {
                    Some(b) => Pending { delta: b.delta.compose(&change), keys: b.keys + 1, first_key: b.first_key },
                    None => Pending { delta: change, keys: 1, first_key: now },
                });
                next_key += period;
                key_timer.as_mut().reset(next_key.into());
                send_now = outstanding.is_none();
            }
            () = &mut ping_timer => {
                ping_timer.as_mut().reset(tokio::time::Instant::now() + PING_EVERY);
                if ws.send(Message::text(r#"{"t":"ping"}"#)).await.is_err() {
                    shared.borrow_mut().closed_early += 1;
                    return;
                }
            }
            () = &mut resend_timer, if resend_armed => {
                resend_armed = false;
                if let Some(o) = &outstanding {
                    let frame = wire::op(rev, o.seq, &o.delta);
                    if ws.send(Message::text(frame)).await.is_err() {
                        shared.borrow_mut().closed_early += 1;
                        return;
                    }
                }
            }
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        shared.borrow_mut().closed_early += 1;
                        return;
                    }
                    Some(Ok(_)) => continue,
                };
                let Some(f) = wire::scan(&text) else {
                    shared.borrow_mut().error("unparsable frame");
                    continue;
                };
                match f.t {
                    "op" => {
                        let Some(mut s) = f.op.and_then(wire::parse_delta) else {
                            shared.borrow_mut().error("unparsable op");
                            continue;
                        };
                        let (now, stamped) = arrival(&ws);
                        let mut sh = shared.borrow_mut();
                        sh.count_arrival(stamped);
                        if f.rev != Some(rev) {
                            sh.rev_mismatches += 1;
                        }
                        rev = f.rev.unwrap_or(rev) + 1;
                        if let Some(o) = outstanding.as_mut() {
                            let o2 = s.transform(&o.delta, true);
                            let s1 = o.delta.transform(&s, false);
                            o.delta = o2;
                            s = s1;
                        }
                        if let Some(b) = buffer.as_mut() {
                            let b2 = s.transform(&b.delta, true);
                            let s2 = b.delta.transform(&s, false);
                            b.delta = b2;
                            s = s2;
                        }
                        if !view.apply(&s) {
                            sh.apply_errors += 1;
                        }
                        if let (Some(author), Some(seq)) = (f.client.and_then(wire::client_index), f.seq) {
                            let sh = &mut *sh;
                            let sent = sh.sent.get_mut(author).and_then(|v| v.get_mut((seq as usize).wrapping_sub(1)));
                            if let Some(op) = sent.filter(|op| op.in_window) {
                                op.deliveries += 1;
                                sh.remote.push(micros(now - op.sent));
                                sh.key_to_remote.push(micros(now - op.first_key));
                            }
                        }
                    }
                    "ack" => {
                        let (now, stamped) = arrival(&ws);
                        if let Some(o) = outstanding.take_if(|o| Some(o.seq) == f.seq) {
                            rev = f.rev.unwrap_or(rev) + 1;
                            let mut sh = shared.borrow_mut();
                            let sh = &mut *sh;
                            sh.count_arrival(stamped);
                            if let Some(op) = sh.sent[index].get_mut(o.seq as usize - 1) {
                                op.acked = true;
                                if op.in_window {
                                    sh.ack.push(micros(now - op.sent));
                                }
                            }
                            send_now = buffer.is_some();
                        } else {
                            shared.borrow_mut().error("unexpected ack");
                        }
                    }
                    "error" => {
                        let code = f.code.unwrap_or("?");
                        shared.borrow_mut().error(format!("server error {code}"));
                        if matches!(code, "rate_limited" | "internal") && outstanding.is_some() {
                            resend_timer.as_mut().reset((Instant::now() + Duration::from_millis(100)).into());
                            resend_armed = true;
                        } else if outstanding.as_ref().is_some_and(|o| Some(o.seq) == f.seq) {
                            // Not retryable: give the op up and go on typing.
                            outstanding = None;
                            send_now = buffer.is_some();
                        }
                    }
                    _ => {}
                }
            }
        }
        if send_now {
            send_now = false;
            if let (None, Some(pending)) = (&outstanding, buffer.take()) {
                seq += 1;
                let frame = wire::op(rev, seq, &pending.delta);
                let now = Instant::now();
                shared.borrow_mut().sent[index].push(SentOp {
                    sent: now,
                    first_key: pending.first_key,
                    keys: pending.keys,
                    in_window: now >= times.window_start && now < times.window_end,
                    deliveries: 0,
                    acked: false,
                });
                outstanding = Some(Outstanding {
                    delta: pending.delta,
                    seq,
                });
                if ws.send(Message::text(frame)).await.is_err() {
                    shared.borrow_mut().closed_early += 1;
                    return;
                }
            }
        }
    }
    let _ = ws.close(None).await;
}

/// Latency summary in milliseconds.
pub fn summary(samples: &mut [u32]) -> Value {
    samples.sort_unstable();
    let pick = |q: f64| {
        if samples.is_empty() {
            return Value::Null;
        }
        let at = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        serde_json::json!((f64::from(samples[at]) / 10.0).round() / 100.0)
    };
    let mean = if samples.is_empty() {
        0.0
    } else {
        samples.iter().map(|&v| f64::from(v)).sum::<f64>() / samples.len() as f64 / 1000.0
    };
    serde_json::json!({
        "n": samples.len(),
        "p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "p999": pick(0.999), "max": pick(1.0),
        "mean": (mean * 100.0).round() / 100.0,
    })
}

/// The scenario's documents: created through the API (25 requests at a time, round-robin over a cluster's
/// members), or just named for the echo fixture.
pub async fn create_docs(target: &Target, work: &Workload) -> Result<Vec<String>> {
    let Some(token) = &target.token else {
        return Ok((0..work.docs)
            .map(|i| format!("bench-{}-{i}", work.seed))
            .collect());
    };
    let mut doc_ids = Vec::with_capacity(work.docs);
    for first in (0..work.docs).step_by(25) {
        let batch: Vec<_> = (first..work.docs.min(first + 25))
            .map(|i| {
                let title = format!("bench {} #{i}", work.scenario);
                let base = target.http_entry(i);
                async move {
                    let base = base.context("no HTTP base to create documents")?;
                    super::http::create_doc(&base, token, &title).await
                }
            })
            .collect();
        for id in futures::future::join_all(batch).await {
            doc_ids.push(id?);
        }
    }
    Ok(doc_ids)
}

/// Runs the workload and returns the JSON report.
pub async fn run(target: Target, work: Workload) -> Result<Value> {
    let total = work.docs * work.clients;
    let server_pid = target.server_pid.map(|p| p.to_string());
    let rss = |pid: &Option<String>| pid.as_deref().and_then(procfs::rss_bytes);
    let load_before = procfs::loadavg();
    eprintln!(
        "quire-bench: {} ({} docs x {} clients) against {} [load {load_before}]",
        work.scenario, work.docs, work.clients, target.kind
    );

    // Documents.
    let setup = Instant::now();
    let doc_ids = create_docs(&target, &work).await?;
    if work.prefill > 0 {
        for id in &doc_ids {
            prefill(&target, id, work.prefill).await?;
        }
    }
    let setup_s = setup.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss(&server_pid);
    let nodes_rss_before = cluster::rss(&target.node_pids);

    // Join: `join_concurrency` at a time, all before typing.
    let shared = Rc::new(RefCell::new(Shared {
        sent: (0..total).map(|_| Vec::new()).collect(),
        ..Shared::default()
    }));
    let gate = Rc::new(Semaphore::new(work.join_concurrency.max(1)));
    let joined = Rc::new(Notify::new());
    let (start_tx, start_rx) = watch::channel(None);
    let (target_rc, work_rc) = (Rc::new(target.clone()), Rc::new(work.clone()));
    let join_began = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for index in 0..total {
        tasks.push(tokio::task::spawn_local(client(
            index,
            doc_ids[index / work.clients].clone(),
            target_rc.clone(),
            work_rc.clone(),
            shared.clone(),
            gate.clone(),
            joined.clone(),
            start_rx.clone(),
        )));
    }
    while shared.borrow().joined < total {
        joined.notified().await;
    }
    let join_all_s = join_began.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = rss(&server_pid);
    let nodes_rss_connected = cluster::rss(&target.node_pids);
    let connected = total - shared.borrow().failed_joins;
    eprintln!("quire-bench: {connected}/{total} joined in {join_all_s:.1} s; typing");

    // Type: warm-up, window, drain.
    let now = Instant::now();
    let start = now + Duration::from_millis(100);
    let window_start = start + Duration::from_secs_f64(work.warmup);
    let window_end = window_start + Duration::from_secs_f64(work.window);
    let stop = window_end + Duration::from_secs_f64(work.drain);
    start_tx.send_replace(Some(Times {
        start,
        window_start,
        window_end,
        stop,
    }));

    let lag = Rc::new(RefCell::new(Vec::<u32>::new()));
    {
        let lag = lag.clone();
        tokio::task::spawn_local(async move {
            let tick = Duration::from_millis(5);
            let mut at = window_start;
            while at + tick < window_end {
                at += tick;
                tokio::time::sleep_until(at.into()).await;
                lag.borrow_mut()
                    .push(micros(Instant::now().saturating_duration_since(at)));
            }
        });
    }
    let rss_max = Rc::new(Cell::new(0u64));
    {
        let (rss_max, pid) = (rss_max.clone(), server_pid.clone());
        tokio::task::spawn_local(async move {
            let mut at = window_start;
            while at < window_end {
                tokio::time::sleep_until(at.into()).await;
                if let Some(v) = pid.as_deref().and_then(procfs::rss_bytes) {
                    rss_max.set(rss_max.get().max(v));
                }
                at += Duration::from_millis(250);
            }
        });
    }
    let nodes_rss_max = cluster::rss_max(&target.node_pids, window_start, window_end);
    let commits = |base: Option<String>| {
        let token = target.metrics_token.clone();
        async move { crate::http::commit_totals(&base?, &token?).await }
    };
    tokio::time::sleep_until(window_start.into()).await;
    let commits0 = commits(target.http_base.clone()).await;
    let nodes_cpu0 = cluster::cpu(&target.node_pids);
    let cpu0 = (
        server_pid.as_deref().and_then(procfs::cpu_seconds),
        procfs::cpu_seconds("self"),
        procfs::box_busy_seconds(),
        Instant::now(),
    );
    tokio::time::sleep_until(window_end.into()).await;
    let commits1 = commits(target.http_base.clone()).await;
    let nodes_cpu1 = cluster::cpu(&target.node_pids);
    let cpu1 = (
        server_pid.as_deref().and_then(procfs::cpu_seconds),
        procfs::cpu_seconds("self"),
        procfs::box_busy_seconds(),
        Instant::now(),
    );
    let load_after = procfs::loadavg();
    for task in tasks {
        let _ = task.await;
    }

    // Report.
    let elapsed = (cpu1.3 - cpu0.3).as_secs_f64();
    let pct = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(((b - a) / elapsed * 1000.0).round() / 10.0),
        _ => None,
    };
    let server_cpu = pct(cpu0.0, cpu1.0);
    let self_cpu = pct(cpu0.1, cpu1.1);
    let box_cpu = pct(cpu0.2, cpu1.2);
    let foreign_cpu = box_cpu
        .map(|b| ((b - server_cpu.unwrap_or(0.0) - self_cpu.unwrap_or(0.0)) * 10.0).round() / 10.0);
    let mut sh = shared.borrow_mut();
    let receivers = (work.clients - 1) as u64;
    let (mut ops, mut acked, mut keys, mut delivered, mut expected, mut total_sent) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    for per_client in &sh.sent {
        total_sent += per_client.len() as u64;
        for op in per_client.iter().filter(|o| o.in_window) {
            ops += 1;
            keys += u64::from(op.keys);
            acked += u64::from(op.acked);
            delivered += u64::from(op.deliveries);
            expected += receivers;
        }
    }
    let window = work.window;
    let mb = |b: Option<u64>| b.map(|b| (b as f64 / 1048576.0 * 10.0).round() / 10.0);
    let per_conn_kb = match (rss_before, rss_connected) {
        (Some(a), Some(b)) if connected > 0 => {
            Some(((b as f64 - a as f64) / connected as f64 / 1024.0 * 10.0).round() / 10.0)
        }
        _ => None,
    };
    let r2 = |v: f64| (v * 100.0).round() / 100.0;
    // The group committer's transactions in the window, and ops per transaction (all ops, not only measured ones).
    let (commits_per_s, ops_per_commit) = match (commits0, commits1) {
        (Some((c0, o0)), Some((c1, o1))) if c1 > c0 => (
            Some(r2((c1 - c0) / window)),
            Some(r2((o1 - o0) / (c1 - c0))),
        ),
        _ => (None, None),
    };
    let cluster = (!target.nodes.is_empty()).then(|| {
        let usage = cluster::Usage {
            rss_before: nodes_rss_before,
            rss_connected: nodes_rss_connected,
            rss_max: nodes_rss_max.borrow().clone(),
            cpu_start: nodes_cpu0,
            cpu_end: nodes_cpu1,
            elapsed,
            box_cpu,
            self_cpu,
        };
        let sh = &mut *sh;
        let joins = cluster::Joins {
            landed: &sh.landed,
            redirects: sh.redirects,
            direct: &mut sh.join_direct,
            redirected: &mut sh.join_redirected,
        };
        cluster::report(&target.nodes, &target.node_pids, joins, &usage)
    });
    let mut report = serde_json::json!({
        "scenario": work.scenario,
        "target": target.kind,
        "docs": work.docs, "clients_per_doc": work.clients, "connections": total,
        "rate": work.rate, "chars": work.chars, "bold": work.bold, "idle": work.idle, "prefill_chars": work.prefill,
        "warmup_s": work.warmup, "window_s": window, "drain_s": work.drain,
        "load_before": load_before, "load_after": load_after,
        "setup_s": r2(setup_s), "join_all_s": r2(join_all_s),
        "connected": connected, "failed_joins": sh.failed_joins, "closed_early": sh.closed_early,
        "still_connected": connected - sh.closed_early,
        "offered_keys_per_s": work.docs as f64 * work.clients as f64 * if work.idle { 0.0 } else { work.rate },
        "ops_sent_in_window": ops, "ops_sent_total": total_sent,
        "ops_acked_per_s": r2(acked as f64 / window),
        "keys_per_op": if ops > 0 { r2(keys as f64 / ops as f64) } else { 0.0 },
        "deliveries_per_s": r2(delivered as f64 / window),
        "deliveries": delivered, "deliveries_expected": expected,
        "completeness": if expected > 0 { (delivered as f64 / expected as f64 * 1e6).round() / 1e6 } else { 1.0 },
        "acked_fraction": if ops > 0 { (acked as f64 / ops as f64 * 1e6).round() / 1e6 } else { 1.0 },
        "remote_ms": summary(&mut sh.remote),
        "ack_ms": summary(&mut sh.ack),
        "key_to_remote_ms": summary(&mut sh.key_to_remote),
        "join_ms": summary(&mut sh.join),
        "loadgen_lag_ms": summary(&mut lag.borrow_mut()),
        "arrivals_stamped": (sh.received > 0).then(|| (sh.stamped as f64 / sh.received as f64 * 1e4).round() / 1e4),
        "server_pid": target.server_pid,
        "server_cpu_pct": server_cpu,
        "loadgen_cpu_pct": self_cpu,
        "box_cpu_pct": box_cpu,
        "foreign_cpu_pct": foreign_cpu,
        "server_rss_mb_before_connect": mb(rss_before),
        "server_rss_mb_connected": mb(rss_connected),
        "server_rss_mb_max_window": mb(Some(rss_max.get()).filter(|&v| v > 0)),
        "rss_kb_per_connection": per_conn_kb,
        "commits_per_s": commits_per_s,
        "ops_per_commit": ops_per_commit,
        "rev_mismatches": sh.rev_mismatches,
        "apply_errors": sh.apply_errors,
        "errors": sh.errors,
        "cluster": cluster,
    });
    report["server_cpu_us_per_delivery"] =
        serde_json::json!(crate::verdict::cpu_us_per_delivery(&report));
    report["verdict"] = crate::verdict::of(&report);
    Ok(report)
}
