//! Export through `GET /api/docs/{id}/content?format=` as each kind of reader gets it: every format and alias, by
//! the owner, a viewer and a guest who came through a link, the same bytes for all; an unknown format is a 400,
//! and someone the document is not shared with learns nothing, whatever the format.

use quire::{convert::Format, ot::Delta};
use reqwest::Client;
use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    support::{TestServer, TestUser, client, expect_json_error, form_csrf, post_form},
};

const TITLE: &str = "Export me";

/// Every name the route takes for a format, with the format and what a person would see in it.
const FORMATS: [(&str, Format, &[&str]); 5] = [
    ("text", Format::Text, &["Notes\nHello world\n"]),
    ("txt", Format::Text, &["Notes\nHello world\n"]),
    (
        "markdown",
        Format::Markdown,
        &["# Notes", "Hello **world**"],
    ),
    ("md", Format::Markdown, &["# Notes", "Hello **world**"]),
    (
        "html",
        Format::Html,
        &[
            "<title>Export me</title>",
            "<h1>Notes</h1>",
            "Hello <strong>world</strong>",
        ],
    ),
];

/// The owner's document: a heading and a line with a bold word, shared with a viewer and open to guests through a
/// viewer link. Returns (owner, viewer, guest browser, document, its content as a Delta).
async fn shared_document(server: &TestServer) -> (TestUser, TestUser, Client, String, Delta) {
    let owner = TestUser::signup(server, "Owner").await;
    let token = owner.api_token(server).await;
    let doc = crate::cluster_client::create_doc(&server.base, &token, TITLE).await;
    // Typed before the new document's final newline, which ends the last line.
    let ops = json!([
        {"insert": "Notes"}, {"insert": "\n", "attributes": {"header": 1}},
        {"insert": "Hello "}, {"insert": "world", "attributes": {"bold": true}}
    ]);
    let mut socket = TestSocket::connect(&server.addr.to_string(), &doc, &token).await;
    socket.hello(&client_id("o"), None).await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": ops}))
        .await;
    socket.recv_kind("ack").await;
    let viewer = TestUser::signup(server, "Viewer").await;
    let shared = owner
        .http
        .put(server.url(&format!("/api/docs/{doc}/members/{}", viewer.email)))
        .header("X-CSRF-Token", &owner.csrf)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .expect("share");
    assert_eq!(shared.status(), 200);
    let link = owner
        .post_json(
            server,
            &format!("/api/docs/{doc}/links"),
            json!({"role": "viewer"}),
        )
        .await;
    let url = link["url"].as_str().expect("link url");
    let guest = client();
    let page = guest.get(url).send().await.expect("open the link");
    let csrf = form_csrf(&page.text().await.expect("guest page"));
    let joined = post_form(
        &guest,
        &format!("{url}/guest"),
        &[("csrf", &csrf), ("name", "Gus")],
    )
    .await;
    assert_eq!(joined.url().path(), format!("/d/{doc}"), "the guest joined");
    let typed = Delta::from_json_unchecked(&ops).expect("a delta");
    let document = Delta::new().insert("\n", None).compose(&typed);
    (owner, viewer, guest, doc, document)
}

async fn get(http: &Client, server: &TestServer, doc: &str, query: &str) -> reqwest::Response {
    http.get(server.url(&format!("/api/docs/{doc}/content{query}")))
        .send()
        .await
        .expect("GET content")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_and_alias_exports_the_same_for_owner_viewer_and_guest() {
    let server = TestServer::start_with(&[("sharing.anonymous_links", "true")]).await;
    let (owner, viewer, guest, doc, delta) = shared_document(&server).await;
    let readers = [
        ("owner", &owner.http),
        ("viewer", &viewer.http),
        ("guest", &guest),
    ];
    for (who, http) in readers {
        for (name, format, visible) in FORMATS {
            let response = get(http, &server, &doc, &format!("?format={name}")).await;
            assert_eq!(response.status(), 200, "{who}, format={name}");
            let content_type = response.headers()["content-type"]
                .to_str()
                .expect("content type")
                .to_string();
            assert_eq!(content_type, format.media_type(), "{who}, format={name}");
            let body = response.text().await.expect("body");
            assert_eq!(
                body,
                quire::convert::export(&delta, format, TITLE),
                "{who}, format={name}"
            );
            for part in visible {
                assert!(
                    body.contains(part),
                    "{who}, format={name}: {part:?} in {body}"
                );
            }
        }
        // The default and `delta`: the head revision and the document as JSON.
        for query in ["", "?format=delta"] {
            let response = get(http, &server, &doc, query).await;
            assert_eq!(response.status(), 200, "{who}, {query:?}");
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(
                body,
                json!({"rev": 1, "ops": delta.to_json()}),
                "{who}, {query:?}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_format_is_a_400_and_a_stranger_gets_404_for_every_format() {
    let server = TestServer::start_with(&[("sharing.anonymous_links", "true")]).await;
    let (owner, viewer, guest, doc, _) = shared_document(&server).await;
    let readers = [
        ("owner", &owner.http),
        ("viewer", &viewer.http),
        ("guest", &guest),
    ];
    for (who, http) in readers {
        for name in ["pdf", "TEXT", "htm", ""] {
            let response = get(http, &server, &doc, &format!("?format={name}")).await;
            let message = expect_json_error(response, 400, "bad_request").await;
            assert!(
                message.contains("markdown"),
                "{who}, format={name:?}: the message lists the formats: {message}"
            );
        }
    }
    let stranger = TestUser::signup(&server, "Stranger").await;
    for (name, _, _) in FORMATS {
        let response = get(&stranger.http, &server, &doc, &format!("?format={name}")).await;
        expect_json_error(response, 404, "not_found").await;
    }
    let response = get(&stranger.http, &server, &doc, "?format=pdf").await;
    expect_json_error(response, 404, "not_found").await;
    server.stop().await;
}
