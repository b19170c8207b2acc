//! Failover (`--cluster ... --kill-node N`): one typist per document, each entering the cluster round-robin and
//! entering again through the next member whenever its socket drops; after the warm-up member N is killed with
//! SIGKILL, and each document it served is timed from the kill until one of its edits is acknowledged again by
//! another member.

use std::{
    cell::RefCell,
    collections::BTreeMap,
    rc::Rc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use futures::{SinkExt, StreamExt};
use quire::ot::Delta;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::{
    run::{self, Entered, Target, Workload, summary},
    wire,
};

/// Pause before entering again after a failed attempt. Short and fixed (the browser backs off more), so that
/// what is measured is the cluster's failover, not a client's backoff.
const RETRY: Duration = Duration::from_millis(50);

#[derive(Debug, Default)]
struct DocState {
    /// The member whose welcome the current (or last) session got.
    node: Option<String>,
    sessions: u32,
    /// The first acknowledgement after the kill: how long after it, and from which member.
    back: Option<(Duration, String)>,
}

#[derive(Debug, Default)]
struct State {
    docs: Vec<DocState>,
    killed: Option<Instant>,
    /// What went wrong on the way (connection refused, closed before welcome, server error codes...), counted.
    events: BTreeMap<String, u64>,
}

impl State {
    fn event(&mut self, what: impl Into<String>) {
        *self.events.entry(what.into()).or_default() += 1;
    }
}

/// Runs the failover measurement against member `victim` (0-based index into `target.nodes`).
pub async fn run(
    target: Target,
    work: Workload,
    victim: usize,
    timeout: Duration,
) -> Result<Value> {
    let victim_node = target
        .nodes
        .get(victim)
        .context("--kill-node is past --cluster")?;
    let victim_pid = *target
        .node_pids
        .get(victim)
        .context("--kill-node needs the members' pids (--cluster-pids)")?;
    let docs = run::create_docs(&target, &work).await?;
    eprintln!(
        "quire-bench: failover, {} documents, killing {victim_node} (pid {victim_pid}) after {} s",
        docs.len(),
        work.warmup
    );
    let state = Rc::new(RefCell::new(State {
        docs: (0..docs.len()).map(|_| DocState::default()).collect(),
        ..State::default()
    }));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (target, period) = (
        Rc::new(target.clone()),
        Duration::from_secs_f64(1.0 / work.rate),
    );
    let tasks: Vec<_> = docs
        .into_iter()
        .enumerate()
        .map(|(i, doc)| {
            let typing = typist(
                i,
                doc,
                target.clone(),
                period,
                state.clone(),
                stop_rx.clone(),
            );
            tokio::task::spawn_local(typing)
        })
        .collect();
    let everyone_in = async {
        while state.borrow().docs.iter().any(|d| d.node.is_none()) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(120), everyone_in)
        .await
        .context("not every typist joined within 120 s")?;
    tokio::time::sleep(Duration::from_secs_f64(work.warmup)).await;

    let affected: Vec<usize> = state
        .borrow()
        .docs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.node.as_deref() == Some(victim_node.as_str()))
        .map(|(i, _)| i)
        .collect();
    let killed = kill(victim_pid)?;
    state.borrow_mut().killed = Some(killed);
    let all_back = async {
        while affected
            .iter()
            .any(|&i| state.borrow().docs[i].back.is_none())
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let timed_out = tokio::time::timeout(timeout, all_back).await.is_err();
    // A little more typing, so that every document that was not affected shows its next ack too.
    tokio::time::sleep(period * 2).await;
    stop_tx.send_replace(true);
    for task in tasks {
        let _ = task.await;
    }
    Ok(report(
        &state.borrow(),
        &affected,
        victim_node,
        victim_pid,
        timed_out,
    ))
}

/// SIGKILL, through kill(1): the generator links no libc of its own. Returns the moment just before the
/// signal, so that what is measured is never shorter than the truth.
fn kill(pid: u32) -> Result<Instant> {
    let at = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()?;
    if !status.success() {
        bail!("kill -KILL {pid} failed: {status}");
    }
    Ok(at)
}

/// One person typing on `doc` for the whole run, entering again whenever the socket drops.
async fn typist(
    index: usize,
    doc: String,
    target: Rc<Target>,
    period: Duration,
    state: Rc<RefCell<State>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut attempt = index;
    let mut session = 0u64;
    while !*stop.borrow() {
        session += 1;
        // A fresh client id per session: this typist does not resume, so it never has to ask what became of an
        // op the dead member may or may not have committed.
        let client = wire::client_id(index, session);
        let entered = tokio::select! {
            e = run::enter(&target, target.entry(attempt), &doc, &client) => e,
            _ = stop.changed() => return,
        };
        attempt += 1;
        match entered {
            Ok(entered) => type_on(entered, index, period, &state, &mut stop).await,
            Err(err) => {
                state.borrow_mut().event(err.root_cause().to_string());
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Types on one session until it ends: an insert at the start every `period`, one op in flight. Inserting at
/// index 0 fits every revision, so no transformation is needed to stay valid.
async fn type_on(
    entered: Entered,
    index: usize,
    period: Duration,
    state: &Rc<RefCell<State>>,
    stop: &mut watch::Receiver<bool>,
) {
    let Entered {
        mut ws, head, node, ..
    } = entered;
    {
        let mut st = state.borrow_mut();
        let doc = &mut st.docs[index];
        doc.node = Some(node.clone());
        doc.sessions += 1;
    }
    let (mut rev, mut seq, mut in_flight) = (head, 0u64, false);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let change = Delta::new().insert("ab", None);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick(), if !in_flight => {
                seq += 1;
                in_flight = true;
                if ws.send(Message::text(wire::op(rev, seq, &change))).await.is_err() {
                    return;
                }
            }
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                let Some(f) = wire::scan(&text) else { continue };
                match f.t {
                    "ack" => {
                        rev = f.rev.unwrap_or(rev) + 1;
                        in_flight = false;
                        acked(state, index, &node);
                    }
                    "op" => rev = rev.max(f.rev.unwrap_or(rev) + 1),
                    "error" => state.borrow_mut().event(format!("server error {}", f.code.unwrap_or("?"))),
                    // Handed off while open: enter again, as the redirect says the same.
                    "redirect" => {
                        state.borrow_mut().event("redirect after welcome");
                        return;
                    }
                    _ => {}
                }
            }
        }
    }
    let _ = ws.close(None).await;
}

fn acked(state: &Rc<RefCell<State>>, index: usize, node: &str) {
    let mut st = state.borrow_mut();
    let Some(killed) = st.killed else { return };
    let doc = &mut st.docs[index];
    if doc.back.is_none() {
        doc.back = Some((killed.elapsed(), node.to_string()));
    }
}

fn report(state: &State, affected: &[usize], victim: &str, pid: u32, timed_out: bool) -> Value {
    let micros = |d: Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
    let (mut back, mut others, mut on_victim) = (Vec::new(), Vec::new(), 0);
    for (i, doc) in state.docs.iter().enumerate() {
        let Some((took, node)) = &doc.back else {
            continue;
        };
        // An ack read after the kill but sent by the victim before it does not count as being back.
        on_victim += usize::from(node == victim);
        match affected.contains(&i) {
            true if node != victim => back.push(micros(*took)),
            true => {}
            false => others.push(micros(*took)),
        }
    }
    let mut after: BTreeMap<&str, usize> = BTreeMap::new();
    for doc in &state.docs {
        *after.entry(doc.node.as_deref().unwrap_or("-")).or_default() += 1;
    }
    let unaffected_reconnected = (0..state.docs.len())
        .filter(|i| !affected.contains(i) && state.docs[*i].sessions > 1)
        .count();
    json!({
        "mode": "failover",
        "victim": victim,
        "victim_pid": pid,
        "docs": state.docs.len(),
        "affected_docs": affected.len(),
        "recovered_docs": back.len(),
        "timed_out": timed_out,
        "failover_ms": summary(&mut back),
        "unaffected_next_ack_ms": summary(&mut others),
        "unaffected_docs_reconnected": unaffected_reconnected,
        "acks_from_victim_after_kill": on_victim,
        "docs_by_node_after": after,
        "events": state.events,
    })
}

/// The failover report as a few lines.
pub fn table(r: &Value) -> String {
    let ms = |v: &Value| {
        format!(
            "p50 {} / p90 {} / max {} ms (n={})",
            v["p50"], v["p90"], v["max"], v["n"]
        )
    };
    let rows = [
        (
            "failover",
            format!(
                "killed {} (pid {}): {} of {} documents affected, {} back{}",
                r["victim"],
                r["victim_pid"],
                r["affected_docs"],
                r["docs"],
                r["recovered_docs"],
                if r["timed_out"] == true {
                    " (timed out)"
                } else {
                    ""
                }
            ),
        ),
        ("kill -> ack", ms(&r["failover_ms"])),
        (
            "unaffected",
            format!(
                "next ack {}; {} reconnected",
                ms(&r["unaffected_next_ack_ms"]),
                r["unaffected_docs_reconnected"]
            ),
        ),
        ("docs by node after", r["docs_by_node_after"].to_string()),
        ("events", r["events"].to_string()),
    ];
    rows.iter()
        .map(|(k, v)| format!("{k:>18}  {v}\n"))
        .collect()
}
