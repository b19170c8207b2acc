//! The browser's own OT client (web/src, run under node with `ws` and quill-delta, no DOM) against the real server:
//! several sessions type random edits while their sockets are killed and reopened, then all equal `/content`.
//! The negative control runs the same clients against a server that transforms with the wrong priority.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use crate::{
    hub_convergence::api_setup,
    support::{SpawnedQuire, TestServer, require_services},
};

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// Whether node and web/node_modules are there; without them the test is skipped, saying so (and fails under
/// `QUIRE_REQUIRE_SERVICES=1`).
fn node_ready(test: &str) -> bool {
    let web = web_dir();
    let installed =
        web.join("node_modules/ws").exists() && web.join("node_modules/quill-delta").exists();
    let has_node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !(installed && has_node) {
        assert!(
            !require_services(),
            "node and web/node_modules are required (run `npm ci` in web/)"
        );
        eprintln!("SKIPPED: {test}: node or web/node_modules missing (run `npm ci` in web/)");
    }
    installed && has_node
}

/// web/test/server-convergence.mjs against the server at `base`, killed after 180 s.
async fn run_js_clients(base: &str, token: &str, doc: &str, seed: Option<u64>) -> Output {
    let mut command = tokio::process::Command::new("node");
    command
        .arg("test/server-convergence.mjs")
        .current_dir(web_dir())
        .env("QUIRE_URL", base)
        .env("QUIRE_TOKEN", token)
        .env("QUIRE_DOC", doc)
        .env("QUIRE_CLIENTS", "5")
        .kill_on_drop(true);
    if let Some(seed) = seed {
        command.env("QUIRE_SEED", seed.to_string());
    }
    tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .expect("the node clients did not finish within 180 s")
        .expect("run node")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_ot_client_converges_with_the_real_server() {
    if !node_ready(module_path!()) {
        return;
    }
    let server = TestServer::start().await;
    let (token, doc) = api_setup(&server.base).await;
    let output = run_js_clients(&server.base, &token, &doc, None).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the JS clients did not converge with the server:\n{stdout}\n{stderr}"
    );
    server.stop().await;
}

/// The negative control of the test above: a server that transforms with the wrong priority must be caught by
/// the same JS clients. Only a client whose document differs from `/content` once everyone is quiet and at the
/// server's revision counts (the script's `DIVERGED:` lines); a timeout, a dropped edit or an error does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_ot_client_catches_a_wrong_priority_server() {
    if !node_ready(module_path!()) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // The clients type faster than a person; the rate limits would refuse them.
    let mut args = vec!["--listen", "127.0.0.1:0", "--testing-wrong-priority"];
    for set in [
        "limits.ops_per_second=100000",
        "limits.ops_burst=100000",
        "limits.presence_per_second=100000",
        "limits.presence_burst=100000",
    ] {
        args.extend(["--set", set]);
    }
    let mut quire = SpawnedQuire::start(dir.path(), &args, &[]).await;
    let mut caught = None;
    let mut runs = Vec::new();
    // A divergence needs two clients inserting at one place concurrently, likely but not certain in one run.
    for attempt in 0..6u64 {
        let (token, doc) = api_setup(&quire.url).await;
        let output = run_js_clients(&quire.url, &token, &doc, Some(7000 + attempt)).await;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if let Some(line) = stdout.lines().find(|l| l.starts_with("DIVERGED:")) {
            println!("caught on attempt {attempt}: {line}");
            caught = Some(line.to_string());
            break;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        runs.push(format!(
            "attempt {attempt}: {}\n{stdout}{stderr}",
            output.status
        ));
    }
    quire.sigterm(Duration::from_secs(10)).await;
    assert!(
        caught.is_some(),
        "the JS clients did not notice a server using the wrong transform priority:\n{}",
        runs.join("\n")
    );
}
