//! Retry policy: how long to wait before each retry (exponential backoff with seeded jitter).

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::config::RetryConfig;

/// Backoff schedule shared by all requests; the RNG is seeded so a run can be replayed.
#[derive(Debug)]
pub struct RetryPolicy {
    cfg: RetryConfig,
    rng: Mutex<SmallRng>,
}

impl RetryPolicy {
    pub fn new(cfg: RetryConfig, seed: u64) -> Self {
        Self {
            cfg,
            rng: Mutex::new(SmallRng::seed_from_u64(seed ^ 0x5EED_0F2E_7213)),
        }
    }

    /// Attempts per call, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.cfg.retries.saturating_add(1)
    }

    /// Nominal wait before retry number `retry` (1 = the first retry): base * 2^(retry-1).
    pub fn nominal(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(16));
        self.cfg.base_backoff.saturating_mul(factor)
    }

    /// The wait actually used: the nominal wait scaled by a uniform factor in [1-j, 1+j].
    pub fn backoff(&self, retry: u32) -> Duration {
        let nominal = self.nominal(retry);
        let j = self.cfg.jitter.clamp(0.0, 1.0);
        if j == 0.0 {
            return nominal;
        }
        let factor = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            rng.gen_range(1.0 - j..=1.0 + j)
        };
        nominal.mul_f64(factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_stays_within_jitter() {
        let p = RetryPolicy::new(
            RetryConfig {
                retries: 3,
                base_backoff: Duration::from_millis(50),
                jitter: 0.2,
            },
            7,
        );
        assert_eq!(p.max_attempts(), 4);
        assert_eq!(p.nominal(1), Duration::from_millis(50));
        assert_eq!(p.nominal(2), Duration::from_millis(100));
        assert_eq!(p.nominal(3), Duration::from_millis(200));
        for _ in 0..200 {
            let b = p.backoff(2).as_secs_f64();
            assert!((0.08..=0.12).contains(&b), "{b}");
        }
    }

    #[test]
    fn same_seed_same_waits() {
        let cfg = RetryConfig::default();
        let a = RetryPolicy::new(cfg, 3);
        let b = RetryPolicy::new(cfg, 3);
        let wa: Vec<_> = (1..5).map(|r| a.backoff(r)).collect();
        let wb: Vec<_> = (1..5).map(|r| b.backoff(r)).collect();
        assert_eq!(wa, wb);
    }
}
