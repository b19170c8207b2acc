//! Counts each user's open WebSockets, so `limits.max_connections_per_user` holds: every socket costs memory, and
//! each may keep a document loaded.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[derive(Debug, Default)]
pub struct UserConnections {
    open: Mutex<HashMap<String, usize>>,
}

/// One counted connection; dropping it (the connection ended) frees its place.
#[derive(Debug)]
pub struct ConnectionSlot {
    owner: Arc<UserConnections>,
    user_id: String,
}

impl UserConnections {
    /// A slot for one more connection of `user_id`, or `None` when the user already has `max`.
    pub fn acquire(self: &Arc<Self>, user_id: &str, max: usize) -> Option<ConnectionSlot> {
        let mut open = self.lock();
        let count = open.entry(user_id.to_string()).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(ConnectionSlot {
            owner: self.clone(),
            user_id: user_id.to_string(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        // A panic while holding the lock leaves a valid map; at worst one count is off by one.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self.owner.lock();
        if let Some(count) = open.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
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
