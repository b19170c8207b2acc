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
    let metrics = http.get(url("/metrics")).send().await.unwrap();
    assert_eq!(
        metrics.status(),
        404,
        "no metrics.token: /metrics is not public"
    );
    let ready = http.get(url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready, serde_json::json!({"database": "ok", "writer": "ok"}));

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
    let stderr = quire.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "colour codes in a log that is not a terminal:\n{stderr}"
    );
    let access = stderr
        .lines()
        .find(|line| line.contains("path=\"/readyz\""))
        .unwrap_or_else(|| panic!("no access log line for /readyz:\n{stderr}"));
    assert!(
        access.contains("INFO") && access.contains("status=200"),
        "{access}"
    );
    assert!(
        access.contains("id=\"") && access.contains("client=\"127.0.0.1\""),
        "{access}"
    );
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

/// `metrics.token` guards /metrics on the main address, `metrics.listen` serves it privately, and
/// `log.format = "json"` writes one JSON object a line, access log included (issue 17, defect 13).
#[tokio::test]
async fn metrics_behind_a_token_or_a_private_address_and_json_logs() {
    let cwd = tempfile::tempdir().unwrap();
    let metrics_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let metrics_listen = metrics_addr.to_string();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--set",
        "metrics.token=metrics-secret",
        "--set",
        &format!("metrics.listen={metrics_listen}"),
        "--set",
        "log.format=json",
    ];
    let mut quire = SpawnedQuire::start(cwd.path(), &args, &[]).await;
    let http = client();
    let url = |path: &str| format!("{}{path}", quire.url);
    assert_eq!(http.get(url("/login")).send().await.unwrap().status(), 200);
    let anonymous = http.get(url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = http
        .get(url("/metrics"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let with_token = http
        .get(url("/metrics"))
        .bearer_auth("metrics-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    check_metrics(&http, &format!("http://{metrics_listen}/metrics")).await;
    let other = http
        .get(format!("http://{metrics_listen}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics address serves nothing else"
    );
    // An invented method is counted under one label, whatever its name.
    let odd = reqwest::Method::from_bytes(b"FROBNICATE-12345").unwrap();
    let _ = http.request(odd, url("/login")).send().await.unwrap();
    let text = get_text(&http, &format!("http://{metrics_listen}/metrics")).await;
    assert!(!text.contains("FROBNICATE"), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");
    assert!(quire.sigterm(Duration::from_secs(10)).await.success());
    let stderr = quire.stderr();
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines.iter().any(|line| line["span"]["path"] == "/login"
            && line["fields"]["status"] == 200
            && line["level"] == "INFO"),
        "no JSON access log line for /login:\n{stderr}"
    );
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
