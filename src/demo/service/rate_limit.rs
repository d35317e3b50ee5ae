//! Rate limiting per client key: one token bucket per key, refilled continuously.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::config::RateLimitConfig;

/// Keys beyond this many are pruned (full buckets first), so memory stays bounded.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets for every client key seen.
#[derive(Debug)]
pub struct RateLimiter {
    cfg: RateLimitConfig,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(cfg: RateLimitConfig) -> Self {
        Self {
            cfg,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now`; on refusal, returns the time until one is available
    /// (whole seconds, at least one, as Retry-After wants).
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.cfg.burst.max(1));
        let rate = self.cfg.per_second;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            prune(&mut buckets, now, rate, capacity);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / rate;
        Err(Duration::from_secs((wait.ceil() as u64).max(1)))
    }
}

/// Drops buckets that have refilled (they behave exactly like a new key); if none has, drops all.
fn prune(buckets: &mut HashMap<String, Bucket>, now: Instant, rate: f64, capacity: f64) {
    buckets.retain(|_, b| {
        b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < capacity
    });
    if buckets.len() >= MAX_KEYS {
        buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_per_key() {
        let rl = RateLimiter::new(RateLimitConfig {
            per_second: 10.0,
            burst: 5,
        });
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(rl.check("a", t0).is_ok());
        }
        assert_eq!(rl.check("a", t0), Err(Duration::from_secs(1)));
        assert!(rl.check("b", t0).is_ok(), "keys are independent");
        let later = t0 + Duration::from_millis(100);
        assert!(
            rl.check("a", later).is_ok(),
            "one token after 100 ms at 10/s"
        );
        assert!(rl.check("a", later).is_err());
    }
}
