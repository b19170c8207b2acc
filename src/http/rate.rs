//! Token buckets: a steady rate with room for bursts, per connection and message kind, or per key (a user, a
//! client address) for costly HTTP actions, such as guest accounts made through share links.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Debug)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub fn new(per_second: u32, burst: u32) -> TokenBucket {
        TokenBucket::with_rate(f64::from(per_second), burst)
    }

    fn with_rate(per_second: f64, burst: u32) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            per_second,
            burst,
            tokens: burst,
            updated: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.updated).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl TokenBucket {
    /// True when the bucket is full again, so forgetting it changes nothing.
    fn is_full(&self, now: Instant) -> bool {
        self.tokens + now.duration_since(self.updated).as_secs_f64() * self.per_second >= self.burst
    }
}

/// One bucket per key, e.g. per user. Buckets that have filled up again are forgotten when the map grows, so
/// memory follows the number of recently active keys.
#[derive(Debug)]
pub struct KeyedBuckets {
    per_minute: u32,
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl KeyedBuckets {
    /// `per_minute` actions a minute, all of which may come at once.
    pub fn per_minute(per_minute: u32) -> KeyedBuckets {
        KeyedBuckets {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or answers how long to wait for one.
    pub fn try_take(&self, key: &str) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= 1024 && !buckets.contains_key(key) {
            let now = Instant::now();
            buckets.retain(|_, bucket| !bucket.is_full(now));
        }
        let per_second = f64::from(self.per_minute) / 60.0;
        let bucket = buckets
            .entry(key.to_string())
            .or_insert_with(|| TokenBucket::with_rate(per_second, self.per_minute));
        if bucket.try_take() {
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
    }
}

/// Guest accounts made through share links: a quota per client address, and one for everybody together, so that
/// neither one client nor many can fill the users table.
#[derive(Debug)]
pub struct GuestJoins {
    per_address: KeyedBuckets,
    overall: KeyedBuckets,
}

impl GuestJoins {
    pub fn per_minute(per_address: u32, overall: u32) -> GuestJoins {
        GuestJoins {
            per_address: KeyedBuckets::per_minute(per_address),
            overall: KeyedBuckets::per_minute(overall),
        }
    }

    /// Takes one guest from both quotas, or answers how long to wait.
    pub fn try_take(&self, address: &str) -> Result<(), Duration> {
        self.per_address.try_take(address)?;
        self.overall.try_take("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_buckets_are_per_key_and_say_how_long_to_wait() {
        let buckets = KeyedBuckets::per_minute(2);
        assert!(buckets.try_take("ann").is_ok() && buckets.try_take("ann").is_ok());
        let wait = buckets.try_take("ann").expect_err("third in a minute");
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(buckets.try_take("bob").is_ok());
    }

    #[test]
    fn guest_joins_are_limited_per_address_and_overall() {
        let joins = GuestJoins::per_minute(2, 3);
        assert!(joins.try_take("10.0.0.1").is_ok() && joins.try_take("10.0.0.1").is_ok());
        assert!(
            joins.try_take("10.0.0.1").is_err(),
            "third from one address"
        );
        assert!(joins.try_take("10.0.0.2").is_ok(), "another address");
        assert!(joins.try_take("10.0.0.3").is_err(), "fourth overall");
    }

    #[test]
    fn allows_a_burst_then_refuses() {
        let mut bucket = TokenBucket::new(1, 3);
        assert!((0..3).all(|_| bucket.try_take()));
        assert!(!bucket.try_take());
    }
}
