//! Following the PostgreSQL primary across hosts. A `database.url` may list several hosts, as libpq spells it
//! (`postgres://quire@db1:5432,db2:5432/quire?target_session_attrs=read-write`): the pool connects to the first
//! host that accepts writes, and a watcher moves it to whichever host accepts writes after a switch made by the
//! operator's tooling (Patroni, a managed service), without a restart. sqlx takes one host per URL, so the list is
//! split here and the pool's connect options are swapped (`Pool::set_connect_options`); connections opened
//! before a switch are dropped instead of reused (`before_acquire`).
//!
//! During a switch the hub's commits fail and nothing is acknowledged; clients resend once commits succeed again.

use std::{
    str::FromStr,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{
    AnyConnection, AnyPool, Connection, any::AnyConnectOptions, pool::PoolConnectionMetadata,
};

use super::{StoreError, StoreResult};

/// How often the watcher asks the host in use whether it still accepts writes.
const CHECK_EVERY: Duration = Duration::from_millis(500);
/// How long one host may take to answer a connection or a check before the next is tried.
const HOST_TIMEOUT: Duration = Duration::from_secs(2);

/// The one-host URLs of a `database.url` (one element when it names one host). `target_session_attrs`, libpq's
/// way to ask for the writable host, is taken out: the primary must always accept writes, so only `read-write`
/// and `primary` are accepted.
pub fn host_urls(url: &str) -> Result<Vec<String>, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "a URL such as postgres://USER@HOST:PORT/DB".to_string())?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (user, hosts) = match authority.rsplit_once('@') {
        Some((user, hosts)) => (format!("{user}@"), hosts),
        None => (String::new(), authority),
    };
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("target_session_attrs", "read-write" | "primary")) => {}
            Some(("target_session_attrs", other)) => {
                return Err(format!(
                    "target_session_attrs={other}: the primary must accept writes (read-write or primary)"
                ));
            }
            _ => kept.push(pair),
        }
    }
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    hosts
        .split(',')
        .map(|host| {
            if host.is_empty() {
                Err("an empty host in the host list".to_string())
            } else {
                Ok(format!("{scheme}://{user}{host}{path}{query}"))
            }
        })
        .collect()
}

/// The hosts that may be the primary, and which one the pool uses.
#[derive(Debug)]
pub(super) struct Primary {
    hosts: Vec<AnyConnectOptions>,
    urls: Vec<String>,
    current: AtomicUsize,
    /// When the pool last moved to another host (ms since `epoch`); older connections are not reused.
    switched_ms: AtomicU64,
    epoch: Instant,
    /// The URL of the host in use, for connections opened outside the pool (the peers' LISTEN).
    current_url: RwLock<String>,
}

impl Primary {
    /// Finds the host that accepts writes now; a single host is only checked to answer, as before host lists.
    pub(super) async fn connect(url: &str) -> StoreResult<Primary> {
        let urls =
            host_urls(url).map_err(|err| StoreError::Corrupt(format!("database.url: {err}")))?;
        let hosts = urls
            .iter()
            .map(|url| AnyConnectOptions::from_str(url))
            .collect::<Result<Vec<_>, _>>()?;
        let primary = Primary {
            current_url: RwLock::new(urls[0].clone()),
            hosts,
            urls,
            current: AtomicUsize::new(0),
            switched_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        };
        let (index, connection) = if primary.is_list() {
            primary.find_writable().await?
        } else {
            // One host: connect once, so that a wrong URL is reported at once (the pool would retry a refused
            // connection until its acquire timeout).
            let connection = tokio::time::timeout(
                HOST_TIMEOUT * 5,
                AnyConnection::connect_with(&primary.hosts[0]),
            )
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))??;
            (0, connection)
        };
        connection.close().await?;
        primary.use_host(index);
        Ok(primary)
    }

    pub(super) fn is_list(&self) -> bool {
        self.hosts.len() > 1
    }

    pub(super) fn options(&self) -> AnyConnectOptions {
        self.hosts[self.current.load(Ordering::Relaxed)].clone()
    }

    pub(super) fn current_url(&self) -> String {
        self.current_url
            .read()
            .map_or_else(|_| self.urls[0].clone(), |url| url.clone())
    }

    fn use_host(&self, index: usize) {
        self.current.store(index, Ordering::Relaxed);
        if let Ok(mut url) = self.current_url.write() {
            url.clone_from(&self.urls[index]);
        }
        self.switched_ms
            .store(self.elapsed_ms(self.epoch.elapsed()), Ordering::Relaxed);
    }

    fn elapsed_ms(&self, elapsed: Duration) -> u64 {
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a pooled connection was opened on the host in use (after the last switch).
    pub(super) fn is_current(&self, meta: &PoolConnectionMetadata) -> bool {
        let now = self.elapsed_ms(self.epoch.elapsed());
        let opened = now.saturating_sub(self.elapsed_ms(meta.age));
        opened >= self.switched_ms.load(Ordering::Relaxed)
    }

    /// The first host, in the URL's order, that answers and accepts writes, with a connection to it.
    async fn find_writable(&self) -> StoreResult<(usize, AnyConnection)> {
        let mut refusals = Vec::new();
        for (index, options) in self.hosts.iter().enumerate() {
            let label = crate::config::redacted_url(&self.urls[index]);
            match tokio::time::timeout(HOST_TIMEOUT, AnyConnection::connect_with(options)).await {
                Ok(Ok(mut connection)) => match accepts_writes(&mut connection).await {
                    Ok(true) => return Ok((index, connection)),
                    Ok(false) => refusals.push(format!("{label}: read-only (a standby)")),
                    Err(err) => refusals.push(format!("{label}: {err}")),
                },
                Ok(Err(err)) => refusals.push(format!("{label}: {err}")),
                Err(_) => refusals.push(format!("{label}: no answer in {HOST_TIMEOUT:?}")),
            }
        }
        Err(StoreError::Corrupt(format!(
            "no host of database.url accepts writes: {}",
            refusals.join("; ")
        )))
    }
}

/// `SHOW transaction_read_only` is `off` on a primary and `on` on a standby (what libpq's `read-write` checks).
pub(super) async fn accepts_writes(connection: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    let read_only: String = sqlx::query_scalar("SHOW transaction_read_only")
        .fetch_one(connection)
        .await?;
    Ok(read_only == "off")
}

/// Watches the host in use; when it stops answering or stops accepting writes, moves the pool to the host that
/// accepts writes now. Runs for the life of the process, only for a URL with several hosts.
pub(super) async fn follow(pool: AnyPool, primary: Arc<Primary>) {
    let mut watch: Option<AnyConnection> = None;
    let mut reported = false;
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        if let Some(connection) = watch.as_mut()
            && matches!(
                tokio::time::timeout(HOST_TIMEOUT, accepts_writes(connection)).await,
                Ok(Ok(true))
            )
        {
            continue;
        }
        watch = None;
        match primary.find_writable().await {
            Ok((index, connection)) => {
                if index != primary.current.load(Ordering::Relaxed) {
                    tracing::warn!(
                        primary = %crate::config::redacted_url(&primary.urls[index]),
                        "the PostgreSQL primary moved; new connections go to it"
                    );
                    primary.use_host(index);
                    pool.set_connect_options(primary.options());
                }
                watch = Some(connection);
                reported = false;
            }
            Err(err) if !reported => {
                tracing::error!(%err, "no PostgreSQL host accepts writes; looking again");
                reported = true;
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::host_urls;

    #[test]
    fn a_host_list_becomes_one_url_per_host_without_target_session_attrs() {
        assert_eq!(
            host_urls(
                "postgres://quire:p%40ss@db1:5432,db2:5433/quire?target_session_attrs=read-write&sslmode=disable"
            )
            .unwrap(),
            [
                "postgres://quire:p%40ss@db1:5432/quire?sslmode=disable",
                "postgres://quire:p%40ss@db2:5433/quire?sslmode=disable"
            ]
        );
        assert_eq!(
            host_urls("postgres://db/quire").unwrap(),
            ["postgres://db/quire"]
        );
        assert_eq!(
            host_urls("postgresql://u@[::1]:5432,h2?target_session_attrs=primary").unwrap(),
            ["postgresql://u@[::1]:5432", "postgresql://u@h2"]
        );
    }

    #[test]
    fn a_host_list_that_could_pick_a_standby_is_refused() {
        assert!(host_urls("postgres://u@a,b/q?target_session_attrs=any").is_err());
        assert!(host_urls("postgres://u@a,,b/q").is_err());
        assert!(host_urls("postgres://u@a,b/q?target_session_attrs=standby").is_err());
    }
}
