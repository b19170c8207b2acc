//! Images over HTTP as people meet them: an editor uploads, everyone who sees the document gets the same bytes with
//! safe headers, and nobody else learns the image exists; what is not a PNG, JPEG, GIF or WebP (whatever it claims),
//! an SVG, a file over the limit, a viewer's upload and a full quota are refused and store nothing; exports carry
//! the images, imports keep those the importer may see and fetch nothing; images no version uses are removed.

use reqwest::{Client, Response};
use serde_json::{Value, json};

use crate::{
    hub_client::{TestSocket, client_id},
    support::{TestServer, TestUser, expect_json_error},
};

/// A real 2×2 red PNG.
pub const PNG: [u8; 73] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0x21, 0x27, 0x07,
    0x44, 0x0c, 0x10, 0x0a, 0x00, 0x1f, 0x26, 0x04, 0x11, 0xa2, 0x8f, 0x22, 0xaf, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

const SVG: &str = r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;

/// Another PNG: the same picture with bytes after its end, as some tools write them.
fn other_png(tail: &[u8]) -> Vec<u8> {
    [PNG.as_slice(), tail].concat()
}

async fn upload(
    user: &TestUser,
    server: &TestServer,
    doc: &str,
    bytes: &[u8],
    claimed_type: &str,
) -> Response {
    user.http
        .post(server.url(&format!("/api/docs/{doc}/images")))
        .header("X-CSRF-Token", &user.csrf)
        .header("Content-Type", claimed_type)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("POST images")
}

/// Uploads `bytes` as `user` and returns the image's URL path.
async fn uploaded(user: &TestUser, server: &TestServer, doc: &str, bytes: &[u8]) -> String {
    let response = upload(user, server, doc, bytes, "image/png").await;
    let status = response.status();
    let body: Value = response.json().await.expect("upload answers JSON");
    assert_eq!(status, 201, "upload: {body}");
    body["url"].as_str().expect("url").to_string()
}

async fn get(http: &Client, server: &TestServer, path: &str) -> Response {
    http.get(server.url(path)).send().await.expect("GET")
}

/// Types `ops` into the document as `user` and waits for the ack.
async fn edit(user: &TestUser, server: &TestServer, doc: &str, ops: Value) {
    let token = user.api_token(server).await;
    let mut socket = TestSocket::connect(&server.addr.to_string(), doc, &token).await;
    socket.hello(&client_id("img"), None).await;
    socket
        .send(json!({"t": "op", "rev": 0, "seq": 1, "op": ops}))
        .await;
    socket.recv_kind("ack").await;
}

async fn content(user: &TestUser, server: &TestServer, doc: &str) -> Value {
    get(&user.http, server, &format!("/api/docs/{doc}/content"))
        .await
        .json::<Value>()
        .await
        .expect("content JSON")["ops"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_who_sees_the_document_gets_the_image_and_nobody_else_learns_it_exists() {
    let server = TestServer::start().await;
    let owner = TestUser::signup(&server, "Owner").await;
    let viewer = TestUser::signup(&server, "Viewer").await;
    let stranger = TestUser::signup(&server, "Stranger").await;
    let doc = owner.new_document(&server, "Pictures").await;
    owner.share(&server, &doc, &viewer.email, "viewer").await;
    let url = uploaded(&owner, &server, &doc, &PNG).await;
    assert!(
        url.starts_with(&format!("/api/docs/{doc}/images/")),
        "{url}"
    );

    for (who, user) in [("owner", &owner), ("viewer", &viewer)] {
        let response = get(&user.http, &server, &url).await;
        assert_eq!(response.status(), 200, "{who}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "image/png", "{who}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("private")
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            PNG.as_slice(),
            "{who}"
        );
    }
    // A stranger, a signed-out visitor, a malformed hash and the right hash through another document: all 404.
    assert_eq!(get(&stranger.http, &server, &url).await.status(), 404);
    let signed_out = get(&crate::support::client(), &server, &url).await.status();
    assert!(signed_out == 401 || signed_out == 404, "{signed_out}");
    assert_eq!(
        get(
            &owner.http,
            &server,
            &format!("/api/docs/{doc}/images/nothex")
        )
        .await
        .status(),
        404
    );
    let theirs = stranger.new_document(&server, "Pictures").await;
    let hash = url.rsplit('/').next().unwrap();
    let through_theirs = format!("/api/docs/{theirs}/images/{hash}");
    assert_eq!(
        get(&stranger.http, &server, &through_theirs).await.status(),
        404
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_not_an_acceptable_image_or_not_allowed_is_refused_and_stores_nothing() {
    let server = TestServer::start_with(&[("limits.max_image_bytes", "200")]).await;
    let owner = TestUser::signup(&server, "Owner").await;
    let viewer = TestUser::signup(&server, "Viewer").await;
    let commenter = TestUser::signup(&server, "Commenter").await;
    let stranger = TestUser::signup(&server, "Stranger").await;
    let doc = owner.new_document(&server, "Pictures").await;
    owner.share(&server, &doc, &viewer.email, "viewer").await;
    owner
        .share(&server, &doc, &commenter.email, "commenter")
        .await;

    expect_json_error(
        upload(&viewer, &server, &doc, &PNG, "image/png").await,
        403,
        "forbidden",
    )
    .await;
    expect_json_error(
        upload(&commenter, &server, &doc, &PNG, "image/png").await,
        403,
        "forbidden",
    )
    .await;
    expect_json_error(
        upload(&stranger, &server, &doc, &PNG, "image/png").await,
        404,
        "not_found",
    )
    .await;
    // A text file that claims to be a PNG: the bytes decide.
    let lying = upload(
        &owner,
        &server,
        &doc,
        b"just some text, named cat.png",
        "image/png",
    )
    .await;
    let message = expect_json_error(lying, 415, "unsupported_media_type").await;
    assert!(message.contains("PNG, JPEG, GIF or WebP"), "{message}");
    let svg = upload(&owner, &server, &doc, SVG.as_bytes(), "image/svg+xml").await;
    let message = expect_json_error(svg, 415, "unsupported_media_type").await;
    assert!(message.contains("SVG"), "{message}");
    let big = other_png(&[0; 200]);
    let message = expect_json_error(
        upload(&owner, &server, &doc, &big, "image/png").await,
        413,
        "too_large",
    )
    .await;
    assert!(message.contains("at most"), "{message}");
    assert_eq!(
        server.store().await.count_images().await.unwrap(),
        0,
        "nothing was stored"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_counts_each_image_once() {
    let server = TestServer::start_with(&[("limits.image_quota_bytes", "200")]).await;
    let owner = TestUser::signup(&server, "Owner").await;
    let doc = owner.new_document(&server, "Pictures").await;
    let second = owner.new_document(&server, "Pictures").await;
    let first_url = uploaded(&owner, &server, &doc, &other_png(&[1; 40])).await;
    // The same picture again, here and in another document, costs nothing more.
    assert_eq!(
        uploaded(&owner, &server, &doc, &other_png(&[1; 40])).await,
        first_url
    );
    uploaded(&owner, &server, &second, &other_png(&[1; 40])).await;
    let message = expect_json_error(
        upload(&owner, &server, &doc, &other_png(&[2; 40]), "image/png").await,
        413,
        "quota_exceeded",
    )
    .await;
    assert!(message.contains("you may upload"), "{message}");
    assert_eq!(server.store().await.count_images().await.unwrap(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_carry_the_images_and_imports_keep_only_what_the_importer_may_see() {
    let server = TestServer::start().await;
    let owner = TestUser::signup(&server, "Owner").await;
    let stranger = TestUser::signup(&server, "Stranger").await;
    let doc = owner.new_document(&server, "Pictures").await;
    let url = uploaded(&owner, &server, &doc, &PNG).await;
    let hash = url.rsplit('/').next().unwrap().to_string();
    edit(
        &owner,
        &server,
        &doc,
        json!([{"insert": "Look: "}, {"insert": {"image": url}, "attributes": {"alt": "Red square", "width": "240"}}]),
    )
    .await;

    let html = get(
        &owner.http,
        &server,
        &format!("/api/docs/{doc}/content?format=html"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        html.contains(r#"<img src="data:image/png;base64,"#),
        "{html}"
    );
    assert!(html.contains(r#"alt="Red square" width="240">"#), "{html}");
    let markdown = get(
        &owner.http,
        &server,
        &format!("/api/docs/{doc}/content?format=markdown"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        markdown.contains(&format!("![Red square]({}{url})", server.base)),
        "{markdown}"
    );

    // The HTML export comes back with its image stored for the new document; the Markdown one links the original.
    for (kind, file) in [("text/html", &html), ("text/markdown", &markdown)] {
        let imported = import(&owner, &server, kind, file).await;
        assert_eq!(imported.status(), 201, "{kind}");
        let new_id = imported.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let ops = content(&owner, &server, &new_id).await;
        let image = ops
            .as_array()
            .unwrap()
            .iter()
            .find(|op| op["insert"].get("image").is_some());
        let image = image.unwrap_or_else(|| panic!("{kind}: no image in {ops}"));
        let path = format!("/api/docs/{new_id}/images/{hash}");
        assert_eq!(image["insert"]["image"], json!(path), "{kind}");
        assert_eq!(image["attributes"]["alt"], "Red square", "{kind}");
        assert_eq!(
            get(&owner.http, &server, &path)
                .await
                .bytes()
                .await
                .unwrap()
                .as_ref(),
            PNG.as_slice()
        );
    }

    // Someone who may not see the original gets its alt text, no picture and no link to it.
    let theirs = import(&stranger, &server, "text/markdown", &markdown).await;
    let their_doc = theirs.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ops = content(&stranger, &server, &their_doc).await;
    assert!(!ops.to_string().contains(&hash), "{ops}");
    assert!(ops.to_string().contains("Red square"), "{ops}");
    let path = format!("/api/docs/{their_doc}/images/{hash}");
    assert_eq!(get(&stranger.http, &server, &path).await.status(), 404);

    // An image elsewhere is not fetched: it becomes a link to it.
    let external = import(
        &owner,
        &server,
        "text/markdown",
        "![A cat](https://example.com/cat.png)\n",
    )
    .await;
    let external_doc = external.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ops = content(&owner, &server, &external_doc).await;
    assert_eq!(
        ops[0],
        json!({"insert": "A cat", "attributes": {"link": "https://example.com/cat.png"}})
    );

    // An SVG carried inside a file refuses the whole import, leaving no document behind.
    let before = owner_documents(&owner, &server).await;
    let svg_html = format!(
        r#"<p><img src="data:image/svg+xml;base64,{}"></p>"#,
        base64_encode(SVG.as_bytes())
    );
    expect_json_error(
        import(&owner, &server, "text/html", &svg_html).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_eq!(owner_documents(&owner, &server).await, before);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_no_version_or_op_uses_are_removed_and_used_ones_stay() {
    let server = TestServer::start().await;
    let owner = TestUser::signup(&server, "Owner").await;
    let doc = owner.new_document(&server, "Pictures").await;
    let used = uploaded(&owner, &server, &doc, &PNG).await;
    let unused = uploaded(&owner, &server, &doc, &other_png(b"unused")).await;
    edit(&owner, &server, &doc, json!([{"insert": {"image": used}}])).await;
    let store = server.store().await;
    assert_eq!(store.count_images().await.unwrap(), 2);
    // Within the grace period nothing goes: the op of a fresh upload may still be on its way.
    assert_eq!(store.prune_images(&doc, 0).await.unwrap(), 0);
    assert_eq!(store.prune_images(&doc, i64::MAX).await.unwrap(), 1);
    assert_eq!(store.count_images().await.unwrap(), 1);
    assert_eq!(get(&owner.http, &server, &used).await.status(), 200);
    assert_eq!(get(&owner.http, &server, &unused).await.status(), 404);
    server.stop().await;
}

async fn import(user: &TestUser, server: &TestServer, kind: &str, body: &str) -> Response {
    user.http
        .post(server.url("/api/docs/import"))
        .header("X-CSRF-Token", &user.csrf)
        .header("Content-Type", kind)
        .body(body.to_string())
        .send()
        .await
        .expect("POST import")
}

async fn owner_documents(user: &TestUser, server: &TestServer) -> usize {
    let list: Value = get(&user.http, server, "/api/docs")
        .await
        .json()
        .await
        .unwrap();
    list.as_array()
        .or_else(|| list["documents"].as_array())
        .map_or(0, Vec::len)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
