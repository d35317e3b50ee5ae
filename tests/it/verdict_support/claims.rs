//! Claims the way the spec reader would produce them for the reference service's spec.

use redline::spec::claims::*;
use redline::spec::Claims;

use super::sim::DEP;

/// A spec claiming breaker (n, recovery, probes), a 1 s timeout with a 503 fallback, and the retry policy.
pub fn reference(n: u32, recovery_ms: f64, probes: u32) -> Claims {
    Claims {
        service: Some("Reference".into()),
        dependencies: vec![Dependency {
            name: DEP.into(),
            kind: Some("External API".into()),
            timeout_ms: Some(1000.0),
            fallback: Some("Return 503 with Retry-After".into()),
            fallback_status: Some(503),
            fallback_grpc_status: None,
            critical: false,
            health_check: Some("/health".into()),
            line: 20,
        }],
        breakers: vec![Breaker {
            name: Some("user_breaker".into()),
            dependency: Some(DEP.into()),
            failure_threshold: Some(n),
            recovery_timeout_ms: Some(recovery_ms),
            half_open_requests: Some(probes),
            expected_exceptions: vec![],
            line: 60,
            ..Breaker::default()
        }],
        retries: vec![retry(3, vec![100.0, 200.0], Some(0.2))],
        health: Some(HealthCheck {
            path: "/health".into(),
            ready_path: Some("/ready".into()),
            states: vec![],
            line: 80,
        }),
        ..Claims::default()
    }
}

pub fn retry(max_attempts: u32, backoff_ms: Vec<f64>, jitter: Option<f64>) -> RetryPolicy {
    RetryPolicy {
        scenario: "External API timeout".into(),
        strategy: Some("exponential".into()),
        max_attempts: Some(max_attempts),
        backoff_ms,
        jitter,
        line: 70,
    }
}
