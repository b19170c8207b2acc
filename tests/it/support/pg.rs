//! `TestPg`: a throwaway PostgreSQL started from the system's binaries on a free loopback port.
//! One cluster is `initdb`-ed per PostgreSQL version into `target/tmp` and copied for each instance, which keeps a start near half a second.

use std::{
    io::Write,
    net::TcpListener,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use tempfile::TempDir;

/// A running PostgreSQL with an empty database `quire`; stopped (`-m immediate`) and deleted on drop.
pub struct TestPg {
    /// `postgres://postgres@127.0.0.1:PORT/quire`
    pub url: String,
    pub port: u16,
    bin: PathBuf,
    dir: TempDir,
    /// Commits are flushed before they return (`synchronous_commit = on`): what a crash of PostgreSQL itself
    /// must not lose. Off by default, for speed, in tests that never crash it.
    durable: bool,
}

/// True when `QUIRE_REQUIRE_SERVICES=1`: missing external services are a failure, not a skip.
pub fn require_services() -> bool {
    std::env::var("QUIRE_REQUIRE_SERVICES").is_ok_and(|value| value == "1")
}

impl TestPg {
    /// Starts a fresh instance, or returns `None` (after printing `SKIPPED: ...`) when PostgreSQL is not installed.
    /// With `QUIRE_REQUIRE_SERVICES=1` a missing PostgreSQL panics instead.
    pub async fn start() -> Option<TestPg> {
        TestPg::start_with(false).await
    }

    /// An instance that keeps every commit through its own crash (`stop_immediate`), for fault tests.
    pub async fn start_durable() -> Option<TestPg> {
        TestPg::start_with(true).await
    }

    async fn start_with(durable: bool) -> Option<TestPg> {
        // libtest names the thread after the test, so the skip message can say which test was skipped.
        let test = std::thread::current()
            .name()
            .unwrap_or("a test")
            .to_string();
        tokio::task::spawn_blocking(move || start_blocking(&test, durable))
            .await
            .expect("PostgreSQL start-up task")
    }

    /// A streaming replica of this server (`pg_basebackup -R`), on a port of its own; stopped on drop.
    pub async fn start_replica(&self) -> TestPg {
        let (bin, port, durable) = (self.bin.clone(), self.port, self.durable);
        tokio::task::spawn_blocking(move || {
            let dir = instance_dir();
            run(
                pg_command(&bin.join("pg_basebackup"), dir.path())
                    .args(["--host=127.0.0.1", "--username=postgres", "--no-password"])
                    .arg(format!("--port={port}"))
                    .arg("--pgdata")
                    .arg(dir.path().join("data"))
                    .args([
                        "--write-recovery-conf",
                        "--wal-method=stream",
                        "--no-sync",
                        "--checkpoint=fast",
                    ]),
                "pg_basebackup",
            );
            for _ in 0..5 {
                let replica_port = free_port();
                if start_instance(&bin, dir.path(), replica_port, durable).is_ok() {
                    return TestPg {
                        url: format!("postgres://postgres@127.0.0.1:{replica_port}/quire"),
                        port: replica_port,
                        bin,
                        dir,
                        durable,
                    };
                }
            }
            panic!("the replica did not start");
        })
        .await
        .expect("replica start-up task")
    }

    /// `pg_ctl stop -m immediate`: the server dies at once, as in a crash; connections are cut.
    pub async fn stop_immediate(&self) {
        self.pg_ctl(&["--mode=immediate", "--wait", "stop"]).await;
    }

    /// `pg_ctl promote`: a replica stops following and becomes a primary that accepts writes.
    pub async fn promote(&self) {
        self.pg_ctl(&["--wait", "promote"]).await;
    }

    /// Runs `pg_ctl ARGS` on this server's data directory, off the async threads.
    async fn pg_ctl(&self, args: &[&'static str]) {
        let (bin, dir, args) = (
            self.bin.clone(),
            self.dir.path().to_path_buf(),
            args.to_vec(),
        );
        let what = format!("pg_ctl {}", args.join(" "));
        tokio::task::spawn_blocking(move || {
            run(
                pg_command(&bin.join("pg_ctl"), &dir)
                    .arg("--pgdata")
                    .arg(dir.join("data"))
                    .args(&args),
                &what,
            )
        })
        .await
        .expect("pg_ctl task");
    }

    /// Starts the stopped server again on the same port (it recovers from its WAL).
    pub async fn start_again(&self) {
        let (bin, dir, port, durable) = (
            self.bin.clone(),
            self.dir.path().to_path_buf(),
            self.port,
            self.durable,
        );
        tokio::task::spawn_blocking(move || start_instance(&bin, &dir, port, durable))
            .await
            .expect("start task")
            .expect("PostgreSQL starts again");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        let data = self.data();
        let _ = pg_command(&self.bin.join("pg_ctl"), self.dir.path())
            .arg("--pgdata")
            .arg(&data)
            .args(["--mode=immediate", "--wait", "stop"])
            .output();
    }
}

fn start_blocking(test: &str, durable: bool) -> Option<TestPg> {
    let Some(bin) = installed_bin_dir() else {
        let reason = "PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb)";
        assert!(!require_services(), "QUIRE_REQUIRE_SERVICES=1 but {reason}");
        // Written to the real standard error: libtest captures `eprintln!` and hides it for passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: {reason}; ./scripts/test installs it"
        );
        return None;
    };
    let template = template(&bin);
    let dir = instance_dir();
    copy_dir(&template.join("data"), &dir.path().join("data"));
    let mut last_error = String::new();
    // A free port can be taken between our probe and the server's bind; try a few.
    for _ in 0..5 {
        let port = free_port();
        match start_instance(&bin, dir.path(), port, durable) {
            Ok(()) => {
                create_database(&bin, port);
                let url = format!("postgres://postgres@127.0.0.1:{port}/quire");
                return Some(TestPg {
                    url,
                    port,
                    bin,
                    dir,
                    durable,
                });
            }
            Err(err) => last_error = err,
        }
    }
    panic!("PostgreSQL did not start: {last_error}");
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb`.
fn installed_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

/// A command for a PostgreSQL program: as the `postgres` user when we are root (initdb and the server refuse root).
fn pg_command(program: &Path, cwd: &Path) -> Command {
    let mut command = if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command
        .current_dir(cwd)
        .env_remove("PGDATA")
        .env_remove("PGHOST")
        .env_remove("PGPORT");
    command
}

/// A directory the server may own: mode 700, owned by `postgres` when we are root.
fn make_private(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
    if running_as_root() {
        run(
            Command::new("chown").args(["postgres:postgres"]).arg(dir),
            "chown postgres",
        );
    }
}

fn instance_dir() -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("quire-pg-")
        .tempdir()
        .expect("temp dir");
    make_private(dir.path());
    dir
}

/// The initdb-ed cluster for this PostgreSQL version, created once (per target directory) and then only copied.
fn template(bin: &Path) -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let version = bin
            .parent()
            .and_then(Path::file_name)
            .and_then(|name| name.to_str())
            .unwrap_or("pg");
        let path =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("quire-pg-template-{version}"));
        if !path.join("data").join("PG_VERSION").exists() {
            build_template(bin, &path);
        }
        path
    })
}

/// initdb into a staging directory, then rename it into place so that concurrent test processes never see half a template.
fn build_template(bin: &Path, path: &Path) {
    let parent = path.parent().expect("template parent");
    std::fs::create_dir_all(parent).expect("create target tmp dir");
    let staging = tempfile::Builder::new()
        .prefix("quire-pg-staging-")
        .tempdir_in(parent)
        .expect("staging dir")
        .keep();
    make_private(&staging);
    run(
        pg_command(&bin.join("initdb"), &staging)
            .arg("--pgdata")
            .arg(staging.join("data"))
            .args([
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]),
        "initdb",
    );
    if std::fs::rename(&staging, path).is_err() {
        // Another test process won the race; its template is as good as ours.
        let _ = std::fs::remove_dir_all(&staging);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    // `cp --archive` keeps owner and modes, which PostgreSQL checks.
    run(
        Command::new("cp").arg("--archive").arg(from).arg(to),
        "copy the PostgreSQL template",
    );
}

fn start_instance(bin: &Path, dir: &Path, port: u16, durable: bool) -> Result<(), String> {
    // fsync=off survives a crash of PostgreSQL (the OS still has the pages), synchronous_commit=off does not.
    let speed = if durable {
        "-c fsync=off"
    } else {
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    };
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 {speed}",
        dir.display()
    );
    let output = pg_command(&bin.join("pg_ctl"), dir)
        .arg("--pgdata")
        .arg(dir.join("data"))
        .arg("--log")
        .arg(dir.join("server.log"))
        .args(["--wait", "--timeout=30", "--options", &options, "start"])
        .output()
        .map_err(|err| format!("cannot run pg_ctl: {err}"))?;
    if output.status.success() {
        return Ok(());
    }
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    Err(format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        log
    ))
}

fn create_database(bin: &Path, port: u16) {
    run(
        Command::new(bin.join("createdb"))
            .args(["--host=127.0.0.1", "--username=postgres", "--no-password"])
            .arg(format!("--port={port}"))
            .arg("quire"),
        "createdb",
    );
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: cannot run: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
