//! The browser's own OT client (web/src, run under node with `ws` and quill-delta, no DOM) against the real server:
//! several sessions type random edits while their sockets are killed and reopened, then all equal `/content`.

use std::path::PathBuf;

use crate::{
    hub_convergence::api_setup,
    support::{TestServer, require_services},
};

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_ot_client_converges_with_the_real_server() {
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
        eprintln!(
            "SKIPPED: {}: node or web/node_modules missing (run `npm ci` in web/)",
            module_path!()
        );
        return;
    }
    let server = TestServer::start().await;
    let (token, doc) = api_setup(&server.base).await;
    let output = tokio::process::Command::new("node")
        .arg("test/server-convergence.mjs")
        .current_dir(&web)
        .env("QUIRE_URL", &server.base)
        .env("QUIRE_TOKEN", &token)
        .env("QUIRE_DOC", &doc)
        .env("QUIRE_CLIENTS", "5")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(180), output)
        .await
        .expect("the node clients did not finish within 180 s")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the JS clients did not converge with the server:\n{stdout}\n{stderr}"
    );
    server.stop().await;
}
