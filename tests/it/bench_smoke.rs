//! Issue 8: a short smoke of the `quire-bench` load generator, against a Quire it spawns and against its echo
//! fixture: every op sent in the window reaches every other client (completeness 1.0) and the JSON report has
//! sensible fields. No latency is asserted: this is not a timed test.

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quire-bench"));
    command
        .args(["--warmup", "0.5", "--window", "2", "--drain", "1", "--json"])
        .args(args);
    let output = crate::support::output_within(command, std::time::Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "quire-bench {args:?} failed:\n{stderr}\n{stdout}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("not JSON ({err}):\n{stdout}"))
}

fn assert_sensible(report: &Value, docs: u64, clients: u64) {
    let num = |key: &str| {
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {report:#}"))
    };
    assert_eq!(num("docs") as u64, docs);
    assert_eq!(num("clients_per_doc") as u64, clients);
    assert_eq!(num("connected") as u64, docs * clients, "{report:#}");
    assert_eq!(num("closed_early"), 0.0, "{report:#}");
    assert_eq!(num("completeness"), 1.0, "{report:#}");
    assert_eq!(num("acked_fraction"), 1.0, "{report:#}");
    assert_eq!(num("rev_mismatches"), 0.0, "{report:#}");
    assert_eq!(num("apply_errors"), 0.0, "{report:#}");
    assert!(
        report["errors"].as_object().is_some_and(|e| e.is_empty()),
        "{report:#}"
    );
    // 2 keystrokes/s for 2 s per client: some ops, all delivered to the other clients of their document.
    let ops = num("ops_sent_in_window");
    assert!(ops >= (docs * clients) as f64, "{report:#}");
    assert_eq!(num("deliveries"), ops * (clients - 1) as f64, "{report:#}");
    assert!(num("keys_per_op") >= 1.0, "{report:#}");
    assert!(
        num("ops_acked_per_s") > 0.0 && num("deliveries_per_s") > 0.0,
        "{report:#}"
    );
    for key in ["remote_ms", "ack_ms", "key_to_remote_ms", "join_ms"] {
        let summary = &report[key];
        let p50 = summary["p50"]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}.p50 in {report:#}"));
        let p99 = summary["p99"].as_f64().expect("p99");
        let max = summary["max"].as_f64().expect("max");
        assert!(0.0 <= p50 && p50 <= p99 && p99 <= max, "{key}: {summary}");
    }
    assert_eq!(report["remote_ms"]["n"].as_f64(), Some(num("deliveries")));
    assert!(report["server_pid"].as_u64().is_some(), "{report:#}");
    assert!(num("server_rss_mb_connected") > 0.0, "{report:#}");
    assert!(num("server_cpu_pct") >= 0.0, "{report:#}");
    // Frames are stamped with the kernel's arrival time, not the generator loop's (stamped.rs).
    assert!(num("arrivals_stamped") >= 0.99, "{report:#}");
    // The verdict is the generator's own lag and CPU held against the thresholds, whichever way this small run went;
    // with the arrivals stamped, the lag may reach the server's longest hold.
    let lag_p99 = report["loadgen_lag_ms"]["p99"].as_f64().expect("lag p99");
    let bound = lag_p99 > 25.0 || num("loadgen_cpu_pct") > 90.0;
    assert_eq!(report["verdict"]["generator_bound"], bound, "{report:#}");
    assert!(
        report["server_cpu_us_per_delivery"].as_f64().is_some(),
        "{report:#}"
    );
}

#[test]
fn bench_against_a_spawned_quire_is_complete() {
    let report = bench(&[
        "--spawn",
        env!("CARGO_BIN_EXE_quire"),
        "--scenario",
        "docs2x3",
    ]);
    assert_sensible(&report, 2, 3);
}

#[test]
fn bench_against_a_prefilled_document() {
    let report = bench(&[
        "--spawn",
        env!("CARGO_BIN_EXE_quire"),
        "--scenario",
        "n50big",
        "--clients",
        "3",
        "--prefill",
        "5000",
    ]);
    assert_sensible(&report, 1, 3);
    assert_eq!(report["prefill_chars"], 5000);
}

#[test]
fn bench_against_the_echo_fixture_is_complete() {
    let report = bench(&["--spawn-echo", "--scenario", "n4"]);
    assert_sensible(&report, 1, 4);
    assert_eq!(report["target"], "echo fixture (spawned)");
}

/// Issue 12: `--cluster` over two real nodes spreads the documents, follows redirects and keeps every document
/// on one node; then `--kill-node` kills one and every document it served is back on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    quire_no_postgres,
    ignore = "PostgreSQL is not installed; ./scripts/test installs it"
)]
async fn bench_spreads_over_a_cluster_and_times_failover() {
    let Some(cluster) =
        crate::support::TestCluster::start(&["n1", "n2"], std::time::Duration::from_secs(2)).await
    else {
        return;
    };
    let urls: Vec<&str> = cluster.nodes.iter().map(|n| n.url.as_str()).collect();
    let pids: Vec<String> = cluster
        .nodes
        .iter()
        .map(|n| n.process.child.id().expect("running").to_string())
        .collect();
    let (urls, pids) = (urls.join(","), pids.join(","));
    let cluster_args = ["--cluster", urls.as_str(), "--cluster-pids", pids.as_str()];

    let report = tokio::task::block_in_place(|| {
        bench(&[&cluster_args[..], &["--scenario", "docs4x2"]].concat())
    });
    assert_eq!(report["completeness"], 1.0, "{report:#}");
    let spread = &report["cluster"];
    let docs: u64 = spread["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["docs"].as_u64().expect("docs"))
        .sum();
    assert_eq!(docs, 4, "{spread:#}");
    assert_eq!(spread["docs_on_several_nodes"], 0, "{spread:#}");
    // Clients enter the two nodes in turn, so one of each document's two entered at the other node.
    assert_eq!(spread["redirects_followed"], 4, "{spread:#}");

    let failover = tokio::task::block_in_place(|| {
        bench(
            &[
                &cluster_args[..],
                &["--scenario", "docs6x1", "--kill-node", "2"],
            ]
            .concat(),
        )
    });
    assert_eq!(failover["mode"], "failover", "{failover:#}");
    assert_eq!(
        failover["recovered_docs"], failover["affected_docs"],
        "{failover:#}"
    );
}
