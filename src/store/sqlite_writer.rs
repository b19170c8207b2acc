//! The group commit's writer for SQLite: a thread of its own with its own rusqlite connection.
//!
//! sqlx runs each SQLite statement on a worker thread and hands statement and result across a channel, so every
//! statement costs two context switches. With many small documents a group is a few ops, and those hand-offs were
//! most of a commit's cost (docs500x2: half the server's CPU in thread switches). Here a whole group costs one
//! hand-off in and one wake-up out, and its statements are prepared once and cached. Readers and every other
//! write still go through sqlx; SQLite's WAL lets them share the file, and `busy_timeout` queues writers.
//! (Why rusqlite and not raw libsqlite3-sys: the crate forbids `unsafe`, and rusqlite links the same library.)

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, TransactionBehavior, params};
use tokio::sync::mpsc;

use super::{
    NewOp, StoreError, StoreResult,
    group_commit::{GroupStats, Job, Request, connection_suspect, gather, reply_all},
    now_ms,
};
use crate::config::SyncMode;

/// Starts the writer thread; it ends when every sender is dropped.
pub(super) fn start(
    path: PathBuf,
    sync: SyncMode,
    jobs: mpsc::Receiver<Job>,
    stats: GroupStats,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("quire-writer".into())
        .spawn(move || run(&path, sync, jobs, &stats))
        .map(drop)
}

fn run(path: &Path, sync: SyncMode, mut jobs: mpsc::Receiver<Job>, stats: &GroupStats) {
    let mut conn: Option<Connection> = None;
    while let Some(first) = jobs.blocking_recv() {
        let (group, stop) = gather(first, &mut jobs);
        if !group.is_empty() {
            let results = match connection(&mut conn, path, sync) {
                Ok(conn) => write_group(conn, &group),
                Err(err) => group.iter().map(|_| Err(writer_error(&err))).collect(),
            };
            if connection_suspect(&results) {
                conn = None;
            }
            reply_all(group, results, stats);
        }
        if let Some(done) = stop {
            // `Store::close`: closing this connection first lets the pool's last one checkpoint the WAL away.
            drop(conn);
            let _ = done.send(());
            return;
        }
    }
}

fn connection<'c>(
    conn: &'c mut Option<Connection>,
    path: &Path,
    sync: SyncMode,
) -> rusqlite::Result<&'c mut Connection> {
    if conn.is_none() {
        *conn = Some(open(path, sync)?);
    }
    conn.as_mut().ok_or(rusqlite::Error::InvalidQuery)
}

/// The same settings as the sqlx connections (store/mod.rs), checkpoints included: they run in the background.
fn open(path: &Path, sync: SyncMode) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    let synchronous = match sync {
        SyncMode::Normal => "NORMAL",
        SyncMode::Full => "FULL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = 10000; \
         PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;"
    ))?;
    Ok(conn)
}

/// One transaction, one savepoint per document: a conflict rolls back only its own document.
fn write_group(conn: &mut Connection, group: &[Request]) -> Vec<StoreResult<()>> {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(err) => return group.iter().map(|_| Err(writer_error(&err))).collect(),
    };
    let now = now_ms();
    let mut results = Vec::with_capacity(group.len());
    for request in group {
        if request.fence.is_some() {
            // The configuration refuses a cluster on SQLite; a fence here would be checked by nobody.
            results.push(Err(StoreError::Writer(
                "a cluster claim on SQLite: clusters need PostgreSQL".into(),
            )));
            continue;
        }
        results.push(write_in_savepoint(
            &mut tx,
            &request.doc_id,
            &request.ops,
            now,
        ));
    }
    match tx.commit() {
        Ok(()) => results,
        Err(err) => group.iter().map(|_| Err(writer_error(&err))).collect(),
    }
}

fn write_in_savepoint(
    tx: &mut rusqlite::Transaction<'_>,
    doc_id: &str,
    ops: &[NewOp],
    now: i64,
) -> StoreResult<()> {
    let savepoint = tx.savepoint().map_err(|err| writer_error(&err))?;
    // Dropping the savepoint without committing it rolls it back.
    write_ops(&savepoint, doc_id, ops, now)?;
    savepoint.commit().map_err(|err| writer_error(&err))
}

/// The same writes, and the same compare-and-set, as `operations::write_ops`.
fn write_ops(conn: &Connection, doc_id: &str, ops: &[NewOp], now: i64) -> StoreResult<()> {
    let Some(last) = ops.last() else {
        return Ok(());
    };
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO operations (doc_id, rev, client, seq, author_id, op, len_after, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(|err| writer_error(&err))?;
    for op in ops {
        insert
            .execute(params![
                doc_id,
                op.rev,
                op.client,
                op.seq,
                op.author_id,
                op.op_json,
                op.len_after,
                now
            ])
            .map_err(|err| match err.sqlite_error_code() {
                Some(ErrorCode::ConstraintViolation) => {
                    StoreError::Conflict("revision already written".into())
                }
                _ => writer_error(&err),
            })?;
    }
    let moved = conn
        .prepare_cached(
            "UPDATE documents SET head_rev = ?1, updated_at = ?2, \
             last_editor_id = COALESCE(?3, last_editor_id) WHERE id = ?4 AND head_rev = ?5",
        )
        .and_then(|mut update| {
            update.execute(params![
                last.rev + 1,
                now,
                last.author_id,
                doc_id,
                ops[0].rev
            ])
        })
        .map_err(|err| writer_error(&err))?;
    if moved != 1 {
        return Err(StoreError::Conflict("document head moved under us".into()));
    }
    Ok(())
}

fn writer_error(err: &rusqlite::Error) -> StoreError {
    StoreError::Writer(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `storage.sync` must reach the connection that commits. No kill -9 test can check this: with `NORMAL` a
    /// committed WAL frame is in the operating system's page cache, which outlives the process, so the durability
    /// tests pass either way; only a power cut or a kernel crash loses `NORMAL`'s last commits. What decides it is
    /// the pragma on the writer's own connection, checked here.
    #[test]
    fn the_writer_commits_with_the_configured_sync() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("quire.db");
        for (sync, expected) in [(SyncMode::Normal, 1), (SyncMode::Full, 2)] {
            let conn = open(&path, sync).expect("open");
            let level: i64 = conn
                .query_row("PRAGMA synchronous", [], |row| row.get(0))
                .expect("read the pragma");
            assert_eq!(level, expected, "{sync:?}");
        }
    }
}
