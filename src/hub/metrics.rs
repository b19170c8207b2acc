//! The hub's Prometheus metrics: open documents, sessions, commits, commit latency, queue drops, errors by code,
//! and in a cluster hand-offs and fenced commits.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: &'static str,
}

#[derive(Debug, Clone)]
pub struct HubMetrics {
    pub open_documents: Gauge,
    pub sessions: Gauge,
    pub ops_committed: Counter,
    pub commit_seconds: Histogram,
    pub commit_batch_ops: Histogram,
    pub queue_drops: Counter,
    pub versions_written: Counter,
    pub ops_pruned: Counter,
    pub compaction_seconds: Histogram,
    pub errors: Family<CodeLabel, Counter>,
    /// Cluster: hubs stopped because their document moved to another node.
    pub hand_offs: Counter,
    /// Cluster: group commits refused because another node had claimed the document since.
    pub fenced_commits: Counter,
    /// Cluster: hubs that could not start because another node holds a newer claim.
    pub claims_refused: Counter,
    /// The group commit's transactions and the ops in them.
    pub group: crate::store::GroupStats,
    /// Frames written to WebSockets, and the flushes (socket writes) that carried them: their ratio is what
    /// coalescing (`server.coalesce_us_per_person`) saves.
    pub ws_frames: Counter,
    pub ws_writes: Counter,
}

impl HubMetrics {
    pub fn register(registry: &mut Registry) -> HubMetrics {
        let buckets = prometheus_client::metrics::histogram::exponential_buckets(0.0001, 2.0, 16);
        let metrics = HubMetrics {
            open_documents: Gauge::default(),
            sessions: Gauge::default(),
            ops_committed: Counter::default(),
            commit_seconds: Histogram::new(buckets),
            commit_batch_ops: Histogram::new(
                prometheus_client::metrics::histogram::exponential_buckets(1.0, 2.0, 12),
            ),
            queue_drops: Counter::default(),
            versions_written: Counter::default(),
            ops_pruned: Counter::default(),
            compaction_seconds: Histogram::new(
                prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 14),
            ),
            errors: Family::default(),
            hand_offs: Counter::default(),
            fenced_commits: Counter::default(),
            claims_refused: Counter::default(),
            group: crate::store::GroupStats::default(),
            ws_frames: Counter::default(),
            ws_writes: Counter::default(),
        };
        registry.register(
            "quire_ws_frames",
            "Frames written to WebSockets (frames per write: this / quire_ws_writes)",
            metrics.ws_frames.clone(),
        );
        registry.register(
            "quire_ws_writes",
            "Flushes of WebSockets: one socket write each, carrying every frame queued by then",
            metrics.ws_writes.clone(),
        );
        registry.register(
            "quire_db_group_commits",
            "Transactions written by the group commit (ops per transaction: quire_db_group_commit_ops / this)",
            metrics.group.groups.clone(),
        );
        registry.register(
            "quire_db_group_commit_ops",
            "Ops written by the group commit",
            metrics.group.ops.clone(),
        );
        registry.register(
            "quire_open_documents",
            "Documents with a running hub",
            metrics.open_documents.clone(),
        );
        registry.register(
            "quire_sessions",
            "Connected WebSocket sessions",
            metrics.sessions.clone(),
        );
        registry.register(
            "quire_ops_committed",
            "Ops written to the operation log",
            metrics.ops_committed.clone(),
        );
        registry.register(
            "quire_op_commit_seconds",
            "Time to write one batch of ops durably",
            metrics.commit_seconds.clone(),
        );
        registry.register(
            "quire_op_commit_batch_ops",
            "Ops per durable write (group commit)",
            metrics.commit_batch_ops.clone(),
        );
        registry.register(
            "quire_broadcast_queue_drops",
            "Connections dropped because their outbound queue was full",
            metrics.queue_drops.clone(),
        );
        registry.register(
            "quire_versions_written",
            "Document versions (snapshots) written",
            metrics.versions_written.clone(),
        );
        registry.register(
            "quire_ops_pruned",
            "Ops deleted from the log behind a version",
            metrics.ops_pruned.clone(),
        );
        registry.register(
            "quire_compaction_seconds",
            "Time to write a version and prune the log",
            metrics.compaction_seconds.clone(),
        );
        registry.register(
            "quire_ws_errors",
            "WebSocket errors sent, by code",
            metrics.errors.clone(),
        );
        registry.register(
            "quire_cluster_hand_offs",
            "Open documents handed off to another node",
            metrics.hand_offs.clone(),
        );
        registry.register(
            "quire_cluster_fenced_commits",
            "Commits refused because another node owns the document now",
            metrics.fenced_commits.clone(),
        );
        registry.register(
            "quire_cluster_claims_refused",
            "Documents not opened because another node holds a newer claim",
            metrics.claims_refused.clone(),
        );
        metrics
    }

    pub fn error(&self, code: &'static str) {
        self.errors.get_or_create(&CodeLabel { code }).inc();
    }
}
