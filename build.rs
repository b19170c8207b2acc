//! Build-time facts for the tests: whether PostgreSQL and ZooKeeper are installed. Without one, the tests that
//! need it are compiled as `#[ignore]`d, so `cargo test` lists them as ignored and counts them in its summary
//! instead of reporting them as passed; with `QUIRE_REQUIRE_SERVICES=1` (the README's test command) a missing
//! service fails the build instead.

use std::path::Path;

const POSTGRES_DIR: &str = "/usr/lib/postgresql";
/// The Debian package's jar, which the test harness runs with `java`.
const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=QUIRE_REQUIRE_SERVICES");
    println!("cargo::rustc-check-cfg=cfg(quire_no_postgres)");
    println!("cargo::rustc-check-cfg=cfg(quire_no_zookeeper)");
    println!("cargo:rerun-if-changed={ZOOKEEPER_JAR}");
    let required = std::env::var("QUIRE_REQUIRE_SERVICES").is_ok_and(|value| value == "1");
    if !Path::new(ZOOKEEPER_JAR).exists() {
        assert!(
            !required,
            "QUIRE_REQUIRE_SERVICES=1 but ZooKeeper is not installed (no {ZOOKEEPER_JAR}); ./scripts/test installs it"
        );
        println!("cargo:rustc-cfg=quire_no_zookeeper");
    }
    // Installing or removing PostgreSQL changes this directory; when it does not exist yet, setting
    // QUIRE_REQUIRE_SERVICES (as ./scripts/test does) or touching build.rs looks again.
    if Path::new(POSTGRES_DIR).exists() {
        println!("cargo:rerun-if-changed={POSTGRES_DIR}");
    }
    if postgres_installed() {
        return;
    }
    assert!(
        !required,
        "QUIRE_REQUIRE_SERVICES=1 but PostgreSQL is not installed (no {POSTGRES_DIR}/*/bin/initdb); \
         ./scripts/test installs it"
    );
    println!("cargo:rustc-cfg=quire_no_postgres");
}

fn postgres_installed() -> bool {
    std::fs::read_dir(POSTGRES_DIR).is_ok_and(|versions| {
        versions
            .filter_map(Result::ok)
            .any(|version| version.path().join("bin/initdb").exists())
    })
}
