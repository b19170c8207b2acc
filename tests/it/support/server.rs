//! `TestServer`: `server::run` spawned on the current tokio runtime, on a random loopback port, with a temporary data directory.

use std::{net::SocketAddr, time::Duration};

use quire::{
    config::{self, Config, Sources},
    store::Store,
};
use tempfile::TempDir;

use super::TestPg;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// A running server. Call `stop` to shut it down gracefully and check that `run` returned `Ok`;
/// dropping it only signals the shutdown.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    pub addr: SocketAddr,
    /// The data directory (the SQLite database lives here unless `database.url` was overridden).
    pub dir: TempDir,
    /// The validated configuration the server runs with.
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    /// The throwaway PostgreSQL the server runs on (`Backend::Postgres`), stopped after the server.
    pg: Option<TestPg>,
}

/// The database a test server runs on. Tests written once over `Backend` run on both (see `on_both_backends!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Instantiates `mod $name { sqlite, postgres }`, each running the async test body `$name(Backend)` with a server
/// on that database. The PostgreSQL variant is `ignore`d when PostgreSQL is not installed (see build.rs).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(quire_no_postgres, ignore = "PostgreSQL is not installed; ./scripts/test installs it")]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await;
            }
        }
    )*};
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(&[]).await
    }

    /// Starts with extra `section.key = value` overrides, e.g. `("auth.signup", "closed")` or `("database.url", &pg.url)`.
    pub async fn start_with(flags: &[(&str, &str)]) -> TestServer {
        TestServer::start_on(Backend::Sqlite, flags).await
    }

    /// Starts on `backend`: for PostgreSQL, a throwaway instance first, which lives as long as the server.
    pub async fn start_on(backend: Backend, flags: &[(&str, &str)]) -> TestServer {
        TestServer::start_on_with_file(backend, None, flags).await
    }

    /// `start_on` with a configuration file under the flags (see `start_with_file`).
    pub async fn start_on_with_file(
        backend: Backend,
        file: Option<&str>,
        flags: &[(&str, &str)],
    ) -> TestServer {
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(
                TestPg::start()
                    .await
                    .expect("PostgreSQL is installed (the test is ignored otherwise)"),
            ),
        };
        let mut all: Vec<(&str, &str)> = flags.to_vec();
        if let Some(pg) = &pg {
            all.push(("database.url", &pg.url));
        }
        let mut server = TestServer::start_fresh(file, &all).await;
        server.pg = pg;
        server
    }

    /// Starts on SQLite with a configuration file (for what flags cannot say, such as `[[auth.oidc]]` tables),
    /// then `flags` over it.
    pub async fn start_with_file(toml: &str, flags: &[(&str, &str)]) -> TestServer {
        TestServer::start_fresh(Some(toml), flags).await
    }

    /// Starts on this PostgreSQL (e.g. a durable one that a test will crash), which lives as long as the server.
    pub async fn start_with_pg(pg: TestPg, flags: &[(&str, &str)]) -> TestServer {
        let mut all: Vec<(&str, &str)> = flags.to_vec();
        all.push(("database.url", &pg.url));
        let mut server = TestServer::start_fresh(None, &all).await;
        server.pg = Some(pg);
        server
    }

    async fn start_fresh(file: Option<&str>, flags: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::Builder::new()
            .prefix("quire-test-")
            .tempdir()
            .expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let config = test_config(&dir, addr, file, flags);
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(quire::server::run(config.clone(), listener, async move {
            let _ = signal.await;
        }));
        let mut server = TestServer {
            base: format!("http://{addr}"),
            addr,
            dir,
            config,
            shutdown: Some(shutdown),
            task: Some(task),
            pg: None,
        };
        server.wait_until_healthy().await;
        server
    }

    /// The throwaway PostgreSQL this server runs on (`Backend::Postgres` only).
    pub fn pg(&self) -> Option<&TestPg> {
        self.pg.as_ref()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// A second connection pool to the server's database, for arranging state the HTTP API cannot (invites, expiry).
    pub async fn store(&self) -> Store {
        Store::open(&self.config.database, 2, self.config.sync)
            .await
            .expect("open the test server's database")
    }

    /// Arguments that point the `quire` CLI at this server's database.
    pub fn cli_args(&self) -> Vec<String> {
        vec![
            "--data-dir".into(),
            self.dir.path().display().to_string(),
            "--database-url".into(),
            self.config.database.as_str().to_string(),
        ]
    }

    /// Triggers graceful shutdown and waits until `server::run` returns, which must be `Ok`.
    pub async fn stop(self) {
        self.stop_keeping_data().await;
    }

    /// `stop`, and hand over the data directory (a closed SQLite database, for a copy or a restore) instead of
    /// deleting it.
    pub async fn stop_keeping_data(mut self) -> TempDir {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let task = self.task.take().expect("server task");
        let res = tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("server::run did not return within 15 s of the shutdown signal")
            .expect("server task panicked");
        res.expect("server::run returned an error");
        let placeholder = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// Stops the server gracefully and starts it again on the same data directory, database and address: what a
    /// restart of the process does, with every hub loaded again from the database.
    pub async fn restart(mut self) -> TestServer {
        let (pg, config, addr) = (self.pg.take(), self.config.clone(), self.addr);
        let dir = self.stop_keeping_data().await;
        let listener = TcpListener::bind(addr)
            .await
            .expect("bind the same address again");
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(quire::server::run(config.clone(), listener, async move {
            let _ = signal.await;
        }));
        let mut server = TestServer {
            base: format!("http://{addr}"),
            addr,
            dir,
            config,
            shutdown: Some(shutdown),
            task: Some(task),
            pg,
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&mut self) {
        let http = super::client();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if self.task.as_ref().is_some_and(JoinHandle::is_finished) {
                let res = self.task.take().expect("task").await;
                panic!("the test server stopped while starting: {res:?}");
            }
            if let Ok(response) = http.get(self.url("/healthz")).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the test server did not answer /healthz within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Defaults, then the test's file if any, then the test's own listen address and data directory, then the caller's overrides.
/// The process environment is deliberately not read, so `QUIRE_*` variables cannot leak into tests.
fn test_config(
    dir: &TempDir,
    addr: SocketAddr,
    file: Option<&str>,
    flags: &[(&str, &str)],
) -> Config {
    let mut all = vec![
        ("server.listen".to_string(), addr.to_string()),
        (
            "storage.data_dir".to_string(),
            dir.path().display().to_string(),
        ),
    ];
    // Every test client comes from 127.0.0.1, so the per-address limits would make one test's setup (a cast of
    // eight people, hundreds of API calls) trip them. Tests of those limits set them again in `flags`.
    for (key, value) in [
        ("limits.auth_per_minute", "100000"),
        ("limits.api_per_second", "100000"),
        ("limits.imports_per_minute", "100000"),
    ] {
        all.push((key.to_string(), value.to_string()));
    }
    all.extend(
        flags
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string())),
    );
    let sources = Sources {
        file: file.map(|text| ("test.toml".into(), text.to_string())),
        env: Vec::new(),
        flags: all,
    };
    config::load(&sources).unwrap_or_else(|err| panic!("test configuration: {err}"))
}
