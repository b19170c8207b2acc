//! Compaction: write the document at head as a new version, then prune the log behind it, keeping what the
//! retention window (`history.keep_ops`, `history.keep_age`) and connected clients still need.

use std::time::{Duration, Instant};

use super::HubMetrics;
use crate::store::{NewVersion, Store, StoreResult, now_ms};

/// A version to write, captured by the hub so the write itself can run off its hot path.
#[derive(Debug)]
pub struct Job {
    pub version: NewVersion,
    /// Ops below this revision may be pruned (if also old enough).
    pub prune_below: u64,
    pub keep_age: Duration,
    /// Automatic versions kept in full; older ones are thinned to one a day.
    pub keep_versions: u64,
}

/// Writes the version (making it current), then prunes; returns the number of ops pruned.
pub async fn run(store: &Store, metrics: &HubMetrics, job: Job) -> StoreResult<u64> {
    let started = Instant::now();
    store.write_version(&job.version).await?;
    metrics.versions_written.inc();
    let keep_ms = i64::try_from(job.keep_age.as_millis()).unwrap_or(i64::MAX);
    let older_than = now_ms().saturating_sub(keep_ms);
    let pruned = store
        .prune_ops(
            &job.version.doc_id,
            i64::try_from(job.prune_below).unwrap_or(i64::MAX),
            older_than,
        )
        .await?;
    metrics.ops_pruned.inc_by(pruned);
    let keep_versions = i64::try_from(job.keep_versions).unwrap_or(i64::MAX);
    store
        .thin_versions(&job.version.doc_id, keep_versions)
        .await?;
    metrics
        .compaction_seconds
        .observe(started.elapsed().as_secs_f64());
    tracing::debug!(doc_id = %job.version.doc_id, rev = job.version.rev, pruned, "compacted");
    Ok(pruned)
}

/// The lowest revision that must stay in the log: the version's own, the newest `keep_ops`, and everything the
/// hub may still transform a client's op against or send in a catch-up.
pub fn prune_boundary(version_rev: u64, head: u64, keep_ops: u64, oldest_in_memory: u64) -> u64 {
    version_rev
        .min(head.saturating_sub(keep_ops))
        .min(oldest_in_memory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_keeps_the_window_and_what_clients_may_need() {
        assert_eq!(
            prune_boundary(5000, 5000, 1000, 0),
            0,
            "a client may still base on rev 0"
        );
        assert_eq!(prune_boundary(5000, 5000, 1000, 4000), 4000);
        assert_eq!(
            prune_boundary(5000, 5200, 100, 5100),
            5000,
            "never past the version"
        );
        assert_eq!(
            prune_boundary(5000, 5000, 10_000, 4000),
            0,
            "keep_ops larger than the log"
        );
    }
}
