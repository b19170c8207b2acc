//! `TestCluster`: a real ZooKeeper, a real PostgreSQL and several real `quire` processes on loopback ports, each
//! a cluster node with its own id and advertise URL. Nodes can be added, stopped, killed and paused.

use std::{net::TcpListener, time::Duration};

use tempfile::TempDir;

use super::{SpawnedQuire, TestPg, TestZk};

pub const SECRET: &str = "test-cluster-secret-0123456789abcdef";
pub const METRICS_TOKEN: &str = "cluster-test-metrics";

pub struct TestCluster {
    pub zk: TestZk,
    pub pg: TestPg,
    pub nodes: Vec<Node>,
    pub session_timeout: Duration,
    /// Extra arguments before `serve` for every node (test switches such as `--testing-ack-before-commit`).
    pub node_args: Vec<String>,
}

pub struct Node {
    pub id: String,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub process: SpawnedQuire,
    pub paused: bool,
    /// Stopped for a restart, not yet started again.
    pub stopped: bool,
    dir: TempDir,
}

impl Node {
    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    fn pid(&self) -> String {
        self.process
            .child
            .id()
            .expect("the node is running")
            .to_string()
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([signal, &self.pid()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {}", self.id);
    }

    /// SIGSTOP: the process freezes with its sockets open, as a long GC pause or a stalled VM would.
    pub fn pause(&mut self) {
        self.signal("-STOP");
        self.paused = true;
    }

    pub fn resume(&mut self) {
        self.signal("-CONT");
        self.paused = false;
    }

    /// A counter or gauge from this node's `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        super::metric(&self.url, METRICS_TOKEN, name).await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.paused {
            // A paused process cannot act on SIGKILL until it runs again.
            self.signal("-CONT");
        }
        let _ = self.process.child.start_kill();
    }
}

impl TestCluster {
    /// ZooKeeper, PostgreSQL and `ids.len()` nodes; `None` (skipped) when ZooKeeper or PostgreSQL is missing.
    pub async fn start(ids: &[&str], session_timeout: Duration) -> Option<TestCluster> {
        let zk = TestZk::start().await?;
        let pg = TestPg::start().await?;
        let mut cluster = TestCluster {
            zk,
            pg,
            nodes: Vec::new(),
            session_timeout,
            node_args: Vec::new(),
        };
        for id in ids {
            cluster.add_node(id).await;
        }
        Some(cluster)
    }

    /// A cluster of no nodes yet over these services, whose nodes will run with `node_args` before `serve`.
    pub fn from_parts(
        zk: TestZk,
        pg: TestPg,
        session_timeout: Duration,
        node_args: &[&str],
    ) -> TestCluster {
        TestCluster {
            zk,
            pg,
            nodes: Vec::new(),
            session_timeout,
            node_args: node_args.iter().map(|arg| arg.to_string()).collect(),
        }
    }

    /// Starts one more node and waits until every running node sees it (so routing agrees).
    pub async fn add_node(&mut self, id: &str) -> &Node {
        let dir = tempfile::Builder::new()
            .prefix("quire-node-")
            .tempdir()
            .expect("temp dir");
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            match self.spawn_node(id, port, &dir).await {
                Ok(process) => {
                    self.nodes.push(Node {
                        id: id.to_string(),
                        url: format!("http://127.0.0.1:{port}"),
                        process,
                        paused: false,
                        stopped: false,
                        dir,
                    });
                    self.wait_until_all_see_members().await;
                    return self.nodes.last().expect("just pushed");
                }
                Err(stderr) => last = stderr,
            }
        }
        panic!("node {id} did not start:\n{last}");
    }

    /// SIGTERM (a planned stop: the node hands its documents off), then the same node again on the same port,
    /// as an upgrade does; returns once every node sees it back.
    pub async fn restart_node(&mut self, id: &str) {
        let index = self.index_of(id);
        let status = self.nodes[index]
            .process
            .sigterm(Duration::from_secs(20))
            .await;
        assert!(status.success(), "{id} stopped with {status}");
        self.nodes[index].stopped = true;
        self.wait_until_members(self.nodes.len() - 1).await;
        self.start_stopped(index).await;
    }

    /// SIGKILL, then, once the others have seen it gone (a session timeout later), the same node again on the
    /// same port, as a supervisor would restart it after a crash.
    pub async fn crash_and_restart(&mut self, id: &str) {
        let index = self.index_of(id);
        self.nodes[index].process.kill9().await;
        self.nodes[index].stopped = true;
        self.wait_until_members(self.nodes.len() - 1).await;
        self.start_stopped(index).await;
    }

    async fn start_stopped(&mut self, index: usize) {
        let id = self.nodes[index].id.clone();
        let port: u16 = self.nodes[index]
            .url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        let dir = std::mem::replace(
            &mut self.nodes[index].dir,
            tempfile::tempdir().expect("temp dir"),
        );
        let process = self
            .spawn_node(&id, port, &dir)
            .await
            .unwrap_or_else(|stderr| panic!("{id} did not start again:\n{stderr}"));
        self.nodes[index].process = process;
        self.nodes[index].dir = dir;
        self.nodes[index].stopped = false;
        self.wait_until_all_see_members().await;
    }

    /// Waits until the running nodes other than the paused ones see exactly themselves as members.
    pub async fn wait_until_only_running_are_members(&self) {
        self.wait_until_members(
            self.nodes
                .iter()
                .filter(|node| !node.paused && !node.stopped)
                .count(),
        )
        .await;
    }

    /// SIGKILL: the node gets no chance to hand anything off; it is removed from the cluster's list.
    pub async fn kill_node(&mut self, id: &str) {
        let index = self.index_of(id);
        let mut node = self.nodes.remove(index);
        node.process.kill9().await;
    }

    fn index_of(&self, id: &str) -> usize {
        self.nodes
            .iter()
            .position(|node| node.id == id)
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    async fn spawn_node(&self, id: &str, port: u16, dir: &TempDir) -> Result<SpawnedQuire, String> {
        let listen = format!("127.0.0.1:{port}");
        let timeout = format!("{}s", self.session_timeout.as_secs().max(1));
        let env = [
            ("QUIRE_SERVER__LISTEN", listen.as_str()),
            ("QUIRE_DATABASE__URL", self.pg.url.as_str()),
            ("QUIRE_CLUSTER__ENABLED", "true"),
            ("QUIRE_CLUSTER__ZOOKEEPER", self.zk.connect.as_str()),
            ("QUIRE_CLUSTER__NODE_ID", id),
            ("QUIRE_CLUSTER__SECRET", SECRET),
            ("QUIRE_CLUSTER__SESSION_TIMEOUT", timeout.as_str()),
            ("QUIRE_METRICS__TOKEN", METRICS_TOKEN),
            ("QUIRE_LIMITS__AUTH_PER_MINUTE", "100000"),
            ("QUIRE_LIMITS__API_PER_SECOND", "100000"),
            ("QUIRE_LIMITS__IMPORTS_PER_MINUTE", "100000"),
            ("QUIRE_LIMITS__OPS_PER_SECOND", "1000"),
            ("QUIRE_LIMITS__OPS_BURST", "1000"),
            ("QUIRE_HISTORY__IDLE_GRACE", "1s"),
            ("QUIRE_LOG__LEVEL", "info"),
        ];
        let mut args: Vec<&str> = self.node_args.iter().map(String::as_str).collect();
        args.push("serve");
        SpawnedQuire::try_start(dir.path(), &args, &env).await
    }

    pub fn node(&self, id: &str) -> &Node {
        self.nodes
            .iter()
            .find(|node| node.id == id)
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    pub fn node_mut(&mut self, id: &str) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|node| node.id == id)
            .unwrap_or_else(|| panic!("no node {id}"))
    }

    /// Waits until every running (not paused) node's `/metrics` counts the running nodes as members.
    pub async fn wait_until_all_see_members(&self) {
        self.wait_until_members(self.nodes.iter().filter(|node| !node.paused).count())
            .await;
    }

    /// Waits until every running node other than stopped ones counts `expected` members and is live.
    pub async fn wait_until_members(&self, expected: usize) {
        let expected = expected as f64;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let mut agreed = true;
            for node in self
                .nodes
                .iter()
                .filter(|node| !node.paused && !node.stopped)
            {
                if node.metric("quire_cluster_members").await != expected
                    || node.metric("quire_cluster_live").await != 1.0
                {
                    agreed = false;
                }
            }
            if agreed {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the nodes did not agree on {expected} members within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The node a document lives on, as `quire cluster owner` reports it.
    pub async fn owner_of(&self, doc: &str) -> String {
        let node = self
            .nodes
            .iter()
            .find(|node| !node.paused)
            .expect("a running node");
        let env = [
            ("QUIRE_DATABASE__URL", self.pg.url.as_str()),
            ("QUIRE_CLUSTER__ENABLED", "true"),
            ("QUIRE_CLUSTER__ZOOKEEPER", self.zk.connect.as_str()),
            ("QUIRE_CLUSTER__NODE_ID", "cli"),
            ("QUIRE_CLUSTER__SECRET", SECRET),
        ];
        let output = super::run_quire(node.dir.path(), &["cluster", "owner", doc], &env, "").await;
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "quire cluster owner failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
            .lines()
            .next()
            .and_then(|line| line.split('\t').nth(1))
            .unwrap_or_else(|| panic!("no owner in {stdout:?}"))
            .to_string()
    }
}

impl TestCluster {
    /// `quire doctor` on the shared database: every document's log replays and has no gap up to its head.
    pub async fn doctor(&self) -> std::process::Output {
        let node = self.nodes.first().expect("a node");
        let env = [("QUIRE_DATABASE__URL", self.pg.url.as_str())];
        super::run_quire(node.dir.path(), &["doctor"], &env, "").await
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("free port")
}
