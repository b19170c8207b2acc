//! The consistent-hash ring on paper (issue 12): for clusters of 3 to 100 nodes, how evenly 100,000 document ids
//! spread and how many move when one node joins or leaves. Pure: no ZooKeeper, no server.
//!
//!   cargo run --release --example ring_sim [-- VIRTUAL_NODES]

use std::collections::HashMap;

use quire::cluster::Ring;

const IDS: usize = 100_000;

fn main() {
    let virtual_nodes: u32 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(128);
    let ids: Vec<String> = (0..IDS).map(|i| format!("doc-{i:06}")).collect();
    println!("{IDS} ids, {virtual_nodes} points per node");
    println!("nodes | busiest/fair | emptiest/fair | moved on join (1/N') | moved on leave (1/N)");
    for nodes in [3usize, 5, 10, 30, 100] {
        let members: Vec<String> = (0..nodes).map(|i| format!("node-{i}")).collect();
        let ring = Ring::new(members.clone(), virtual_nodes);
        let (busiest, emptiest) = balance(&ring, &ids, nodes);
        let joined = Ring::new(
            members.iter().cloned().chain(["node-new".to_string()]),
            virtual_nodes,
        );
        let left = Ring::new(members.iter().skip(1).cloned(), virtual_nodes);
        println!(
            "{nodes:5} | {busiest:12.3} | {emptiest:13.3} | {:.4} ({:.4}) | {:.4} ({:.4})",
            moved(&ring, &joined, &ids),
            1.0 / (nodes + 1) as f64,
            moved(&ring, &left, &ids),
            1.0 / nodes as f64
        );
    }
}

/// The busiest and the emptiest member's share, as multiples of a fair share.
fn balance(ring: &Ring, ids: &[String], nodes: usize) -> (f64, f64) {
    let mut load: HashMap<&str, usize> = HashMap::new();
    for id in ids {
        *load.entry(ring.owner(id).unwrap_or("")).or_default() += 1;
    }
    let fair = ids.len() as f64 / nodes as f64;
    let max = load.values().copied().max().unwrap_or(0) as f64;
    let min = if load.len() < nodes {
        0.0
    } else {
        load.values().copied().min().unwrap_or(0) as f64
    };
    (max / fair, min / fair)
}

fn moved(before: &Ring, after: &Ring, ids: &[String]) -> f64 {
    let n = ids
        .iter()
        .filter(|id| before.owner(id) != after.owner(id))
        .count();
    n as f64 / ids.len() as f64
}
