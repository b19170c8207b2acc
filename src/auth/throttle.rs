//! Log-in throttling: too many failures for one e-mail or one address within a window answer 429 until it passes.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Counts recent failures per key ("email:..." or "ip:..."). In memory: a restart forgets, which only helps the honest.
#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// An address gets more tries than an e-mail, since several people may share one.
const ADDRESS_FACTOR: u32 = 4;

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> LoginThrottle {
        LoginThrottle {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long until this e-mail / address may try again; `None` when it may try now.
    pub fn retry_after(&self, email: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut failures = self.lock();
        let email_wait = wait(
            &mut failures,
            &email_key(email),
            self.max_failures,
            self.window,
            now,
        );
        let address_limit = self.max_failures.saturating_mul(ADDRESS_FACTOR);
        let address_wait = wait(
            &mut failures,
            &address_key(address),
            address_limit,
            self.window,
            now,
        );
        email_wait.max(address_wait)
    }

    pub fn record_failure(&self, email: &str, address: &str) {
        let now = Instant::now();
        let mut failures = self.lock();
        for key in [email_key(email), address_key(address)] {
            failures.entry(key).or_default().push(now);
        }
        // Keep the map from growing without bound under a spray of random e-mails.
        if failures.len() > 100_000 {
            let window = self.window;
            failures.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
    }

    /// A successful log-in clears the e-mail's failures (not the address's, which may be an attacker's).
    pub fn record_success(&self, email: &str) {
        self.lock().remove(&email_key(email));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Instant>>> {
        // A poisoned lock only means another request panicked mid-update; the counts are still usable.
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("ip:{address}")
}

fn wait(
    failures: &mut HashMap<String, Vec<Instant>>,
    key: &str,
    limit: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    let times = failures.get_mut(key)?;
    times.retain(|time| now.duration_since(*time) < window);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if times.len() < limit {
        return None;
    }
    let oldest_relevant = times[times.len() - limit];
    Some(window.saturating_sub(now.duration_since(oldest_relevant)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_for_one_email() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(throttle.retry_after("a@x.io", "1.2.3.4").is_none());
            throttle.record_failure("a@x.io", "1.2.3.4");
        }
        assert!(
            throttle.retry_after("A@x.io", "5.6.7.8").is_some(),
            "e-mail is case-insensitive"
        );
        assert!(
            throttle.retry_after("b@x.io", "1.2.3.4").is_none(),
            "address allows more tries"
        );
        throttle.record_success("a@x.io");
        assert!(throttle.retry_after("a@x.io", "5.6.7.8").is_none());
    }
}
