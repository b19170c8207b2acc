//! `run(config, listener, shutdown)`: wires the store and the router, serves until `shutdown` resolves, then closes cleanly.

use std::{future::Future, net::SocketAddr, sync::Arc};

use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::{
    cluster::{self, Cluster, Route},
    config::Config,
    http,
    hub::{HubConfig, HubMetrics, Hubs, Ownership},
    store::Store,
};

/// Messages per hub round; also the most ops written in one transaction.
const HUB_MAX_BATCH: usize = 512;

/// Serves until `shutdown` completes; in-flight requests finish, then the database is closed.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = Arc::new(with_bound_address(config, listener.local_addr()?));
    if config.testing_wrong_priority {
        tracing::error!(
            "TEST SWITCH ON: the hub transforms with the wrong priority and documents will diverge; never run this build for users"
        );
    }
    if config.testing_ack_before_commit {
        tracing::error!(
            "TEST SWITCH ON: the hub acks edits before saving them and a crash loses them; never run this build for users"
        );
    }
    if let crate::config::DatabaseUrl::Sqlite(_) = config.database {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let mut store = Store::open(&config.database, config.db_max_connections, config.sync)
        .await
        .map_err(|err| {
            let url = crate::config::redacted_url(config.database.as_str());
            crate::config::ConfigError::unusable("database.url", url, err)
        })?;
    store.attach_replicas(&config.db_replicas, config.db_replica_max_lag)?;
    let cluster = match &config.cluster {
        Some(cluster_config) => Some(cluster::join(cluster_config).await.map_err(|err| {
            crate::config::ConfigError::unusable(
                "cluster.zookeeper",
                &cluster_config.zookeeper,
                err,
            )
        })?),
        None => None,
    };
    let mut registry = Registry::default();
    let hub_metrics = HubMetrics::register(&mut registry);
    if let Some(cluster) = &cluster {
        cluster.metrics.register(&mut registry);
    }
    let hub_config = HubConfig {
        limits: config.limits.clone(),
        idle_grace: config.history.idle_grace,
        max_batch: HUB_MAX_BATCH,
        coalesce_per_person: config.coalesce_per_person,
        wrong_priority: config.testing_wrong_priority,
        ack_before_commit: config.testing_ack_before_commit,
        history: config.history.clone(),
    };
    let ownership = cluster.as_ref().map(|cluster| {
        let cluster = cluster.clone();
        let node_id = cluster.node_id().to_string();
        Ownership {
            node_id,
            owner_of: Arc::new(move |doc_id: &str| match cluster.route(doc_id) {
                Route::Here(fence) => Some(fence),
                Route::There(_) | Route::Unavailable => None,
            }),
        }
    });
    let hubs = Hubs::new(store.clone(), hub_config, hub_metrics, ownership);
    if let Some(cluster) = &cluster {
        tokio::spawn(hand_off_on_change(cluster.clone(), hubs.clone()));
        tokio::spawn(hubs.clone().serve_peers());
    }
    let writer = hubs.clone();
    let mailer = crate::mail::Mailer::new(config.mail.as_ref()).map_err(|err| {
        let host = config.mail.as_ref().map_or("", |mail| mail.host.as_str());
        crate::config::ConfigError::unusable("mail.host", host, err)
    })?;
    let state = http::AppState::new(config.clone(), store.clone(), hubs, cluster, registry)
        .with_mailer(mailer);
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    println!("Quire is ready at {}", config.public_url);
    // One signal stops every listener; a dead writer stops the process too (see below).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let writer_died = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch_stop = {
        let (stop, writer_died) = (stop.clone(), writer_died.clone());
        let (cluster, hubs) = (state.cluster.clone(), state.hubs.clone());
        async move {
            tokio::select! {
                () = shutdown => {
                    if let Some(cluster) = &cluster {
                        hand_off_before_stopping(cluster, &hubs).await;
                    }
                }
                // Without its writer no edit can be saved: better to exit (a supervisor restarts us) than to
                // stay up failing every commit while the health check says ok.
                () = writer.writer_stopped() => {
                    tracing::error!("the group commit's writer stopped; shutting down");
                    writer_died.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let _ = stop.send(true);
        }
    };
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let metrics_server = metrics_listener.map(|listener| {
        tokio::spawn(http::serve(
            listener,
            http::metrics_router(state.clone()),
            config.header_timeout,
            until_stopped(stopped.clone()),
        ))
    });
    let main_server = http::serve(
        listener,
        http::router(state),
        config.header_timeout,
        until_stopped(stopped),
    );
    tokio::join!(watch_stop, main_server);
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
    store.close().await;
    if writer_died.load(std::sync::atomic::Ordering::SeqCst) {
        anyhow::bail!("the group commit's writer stopped");
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// A planned stop of a cluster node: leave ZooKeeper first, so the other nodes take the documents at once, then
/// let every hub commit and send its sessions to the new owners, and only then stop serving. A restart moves
/// people in about the time of a round trip instead of a session timeout.
async fn hand_off_before_stopping(cluster: &Cluster, hubs: &Hubs) {
    cluster.leave().await;
    // `hand_off_on_change` sees the new view and hands everything off; wait for the hubs to finish (bounded: a
    // stuck commit must not keep the process from stopping).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while hubs.open_count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The connections write their redirects after their hub has gone.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

/// Whenever the membership changes, the open documents this node no longer owns are handed off (all of them
/// when it stops being a live member).
async fn hand_off_on_change(cluster: Cluster, hubs: Hubs) {
    let mut changes = cluster.changes();
    loop {
        let view = changes.borrow_and_update().clone();
        cluster.metrics.observe(&view);
        let moved = hubs.hand_off_unowned(|doc_id| matches!(cluster.route(doc_id), Route::Here(_)));
        if moved > 0 {
            tracing::info!(
                documents = moved,
                version = view.version,
                live = view.live,
                "handing off documents"
            );
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}

/// With port 0 the OS picks the port; a public URL derived from the listen address must name the real one,
/// or links made by the server (share links, invitations) would point nowhere.
fn with_bound_address(mut config: Config, addr: SocketAddr) -> Config {
    if config.listen.port() == 0 && config.public_url == format!("http://{}", config.listen) {
        config.public_url = format!("http://{addr}");
    }
    config
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
