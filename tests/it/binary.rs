//! The real binary with no configuration in an empty directory (only `--listen 127.0.0.1:0`, so tests can run in parallel):
//! pages, security headers, embedded assets, metrics, then SIGTERM.

use std::time::{Duration, Instant};

use reqwest::header;

use crate::support::{SpawnedQuire, client, get_text};

#[tokio::test]
async fn bare_binary_serves_pages_assets_and_metrics_then_stops_on_sigterm() {
    let cwd = tempfile::tempdir().unwrap();
    let mut quire = SpawnedQuire::start(cwd.path(), &["--listen", "127.0.0.1:0"], &[]).await;
    assert!(
        quire.url.starts_with("http://127.0.0.1:"),
        "ready line: {}",
        quire.url
    );
    assert!(
        cwd.path().join("quire-data/quire.db").is_file(),
        "SQLite database created under ./quire-data"
    );
    let http = client();
    let url = |path: &str| format!("{}{path}", quire.url);

    let login = http.get(url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    check_security_headers(login.headers());
    assert!(
        login.text().await.unwrap().contains("action=\"/login\""),
        "the log-in form"
    );
    let signup = get_text(&http, url("/signup")).await;
    assert!(
        signup.contains("action=\"/signup\""),
        "sign-up is open by default"
    );
    let home = http.get(url("/")).send().await.unwrap();
    assert_eq!(
        home.url().path(),
        "/login",
        "signed out, / leads to the log-in page"
    );
    assert_eq!(
        http.get(url("/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );

    check_asset_caching(&http, &url("/assets/app.css")).await;
    check_metrics(&http, &url("/metrics")).await;

    let started = Instant::now();
    let status = quire.sigterm(Duration::from_secs(10)).await;
    assert!(
        status.success(),
        "exit status {status:?}; stderr:\n{}",
        quire.stderr()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        started.elapsed()
    );
    assert!(!quire.stderr().contains("panicked"), "{}", quire.stderr());
}

fn check_security_headers(headers: &header::HeaderMap) {
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers.contains_key(header::REFERRER_POLICY));
    let content_type = headers[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
}

async fn check_asset_caching(http: &reqwest::Client, asset: &str) {
    let first = http.get(asset).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(
        first.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_string();
    let body = first.bytes().await.unwrap();
    assert!(!body.is_empty());
    let again = http
        .get(asset)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let zipped = http
        .get(asset)
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
    let zipped = zipped.bytes().await.unwrap();
    assert_eq!(&zipped[..2], [0x1f, 0x8b], "a gzip stream");
    assert!(zipped.len() < body.len());
    let versioned = format!("{asset}?v={}", etag.trim_matches('"'));
    let cached = http.get(&versioned).send().await.unwrap();
    let cache_control = cached.headers()[header::CACHE_CONTROL].to_str().unwrap();
    assert!(cache_control.contains("immutable"), "{cache_control}");
}

async fn check_metrics(http: &reqwest::Client, metrics: &str) {
    let text = get_text(http, metrics).await;
    let counter = text
        .lines()
        .find(|line| {
            line.starts_with("quire_http_requests_total{") && line.contains("route=\"/login\"")
        })
        .unwrap_or_else(|| panic!("no request counter for /login in:\n{text}"));
    assert!(counter.contains("status=\"200\""), "{counter}");
    assert!(
        text.contains("# TYPE quire_http_request_duration_seconds histogram"),
        "{text}"
    );
}
