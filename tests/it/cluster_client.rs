//! `Typist`: a client of a cluster, as a browser behind a load balancer would be. It opens the document through
//! any node (its "origins", tried in turn when one does not answer), follows `redirect`s, resumes after every
//! drop with its pending op (PROTOCOL.md section 2, through `SimClient`), and types unique markers such as
//! `[t1:17]` at the start or the end of the text, where no marker can split another: afterwards each marker typed
//! must be in the document exactly once.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use quire::ot::Delta;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use tokio::{sync::watch, time::Instant};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::hub_client::{SimClient, Ws, client_id};

/// How long a pending op may go without any frame from the server before the socket is given up for dead (a
/// paused node keeps its sockets open).
const NO_PROGRESS: Duration = Duration::from_secs(3);

pub struct Typist {
    pub tag: String,
    pub sim: SimClient,
    origins: Vec<String>,
    origin: usize,
    next_url: Option<String>,
    doc: String,
    token: String,
    /// Every marker this typist typed, in order.
    pub typed: Vec<String>,
    pub redirects: u32,
    pub sessions: u32,
    /// `internal` errors (a refused commit: the op is resent later, as the protocol says).
    pub internal_errors: u32,
}

impl Typist {
    /// `origins`: `127.0.0.1:PORT` of the nodes it may enter through, the first one first.
    pub fn new(tag: &str, origins: Vec<String>, doc: &str, token: &str) -> Typist {
        Typist {
            tag: tag.to_string(),
            sim: SimClient::new(client_id(tag)),
            origins,
            origin: 0,
            next_url: None,
            doc: doc.to_string(),
            token: token.to_string(),
            typed: Vec::new(),
            redirects: 0,
            sessions: 0,
            internal_errors: 0,
        }
    }

    /// Types every `pace` until `stop` turns true, then finishes: everything typed acknowledged and the socket
    /// quiet for a second (so its document has every op). Gives up after `limit`.
    pub async fn run(
        mut self,
        pace: Duration,
        seed: u64,
        mut stop: watch::Receiver<bool>,
        limit: Duration,
    ) -> Typist {
        let deadline = Instant::now() + limit;
        let mut rng = StdRng::seed_from_u64(seed);
        while Instant::now() < deadline {
            let Some(ws) = self.connect().await else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            if self.session(ws, pace, &mut rng, &mut stop, deadline).await {
                return self;
            }
        }
        self.sim
            .problems
            .push(format!("{}: not finished within {limit:?}", self.tag));
        self
    }

    async fn connect(&mut self) -> Option<Ws> {
        let url = match self.next_url.take() {
            Some(url) => url,
            None => {
                let origin = &self.origins[self.origin % self.origins.len()];
                format!("ws://{origin}/api/docs/{}/ws", self.doc)
            }
        };
        let mut request = url.into_client_request().ok()?;
        let bearer = HeaderValue::from_str(&format!("Bearer {}", self.token)).ok()?;
        request.headers_mut().insert("authorization", bearer);
        match tokio::time::timeout(
            Duration::from_secs(2),
            tokio_tungstenite::connect_async(request),
        )
        .await
        {
            Ok(Ok((ws, _))) => Some(ws),
            _ => {
                // That node does not answer (paused or gone): enter through the next one.
                self.origin += 1;
                None
            }
        }
    }

    /// One connection; true when the typist is finished.
    async fn session(
        &mut self,
        mut ws: Ws,
        pace: Duration,
        rng: &mut StdRng,
        stop: &mut watch::Receiver<bool>,
        deadline: Instant,
    ) -> bool {
        self.sessions += 1;
        self.sim.connected();
        if send(&mut ws, &self.sim.hello()).await.is_err() {
            return false;
        }
        let mut welcomed = false;
        let mut last_frame = Instant::now();
        let mut tick = tokio::time::interval(pace);
        loop {
            if Instant::now() > deadline {
                return false;
            }
            tokio::select! {
                message = ws.next() => {
                    let Some(Ok(message)) = message else { return false };
                    let Message::Text(text) = message else {
                        if matches!(message, Message::Close(_)) { return false; }
                        continue;
                    };
                    last_frame = Instant::now();
                    let frame: Value = serde_json::from_str(&text).expect("server frames are JSON");
                    match frame["t"].as_str() {
                        Some("redirect") => {
                            self.redirects += 1;
                            self.next_url = frame["url"].as_str().map(str::to_string);
                            continue;
                        }
                        Some("welcome") => welcomed = true,
                        Some("error") if frame["code"] == "internal" => {
                            self.internal_errors += 1;
                            continue;
                        }
                        _ => {}
                    }
                    for reply in self.sim.receive(&frame) {
                        if send(&mut ws, &reply).await.is_err() {
                            return false;
                        }
                    }
                }
                _ = tick.tick() => {
                    if self.sim.has_pending() && last_frame.elapsed() > NO_PROGRESS {
                        // The node went silent with our op: try elsewhere, as a browser's dead-link timer would.
                        self.origin += 1;
                        return false;
                    }
                    if !welcomed {
                        continue;
                    }
                    if *stop.borrow() {
                        if !self.sim.has_pending() && last_frame.elapsed() > Duration::from_secs(1) {
                            let _ = ws.close(None).await;
                            return true;
                        }
                        continue;
                    }
                    let change = self.next_marker(rng);
                    if let Some(frame) = self.sim.edit(change)
                        && send(&mut ws, &frame).await.is_err()
                    {
                        return false;
                    }
                }
            }
        }
    }

    fn next_marker(&mut self, rng: &mut StdRng) -> Delta {
        let marker = format!("[{}:{}]", self.tag, self.typed.len() + 1);
        self.typed.push(marker.clone());
        let len = self.sim.doc.length();
        // At the start, or just before the final newline: never inside another marker.
        let at = if rng.random_bool(0.5) {
            0
        } else {
            len.saturating_sub(1)
        };
        let mut change = Delta::new();
        if at > 0 {
            change = change.retain(at, None);
        }
        change.insert(&marker, None)
    }
}

async fn send(ws: &mut Ws, frame: &Value) -> Result<(), ()> {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .map_err(|_| ())
}

/// `n` typists on one document, typing every `pace` until stopped; typist `i` enters through `origins`
/// (`127.0.0.1:PORT`) starting at the `i`-th, as a load balancer would spread them.
pub struct Typing {
    pub doc: String,
    pub token: String,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<Typist>>,
}

impl Typing {
    /// Each typist gives up after `limit` (a client of a server that loses edits may never settle).
    pub fn through(
        origins: &[String],
        doc: &str,
        token: &str,
        n: usize,
        pace: Duration,
        limit: Duration,
    ) -> Typing {
        let (stop, stopped) = watch::channel(false);
        let tasks = (0..n)
            .map(|i| {
                let mut order = origins.to_vec();
                order.rotate_left(i % origins.len());
                let typist = Typist::new(&format!("t{i}"), order, doc, token);
                tokio::spawn(typist.run(pace, 100 + i as u64, stopped.clone(), limit))
            })
            .collect();
        Typing {
            doc: doc.to_string(),
            token: token.to_string(),
            stop,
            tasks,
        }
    }

    /// Stops typing and waits until every typist has finished (all acknowledged and quiet, or its limit).
    pub async fn stop(self) -> Vec<Typist> {
        let _ = self.stop.send(true);
        let mut typists = Vec::new();
        for task in self.tasks {
            typists.push(task.await.expect("typist task"));
        }
        typists
    }
}

/// The document and its revision, read through `base`'s JSON API.
pub async fn content_delta_at(base: &str, doc: &str, token: &str) -> (Delta, u64) {
    let content = crate::hub_convergence::content(base, doc, token).await;
    assert!(
        content["ops"].is_array(),
        "GET {base}/api/docs/{doc}/content: {content}"
    );
    crate::hub_sim::content_delta(&content)
}

/// The document's text and revision, read through `base`'s JSON API.
pub async fn content_text(base: &str, doc: &str, token: &str) -> (String, u64) {
    let (delta, rev) = content_delta_at(base, doc, token).await;
    (text_of(&delta), rev)
}

pub fn text_of(delta: &Delta) -> String {
    delta.text()
}

/// Problems with `text` as the final document of these typists: a marker missing or present twice, an unknown
/// one, or a typist whose own document differs from it.
pub fn check_markers(text: &str, typists: &[Typist]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expected = 0usize;
    for typist in typists {
        problems.extend(typist.sim.problems.iter().cloned());
        if text_of(&typist.sim.doc) != text {
            problems.push(format!(
                "{} ended with a different document than the server",
                typist.tag
            ));
        }
        for marker in &typist.typed {
            expected += 1;
            let count = text.matches(marker.as_str()).count();
            if count != 1 {
                problems.push(format!("{marker} is in the document {count} times"));
            }
        }
    }
    let found = text.matches('[').count();
    if found != expected {
        problems.push(format!("{found} markers in the document, {expected} typed"));
    }
    problems
}

/// A `json!` helper for tests that create documents through a node.
pub async fn create_doc(base: &str, token: &str, title: &str) -> String {
    let doc: Value = crate::support::client()
        .post(format!("{base}/api/docs"))
        .bearer_auth(token)
        .json(&json!({ "title": title }))
        .send()
        .await
        .expect("create document")
        .json()
        .await
        .expect("document JSON");
    doc["id"].as_str().expect("document id").to_string()
}

/// A fresh account made through `base`: (API token, e-mail).
pub async fn account(base: &str, name: &str) -> (String, String) {
    let http = crate::support::client();
    let email = format!(
        "{name}.{}@example.test",
        quire::auth::random_id(8).to_lowercase()
    );
    let signup = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({"email": email, "name": name, "password": "cluster test password"}))
        .send()
        .await
        .expect("sign up");
    assert_eq!(signup.status(), 201);
    let csrf = crate::support::cookie_value(&signup, "quire_csrf").expect("csrf cookie");
    let token: Value = http
        .post(format!("{base}/api/tokens"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({"name": "cluster test"}))
        .send()
        .await
        .expect("create token")
        .json()
        .await
        .expect("token JSON");
    (token["token"].as_str().expect("token").to_string(), email)
}

/// Gives the person with `email` a role on `doc`, as the owner whose token is `owner_token`; panics unless 200.
pub async fn share_as(base: &str, owner_token: &str, doc: &str, email: &str, role: &str) {
    let url = format!("{base}/api/docs/{doc}/members/{email}");
    let (status, body) = api(
        reqwest::Method::PUT,
        &url,
        owner_token,
        Some(serde_json::json!({ "role": role })),
    )
    .await;
    assert_eq!(status, 200, "sharing {doc} with {email} as {role}: {body}");
}

/// A JSON API call with a Bearer token: (status, body).
pub async fn api(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = crate::support::client()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    } else {
        request = request.header("Content-Type", "application/json");
    }
    let response = request.send().await.expect("API call");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
