//! `quire-bench`: the load generator for the hub (issue 8). It runs the workload of research/perf.md section 3
//! against a Quire server (`--url` + `--token`, or `--spawn PATH`) or against its own echo fixture
//! (`quire-bench echo`, `--spawn-echo`) and reports latency, throughput, completeness, join time and the
//! server's CPU and memory as a table or as JSON. With `--cluster` it spreads the documents over a cluster's
//! members, follows redirects like a browser, and reports the spread and each member's CPU and memory; with
//! `--kill-node` it times failover. See docs/benchmarks.md.
#![recursion_limit = "256"]

#[path = "quire_bench/capacity.rs"]
mod capacity;
#[path = "quire_bench/cluster.rs"]
mod cluster;
#[path = "quire_bench/echo.rs"]
mod echo;
#[path = "quire_bench/failover.rs"]
mod failover;
#[path = "quire_bench/http.rs"]
mod http;
#[path = "quire_bench/procfs.rs"]
mod procfs;
#[path = "quire_bench/run.rs"]
mod run;
#[path = "quire_bench/stamped.rs"]
mod stamped;
#[path = "quire_bench/verdict.rs"]
mod verdict;
#[path = "quire_bench/wire.rs"]
mod wire;

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

/// Nanoseconds since the Unix epoch (for unique names).
pub fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

#[derive(Debug, Parser)]
#[command(
    name = "quire-bench",
    version,
    about = "Load generator for the Quire hub (protocol v1): the workload of research/perf.md section 3",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The echo fixture: ack + rebroadcast each op to the document's other clients, no OT, no storage.
    Echo {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        /// Leave Nagle's algorithm on (no TCP_NODELAY), to show what it costs a server.
        #[arg(long)]
        nagle: bool,
    },
    /// The table of medians (generator-bound runs marked) and the capacity sentence, from the JSON reports
    /// `LABEL.REP.json` that scripts/capacity writes into DIR.
    Capacity {
        dir: PathBuf,
        /// The commit the binaries were built from, for the table's heading.
        #[arg(long, default_value = "unknown")]
        commit: String,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// n10 n50 n100 n200 n500 n1000 docs500x2 idle10000 n50big, or nN, docsDxC, idleN (N/2 docs x 2 idle).
    #[arg(long, short, default_value = "n10")]
    scenario: String,
    /// Override the scenario's number of documents.
    #[arg(long)]
    docs: Option<usize>,
    /// Override the scenario's clients per document.
    #[arg(long)]
    clients: Option<usize>,
    /// Keystrokes per second per client.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Characters per keystroke.
    #[arg(long, default_value_t = 2)]
    chars: usize,
    /// Probability that a keystroke's insert is bold.
    #[arg(long, default_value_t = 0.1)]
    bold: f64,
    /// Seconds of typing before the measurement window.
    #[arg(long, default_value_t = 5.0)]
    warmup: f64,
    /// Seconds of the measurement window (only ops sent inside it are measured).
    #[arg(long, default_value_t = 20.0)]
    window: f64,
    /// Seconds of typing after the window, for the window's ops to arrive.
    #[arg(long, default_value_t = 3.0)]
    drain: f64,
    /// Prefill each document with this many characters (50-char runs, plain/bold) before the clients join.
    #[arg(long)]
    prefill: Option<u64>,
    /// Clients join but never type.
    #[arg(long)]
    idle: bool,
    /// Documents joined at once.
    #[arg(long, default_value_t = 25)]
    join_concurrency: usize,
    /// Base URL of a running Quire server (http://127.0.0.1:PORT).
    #[arg(long, requires = "token")]
    url: Option<String>,
    /// API token for --url.
    #[arg(long, env = "QUIRE_BENCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Start this Quire binary (temporary data dir, free port, a fresh account and token).
    #[arg(long, conflicts_with_all = ["url", "echo_url", "spawn_echo"])]
    spawn: Option<PathBuf>,
    /// Run against the echo fixture at this ws:// URL instead of Quire.
    #[arg(long, conflicts_with = "url")]
    echo_url: Option<String>,
    /// Start the echo fixture (this binary's `echo` subcommand) and run against it.
    #[arg(long, conflicts_with = "url")]
    spawn_echo: bool,
    /// With --spawn-echo: leave Nagle's algorithm on in the fixture (`echo --nagle`).
    #[arg(long, requires = "spawn_echo")]
    echo_nagle: bool,
    /// A cluster's members (http://HOST:PORT,...): documents are created through them in turn, each client enters
    /// at the next one and follows redirects to the owner. Uses --token, or signs up through the first member.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["url", "spawn", "echo_url", "spawn_echo"])]
    cluster: Vec<String>,
    /// The members' pids, in the order of --cluster, for their CPU and RSS (`ss -ltnp` shows them).
    #[arg(long, value_delimiter = ',', requires = "cluster")]
    cluster_pids: Vec<u32>,
    /// Failover instead of the workload: one typist per document, member N (1 = the first of --cluster) killed
    /// with SIGKILL after the warm-up; each of its documents timed from the kill to an edit acked elsewhere.
    #[arg(long, requires = "cluster_pids")]
    kill_node: Option<usize>,
    /// With --kill-node: stop waiting for the killed member's documents after this many seconds.
    #[arg(long, default_value_t = 30.0)]
    failover_timeout: f64,
    /// Pid of the server to sample CPU and RSS from (/proc); set automatically with --spawn/--spawn-echo.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Pin a spawned server to this CPU (`taskset -c`).
    #[arg(long)]
    server_cpu: Option<usize>,
    /// Extra `--set KEY=VALUE` for a spawned Quire server (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// storage.sync of a spawned Quire server (normal or full).
    #[arg(long)]
    sync: Option<String>,
    /// Keep the spawned server's data directory (and its server.log).
    #[arg(long)]
    keep_data: bool,
    /// Seed of the random keystrokes, positions and phases.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the JSON report instead of the table.
    #[arg(long)]
    json: bool,
}

fn workload(args: &RunArgs) -> Result<run::Workload> {
    let name = args.scenario.as_str();
    let (mut docs, mut idle, mut prefill) = (1usize, false, 0u64);
    let clients = if name == "n50big" {
        prefill = 100_000;
        50
    } else if let Some(n) = name
        .strip_prefix("idle")
        .and_then(|n| n.parse::<usize>().ok())
    {
        (docs, idle) = (n.div_ceil(2), true);
        2
    } else if let Some((d, c)) = name.strip_prefix("docs").and_then(|r| r.split_once('x')) {
        docs = d.parse()?;
        c.parse()?
    } else if let Some(n) = name.strip_prefix('n').and_then(|n| n.parse::<usize>().ok()) {
        n
    } else {
        bail!("unknown scenario {name}");
    };
    Ok(run::Workload {
        scenario: name.to_string(),
        docs: args.docs.unwrap_or(docs),
        clients: args.clients.unwrap_or(clients).max(1),
        rate: args.rate,
        chars: args.chars,
        bold: args.bold,
        warmup: args.warmup,
        window: args.window,
        drain: args.drain,
        prefill: args.prefill.unwrap_or(prefill),
        idle: idle || args.idle,
        seed: args.seed,
        join_concurrency: args.join_concurrency,
    })
}

async fn bench(args: RunArgs) -> Result<Value> {
    let work = workload(&args)?;
    let dir = std::env::temp_dir().join(format!(
        "quire-bench-{}-{}",
        std::process::id(),
        now_nanos()
    ));
    let mut spawned = None;
    // For a spawned server's commits per window (ops per transaction).
    let metrics_token = format!("bench-{:x}", now_nanos());
    let target = if let Some(program) = &args.spawn {
        let mut server_args: Vec<String> = vec![
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            dir.display().to_string(),
        ];
        let mut sets = vec![
            "limits.ops_per_second=1000".to_string(),
            "limits.ops_burst=1000".into(),
            "limits.max_connections_per_user=1000000".into(),
            // Every generated client comes from 127.0.0.1: the per-address limits would refuse the set-up.
            "limits.api_per_second=1000000".into(),
            "limits.auth_per_minute=1000000".into(),
            "log.level=warn".into(),
            format!("metrics.token={metrics_token}"),
        ];
        if let Some(sync) = &args.sync {
            sets.push(format!("storage.sync={sync}"));
        }
        sets.extend(args.sets.iter().cloned());
        for set in sets {
            server_args.push("--set".into());
            server_args.push(set);
        }
        let server =
            http::Spawned::start(program, &server_args, args.server_cpu, dir.clone()).await?;
        let token = http::account_token(&server.url).await?;
        let target = run::Target {
            kind: format!(
                "quire (spawned{})",
                args.sync
                    .as_deref()
                    .map(|s| format!(", sync={s}"))
                    .unwrap_or_default()
            ),
            http_base: Some(server.url.clone()),
            ws_base: server.url.replacen("http://", "ws://", 1),
            token: Some(token),
            server_pid: Some(server.pid),
            metrics_token: Some(metrics_token),
            nodes: Vec::new(),
            node_pids: Vec::new(),
        };
        spawned = Some(server);
        target
    } else if args.spawn_echo {
        let me = std::env::current_exe()?;
        let mut echo_args = vec!["echo".to_string()];
        if args.echo_nagle {
            echo_args.push("--nagle".into());
        }
        let server = http::Spawned::start(&me, &echo_args, args.server_cpu, dir.clone()).await?;
        let target = run::Target {
            kind: if args.echo_nagle {
                "echo fixture (spawned, Nagle on)"
            } else {
                "echo fixture (spawned)"
            }
            .into(),
            http_base: None,
            ws_base: server.url.clone(),
            token: None,
            server_pid: Some(server.pid),
            metrics_token: None,
            nodes: Vec::new(),
            node_pids: Vec::new(),
        };
        spawned = Some(server);
        target
    } else if let Some(url) = &args.echo_url {
        run::Target {
            kind: "echo fixture".into(),
            http_base: None,
            ws_base: url.trim_end_matches('/').to_string(),
            token: None,
            server_pid: args.server_pid,
            metrics_token: None,
            nodes: Vec::new(),
            node_pids: Vec::new(),
        }
    } else if let Some(url) = &args.url {
        let url = url.trim_end_matches('/').to_string();
        run::Target {
            kind: "quire".into(),
            ws_base: url.replacen("http://", "ws://", 1),
            http_base: Some(url),
            token: args.token.clone(),
            server_pid: args.server_pid,
            metrics_token: None,
            nodes: Vec::new(),
            node_pids: Vec::new(),
        }
    } else if !args.cluster.is_empty() {
        cluster_target(&args).await?
    } else {
        bail!(
            "say where to run: --spawn PATH, --url URL --token TOKEN, --spawn-echo or --echo-url URL"
        );
    };
    let result = match args.kill_node {
        Some(n) => {
            let timeout = std::time::Duration::from_secs_f64(args.failover_timeout);
            failover::run(target, work, n.saturating_sub(1), timeout).await
        }
        None => run::run(target, work).await,
    };
    if let Some(server) = spawned {
        server.stop(args.keep_data).await;
    }
    result
}

async fn cluster_target(args: &RunArgs) -> Result<run::Target> {
    let bases: Vec<String> = args
        .cluster
        .iter()
        .map(|u| u.trim_end_matches('/').to_string())
        .collect();
    if !args.cluster_pids.is_empty() && args.cluster_pids.len() != bases.len() {
        bail!("--cluster-pids needs one pid per --cluster member, in the same order");
    }
    let token = match &args.token {
        Some(token) => token.clone(),
        None => http::account_token(&bases[0]).await?,
    };
    let nodes: Vec<String> = bases
        .iter()
        .map(|b| b.replacen("http://", "ws://", 1))
        .collect();
    Ok(run::Target {
        kind: format!("quire cluster of {}", nodes.len()),
        http_base: Some(bases[0].clone()),
        ws_base: nodes[0].clone(),
        token: Some(token),
        server_pid: None,
        metrics_token: None,
        nodes,
        node_pids: args.cluster_pids.clone(),
    })
}

/// The cluster rows of the table: one per member, then redirects and the box's CPU.
fn cluster_rows(c: &Value) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = c["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            (
                n["node"].as_str().unwrap_or("?").to_string(),
                format!(
                    "{} docs, {} connections, CPU {} %, RSS {} / {} / max {} MB (pid {})",
                    n["docs"],
                    n["connections"],
                    n["cpu_pct"],
                    n["rss_mb_before_connect"],
                    n["rss_mb_connected"],
                    n["rss_mb_max_window"],
                    n["pid"]
                ),
            )
        })
        .collect();
    rows.push((
        "redirects".into(),
        format!(
            "{} followed; join p50 at the owner {} ms, redirected {} ms (+{} ms); docs on several nodes {}",
            c["redirects_followed"],
            c["join_direct_ms"]["p50"],
            c["join_redirected_ms"]["p50"],
            c["redirect_extra_p50_ms"],
            c["docs_on_several_nodes"]
        ),
    ));
    rows.push((
        "cluster CPU".into(),
        format!(
            "nodes {} % of a core; foreign (ZooKeeper, PostgreSQL, kernel, others) {} %",
            c["nodes_cpu_pct"], c["foreign_cpu_pct"]
        ),
    ));
    rows
}

fn table(r: &Value) -> String {
    if r["mode"] == "failover" {
        return failover::table(r);
    }
    let lat = |key: &str| {
        let v = &r[key];
        format!(
            "p50 {} / p90 {} / p99 {} / max {} ms (n={})",
            v["p50"], v["p90"], v["p99"], v["max"], v["n"]
        )
    };
    let rows: Vec<(&str, String)> = vec![
        (
            "scenario",
            format!(
                "{} against {}",
                r["scenario"].as_str().unwrap_or(""),
                r["target"].as_str().unwrap_or("")
            ),
        ),
        (
            "topology",
            format!(
                "{} docs x {} clients = {} connections",
                r["docs"], r["clients_per_doc"], r["connections"]
            ),
        ),
        (
            "workload",
            format!(
                "rate {}/s, {} chars, bold {}, idle {}, prefill {}",
                r["rate"], r["chars"], r["bold"], r["idle"], r["prefill_chars"]
            ),
        ),
        (
            "phases",
            format!(
                "warm-up {} s, window {} s, drain {} s",
                r["warmup_s"], r["window_s"], r["drain_s"]
            ),
        ),
        (
            "load average",
            format!("{} before, {} after", r["load_before"], r["load_after"]),
        ),
        ("remote latency", lat("remote_ms")),
        ("verdict", verdict_row(&r["verdict"])),
        ("ack latency", lat("ack_ms")),
        ("keystroke->remote", lat("key_to_remote_ms")),
        (
            "join",
            format!("{} (all joined in {} s)", lat("join_ms"), r["join_all_s"]),
        ),
        (
            "throughput",
            format!(
                "{} keys/s offered, {} ops acked/s, {} keys/op, {} deliveries/s",
                r["offered_keys_per_s"],
                r["ops_acked_per_s"],
                r["keys_per_op"],
                r["deliveries_per_s"]
            ),
        ),
        (
            "completeness",
            format!(
                "{} ({} of {} deliveries; acked {})",
                r["completeness"], r["deliveries"], r["deliveries_expected"], r["acked_fraction"]
            ),
        ),
        (
            "connections",
            format!(
                "{} connected, {} failed, {} closed early",
                r["connected"], r["failed_joins"], r["closed_early"]
            ),
        ),
        (
            "server CPU",
            format!(
                "{} % of a core, {} µs per delivery (load generator {} %, foreign {} %)",
                r["server_cpu_pct"],
                r["server_cpu_us_per_delivery"],
                r["loadgen_cpu_pct"],
                r["foreign_cpu_pct"]
            ),
        ),
        (
            "commits",
            format!(
                "{} transactions/s, {} ops per transaction",
                r["commits_per_s"], r["ops_per_commit"]
            ),
        ),
        (
            "server RSS",
            format!(
                "{} MB before connect, {} MB connected, {} MB max in window, {} KB/connection",
                r["server_rss_mb_before_connect"],
                r["server_rss_mb_connected"],
                r["server_rss_mb_max_window"],
                r["rss_kb_per_connection"]
            ),
        ),
        ("loadgen loop lag", lat("loadgen_lag_ms")),
        (
            "errors",
            format!(
                "{} (rev mismatches {}, apply errors {})",
                r["errors"], r["rev_mismatches"], r["apply_errors"]
            ),
        ),
    ];
    let mut rows: Vec<(String, String)> =
        rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    if r["cluster"].is_object() {
        rows.extend(cluster_rows(&r["cluster"]));
    }
    rows.iter()
        .map(|(k, v)| format!("{k:>18}  {v}\n"))
        .collect()
}

/// Beside the latency: whether it is the server's.
fn verdict_row(verdict: &Value) -> String {
    if verdict["generator_bound"] == true {
        let reasons: Vec<&str> = verdict["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        format!(
            "GENERATOR-BOUND ({}): these figures measure the load generator too; no capacity figure from this run",
            reasons.join(", ")
        )
    } else {
        format!(
            "server-bound: the load generator kept up (loop lag p99 <= {} ms, CPU <= {} %)",
            verdict::MAX_LAG_P99_MS,
            verdict::MAX_CPU_PCT
        )
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("quire-bench: {err}");
            return ExitCode::FAILURE;
        }
    };
    let local = tokio::task::LocalSet::new();
    let json = cli.run.json;
    let result = local.block_on(&runtime, async move {
        match cli.command {
            Some(Command::Echo { listen, nagle }) => {
                echo::serve(&listen, nagle).await.map(|()| None)
            }
            Some(Command::Capacity { dir, commit }) => {
                capacity::report(&dir, &commit).map(|text| {
                    print!("{text}");
                    None
                })
            }
            None => bench(cli.run).await.map(Some),
        }
    });
    match result {
        Ok(Some(report)) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", table(&report));
            }
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("quire-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
