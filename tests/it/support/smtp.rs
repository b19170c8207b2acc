//! A small SMTP server on loopback for the e-mail tests: it speaks enough of RFC 5321 for lettre (greeting, EHLO or
//! HELO, MAIL FROM, RCPT TO, DATA with dot-unstuffing, RSET, NOOP, QUIT) and keeps every message it accepts.

use std::{sync::Arc, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::{Mutex, mpsc},
};

/// One accepted message: its envelope and its raw data, dot-unstuffed, lines joined with `\n`.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The body as the reader sees it: after the headers, quoted-printable decoded when the message says so
    /// (lettre picks that encoding for lines longer than 76 characters).
    pub fn body(&self) -> String {
        let (headers, body) = self.data.split_once("\n\n").unwrap_or(("", &self.data));
        let quoted = headers
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: quoted-printable");
        if quoted {
            decode_quoted_printable(body)
        } else {
            body.to_string()
        }
    }

    /// The first whitespace-separated word of the body that starts with `prefix` (a link).
    pub fn link_starting(&self, prefix: &str) -> Option<String> {
        self.body()
            .split_whitespace()
            .find(|word| word.starts_with(prefix))
            .map(str::to_string)
    }

    /// The `Subject:` header's value.
    pub fn subject(&self) -> String {
        self.data
            .lines()
            .find_map(|line| line.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_string()
    }
}

pub struct SmtpSink {
    pub port: u16,
    received: Mutex<mpsc::UnboundedReceiver<Received>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMTP sink");
        let port = listener.local_addr().expect("sink address").port();
        let (sender, received) = mpsc::unbounded_channel();
        let sender = Arc::new(sender);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, sender.clone()));
            }
        });
        SmtpSink {
            port,
            received: Mutex::new(received),
            task,
        }
    }

    /// The flags that send a test server's mail here, with TLS off.
    pub fn flags(&self) -> Vec<(&'static str, String)> {
        vec![
            ("mail.enabled", "true".into()),
            ("mail.host", "127.0.0.1".into()),
            ("mail.port", self.port.to_string()),
            ("mail.tls", "none".into()),
            ("mail.from", "Quire <quire@example.test>".into()),
            ("mail.timeout", "5s".into()),
        ]
    }

    /// The next message accepted, waiting at most `within`.
    pub async fn next(&self, within: Duration) -> Option<Received> {
        let mut received = self.received.lock().await;
        tokio::time::timeout(within, received.recv())
            .await
            .ok()
            .flatten()
    }

    /// Panics with the message when one arrives within `within`.
    pub async fn expect_nothing(&self, within: Duration) {
        if let Some(message) = self.next(within).await {
            panic!(
                "no e-mail expected, got one to {:?}: {}",
                message.to, message.data
            );
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One SMTP conversation; a message is kept when its DATA ends with a lone dot.
async fn session(stream: TcpStream, sink: Arc<mpsc::UnboundedSender<Received>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async |text: &str| write.write_all(format!("{text}\r\n").as_bytes()).await;
    if reply("220 sink.test ESMTP test sink").await.is_err() {
        return;
    }
    let mut envelope = Received {
        from: String::new(),
        to: Vec::new(),
        data: String::new(),
    };
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250 8BITMIME"
        } else if upper.starts_with("HELO") {
            "250 sink.test"
        } else if upper.starts_with("MAIL FROM:") {
            envelope.from = address_in(&line);
            "250 OK"
        } else if upper.starts_with("RCPT TO:") {
            envelope.to.push(address_in(&line));
            "250 OK"
        } else if upper == "DATA" {
            if reply("354 end with <CRLF>.<CRLF>").await.is_err() {
                return;
            }
            let mut data = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                // Dot-stuffing: a line that starts with a dot was sent with one more.
                data.push(line.strip_prefix('.').map_or(line.clone(), str::to_string));
            }
            envelope.data = data.join("\n");
            let _ = sink.send(envelope.clone());
            envelope.to.clear();
            "250 OK queued"
        } else if upper == "RSET" {
            envelope.to.clear();
            "250 OK"
        } else if upper == "NOOP" {
            "250 OK"
        } else if upper == "QUIT" {
            let _ = reply("221 bye").await;
            return;
        } else {
            "502 command not implemented"
        };
        if reply(answer).await.is_err() {
            return;
        }
    }
}

/// RFC 2045 quoted-printable: `=` at a line's end joins it to the next, `=XX` is the byte XX.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[at], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `MAIL FROM:<a@b> SIZE=1` -> `a@b`.
fn address_in(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_string()
}
