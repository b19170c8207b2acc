//! `TestZk`: a throwaway standalone ZooKeeper (the Debian package's jar) on a free loopback port, in a temp dir.
//! Ready when `srvr` reports a `Mode:` line (`ruok` answers before the server serves).

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;

use super::require_services;

const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
const SLF4J_SIMPLE_JAR: &str = "/usr/share/java/slf4j-simple.jar";

/// A running ZooKeeper (one server, or an ensemble); killed and deleted on drop.
pub struct TestZk {
    /// `127.0.0.1:PORT[,127.0.0.1:PORT...]`, a connect string.
    pub connect: String,
    servers: Vec<Server>,
    dir: TempDir,
}

struct Server {
    client_port: u16,
    config: PathBuf,
    child: Option<Child>,
}

impl TestZk {
    /// Starts a fresh server, or returns `None` (after printing `SKIPPED`) when ZooKeeper is not installed.
    /// With `QUIRE_REQUIRE_SERVICES=1` a missing ZooKeeper panics instead.
    pub async fn start() -> Option<TestZk> {
        let test = std::thread::current()
            .name()
            .unwrap_or("a test")
            .to_string();
        tokio::task::spawn_blocking(move || start_blocking(&test))
            .await
            .expect("ZooKeeper start-up task")
    }

    /// A three-server ensemble on loopback, serving once a quorum has formed.
    pub async fn start_ensemble() -> Option<TestZk> {
        if !zookeeper_installed() {
            assert!(
                !require_services(),
                "QUIRE_REQUIRE_SERVICES=1 but ZooKeeper is not installed"
            );
            return None;
        }
        tokio::task::spawn_blocking(start_ensemble_blocking)
            .await
            .expect("ZooKeeper start-up task")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("zk.log")).unwrap_or_default()
    }

    /// Kills server `index` (0-based) of the ensemble.
    pub fn stop_server(&mut self, index: usize) {
        if let Some(mut child) = self.servers[index].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts server `index` again and waits until it serves (it must find a quorum to do so).
    pub async fn start_server(&mut self, index: usize) {
        let server = &mut self.servers[index];
        let mut child = spawn_with(
            &server.config,
            self.dir.path(),
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        );
        let port = server.client_port;
        let (child, served) = tokio::task::spawn_blocking(move || {
            let served = wait_serving(port, &mut child, Duration::from_secs(30));
            (child, served)
        })
        .await
        .expect("wait task");
        server.child = Some(child);
        served.unwrap_or_else(|err| panic!("ZooKeeper server {index} did not serve again: {err}"));
    }
}

impl Drop for TestZk {
    fn drop(&mut self) {
        for server in &mut self.servers {
            if let Some(child) = &mut server.child {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn start_ensemble_blocking() -> Option<TestZk> {
    let dir = tempfile::Builder::new()
        .prefix("quire-zk-ensemble-")
        .tempdir()
        .expect("temp dir");
    let ports: Vec<(u16, u16, u16)> = (0..3)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let members: String = ports
        .iter()
        .enumerate()
        .map(|(i, (client, quorum, election))| {
            format!(
                "server.{}=127.0.0.1:{quorum}:{election};127.0.0.1:{client}\n",
                i + 1
            )
        })
        .collect();
    let mut servers = Vec::new();
    for (i, (client, _, _)) in ports.iter().enumerate() {
        let data = dir.path().join(format!("data-{}", i + 1));
        std::fs::create_dir_all(&data).expect("data dir");
        std::fs::write(data.join("myid"), format!("{}\n", i + 1)).expect("myid");
        let config = dir.path().join(format!("zoo-{}.cfg", i + 1));
        let text = format!(
            "tickTime=250\ninitLimit=20\nsyncLimit=10\ndataDir={}\nclientPort={client}\n\
             clientPortAddress=127.0.0.1\nminSessionTimeout=500\nmaxSessionTimeout=60000\n\
             admin.enableServer=false\n4lw.commands.whitelist=srvr,ruok\nstandaloneEnabled=false\n\
             reconfigEnabled=false\n{members}",
            data.display()
        );
        std::fs::write(&config, text).expect("zoo.cfg");
        let child = spawn_with(
            &config,
            dir.path(),
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        );
        servers.push(Server {
            client_port: *client,
            config,
            child: Some(child),
        });
    }
    for server in &mut servers {
        let port = server.client_port;
        let child = server.child.as_mut().expect("started");
        if let Err(err) = wait_serving(port, child, Duration::from_secs(60)) {
            let log = std::fs::read_to_string(dir.path().join("zk.log")).unwrap_or_default();
            panic!("the ZooKeeper ensemble did not form: {err}\n{log}");
        }
    }
    let connect = ports
        .iter()
        .map(|(client, _, _)| format!("127.0.0.1:{client}"))
        .collect::<Vec<_>>()
        .join(",");
    Some(TestZk {
        connect,
        servers,
        dir,
    })
}

pub fn zookeeper_installed() -> bool {
    Path::new(ZOOKEEPER_JAR).exists() && which("java").is_some()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.exists())
    })
}

fn start_blocking(test: &str) -> Option<TestZk> {
    if !zookeeper_installed() {
        let reason = format!("ZooKeeper not installed (no {ZOOKEEPER_JAR} or java)");
        assert!(!require_services(), "QUIRE_REQUIRE_SERVICES=1 but {reason}");
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: {reason}; ./scripts/test installs it"
        );
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("quire-zk-")
        .tempdir()
        .expect("temp dir");
    let mut last_error = String::new();
    // A free port can be taken between our probe and the server's bind; try a few.
    for _ in 0..5 {
        let port = free_port();
        let (mut child, config) = spawn(dir.path(), port);
        match wait_serving(port, &mut child, Duration::from_secs(30)) {
            Ok(()) => {
                return Some(TestZk {
                    connect: format!("127.0.0.1:{port}"),
                    servers: vec![Server {
                        client_port: port,
                        config,
                        child: Some(child),
                    }],
                    dir,
                });
            }
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.path().join("zk.log")).unwrap_or_default();
                last_error = format!("{err}\n{log}");
            }
        }
    }
    panic!("ZooKeeper did not start: {last_error}");
}

fn spawn(dir: &Path, port: u16) -> (Child, PathBuf) {
    let data = dir.join(format!("data-{port}"));
    std::fs::create_dir_all(&data).expect("ZooKeeper data dir");
    // Short ticks let tests use session timeouts of a second or two.
    let config = format!(
        "tickTime=250\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
         minSessionTimeout=500\nmaxSessionTimeout=60000\nadmin.enableServer=false\n\
         4lw.commands.whitelist=srvr,ruok\n",
        data.display()
    );
    let config_path = dir.join("zoo.cfg");
    std::fs::write(&config_path, config).expect("write zoo.cfg");
    let child = spawn_with(
        &config_path,
        dir,
        "org.apache.zookeeper.server.ZooKeeperServerMain",
    );
    (child, config_path)
}

/// `java MAIN CONFIG`, appending to `zk.log` in `dir`.
fn spawn_with(config: &Path, dir: &Path, main: &str) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("zk.log"))
        .expect("ZooKeeper log");
    Command::new("java")
        .args(["-Xmx256m", "-cp"])
        .arg(format!("{ZOOKEEPER_JAR}:{SLF4J_SIMPLE_JAR}"))
        .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
        .arg(main)
        .arg(config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .expect("spawn java")
}

fn wait_serving(port: u16, child: &mut Child, limit: Duration) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("ZooKeeper exited: {status}"));
        }
        if four_letter(port, "srvr").is_some_and(|answer| answer.contains("Mode:")) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("not serving on port {port} within {limit:?}"))
}

fn four_letter(port: u16, command: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(command.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("free port")
}
