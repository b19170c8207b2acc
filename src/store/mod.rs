//! The only module that speaks SQL: one `Store` over SQLite (the default) or PostgreSQL, through sqlx's `Any` driver.
//! Values crossing this boundary are plain Rust types; times are Unix epoch milliseconds.

mod account_deletion;
mod accounts;
mod authorship;
mod checkpoint;
mod comments;
mod copy;
mod documents;
mod fence;
mod group_commit;
mod images;
mod mentions;
mod notifications;
mod oidc;
mod operations;
mod overview;
mod peers;
mod primary;
mod replicas;
mod resets;
mod sharing;
mod sqlite_writer;
mod versions;

use std::{
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use sqlx::{
    AnyPool,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

pub use account_deletion::OwnedDocuments;
pub use accounts::{ApiToken, LiveSession, SessionInfo, SessionUse, USER_AGENT_MAX, User};
pub use authorship::StoredAuthorship;
pub use comments::{MessageRow, NewMessage, NewThread, StoredAnchor, ThreadRow};
pub use copy::TABLES;
pub use documents::{DocMeta, DocScope, Role};
pub use fence::{Fence, Owner};
pub use group_commit::{GroupCommitter, GroupStats};
pub use images::{NewImage, StoredImage};
pub use mentions::{MentionRow, Person};
pub use notifications::{NotificationRow, ReadWhich};
pub use oidc::{Identity, PendingLogin};
pub use operations::{GroupWrite, LoggedOp, NewOp, Snapshot};
pub use peers::PeerListener;
pub use primary::host_urls;
pub use replicas::ReplicaState;
pub use sharing::{Member, ShareLink};
pub use versions::{NewVersion, VersionMeta};

use tokio::sync::{mpsc, oneshot};

use crate::config::{DatabaseUrl, SyncMode};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already exists: an e-mail taken, or a revision already written by another writer.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A cluster node's commit was refused: the document's recorded owner is no longer this hub's claim.
    #[error("fenced: {0}")]
    Fenced(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// From the SQLite group-commit writer (`sqlite_writer.rs`), which does not go through sqlx.
    #[error("database error: {0}")]
    Writer(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How long PostgreSQL lets a session sit inside an open transaction before ending it (see `Store::open`).
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(3);

/// A handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite database file (`None` for PostgreSQL or an in-memory database) and how it syncs: the group
    /// commit's writer opens a connection of its own to it.
    sqlite_file: Option<(std::path::PathBuf, SyncMode)>,
    /// The group commit's writer (set by `GroupCommitter::start`), which `close` stops first.
    writer: Arc<Mutex<Option<mpsc::Sender<group_commit::Job>>>>,
    /// PostgreSQL's hosts and the one in use, for the connection that listens to the other nodes (`peers.rs`).
    primary: Option<Arc<primary::Primary>>,
    /// Streaming replicas for reads that tolerate lag (`replicas.rs`); `None` on a store that reads a replica.
    replicas: Option<Arc<replicas::Replicas>>,
}

impl Store {
    /// Connects, creating the SQLite file when needed, and applies pending migrations.
    pub async fn open(
        url: &DatabaseUrl,
        max_connections: u32,
        sync: SyncMode,
    ) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = match url {
            DatabaseUrl::Sqlite(url) => (Backend::Sqlite, sqlite_url(url)),
            DatabaseUrl::Postgres(url) => (Backend::Postgres, url.clone()),
        };
        let primary = match backend {
            Backend::Postgres => Some(Arc::new(primary::Primary::connect(&url).await?)),
            Backend::Sqlite => None,
        };
        let options = match &primary {
            Some(primary) => primary.options(),
            None => AnyConnectOptions::from_str(&url)?,
        };
        let synchronous = match sync {
            SyncMode::Normal => "NORMAL",
            SyncMode::Full => "FULL",
        };
        let follows_hosts = primary.clone().filter(|primary| primary.is_list());
        let checks_writes = follows_hosts.is_some();
        let mut pool_options = AnyPoolOptions::new();
        if let Some(primary) = follows_hosts.clone() {
            // After the primary moved, a connection to the old host is dropped rather than reused.
            pool_options = pool_options.before_acquire(move |_conn, meta| {
                let current = primary.is_current(&meta);
                Box::pin(async move { Ok(current) })
            });
        }
        let pool = pool_options
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            // A local SQLite file cannot drop a connection; a ping per acquire would be a round trip for nothing.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the single writer; busy_timeout makes writers queue instead of
                        // failing; checkpoints run in the background (see checkpoint.rs), not inside commits.
                        let pragmas = format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;"
                        );
                        sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas))
                            .execute(conn)
                            .await?;
                    } else {
                        // A transaction of ours never waits between its statements; one that does belongs to a
                        // process that is frozen or cut off, and its row locks would stall whoever comes next (in a
                        // cluster: the document's new owner, whose claim waits on the old owner's half-done commit).
                        // PostgreSQL ends such a session; its transaction rolls back, and nothing of it was acked.
                        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                            "SET idle_in_transaction_session_timeout = {}",
                            IDLE_IN_TRANSACTION.as_millis()
                        )))
                        .execute(&mut *conn)
                        .await?;
                        if checks_writes && !primary::accepts_writes(conn).await? {
                            return Err(sqlx::Error::Protocol(
                                "this host of database.url is read-only (a standby)".into(),
                            ));
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            checkpoint::start(pool.clone());
        }
        if let Some(primary) = follows_hosts {
            tokio::spawn(primary::follow(pool.clone(), primary));
        }
        let sqlite_file = match backend {
            Backend::Sqlite => sqlite_file(&url).map(|path| (path, sync)),
            Backend::Postgres => None,
        };
        let store = Store {
            pool,
            backend,
            sqlite_file,
            writer: Arc::default(),
            primary,
            replicas: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// One round trip to the database (readiness).
    /// Whether the database answers within 2 s: a health check must answer promptly, and the pool would keep
    /// retrying a refused connection for its whole acquire timeout.
    pub async fn ping(&self) -> StoreResult<()> {
        let answered = tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query("SELECT 1").execute(&self.pool),
        )
        .await;
        match answered {
            Ok(result) => {
                result?;
                Ok(())
            }
            Err(_) => Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Stops the group commit's writer (after the writes queued before this call), waits for checked-out
    /// connections and closes the pool, which checkpoints SQLite's WAL into the database file.
    pub async fn close(&self) {
        let writer = self.writer.lock().ok().and_then(|mut writer| writer.take());
        if let Some(writer) = writer {
            let (done, stopped) = oneshot::channel();
            if writer.send(group_commit::Job::Stop(done)).await.is_ok() {
                let _ = stopped.await;
            }
        }
        self.pool.close().await;
    }
}

/// The file behind a SQLite URL, unless the database lives in memory.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    (file != std::path::Path::new(":memory:")).then(|| file.to_path_buf())
}

/// Adds `mode=rwc` so a missing SQLite file is created rather than reported.
fn sqlite_url(url: &str) -> String {
    if url.contains('?') {
        url.to_string()
    } else {
        format!("{url}?mode=rwc")
    }
}

pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// Maps a unique-constraint failure to `Conflict`, keeping other errors as they are.
fn conflict_on_unique(err: sqlx::Error, what: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(what.to_string())
        }
        _ => StoreError::Database(err),
    }
}
