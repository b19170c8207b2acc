//! A channel between the nodes of a cluster, over the database they share: PostgreSQL's LISTEN/NOTIFY. Every
//! node hears every message (its own too); what the messages mean is the hub's business (`hub/peers.rs`).
//! Notifications are not stored: one sent while a listener is reconnecting is lost to it, which the receiver
//! learns from `PeerListener::recv` returning `None`.

use sqlx::postgres::PgListener;

use super::{Store, StoreError, StoreResult};

const CHANNEL: &str = "quire_peers";

/// PostgreSQL caps a notification's payload below 8000 bytes.
pub const MAX_PEER_MESSAGE: usize = 7900;

/// This node's subscription to the channel.
#[derive(Debug)]
pub struct PeerListener(PgListener);

impl Store {
    /// Sends `payload` to every node listening (delivered when the statement commits, in order per sender).
    pub async fn notify_peers(&self, payload: &str) -> StoreResult<()> {
        if payload.len() > MAX_PEER_MESSAGE {
            return Err(StoreError::Corrupt(format!(
                "a peer message of {} bytes is over PostgreSQL's limit",
                payload.len()
            )));
        }
        // `pg_notify` returns void, which the Any driver cannot decode: select a constant beside it instead.
        sqlx::query("SELECT 1 FROM (SELECT pg_notify($1, $2)) AS sent")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Subscribes on a connection of its own (PostgreSQL only).
    pub async fn listen_peers(&self) -> StoreResult<PeerListener> {
        let Some(primary) = &self.primary else {
            return Err(StoreError::Corrupt(
                "nodes talk to each other only over PostgreSQL".into(),
            ));
        };
        let mut listener = PgListener::connect(&primary.current_url()).await?;
        listener.listen(CHANNEL).await?;
        Ok(PeerListener(listener))
    }
}

impl PeerListener {
    /// The next message; `Ok(None)` when the connection was lost (and is being re-established): messages sent
    /// meanwhile never arrive.
    pub async fn recv(&mut self) -> StoreResult<Option<String>> {
        Ok(self
            .0
            .try_recv()
            .await?
            .map(|notification| notification.payload().to_string()))
    }
}
