//! The test harness: the real server in-process on a loopback port, signed-up users, a throwaway PostgreSQL
//! and ZooKeeper, an OpenID Connect provider, the real `quire` binary as a child process, and clusters of them. Every integration test module builds on these.

// Not every test module uses every helper.
#![allow(dead_code, unused_imports)]

mod browser;
mod cluster;
mod http;
mod oidc_issuer;
mod pg;
mod process;
mod server;
mod smtp;
mod user;
mod zk;

pub use browser::{login_status, me_status, second_browser, socket_with_session, submit};
pub use cluster::{Node, TestCluster};
pub use http::{
    cookie_value, expect_json_error, form_body, form_csrf, get_text, metric, post_form, post_login,
    set_cookies,
};
pub use oidc_issuer::{NextLogin, TestIssuer};
pub use pg::{TestPg, require_services};
pub use process::{SpawnedQuire, output_within, quire_bin, quire_command, run_quire};
pub use server::{Backend, TestServer};
pub use smtp::{Received, SmtpSink};
pub use user::{TestUser, client};
pub use zk::{TestZk, zookeeper_installed};

/// Rates high enough that the run is never limited, and compaction that prunes all it may every few ops.
pub const RANDOM_RUN_FLAGS: [(&str, &str); 7] = [
    ("limits.ops_per_second", "100000"),
    ("limits.ops_burst", "100000"),
    ("history.compact_every_ops", "15"),
    ("history.keep_ops", "1"),
    ("history.keep_bytes", "1"),
    ("limits.max_catchup_ops", "40"),
    ("history.idle_grace", "1s"),
];
