//! Source rules checked on every test run: `//!` headers, module boundaries, mirrored migrations, no trailing whitespace.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every `.rs` file under `dir`, as (path relative to the crate root with `/` separators, text).
fn rust_files(dir: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    collect(&Path::new(ROOT).join(dir), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            let relative = path.strip_prefix(ROOT).expect("under the crate root");
            (relative.to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// Lines whose code (comments are skipped: they may state an absence) uses `word` as a whole path or identifier,
/// so `tracing` matches neither `tracing_x` nor `retracing`.
fn mentions(text: &str, word: &str) -> Vec<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut lines = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line = code_part(line);
        let found = line.match_indices(word).any(|(at, _)| {
            let before = line[..at].chars().next_back();
            let after = line[at + word.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        });
        if found {
            lines.push(idx + 1);
        }
    }
    lines
}

/// The line up to a `//` comment that is not inside a string literal.
fn code_part(line: &str) -> &str {
    let mut in_string = false;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match c {
            '"' if previous != '\\' => in_string = !in_string,
            '/' if previous == '/' && !in_string => return &line[..at - 1],
            _ => {}
        }
        previous = c;
    }
    line
}

fn assert_no_problems(what: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

#[test]
fn every_source_file_starts_with_a_module_doc() {
    let problems = rust_files("src")
        .into_iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(path, _)| {
            format!("{path}: the first line must be a `//!` comment saying what the module owns")
        })
        .collect();
    assert_no_problems("files without a `//!` header", problems);
}

#[test]
fn ot_is_pure() {
    let banned = ["tokio", "sqlx", "axum", "tracing", "std::fs", "std::net"];
    let mut problems = Vec::new();
    for (path, text) in rust_files("src") {
        let pure = path.starts_with("src/ot/") || path == "src/cluster/ring.rs";
        if !pure {
            continue;
        }
        for word in banned {
            for line in mentions(&text, word) {
                problems.push(format!("{path}:{line}: mentions `{word}`"));
            }
        }
    }
    assert_no_problems(
        "the OT core and the ring do no I/O and know no runtime",
        problems,
    );
}

#[test]
fn only_store_knows_sqlx() {
    let problems = rust_files("src")
        .into_iter()
        .filter(|(path, _)| !path.starts_with("src/store/"))
        .flat_map(|(path, text)| {
            mentions(&text, "sqlx")
                .into_iter()
                .map(move |line| format!("{path}:{line}"))
        })
        .collect();
    assert_no_problems("sqlx outside src/store/", problems);
}

#[test]
fn only_http_knows_axum_and_hyper() {
    let mut problems = Vec::new();
    for (path, text) in rust_files("src") {
        if path.starts_with("src/http/") {
            continue;
        }
        for crate_name in ["axum", "hyper"] {
            for line in mentions(&text, crate_name) {
                let source = text.lines().nth(line - 1).unwrap_or_default();
                problems.push(format!("{path}:{line}: {}", source.trim()));
            }
        }
    }
    assert_no_problems("axum or hyper outside src/http/", problems);
}

#[test]
fn only_mail_knows_lettre() {
    let problems: Vec<String> = rust_files("src")
        .into_iter()
        .filter(|(path, _)| !path.starts_with("src/mail/"))
        .flat_map(|(path, text)| {
            mentions(&text, "lettre")
                .into_iter()
                .map(move |line| format!("{path}:{line}"))
        })
        .collect();
    assert_no_problems("lettre outside src/mail/", problems);
}

#[test]
fn only_cluster_zookeeper_knows_zookeeper() {
    let problems = rust_files("src")
        .into_iter()
        .filter(|(path, _)| path != "src/cluster/zookeeper.rs")
        .flat_map(|(path, text)| {
            mentions(&text, "zookeeper_client")
                .into_iter()
                .map(move |line| format!("{path}:{line}"))
        })
        .collect();
    assert_no_problems(
        "zookeeper_client outside src/cluster/zookeeper.rs",
        problems,
    );
}

#[test]
fn migrations_are_mirrored() {
    let names = |backend: &str| {
        let dir = Path::new(ROOT).join("migrations").join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite,
        names("postgres"),
        "migrations/sqlite and migrations/postgres must hold the same file names"
    );
}

#[test]
fn no_trailing_whitespace() {
    let mut problems = Vec::new();
    for (path, text) in rust_files("src") {
        for (idx, line) in text.lines().enumerate() {
            if line.ends_with([' ', '\t']) {
                problems.push(format!("{path}:{}", idx + 1));
            }
        }
    }
    assert_no_problems("trailing whitespace", problems);
}
