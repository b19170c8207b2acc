//! Group commit across documents: every hub hands its round of ops to one writer, which writes whatever has
//! queued up meanwhile in a single transaction. SQLite has one writer anyway; batching turns thousands of commits
//! a second (many documents, a few ops each) into far fewer, without making a lone document wait. On SQLite the
//! writer is a thread of its own (`sqlite_writer.rs`); on PostgreSQL it is a task using the pool.

use prometheus_client::metrics::counter::Counter;
use tokio::sync::{mpsc, oneshot};

use sqlx::{Any, AnyConnection, pool::PoolConnection};

use super::{
    Fence, NewOp, Store, StoreError, StoreResult,
    operations::{Batch, append_group},
};

/// The most documents written in one transaction.
const MAX_GROUP: usize = 256;

pub(super) struct Request {
    pub(super) doc_id: String,
    pub(super) ops: Vec<NewOp>,
    /// A cluster node's claim on the document, checked in the same transaction (`None` on a single node).
    pub(super) fence: Option<Fence>,
    pub(super) reply: oneshot::Sender<StoreResult<()>>,
}

/// What the writer is asked: write a round, or (from `Store::close`) hand its connection back and end.
#[derive(Debug)]
pub(super) enum Job {
    Write(Request),
    Stop(oneshot::Sender<()>),
}

/// What the writer has written, for `/metrics` (the hub's metrics register these counters): ops per transaction
/// is `ops / groups`, the measure of how much group commit saves the database.
#[derive(Debug, Clone, Default)]
pub struct GroupStats {
    /// Groups written, each in one transaction (a conflict splits its group into one per document).
    pub groups: Counter,
    /// Ops written in them.
    pub ops: Counter,
}

/// A handle to the writer; cheap to clone.
#[derive(Debug, Clone)]
pub struct GroupCommitter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("doc_id", &self.doc_id)
            .field("ops", &self.ops.len())
            .finish()
    }
}

impl GroupCommitter {
    /// Starts the writer: a thread for a SQLite file, else a task on the current runtime.
    pub fn start(store: Store, stats: GroupStats) -> GroupCommitter {
        let (jobs, receiver) = mpsc::channel(4096);
        if let Ok(mut writer) = store.writer.lock() {
            *writer = Some(jobs.clone());
        }
        match store.sqlite_file.clone() {
            Some((path, sync)) => {
                if let Err(err) = super::sqlite_writer::start(path, sync, receiver, stats) {
                    // Without its thread every commit fails (the channel is closed) and hubs report it.
                    tracing::error!(%err, "cannot start the SQLite writer thread");
                }
            }
            None => {
                tokio::spawn(run(store, receiver, stats));
            }
        }
        GroupCommitter { jobs }
    }

    /// Resolves when the writer has stopped (its thread or task ended): no commit can succeed after that.
    pub async fn stopped(&self) {
        self.jobs.closed().await;
    }

    /// True while the writer is running.
    pub fn is_running(&self) -> bool {
        !self.jobs.is_closed()
    }

    /// Writes the ops durably (with the same compare-and-set as `Store::append_ops`); returns once committed.
    pub async fn append(&self, doc_id: &str, ops: Vec<NewOp>) -> StoreResult<()> {
        self.append_fenced(doc_id, ops, None).await
    }

    /// `append`, refused with `StoreError::Fenced` unless `fence` is still the document's recorded owner.
    pub async fn append_fenced(
        &self,
        doc_id: &str,
        ops: Vec<NewOp>,
        fence: Option<Fence>,
    ) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            doc_id: doc_id.to_string(),
            ops,
            fence,
            reply,
        };
        if self.jobs.send(Job::Write(request)).await.is_err() {
            return Err(StoreError::Corrupt("the writer task has stopped".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the writer task has stopped".into())))
    }
}

async fn run(store: Store, mut receiver: mpsc::Receiver<Job>, stats: GroupStats) {
    // The writer keeps its connection between groups: taking one from the pool costs a ping, handing it back a
    // spawned task.
    let mut conn: Option<PoolConnection<Any>> = None;
    while let Some(first) = receiver.recv().await {
        let (group, stop) = gather(first, &mut receiver);
        write_group(&store, &mut conn, group, &stats).await;
        if let Some(done) = stop {
            drop(conn);
            let _ = done.send(());
            return;
        }
    }
}

async fn write_group(
    store: &Store,
    conn: &mut Option<PoolConnection<Any>>,
    group: Vec<Request>,
    stats: &GroupStats,
) {
    if group.is_empty() {
        return;
    }
    let batches: Vec<Batch<'_>> = group
        .iter()
        .map(|request| Batch {
            doc_id: &request.doc_id,
            ops: &request.ops,
            fence: request.fence.as_ref(),
        })
        .collect();
    let results = match writer(store, conn).await {
        Ok(writer) => append_group(writer, &batches).await.results,
        Err(err) => {
            let why = format!("no connection for the group commit: {err}");
            batches
                .iter()
                .map(|_| Err(StoreError::Corrupt(why.clone())))
                .collect()
        }
    };
    if connection_suspect(&results) {
        *conn = None;
    }
    reply_all(group, results, stats);
}

/// The next group: the writes of `first` and of the jobs queued behind it already, up to `MAX_GROUP`. A stop met on
/// the way ends the group and is returned, to be answered once the group is written.
pub(super) fn gather(
    first: Job,
    receiver: &mut mpsc::Receiver<Job>,
) -> (Vec<Request>, Option<oneshot::Sender<()>>) {
    let mut group = Vec::new();
    let mut next = Some(first);
    while let Some(job) = next.take() {
        match job {
            Job::Write(request) => group.push(request),
            Job::Stop(done) => return (group, Some(done)),
        }
        if group.len() < MAX_GROUP {
            next = receiver.try_recv().ok();
        }
    }
    (group, None)
}

/// Anything but a conflict or a fence failed: the connection may be what failed, so the writer takes a fresh one.
pub(super) fn connection_suspect(results: &[StoreResult<()>]) -> bool {
    results.iter().any(|result| {
        result
            .as_ref()
            .is_err_and(|err| !matches!(err, StoreError::Conflict(_) | StoreError::Fenced(_)))
    })
}

pub(super) fn reply_all(group: Vec<Request>, results: Vec<StoreResult<()>>, stats: &GroupStats) {
    let written: usize = group
        .iter()
        .zip(&results)
        .filter(|(_, result)| result.is_ok())
        .map(|(request, _)| request.ops.len())
        .sum();
    if written > 0 {
        stats.groups.inc();
        stats.ops.inc_by(written as u64);
    }
    for (request, result) in group.into_iter().zip(results) {
        let _ = request.reply.send(result);
    }
}

async fn writer<'c>(
    store: &Store,
    conn: &'c mut Option<PoolConnection<Any>>,
) -> StoreResult<&'c mut AnyConnection> {
    if conn.is_none() {
        *conn = Some(store.writer_connection().await?);
    }
    conn.as_deref_mut()
        .ok_or_else(|| StoreError::Corrupt("no writer connection".into()))
}
