//! `run(config, listener, shutdown)`: wires the store and the router, serves until `shutdown` resolves, then closes cleanly.

use std::{future::Future, net::SocketAddr, sync::Arc};

use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::{
    config::Config,
    http,
    hub::{HubConfig, HubMetrics, Hubs},
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
    if let crate::config::DatabaseUrl::Sqlite(_) = config.database {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let store = Store::open(&config.database, config.db_max_connections, config.sync).await?;
    let mut registry = Registry::default();
    let hub_metrics = HubMetrics::register(&mut registry);
    let hub_config = HubConfig {
        limits: config.limits.clone(),
        idle_grace: config.history.idle_grace,
        max_batch: HUB_MAX_BATCH,
        wrong_priority: config.testing_wrong_priority,
        history: config.history.clone(),
    };
    let hubs = Hubs::new(store.clone(), hub_config, hub_metrics);
    let state = http::AppState::new(config.clone(), store.clone(), hubs, registry);
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    println!("Quire is ready at {}", config.public_url);
    // Every frame of a live edit is small and urgent: with Nagle's algorithm on, an op could wait for the
    // previous segment's ack (a 40 ms delayed ack on Linux), which was the whole p99 of remote latency.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    store.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
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
