//! Cluster mode (issue 12): which member a socket landed on, the spread of documents over the members, the
//! extra time of a redirected join, and each member's CPU and RSS read from `/proc`.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    rc::Rc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use super::{procfs, run::summary};

/// `scheme://host:port` of a URL: what names a member (redirect URLs carry the owner's advertised origin).
pub fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    url[after..]
        .find('/')
        .map_or(url, |end| &url[..after + end])
}

/// Each pid's CPU seconds so far (`None`: the process is gone).
pub fn cpu(pids: &[u32]) -> Vec<Option<f64>> {
    pids.iter()
        .map(|pid| procfs::cpu_seconds(&pid.to_string()))
        .collect()
}

/// Each pid's RSS in bytes.
pub fn rss(pids: &[u32]) -> Vec<Option<u64>> {
    pids.iter()
        .map(|pid| procfs::rss_bytes(&pid.to_string()))
        .collect()
}

/// The largest RSS of each pid, sampled every 250 ms from `from` until `until` (as for the single server).
pub fn rss_max(pids: &[u32], from: Instant, until: Instant) -> Rc<RefCell<Vec<u64>>> {
    let max = Rc::new(RefCell::new(vec![0; pids.len()]));
    let (out, pids) = (max.clone(), pids.to_vec());
    tokio::task::spawn_local(async move {
        let mut at = from;
        while at < until {
            tokio::time::sleep_until(at.into()).await;
            for (m, v) in out.borrow_mut().iter_mut().zip(rss(&pids)) {
                *m = (*m).max(v.unwrap_or(0));
            }
            at += Duration::from_millis(250);
        }
    });
    max
}

/// What the members used over a run; CPU over the window of `elapsed` seconds.
pub struct Usage {
    pub rss_before: Vec<Option<u64>>,
    pub rss_connected: Vec<Option<u64>>,
    pub rss_max: Vec<u64>,
    pub cpu_start: Vec<Option<f64>>,
    pub cpu_end: Vec<Option<f64>>,
    pub elapsed: f64,
    /// The whole box's and the generator's CPU % over the same window.
    pub box_cpu: Option<f64>,
    pub self_cpu: Option<f64>,
}

/// How the joins went: every client's landing (document index, node), redirects followed, join times (µs).
pub struct Joins<'a> {
    pub landed: &'a [(usize, String)],
    pub redirects: u64,
    pub direct: &'a mut [u32],
    pub redirected: &'a mut [u32],
}

/// The `cluster` part of the report: one row per member in the order given, plus any node a client landed on
/// that was not given (an advertised URL that differs from the one entered would show up there).
pub fn report(nodes: &[String], pids: &[u32], joins: Joins<'_>, usage: &Usage) -> Value {
    let mut docs: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    let mut connections: BTreeMap<&str, u64> = BTreeMap::new();
    let mut homes: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    for (doc, node) in joins.landed {
        docs.entry(node).or_default().insert(*doc);
        *connections.entry(node).or_default() += 1;
        homes.entry(*doc).or_default().insert(node);
    }
    let mb = |b: Option<u64>| b.map(|b| (b as f64 / 1048576.0 * 10.0).round() / 10.0);
    let pct = |i: usize| match (usage.cpu_start.get(i)?, usage.cpu_end.get(i)?) {
        (Some(a), Some(b)) => Some(((b - a) / usage.elapsed * 1000.0).round() / 10.0),
        _ => None,
    };
    let mut names: Vec<&str> = nodes.iter().map(String::as_str).collect();
    names.extend(docs.keys().filter(|n| !nodes.iter().any(|m| m == *n)));
    let rows: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, node)| {
            json!({
                "node": node,
                "pid": pids.get(i),
                "docs": docs.get(node).map_or(0, BTreeSet::len),
                "connections": connections.get(node).copied().unwrap_or(0),
                "cpu_pct": pct(i),
                "rss_mb_before_connect": mb(usage.rss_before.get(i).copied().flatten()),
                "rss_mb_connected": mb(usage.rss_connected.get(i).copied().flatten()),
                "rss_mb_max_window": mb(usage.rss_max.get(i).copied().filter(|&v| v > 0)),
            })
        })
        .collect();
    let nodes_cpu: Option<f64> = match pids.len() {
        0 => None,
        n => (0..n).map(pct).sum(),
    };
    // Whatever else ran: ZooKeeper, PostgreSQL, other processes and the kernel's network work.
    let foreign = match (usage.box_cpu, nodes_cpu, usage.self_cpu) {
        (Some(b), Some(n), Some(s)) => Some(((b - n - s) * 10.0).round() / 10.0),
        _ => None,
    };
    let direct = summary(joins.direct);
    let redirected = summary(joins.redirected);
    let extra = match (direct["p50"].as_f64(), redirected["p50"].as_f64()) {
        (Some(d), Some(r)) => Some(((r - d) * 100.0).round() / 100.0),
        _ => None,
    };
    json!({
        "nodes": rows,
        "redirects_followed": joins.redirects,
        "docs_on_several_nodes": homes.values().filter(|h| h.len() > 1).count(),
        "join_direct_ms": direct,
        "join_redirected_ms": redirected,
        "redirect_extra_p50_ms": extra,
        "nodes_cpu_pct": nodes_cpu.map(|c| (c * 10.0).round() / 10.0),
        "foreign_cpu_pct": foreign,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_of_a_url_is_its_scheme_host_and_port() {
        let url = "ws://127.0.0.1:8081/api/docs/x/ws?ticket=a/b";
        assert_eq!(origin(url), "ws://127.0.0.1:8081");
        assert_eq!(origin("ws://127.0.0.1:8081"), "ws://127.0.0.1:8081");
    }
}
