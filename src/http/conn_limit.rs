//! Each user's open WebSockets: counted, so `limits.max_connections_per_user` holds (every socket costs memory,
//! and each may keep a document loaded), and told when the user's credentials changed (a session ended, a token
//! revoked), so they check theirs again at once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct UserConnections {
    open: Mutex<HashMap<String, UserEntry>>,
}

#[derive(Debug)]
struct UserEntry {
    count: usize,
    credentials_changed: Arc<Notify>,
}

/// One counted connection; dropping it (the connection ended) frees its place.
#[derive(Debug)]
pub struct ConnectionSlot {
    owner: Arc<UserConnections>,
    user_id: String,
    credentials_changed: Arc<Notify>,
}

impl ConnectionSlot {
    /// Resolves when `UserConnections::credentials_changed` is called for this slot's user.
    pub async fn credentials_changed(&self) {
        self.credentials_changed.notified().await;
    }
}

impl UserConnections {
    /// A slot for one more connection of `user_id`, or `None` when the user already has `max`.
    pub fn acquire(self: &Arc<Self>, user_id: &str, max: usize) -> Option<ConnectionSlot> {
        let mut open = self.lock();
        let entry = open
            .entry(user_id.to_string())
            .or_insert_with(|| UserEntry {
                count: 0,
                credentials_changed: Arc::new(Notify::new()),
            });
        if entry.count >= max {
            return None;
        }
        entry.count += 1;
        Some(ConnectionSlot {
            owner: self.clone(),
            user_id: user_id.to_string(),
            credentials_changed: entry.credentials_changed.clone(),
        })
    }

    /// Every open connection of `user_id` checks its credential again now (log-out, a revoked token).
    pub fn credentials_changed(&self, user_id: &str) {
        if let Some(entry) = self.lock().get(user_id) {
            entry.credentials_changed.notify_waiters();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, UserEntry>> {
        // A panic while holding the lock leaves a valid map; at worst one count is off by one.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self.owner.lock();
        if let Some(entry) = open.get_mut(&self.user_id) {
            entry.count -= 1;
            if entry.count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_freed_when_dropped() {
        let connections = Arc::new(UserConnections::default());
        let first = connections.acquire("ann", 2);
        let second = connections.acquire("ann", 2);
        assert!(first.is_some() && second.is_some());
        assert!(connections.acquire("ann", 2).is_none());
        assert!(connections.acquire("bob", 2).is_some(), "per user");
        drop(first);
        assert!(connections.acquire("ann", 2).is_some());
        assert!(
            connections.lock().get("bob").is_none(),
            "no entry for nobody"
        );
    }
}
