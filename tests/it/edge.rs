//! The server as the internet sees it (issue 17): a client that trickles its headers is cut off, and browsers'
//! `Origin` is compared with `server.public_url` (behind a proxy the `Host` header may be rewritten).

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{TestServer, TestUser};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_trickles_its_headers_is_disconnected() {
    let server = TestServer::start_with(&[("server.header_timeout", "1s")]).await;
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut closed = false;
    let mut buf = [0u8; 512];
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        // One more header line every 400 ms, never the blank line that ends them.
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
            closed = true;
            break;
        }
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(10), slow.read(&mut buf)).await
        {
            // A 408 or a plain close: either way the server gave up on this request.
            closed = n == 0 || buf.starts_with(b"HTTP/1.1 408");
            if closed {
                break;
            }
        }
    }
    assert!(closed, "still connected after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(3));
    // A client that connects and says nothing at all is cut off too.
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_)))
            || matches!(read, Ok(Ok(n)) if buf[..n].starts_with(b"HTTP/1.1 408")),
        "a silent connection stayed open: {read:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // Others are served as usual.
    let login = reqwest::get(server.url("/login")).await.unwrap();
    assert_eq!(login.status(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_public_url_the_origin_must_be_it_whatever_the_host() {
    let public_url = "http://docs.example.test:8080";
    let server = TestServer::start_with(&[("server.public_url", public_url)]).await;
    let user = TestUser::signup(&server, "Origin").await;
    let create = |origin: &'static str| {
        user.http
            .post(server.url("/api/docs"))
            .header("Origin", origin)
            .json(&json!({"title": "from a page"}))
            .send()
    };
    // The request reaches us with Host 127.0.0.1:PORT, as through a proxy that rewrites it.
    let ours = create(public_url).await.unwrap();
    assert_eq!(ours.status(), 201, "the public origin is ours");
    let host_origin: &'static str = Box::leak(server.base.clone().into_boxed_str());
    let by_host = create(host_origin).await.unwrap();
    assert_eq!(
        by_host.status(),
        403,
        "an Origin that only matches Host is not the public one"
    );
    let evil = create("http://evil.example").await.unwrap();
    assert_eq!(evil.status(), 403);
    server.stop().await;
}

/// A request id is the server's own unless a trusted proxy sent one: a client cannot choose what the log says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_come_from_us_or_a_trusted_proxy() {
    let send = |server: &TestServer| {
        reqwest::Client::new()
            .get(server.url("/login"))
            .header("X-Request-Id", "forged\tid")
            .send()
    };
    let untrusted = TestServer::start().await;
    let response = send(&untrusted).await.unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(id, "forged\tid");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    untrusted.stop().await;
    let behind_proxy = TestServer::start_with(&[("server.trusted_proxies", "127.0.0.1")]).await;
    let response = send(&behind_proxy).await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "forged\tid");
    behind_proxy.stop().await;
}
