//! The little HTTP the generator needs (sign-up, API token, document creation) over a plain loopback
//! `TcpStream`, and `--spawn`: start a server binary on a free port with a temporary data directory.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    process::{Child, Command},
};

/// A response: status, headers (lower-cased names) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Result<Value> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("status {}: {}", self.status, self.body))
    }

    /// `name=value` of every `Set-Cookie`.
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next().map(str::to_owned))
            .collect()
    }
}

/// `base` is `http://host:port`. One request per connection (`Connection: close`).
pub async fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Option<&Value>,
) -> Result<Response> {
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("only http:// URLs are supported: {base}"))?
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(host)
        .await
        .with_context(|| format!("connect {host}"))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAccept: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(&body);
    stream.write_all(head.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("bad HTTP response"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The group commit's totals from `/metrics`: (transactions, ops in them); `None` when the metrics cannot be read.
pub async fn commit_totals(base: &str, metrics_token: &str) -> Option<(f64, f64)> {
    let response = request(
        base,
        "GET",
        "/metrics",
        &[("Authorization", format!("Bearer {metrics_token}"))],
        None,
    )
    .await
    .ok()?;
    let value = |name: &str| {
        response
            .body
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
    };
    Some((
        value("quire_db_group_commits_total")?,
        value("quire_db_group_commit_ops_total")?,
    ))
}

/// Signs up a fresh account and returns a new API token.
pub async fn account_token(base: &str) -> Result<String> {
    let nonce = format!(
        "{:x}",
        std::process::id() as u64 * 1_000_003 + super::now_nanos() % 1_000_000
    );
    let signup = request(
        base,
        "POST",
        "/api/auth/signup",
        &[],
        Some(&json!({"email": format!("bench.{nonce}@example.test"), "name": "Bench", "password": format!("bench password {nonce}")})),
    )
    .await?;
    if signup.status != 201 {
        bail!("sign-up failed ({}): {}", signup.status, signup.body);
    }
    let cookies = signup.cookies();
    let csrf = cookies
        .iter()
        .find_map(|c| c.strip_prefix("quire_csrf="))
        .unwrap_or_default()
        .to_string();
    let answer = request(
        base,
        "POST",
        "/api/tokens",
        &[("Cookie", cookies.join("; ")), ("X-CSRF-Token", csrf)],
        Some(&json!({"name": "quire-bench"})),
    )
    .await?;
    let token = answer.json()?["token"].as_str().map(str::to_owned);
    token.ok_or_else(|| anyhow!("no token in {}", answer.body))
}

pub async fn create_doc(base: &str, token: &str, title: &str) -> Result<String> {
    let answer = request(
        base,
        "POST",
        "/api/docs",
        &[("Authorization", format!("Bearer {token}"))],
        Some(&json!({"title": title})),
    )
    .await?;
    let id = answer.json()?["id"].as_str().map(str::to_owned);
    id.ok_or_else(|| anyhow!("create document: {} {}", answer.status, answer.body))
}

/// A server started by the generator; killed and its data directory removed on `stop`.
#[derive(Debug)]
pub struct Spawned {
    pub child: Child,
    pub pid: u32,
    pub url: String,
    pub dir: PathBuf,
}

impl Spawned {
    /// Starts `program args...` (through `taskset -c CPU` when `cpu` is set) and waits for the line
    /// `... ready at URL` (Quire) or `listening on URL` (the echo fixture) on its standard output.
    pub async fn start(
        program: &Path,
        args: &[String],
        cpu: Option<usize>,
        dir: PathBuf,
    ) -> Result<Spawned> {
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::File::create(dir.join("server.log"))?;
        let mut command = match cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpu.to_string()).arg(program);
                c
            }
            None => Command::new(program),
        };
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("spawn {}", program.display()))?;
        let pid = child.id().ok_or_else(|| anyhow!("no pid"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line
                    .rsplit(' ')
                    .next()
                    .filter(|_| line.contains("ready at") || line.contains("listening on"))
                {
                    return Ok(url.trim_end_matches('/').to_string());
                }
            }
            bail!(
                "the server exited before it was ready; see {}",
                dir.join("server.log").display()
            )
        })
        .await
        .context("the server did not get ready within 60 s")??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Spawned {
            child,
            pid,
            url,
            dir,
        })
    }

    pub async fn stop(mut self, keep_dir: bool) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        if !keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
