//! Compaction: write the document at head as a new version, then prune the log behind it, keeping what the
//! retention window (`history.keep_ops`, `history.keep_age`) and connected clients still need.

use std::time::{Duration, Instant};

use super::HubMetrics;
use crate::store::{NewVersion, Store, StoreResult, StoredAnchor, StoredAuthorship, now_ms};

/// A version to write, captured by the hub so the write itself can run off its hot path.
#[derive(Debug)]
pub struct Job {
    pub version: NewVersion,
    /// Every comment anchor at the version's revision: written before the log is pruned behind it.
    pub anchors: Vec<(String, StoredAnchor)>,
    /// Who wrote what at the version's revision (`None`: authorship is off, and any stored map is forgotten so
    /// that it holds no log back).
    pub authorship: Option<StoredAuthorship>,
    /// Ops below this revision may be pruned (if also old enough).
    pub prune_below: u64,
    pub keep_age: Duration,
    /// When the ops below `prune_below_any_age` hold more than `keep_bytes`, they go whatever their age or count.
    pub prune_below_any_age: u64,
    pub keep_bytes: u64,
    /// Automatic versions kept in full; older ones are thinned to one a day.
    pub keep_versions: u64,
}

/// How long an uploaded image stays linked to its document before any version or op must mention it.
pub const IMAGE_GRACE_MS: i64 = 60 * 60 * 1000;

/// Writes the version (making it current) and the comment anchors at its revision, then prunes; returns the number
/// of ops pruned.
pub async fn run(store: &Store, metrics: &HubMetrics, job: Job) -> StoreResult<u64> {
    let started = Instant::now();
    // First: with no stored map, loading takes the current version's text as of unknown authorship, so the map
    // must never lag a version written before it. (`prune_ops` keeps the ops after it too.)
    match &job.authorship {
        Some(authorship) => {
            store
                .save_authorship(&job.version.doc_id, authorship)
                .await?
        }
        None => store.delete_authorship(&job.version.doc_id).await?,
    }
    store.write_version(&job.version).await?;
    metrics.versions_written.inc();
    // Before pruning: an anchor must never be stored at a revision whose ops are gone (`prune_ops` checks too).
    store.save_comment_anchors(&job.anchors).await?;
    let (below, older_than) = prune_range(store, &job).await?;
    let pruned = store
        .prune_ops(&job.version.doc_id, below, older_than)
        .await?;
    metrics.ops_pruned.inc_by(pruned);
    let keep_versions = i64::try_from(job.keep_versions).unwrap_or(i64::MAX);
    store
        .thin_versions(&job.version.doc_id, keep_versions)
        .await?;
    // Images no remaining version or logged op mentions go with them; an upload whose op may still be on its
    // way (an hour's grace) stays.
    store
        .prune_images(&job.version.doc_id, crate::store::now_ms() - IMAGE_GRACE_MS)
        .await?;
    metrics
        .compaction_seconds
        .observe(started.elapsed().as_secs_f64());
    tracing::debug!(doc_id = %job.version.doc_id, rev = job.version.rev, pruned, "compacted");
    Ok(pruned)
}

/// What to prune: `(below_rev, older_than_ms)`. Normally the count and age rules apply; a log grown past
/// `keep_bytes` (a few huge pastes) keeps only what the version and connected clients need.
async fn prune_range(store: &Store, job: &Job) -> StoreResult<(i64, i64)> {
    let doc_id = &job.version.doc_id;
    let any_age = i64::try_from(job.prune_below_any_age).unwrap_or(i64::MAX);
    let bytes = store.log_bytes(doc_id, any_age).await?;
    if u64::try_from(bytes).unwrap_or(0) > job.keep_bytes {
        tracing::info!(%doc_id, bytes, "the log is over history.keep_bytes: pruning it whatever its age");
        return Ok((any_age, i64::MAX));
    }
    let keep_ms = i64::try_from(job.keep_age.as_millis()).unwrap_or(i64::MAX);
    let below = i64::try_from(job.prune_below).unwrap_or(i64::MAX);
    Ok((below, now_ms().saturating_sub(keep_ms)))
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
