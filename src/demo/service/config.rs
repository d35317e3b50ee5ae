//! Configuration of the reference service: every number the shipped spec promises, with defaults.
//!
//! The defaults are the figures in `scenarios/specs/reference-service.md`; a test reads that spec and
//! checks they agree, so changing one without the other fails the build's tests.

use std::net::SocketAddr;
use std::time::Duration;

/// Circuit breaker on the UserService dependency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Consecutive failed calls (each attempt counts) that open the breaker.
    pub failure_threshold: u32,
    /// Time the breaker stays open, rejecting calls without touching the dependency.
    pub recovery_timeout: Duration,
    /// Trial calls let through once the recovery timeout has passed.
    pub half_open_requests: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            recovery_timeout: Duration::from_secs(5),
            half_open_requests: 2,
        }
    }
}

/// Retry policy for UserService calls: `retries` extra attempts after the first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryConfig {
    pub retries: u32,
    /// Wait before the first retry; doubled before each further one.
    pub base_backoff: Duration,
    /// Relative jitter applied to each wait (0.2 = ±20%).
    pub jitter: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            retries: 2,
            base_backoff: Duration::from_millis(50),
            jitter: 0.2,
        }
    }
}

/// Token bucket per client key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitConfig {
    /// Sustained requests per second per key.
    pub per_second: f64,
    /// Bucket capacity: requests a quiet key may send at once.
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_second: 100.0,
            burst: 100,
        }
    }
}

/// Simulated work time of one operation: log-normal around `median`, capped at 10x the median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceTime {
    pub median: Duration,
    /// Standard deviation of the underlying normal (0 = always the median).
    pub sigma: f64,
}

impl ServiceTime {
    pub const fn new(median_ms: u64, sigma: f64) -> Self {
        Self {
            median: Duration::from_millis(median_ms),
            sigma,
        }
    }
}

/// Service time per operation of the resource API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceTimes {
    pub get: ServiceTime,
    pub list: ServiceTime,
    pub create: ServiceTime,
    pub update: ServiceTime,
    pub delete: ServiceTime,
}

impl Default for ServiceTimes {
    fn default() -> Self {
        Self {
            get: ServiceTime::new(4, 0.35),
            list: ServiceTime::new(12, 0.35),
            create: ServiceTime::new(15, 0.35),
            update: ServiceTime::new(10, 0.35),
            delete: ServiceTime::new(6, 0.35),
        }
    }
}

impl ServiceTimes {
    /// Every operation answers immediately (for tests that time the resilience machinery only).
    pub fn zero() -> Self {
        let z = ServiceTime::new(0, 0.0);
        Self {
            get: z,
            list: z,
            create: z,
            update: z,
            delete: z,
        }
    }
}

/// Everything the reference service needs to start.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceConfig {
    /// Where to listen; port 0 picks a free port (see the handle's `addr()`).
    pub bind: SocketAddr,
    /// Base URL of UserService, e.g. `http://127.0.0.1:8081` (a fault proxy may sit there).
    pub dependency_url: String,
    /// Per-attempt timeout of a UserService call (connect, request and full answer).
    pub call_timeout: Duration,
    pub breaker: BreakerConfig,
    pub retry: RetryConfig,
    /// `None` disables rate limiting.
    pub rate_limit: Option<RateLimitConfig>,
    pub service_times: ServiceTimes,
    /// Items present at start, ids 1..=seed_items, so reads work from the first request.
    pub seed_items: u32,
    /// Seeds service-time variance and retry jitter.
    pub seed: u64,
}

impl Default for ReferenceConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            dependency_url: "http://127.0.0.1:8081".to_string(),
            call_timeout: Duration::from_millis(300),
            breaker: BreakerConfig::default(),
            retry: RetryConfig::default(),
            rate_limit: Some(RateLimitConfig::default()),
            service_times: ServiceTimes::default(),
            seed_items: 1000,
            seed: 1,
        }
    }
}

impl ReferenceConfig {
    /// Defaults, listening on an ephemeral loopback port, with the given dependency.
    pub fn ephemeral(dependency_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            dependency_url: dependency_url.into(),
            ..Self::default()
        }
    }
}

/// A value on the command line that is not a duration or rate we understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, found {found:?}")]
pub struct ParseError {
    pub expected: &'static str,
    pub found: String,
}

/// Parses `300ms`, `5s`, `1.5s`, `2m`, `250us`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, ParseError> {
    let err = || ParseError {
        expected: "a duration such as 300ms, 5s or 1.5s",
        found: text.to_string(),
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| err())?;
    let scale = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" | "min" => 60.0,
        _ => return Err(err()),
    };
    let secs = value * scale;
    if !secs.is_finite() || secs < 0.0 {
        return Err(err());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a rate such as `50/s`, `100/second`, `600/min`, `6000/minute` into requests per second.
pub fn parse_rate(text: &str) -> Result<f64, ParseError> {
    let err = || ParseError {
        expected: "a rate such as 50/s or 600/minute",
        found: text.to_string(),
    };
    let (count, unit) = text.trim().split_once('/').ok_or_else(err)?;
    let count: f64 = count.trim().parse().map_err(|_| err())?;
    let window = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(err()),
    };
    if !(count.is_finite() && count > 0.0) {
        return Err(err());
    }
    Ok(count / window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("300ms").unwrap(), Duration::from_millis(300));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn rates_parse_per_window() {
        assert_eq!(parse_rate("50/s").unwrap(), 50.0);
        assert_eq!(parse_rate("600/minute").unwrap(), 10.0);
        assert!(parse_rate("50").is_err());
        assert!(parse_rate("0/s").is_err());
    }
}
