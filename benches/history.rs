//! Loading a long-lived document and compacting it (the history issue's speed check): a document with 100,000
//! logged ops and 1 MiB of content is loaded cold through its latest version, then compacted once.
//! Run with `cargo bench --bench history`; it prints medians of five runs.

use std::time::{Duration, Instant};

use quire::{
    config::{DatabaseUrl, SyncMode},
    hub::load_content,
    ot::{Delta, Document},
    store::{NewOp, NewVersion, Store},
};

const N_OPS: usize = 100_000;
const TARGET_LEN: usize = 1 << 20;
/// Ops after the latest version (what a load replays).
const TAIL: usize = 1_000;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = DatabaseUrl::Sqlite(format!("sqlite://{}/bench.db", dir.path().display()));
    let store = Store::open(&url, 4, SyncMode::Normal).await.expect("store");
    store
        .create_user("u", "bench@example.com", "Bench", "x")
        .await
        .expect("user");
    store.create_document("d", "Bench", "u").await.expect("doc");
    let started = Instant::now();
    let content = fill(&store).await;
    println!(
        "setup: {N_OPS} ops, {} UTF-16 units, in {:.1} s",
        content.length(),
        started.elapsed().as_secs_f64()
    );

    let mut loads = Vec::new();
    for _ in 0..5 {
        // A new pool each time: nothing cached in the process, as after a restart.
        let cold = Store::open(&url, 4, SyncMode::Normal).await.expect("store");
        let started = Instant::now();
        let (rev, loaded) = load_content(&cold, "d").await.expect("load");
        loads.push(started.elapsed());
        assert_eq!((rev as usize, loaded.length()), (N_OPS, content.length()));
        cold.close().await;
    }
    let mut compactions = Vec::new();
    for run in 0..5 {
        let started = Instant::now();
        store
            .write_version(&version(&content, run))
            .await
            .expect("version");
        store
            .prune_ops("d", N_OPS as i64 - 500, i64::MAX)
            .await
            .expect("prune");
        compactions.push(started.elapsed());
    }
    println!(
        "cold load through the latest version + {TAIL} ops: median {:.1} ms",
        median_ms(&mut loads)
    );
    println!(
        "one compaction (1 MiB version + prune): median {:.1} ms",
        median_ms(&mut compactions)
    );
}

/// Writes the log: inserts of about 10 characters, in batches, with a version `TAIL` ops before the end.
async fn fill(store: &Store) -> Delta {
    let chunk = TARGET_LEN / N_OPS + 1;
    // `Document` applies each op in microseconds; composing into a Delta would copy the document every time.
    let mut content = Document::new();
    let mut batch = Vec::new();
    for rev in 0..N_OPS {
        let text: String =
            std::iter::repeat_n(char::from(b'a' + (rev % 26) as u8), chunk).collect();
        // Alternate bold runs, so the document has many segments like a real one.
        let attributes = (rev % 2 == 0)
            .then(|| serde_json::json!({"bold": true}).as_object().cloned())
            .flatten();
        let op = Delta::new()
            .retain(content.len_utf16() - 1, None)
            .insert(text, attributes);
        content.apply(&op, u64::MAX).expect("apply");
        batch.push(NewOp {
            rev: rev as i64,
            client: "bench".into(),
            seq: rev as i64 + 1,
            author_id: Some("u".into()),
            op_json: serde_json::to_string(&op).expect("json"),
            len_after: content.len_utf16() as i64,
        });
        if batch.len() == 1000 {
            store.append_ops("d", &batch).await.expect("append");
            batch.clear();
        }
        if rev + 1 == N_OPS - TAIL {
            store
                .write_version(&version(&content.to_delta(), 99))
                .await
                .expect("version");
        }
    }
    content.to_delta()
}

fn version(content: &Delta, tag: usize) -> NewVersion {
    NewVersion {
        id: format!("v{tag}-{}", content.length()),
        doc_id: "d".into(),
        rev: if tag == 99 {
            (N_OPS - TAIL) as i64
        } else {
            N_OPS as i64
        },
        content_json: serde_json::to_string(content).expect("json"),
        kind: "compaction",
        name: None,
        created_by: None,
        contributors: vec!["u".into()],
        size: content.length() as i64,
    }
}

fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples[samples.len() / 2].as_secs_f64() * 1e3
}
