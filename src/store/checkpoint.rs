//! SQLite WAL checkpoints in the background, so that no commit waits for one.
//!
//! By default SQLite checkpoints inside the commit that pushes the WAL past 1,000 pages: that commit copies the
//! pages into the database file and fsyncs it, and every edit in its group waits several milliseconds (with
//! 500 small documents typing, that was the whole p99 of the ack). Connections therefore open with
//! `wal_autocheckpoint = 0` and this task checkpoints every second from its own connection instead. A PASSIVE
//! checkpoint never blocks the writer; the WAL restarts from its beginning once it is fully copied, so it stays
//! about one second of writes long.

use std::time::Duration;

use sqlx::{AnyPool, Executor};

/// How often the WAL is copied into the database file.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints until the pool closes.
pub fn start(pool: AnyPool) {
    tokio::spawn(async move {
        let mut closing = std::pin::pin!(pool.close_event());
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut closing => return,
                _ = tick.tick() => {}
            }
            if let Err(err) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(%err, "WAL checkpoint failed; retrying");
            }
        }
    });
}
