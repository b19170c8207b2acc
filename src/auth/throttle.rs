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

/// A log-in attempt in progress, counted as a failure until `LoginThrottle::succeeded`.
#[derive(Debug)]
pub struct Attempt {
    at: Instant,
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

    /// Starts a log-in attempt: refused with the time to wait when the e-mail or the address is over its limit,
    /// else counted as a failure at once, under the same lock as the check. Counting only after the password
    /// check (tens of milliseconds of argon2) let parallel guesses all pass the check before any was counted.
    pub fn begin(&self, email: &str, address: &str) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let mut failures = self.lock();
        let (email_key, address_key) = (email_key(email), address_key(address));
        let email_wait = wait(
            &mut failures,
            &email_key,
            self.max_failures,
            self.window,
            now,
        );
        let address_limit = self.max_failures.saturating_mul(ADDRESS_FACTOR);
        let address_wait = wait(&mut failures, &address_key, address_limit, self.window, now);
        if let Some(wait) = email_wait.max(address_wait) {
            return Err(wait);
        }
        for key in [email_key, address_key] {
            failures.entry(key).or_default().push(now);
        }
        self.forget_old(&mut failures, now);
        Ok(Attempt { at: now })
    }

    /// The attempt succeeded: the e-mail's failures are cleared, and this attempt no longer counts against the
    /// address (its earlier failures still do: they may be an attacker's).
    pub fn succeeded(&self, email: &str, address: &str, attempt: Attempt) {
        let mut failures = self.lock();
        failures.remove(&email_key(email));
        if let Some(times) = failures.get_mut(&address_key(address))
            && let Some(index) = times.iter().rposition(|time| *time == attempt.at)
        {
            times.remove(index);
        }
    }

    /// Keeps the map from growing without bound under a spray of random e-mails.
    fn forget_old(&self, failures: &mut HashMap<String, Vec<Instant>>, now: Instant) {
        if failures.len() > 100_000 {
            let window = self.window;
            failures.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
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
            assert!(throttle.begin("a@x.io", "1.2.3.4").is_ok());
        }
        assert!(
            throttle.begin("A@x.io", "5.6.7.8").is_err(),
            "e-mail is case-insensitive"
        );
        assert!(
            throttle.begin("b@x.io", "1.2.3.4").is_ok(),
            "address allows more tries"
        );
    }

    #[test]
    fn attempts_count_before_they_finish_and_success_uncounts() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(60));
        // Two guesses in flight at once: a third is refused before either has finished.
        let first = throttle.begin("a@x.io", "1.2.3.4").unwrap();
        let _second = throttle.begin("a@x.io", "1.2.3.4").unwrap();
        assert!(throttle.begin("a@x.io", "1.2.3.4").is_err());
        throttle.succeeded("a@x.io", "1.2.3.4", first);
        assert!(
            throttle.begin("a@x.io", "9.9.9.9").is_ok(),
            "cleared by success"
        );
        // The address: 8 tries; the one that succeeded gave its place back, so 7 more after `_second`.
        for n in 0..7 {
            assert!(
                throttle.begin(&format!("u{n}@x.io"), "1.2.3.4").is_ok(),
                "{n}"
            );
        }
        assert!(throttle.begin("u9@x.io", "1.2.3.4").is_err());
    }
}
