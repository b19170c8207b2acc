//! The accept loop: hyper HTTP/1.1 connections (with upgrades for WebSockets) for a router, with a deadline for
//! reading request headers and a graceful stop. HTTP/2 is left to the reverse proxy in front (see docs/deploy.md):
//! hyper-util's protocol detection would wait for a silent client's first bytes with no deadline at all.
//!
//! Written out instead of `axum::serve` because that offers no header-read timeout: a client that sends its
//! headers one byte a minute (slowloris) would hold a connection and its task for as long as it likes.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{Router, extract::ConnectInfo};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
};
use tower::ServiceExt;

/// Serves `router` on `listener` until `shutdown` resolves, then waits for requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Every connection task holds a clone of `alive` and watches `stopping`; once all clones are dropped, the last
    // request in flight has finished.
    let (stopping, stop_seen) = watch::channel(false);
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, mostly: wait a little instead of spinning.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Every frame of a live edit is small and urgent: with Nagle's algorithm on, an op could wait for the
        // previous segment's ack (a 40 ms delayed ack on Linux), which was the whole p99 of remote latency.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
        let service = router
            .clone()
            .map_request(move |mut request: axum::extract::Request<_>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            });
        let connection = builder
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
            .with_upgrades();
        tokio::spawn(drive(connection, peer, stop_seen.clone(), alive.clone()));
    }
    drop(listener);
    let _ = stopping.send(true);
    drop(alive);
    let _ = all_done.recv().await;
}

/// Runs one connection; when the server stops, lets its request in flight finish and closes it. (A WebSocket
/// leaves hyper at its upgrade, so it does not hold the stop up.)
async fn drive<C>(
    connection: C,
    peer: SocketAddr,
    mut stopping: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) where
    C: Future<Output = hyper::Result<()>> + GracefulStop,
{
    tokio::pin!(connection);
    let stopped = async move {
        // The guard `wait_for` returns is not `Send`: drop it here, before the task awaits anything else.
        let _ = stopping.wait_for(|stop| *stop).await.is_ok();
    };
    let result = tokio::select! {
        result = &mut connection => result,
        () = stopped => {
            connection.as_mut().stop_gracefully();
            connection.await
        }
    };
    if let Err(err) = result {
        tracing::debug!(%peer, %err, "connection ended with an error");
    }
}

/// `graceful_shutdown` of a hyper connection, as a trait so `drive` can name it.
trait GracefulStop {
    fn stop_gracefully(self: std::pin::Pin<&mut Self>);
}

impl<I, S> GracefulStop for http1::UpgradeableConnection<I, S>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::ResBody: hyper::body::Body + 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn stop_gracefully(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}
