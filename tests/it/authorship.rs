//! Authorship (issue 14): three people type and delete at random over real sockets, each only with characters of
//! an alphabet of their own, so the final text says who inserted every character; the `authors` frame and
//! `GET /api/docs/{id}/authors` must agree with it, after the hub's compactions, after it reloads from the
//! database, and after a restart, on SQLite and PostgreSQL. Also who may ask, imports, deleted accounts, and the
//! switch that turns it off.

use std::time::Duration;

use quire::ot::Delta;
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    cluster_client::{account, api, create_doc, share_as},
    hub_client::{SimClient, TestSocket, client_id},
    support::{Backend, TestServer, TestUser, form_csrf, get_text, post_form},
};

struct Typist {
    name: &'static str,
    alphabet: &'static str,
    socket: TestSocket,
    sim: SimClient,
}

impl Typist {
    async fn join(server: &TestServer, doc: &str, token: &str, name: &'static str) -> Typist {
        let alphabet = match name {
            "Ann" => "abcdefghij",
            "Bob" => "ABCDEFGHIJ",
            _ => "0123456789éß",
        };
        let mut socket = TestSocket::connect(&server.addr.to_string(), doc, token).await;
        let mut sim = SimClient::new(client_id(name));
        socket.send(sim.hello()).await;
        let welcome = socket.recv().await;
        assert_eq!(welcome["t"], "welcome", "{welcome}");
        sim.receive(&welcome);
        Typist {
            name,
            alphabet,
            socket,
            sim,
        }
    }

    /// Types a few characters of the typist's alphabet, or deletes a few of anyone's, in its own view.
    async fn act(&mut self, rng: &mut StdRng) {
        let text_len = self.sim.doc.length().saturating_sub(1);
        let at = rng.random_range(0..=text_len);
        let change = if rng.random_bool(0.3) && at < text_len {
            let n = rng.random_range(1..=(text_len - at).min(3));
            Delta::new().retain(at, None).delete(n)
        } else {
            let letters: Vec<char> = self.alphabet.chars().collect();
            let word: String = (0..rng.random_range(1..4))
                .map(|_| letters[rng.random_range(0..letters.len())])
                .collect();
            Delta::new().retain(at, None).insert(word, None)
        };
        if let Some(frame) = self.sim.edit(change) {
            self.socket.send(frame).await;
        }
    }

    async fn pump(&mut self, wait: Duration) -> bool {
        let mut any = false;
        while let Some(frame) = self.socket.recv_within(wait).await {
            any = true;
            assert_ne!(frame["t"], "error", "{}: {frame}", self.name);
            for reply in self.sim.receive(&frame) {
                self.socket.send(reply).await;
            }
        }
        any
    }
}

/// Who inserted each UTF-16 unit of `text`, by the alphabets: `None` for the document's first newline.
fn expected_names(text: &str) -> Vec<Option<&'static str>> {
    text.chars()
        .flat_map(|ch| {
            let name = if ch.is_ascii_lowercase() {
                Some("Ann")
            } else if ch.is_ascii_uppercase() {
                Some("Bob")
            } else if ch == '\n' {
                None
            } else {
                Some("Cy")
            };
            std::iter::repeat_n(name, ch.len_utf16())
        })
        .collect()
}

/// The answer's spans as one name per unit (`people` names the ids).
fn names_of(answer: &Value) -> Vec<Option<String>> {
    let people = &answer["people"];
    let mut names = Vec::new();
    for span in answer["spans"].as_array().expect("spans") {
        let len = span[0].as_u64().expect("a length") as usize;
        assert!(len > 0, "no empty span: {answer}");
        let name = span[1].as_str().map(|id| {
            people[id]
                .as_str()
                .expect("every author is named")
                .to_string()
        });
        names.extend(std::iter::repeat_n(name, len));
    }
    names
}

fn assert_authors(answer: &Value, text: &str, head: u64, when: &str) {
    assert_eq!(answer["rev"], head, "{when}: {answer}");
    let expected: Vec<Option<String>> = expected_names(text)
        .into_iter()
        .map(|name| name.map(str::to_string))
        .collect();
    let got = names_of(answer);
    assert_eq!(
        got.len(),
        expected.len(),
        "{when}: the spans cover the text"
    );
    if let Some(at) = (0..got.len()).find(|i| got[*i] != expected[*i]) {
        panic!(
            "{when}: unit {at} of {text:?} is {:?}'s by the server, {:?}'s by its alphabet",
            got[at], expected[at]
        );
    }
}

async fn authors_over_http(server: &TestServer, doc: &str, token: &str) -> Value {
    let url = server.url(&format!("/api/docs/{doc}/authors"));
    let (status, body) = api(Method::GET, &url, token, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

crate::on_both_backends!(every_character_is_its_typists_through_compaction_reload_and_restart);

async fn every_character_is_its_typists_through_compaction_reload_and_restart(backend: Backend) {
    let server = TestServer::start_on(backend, &crate::support::RANDOM_RUN_FLAGS).await;
    let (ann, _) = account(&server.base, "Ann").await;
    let (bob, bob_email) = account(&server.base, "Bob").await;
    let (cy, cy_email) = account(&server.base, "Cy").await;
    let doc = create_doc(&server.base, &ann, "authors").await;
    share_as(&server.base, &ann, &doc, &bob_email, "editor").await;
    share_as(&server.base, &ann, &doc, &cy_email, "editor").await;
    let mut typists = vec![
        Typist::join(&server, &doc, &ann, "Ann").await,
        Typist::join(&server, &doc, &bob, "Bob").await,
        Typist::join(&server, &doc, &cy, "Cy").await,
    ];
    let mut rng = StdRng::seed_from_u64(14);
    for _ in 0..150 {
        for typist in &mut typists {
            if rng.random_bool(0.7) {
                typist.act(&mut rng).await;
            }
        }
        for typist in &mut typists {
            typist.pump(Duration::from_millis(2)).await;
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut busy = false;
        for typist in &mut typists {
            busy |= typist.pump(Duration::from_millis(50)).await;
            busy |= typist.sim.has_pending();
        }
        if !busy {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run did not settle"
        );
    }
    let head = typists[0].sim.rev;
    let text = typists[0].sim.doc.text();
    for typist in &typists {
        assert_eq!(typist.sim.doc.text(), text, "{} converged", typist.name);
    }
    let names = expected_names(&text);
    for name in ["Ann", "Bob", "Cy"] {
        assert!(
            names.iter().filter(|n| **n == Some(name)).count() > 20,
            "{name} wrote a good part of {text:?}"
        );
    }

    // Over the socket, in order with the ops: Cy asks, and hears the answer at head.
    typists[2].socket.send(json!({"t": "authors"})).await;
    let frame = typists[2].socket.recv_kind("authors").await;
    assert_authors(&frame, &text, head, "the authors frame");
    assert_authors(
        &authors_over_http(&server, &doc, &bob).await,
        &text,
        head,
        "GET /authors",
    );
    let store = server.store().await;
    let logged = store.count_ops(&doc).await.expect("count ops");
    assert!(
        logged < head as i64 / 2,
        "compaction pruned the log ({logged} ops for {head} revisions), so what follows reads the stored map"
    );

    // Everyone leaves: the hub writes the map on exit; the next request loads it from the database.
    drop(typists);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let stored = store
        .authorship(&doc)
        .await
        .expect("read")
        .expect("a stored map");
    assert_eq!(stored.rev, head as i64, "written at head on exit");
    assert_authors(
        &authors_over_http(&server, &doc, &ann).await,
        &text,
        head,
        "after the hub reloaded",
    );

    let server = server.restart().await;
    assert_authors(
        &authors_over_http(&server, &doc, &cy).await,
        &text,
        head,
        "after a restart",
    );
    server.stop().await;
}

/// A hub that never wrote its map (it crashed, or had not compacted yet) loses nothing: the log after the stored
/// map is kept and replayed with each op's author.
#[tokio::test]
async fn the_log_after_the_stored_map_is_replayed_with_its_authors() {
    let server = TestServer::start_with(&[("history.idle_grace", "60s")]).await;
    let (ann, _) = account(&server.base, "Ann").await;
    let (bob, bob_email) = account(&server.base, "Bob").await;
    let doc = create_doc(&server.base, &ann, "replay").await;
    share_as(&server.base, &ann, &doc, &bob_email, "editor").await;
    let mut a = Typist::join(&server, &doc, &ann, "Ann").await;
    let mut b = Typist::join(&server, &doc, &bob, "Bob").await;
    for (typist, word) in [(&mut a, "hello"), (&mut b, "WORLD")] {
        let frame = typist
            .sim
            .edit(Delta::new().insert(word, None))
            .expect("a frame");
        typist.socket.send(frame).await;
        while typist.sim.has_pending() {
            typist.pump(Duration::from_millis(50)).await;
        }
    }
    a.pump(Duration::from_millis(200)).await;
    assert_eq!(a.sim.rev, 2, "Ann heard Bob's op");
    let text = a.sim.doc.text();
    let head = a.sim.rev;
    drop((a, b));
    // No hub exit (the grace is a minute): the restart drops the hub without writing anything.
    let store = server.store().await;
    assert!(store.authorship(&doc).await.expect("read").is_none());
    let server = server.restart().await;
    assert_authors(
        &authors_over_http(&server, &doc, &bob).await,
        &text,
        head,
        "replayed from the log",
    );
    server.stop().await;
}

#[tokio::test]
async fn who_may_ask_and_what_an_import_and_a_deleted_account_are() {
    let server = TestServer::start().await;
    let (ann, _) = account(&server.base, "Ann").await;
    let (vi, vi_email) = account(&server.base, "Vi").await;
    let (stranger, _) = account(&server.base, "Stranger").await;
    let doc = create_doc(&server.base, &ann, "who").await;
    share_as(&server.base, &ann, &doc, &vi_email, "viewer").await;

    let url = server.url(&format!("/api/docs/{doc}/authors"));
    let (status, body) = api(Method::GET, &url, &stranger, None).await;
    assert_eq!(
        status, 404,
        "a stranger does not learn the document exists: {body}"
    );
    let missing = server.url("/api/docs/nope/authors");
    assert_eq!(api(Method::GET, &missing, &ann, None).await.0, 404);
    let viewer = authors_over_http(&server, &doc, &vi).await;
    assert_eq!(viewer["rev"], 0, "{viewer}");
    assert_eq!(
        viewer["spans"],
        json!([[1, null]]),
        "the empty document's newline"
    );

    // A viewer may ask over the socket too; an `authors` with fields is a bad message.
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &vi).await;
    socket.hello(&client_id("vi"), None).await;
    socket.send(json!({"t": "authors"})).await;
    let frame = socket.recv_kind("authors").await;
    assert_eq!(frame["spans"], json!([[1, null]]));
    // Its budget: 1 a second, bursts of 5; past it a non-fatal `rate_limited`, and the socket stays open.
    for _ in 0..8 {
        socket.send(json!({"t": "authors"})).await;
    }
    let limited = socket.recv_kind("error").await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    assert_eq!(limited["fatal"], false, "{limited}");
    socket.send(json!({"t": "authors", "x": 1})).await;
    let mut error = socket.recv_kind("error").await;
    while error["code"] == "rate_limited" {
        error = socket.recv_kind("error").await;
    }
    assert_eq!(error["code"], "bad_message", "{error}");

    // An import: its creator wrote every character.
    let (status, imported) = {
        let response = crate::support::client()
            .post(server.url("/api/docs/import?title=Imported"))
            .bearer_auth(&vi)
            .header("Content-Type", "text/plain")
            .body("Hello from Vi")
            .send()
            .await
            .expect("import");
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.expect("JSON"))
    };
    assert_eq!(status, 201, "{imported}");
    let imported_id = imported["id"].as_str().expect("id");
    let answer = authors_over_http(&server, imported_id, &vi).await;
    let names = names_of(&answer);
    assert!(
        !names.is_empty() && names.iter().all(|name| name.as_deref() == Some("Vi")),
        "{answer}"
    );

    // Dee types, then deletes her account: her text's author is unknown, and nothing was rewritten for it.
    let dee = TestUser::signup(&server, "Dee").await;
    share_as(&server.base, &ann, &doc, &dee.email, "editor").await;
    let dee_token = dee.api_token(&server).await;
    let mut typist = Typist::join(&server, &doc, &dee_token, "Dee").await;
    let frame = typist
        .sim
        .edit(Delta::new().insert("abc", None))
        .expect("a frame");
    typist.socket.send(frame).await;
    typist.socket.recv_kind("ack").await;
    drop(typist);
    let answer = authors_over_http(&server, &doc, &vi).await;
    assert_eq!(answer["spans"], json!([[3, dee.id], [1, null]]), "{answer}");
    assert_eq!(
        answer["people"],
        json!({ dee.id.as_str(): "Dee" }),
        "{answer}"
    );
    let csrf = form_csrf(&get_text(&dee.http, server.url("/account")).await);
    let fields = [
        ("csrf", csrf.as_str()),
        ("documents", "delete"),
        ("confirm", dee.password.as_str()),
    ];
    let response = post_form(&dee.http, &server.url("/account/delete"), &fields).await;
    assert_eq!(response.status(), 200, "the account was deleted");
    let answer = authors_over_http(&server, &doc, &vi).await;
    assert_eq!(answer["spans"], json!([[4, null]]), "{answer}");
    assert_eq!(answer["people"], json!({}), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn turned_off_it_answers_unavailable_and_stores_nothing() {
    let server = TestServer::start_with(&[("history.authorship", "false")]).await;
    let (ann, _) = account(&server.base, "Ann").await;
    let doc = create_doc(&server.base, &ann, "off").await;
    let url = server.url(&format!("/api/docs/{doc}/authors"));
    let (status, body) = api(Method::GET, &url, &ann, None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &ann).await;
    socket.hello(&client_id("ann"), None).await;
    socket.send(json!({"t": "authors"})).await;
    let error = socket.recv_kind("error").await;
    assert_eq!(error["code"], "unavailable", "{error}");
    assert_eq!(error["fatal"], false, "{error}");
    socket.send(json!({"t": "ping"})).await;
    assert_eq!(
        socket.recv_kind("pong").await["t"],
        "pong",
        "the socket stays open"
    );
    server.stop().await;
}

/// What a restore puts back is the restoring person's: it is their op.
#[tokio::test]
async fn a_restore_is_written_by_who_restores() {
    let server = TestServer::start().await;
    let (ann, _) = account(&server.base, "Ann").await;
    let (bob, bob_email) = account(&server.base, "Bob").await;
    let doc = create_doc(&server.base, &ann, "restore").await;
    share_as(&server.base, &ann, &doc, &bob_email, "editor").await;
    let mut a = Typist::join(&server, &doc, &ann, "Ann").await;
    let frame = a
        .sim
        .edit(Delta::new().insert("abc", None))
        .expect("a frame");
    a.socket.send(frame).await;
    while a.sim.has_pending() {
        a.pump(Duration::from_millis(50)).await;
    }
    let versions = server.url(&format!("/api/docs/{doc}/versions"));
    let (status, named) = api(
        Method::POST,
        &versions,
        &ann,
        Some(json!({"name": "first"})),
    )
    .await;
    assert_eq!(status, 201, "{named}");
    let frame = a
        .sim
        .edit(Delta::new().delete(3).insert("defg", None))
        .expect("a frame");
    a.socket.send(frame).await;
    while a.sim.has_pending() {
        a.pump(Duration::from_millis(50)).await;
    }
    let version = named["id"].as_str().expect("version id");
    let restore = server.url(&format!("/api/docs/{doc}/versions/{version}/restore"));
    let (status, body) = api(Method::POST, &restore, &bob, None).await;
    assert_eq!(status, 200, "{body}");
    let answer = authors_over_http(&server, &doc, &ann).await;
    let names = names_of(&answer);
    assert_eq!(names.len(), 4, "{answer}");
    assert!(
        names[..3].iter().all(|name| name.as_deref() == Some("Bob")),
        "the restored text is Bob's: {answer}"
    );
    drop(a);
    server.stop().await;
}
