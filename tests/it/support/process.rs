//! The real `quire` binary as a child process: one-shot CLI runs, and `SpawnedQuire` for a serving process.

use std::{
    path::{Path, PathBuf},
    process::{ExitStatus, Output, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
};

const READY_PREFIX: &str = "Quire is ready at ";

pub fn quire_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_quire"))
}

/// A `quire` command run in `cwd`, with no `QUIRE_*` variables inherited from the test run.
pub fn quire_command(cwd: &Path) -> Command {
    let mut command = Command::new(quire_bin());
    command.current_dir(cwd).kill_on_drop(true);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("QUIRE_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs any child to completion within `limit`, killing it past that (so no test can hang CI on a child).
pub fn output_within(mut command: std::process::Command, limit: Duration) -> std::process::Output {
    let what = format!("{command:?}");
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {what}: {err}"));
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(limit).is_err() {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!("{what} did not finish within {limit:?} and was killed");
    }
    waiter
        .join()
        .expect("waiter thread")
        .unwrap_or_else(|err| panic!("waiting for {what}: {err}"))
}

/// Runs `quire ARGS` to completion with `stdin` as its standard input.
pub async fn run_quire(cwd: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = quire_command(cwd)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn quire");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("quire {args:?} did not finish within 60 s"))
        .expect("wait for quire")
}

/// A serving `quire` process. Killed on drop if still running.
pub struct SpawnedQuire {
    /// The URL from the `Quire is ready at URL` line.
    pub url: String,
    pub child: Child,
    stderr: Arc<Mutex<String>>,
}

impl SpawnedQuire {
    /// Starts `quire ARGS` in `cwd` and waits (up to 60 s) for the ready line on standard output.
    pub async fn start(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> SpawnedQuire {
        SpawnedQuire::try_start(cwd, args, env)
            .await
            .unwrap_or_else(|stderr| {
                panic!("quire {args:?} printed no ready line within 60 s; stderr:\n{stderr}")
            })
    }

    /// `start`, or the process's standard error when it printed no ready line (e.g. its port was taken).
    pub async fn try_start(
        cwd: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<SpawnedQuire, String> {
        let mut child = quire_command(cwd)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn quire");
        let stderr = collect(child.stderr.take().expect("stderr"));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let url = tokio::time::timeout(Duration::from_secs(60), read_ready_line(&mut stdout)).await;
        let Ok(Some(url)) = url else {
            let _ = child.kill().await;
            // Let the reader take what the process wrote before it died.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Err(stderr.lock().map(|text| text.clone()).unwrap_or_default());
        };
        // Keep draining standard output so the child never blocks on a full pipe.
        collect(stdout.into_inner());
        Ok(SpawnedQuire { url, child, stderr })
    }

    /// What the process wrote to standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; panics (after SIGKILL) if it does not come.
    pub async fn sigterm(&mut self, timeout: Duration) -> ExitStatus {
        let pid = self.child.id().expect("the process is still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => status.expect("wait for quire"),
            Err(_) => {
                let _ = self.child.kill().await;
                panic!(
                    "quire did not exit within {timeout:?} of SIGTERM; stderr:\n{}",
                    self.stderr()
                );
            }
        }
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub async fn kill9(&mut self) -> ExitStatus {
        self.child.kill().await.expect("kill -9");
        self.child.wait().await.expect("wait for quire")
    }
}

async fn read_ready_line(stdout: &mut BufReader<impl AsyncRead + Unpin>) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if let Some(url) = line.trim_end().strip_prefix(READY_PREFIX) {
            return Some(url.to_string());
        }
    }
}

/// Reads a pipe to its end in the background, keeping the text.
fn collect(mut pipe: impl AsyncRead + Unpin + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    tokio::spawn(async move {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            if let Ok(mut text) = sink.lock() {
                text.push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        }
    });
    text
}
