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

/// A running ZooKeeper; killed and deleted on drop.
pub struct TestZk {
    /// `127.0.0.1:PORT`, a connect string.
    pub connect: String,
    child: Child,
    dir: TempDir,
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

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("zk.log")).unwrap_or_default()
    }
}

impl Drop for TestZk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
        let mut child = spawn(dir.path(), port);
        match wait_serving(port, &mut child, Duration::from_secs(30)) {
            Ok(()) => {
                return Some(TestZk {
                    connect: format!("127.0.0.1:{port}"),
                    child,
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

fn spawn(dir: &Path, port: u16) -> Child {
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
    let log = std::fs::File::create(dir.join("zk.log")).expect("ZooKeeper log");
    Command::new("java")
        .args(["-Xmx256m", "-cp"])
        .arg(format!("{ZOOKEEPER_JAR}:{SLF4J_SIMPLE_JAR}"))
        .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
        .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
        .arg(&config_path)
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
