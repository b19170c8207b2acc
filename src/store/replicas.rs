//! Read replicas (PostgreSQL streaming standbys). A monitor samples the primary's WAL position every
//! `SAMPLE_EVERY` and asks each replica how far it has replayed: a replica is *fresh as of* the last moment whose
//! primary position it has replayed. `Store::for_reading` hands out a store on a replica only when that replica
//! answers and is fresh as of both `max_lag` ago and the caller's own last write (read-your-writes); otherwise the
//! primary. Comparing WAL positions, not replay timestamps, keeps an idle primary from looking like lag.

use std::{
    collections::VecDeque,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::Duration,
};

use sqlx::{
    AnyPool,
    any::{AnyConnectOptions, AnyPoolOptions},
};

use super::{Store, StoreResult, now_ms};

const SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// Primary positions kept: enough to place any replica that is less than this far behind.
const SAMPLES_KEPT: usize = 600;

#[derive(Debug)]
pub(super) struct Replica {
    pub(super) label: String,
    pub(super) pool: AnyPool,
    /// Milliseconds since the epoch as of which it holds every change of the primary (0: never, or down).
    fresh_as_of: AtomicI64,
    up: AtomicBool,
}

/// Where a read went, and each replica's lag, for `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaState {
    pub label: String,
    pub up: bool,
    /// Seconds behind the primary (`None` when down or not yet measured).
    pub lag_seconds: Option<f64>,
}

#[derive(Debug)]
pub(super) struct Replicas {
    pub(super) list: Vec<Replica>,
    max_lag_ms: i64,
}

impl Store {
    /// Connects to the replicas (PostgreSQL URLs) and starts the monitor. A replica that cannot be reached now is
    /// kept and used once it answers.
    pub fn attach_replicas(&mut self, urls: &[String], max_lag: Duration) -> StoreResult<()> {
        if urls.is_empty() {
            return Ok(());
        }
        let mut list = Vec::new();
        for url in urls {
            let options = AnyConnectOptions::from_str(url)?;
            let pool = AnyPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(2))
                .test_before_acquire(true)
                .connect_lazy_with(options);
            list.push(Replica {
                label: crate::config::redacted_url(url),
                pool,
                fresh_as_of: AtomicI64::new(0),
                up: AtomicBool::new(false),
            });
        }
        let replicas = Arc::new(Replicas {
            list,
            max_lag_ms: i64::try_from(max_lag.as_millis()).unwrap_or(i64::MAX),
        });
        self.replicas = Some(replicas.clone());
        tokio::spawn(monitor(self.pool.clone(), replicas));
        Ok(())
    }

    /// A store for reads that tolerate a little lag, by someone whose last write was at `written_at` (ms since
    /// the epoch, 0 for none): on a replica when one is up and holds everything up to both that write and
    /// `database.replica_max_lag` ago, else this store (the primary). The second value is the replica's index.
    pub fn for_reading(&self, written_at: i64) -> (Store, Option<usize>) {
        let Some(replicas) = &self.replicas else {
            return (self.clone(), None);
        };
        let needed = written_at.max(now_ms() - replicas.max_lag_ms);
        let chosen = replicas.list.iter().position(|replica| {
            replica.up.load(Ordering::Relaxed)
                && replica.fresh_as_of.load(Ordering::Relaxed) >= needed
        });
        match chosen {
            Some(index) => {
                let mut store = self.clone();
                store.pool = replicas.list[index].pool.clone();
                store.replicas = None;
                store.sqlite_file = None;
                (store, Some(index))
            }
            None => (self.clone(), None),
        }
    }

    /// Marks replica `index` down (a query on it failed); the monitor brings it back when it answers.
    pub fn replica_failed(&self, index: usize) {
        if let Some(replica) = self
            .replicas
            .as_ref()
            .and_then(|replicas| replicas.list.get(index))
        {
            replica.up.store(false, Ordering::Relaxed);
        }
    }

    /// Whether reads that tolerate lag have anywhere to go but the primary.
    pub fn has_replicas(&self) -> bool {
        self.replicas.is_some()
    }

    pub fn replica_states(&self) -> Vec<ReplicaState> {
        let Some(replicas) = &self.replicas else {
            return Vec::new();
        };
        let now = now_ms();
        replicas
            .list
            .iter()
            .map(|replica| {
                let up = replica.up.load(Ordering::Relaxed);
                let fresh = replica.fresh_as_of.load(Ordering::Relaxed);
                ReplicaState {
                    label: replica.label.clone(),
                    up,
                    lag_seconds: (up && fresh > 0).then(|| (now - fresh).max(0) as f64 / 1000.0),
                }
            })
            .collect()
    }
}

async fn monitor(primary: AnyPool, replicas: Arc<Replicas>) {
    // (when, the primary's WAL position then), oldest first.
    let mut samples: VecDeque<(i64, i64)> = VecDeque::new();
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    loop {
        tick.tick().await;
        let at = now_ms();
        if let Ok(position) = wal_position(&primary, "pg_current_wal_lsn()").await {
            samples.push_back((at, position));
            while samples.len() > SAMPLES_KEPT {
                samples.pop_front();
            }
        }
        for replica in &replicas.list {
            match wal_position(&replica.pool, "pg_last_wal_replay_lsn()").await {
                Ok(replayed) => {
                    let fresh = samples
                        .iter()
                        .rev()
                        .find(|(_, position)| *position <= replayed)
                        .map(|(when, _)| *when);
                    replica
                        .fresh_as_of
                        .store(fresh.unwrap_or(0), Ordering::Relaxed);
                    replica.up.store(true, Ordering::Relaxed);
                }
                Err(_) => {
                    replica.up.store(false, Ordering::Relaxed);
                    replica.fresh_as_of.store(0, Ordering::Relaxed);
                }
            }
        }
    }
}

/// A WAL position as a number (`NULL` on a server that is not a standby, for the replay function: an error).
async fn wal_position(pool: &AnyPool, function: &str) -> StoreResult<i64> {
    let sql = format!("SELECT ({function} - '0/0'::pg_lsn)::bigint");
    let position: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(pool)
        .await?;
    position.ok_or_else(|| super::StoreError::Corrupt("not a streaming replica".into()))
}
