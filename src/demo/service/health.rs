//! `/health` and `/ready`: the service's own view of itself and of UserService.
//!
//! healthy: breaker closed and the last UserService call succeeded. degraded: the breaker is open
//! or half-open, or the last call failed (requests may be answered with the 503 fallback).
//! unhealthy: the service is shutting down. `/health` answers 200 unless unhealthy (503).

use std::time::Duration;

use serde_json::{json, Value};

use super::breaker::{BreakerState, Snapshot};

/// Overall state, as the spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    Healthy,
    Degraded,
    Unhealthy,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Degraded => "degraded",
            HealthState::Unhealthy => "unhealthy",
        }
    }
}

/// State of the UserService check from the breaker's view.
pub fn dependency_state(snap: &Snapshot) -> HealthState {
    match snap.state {
        BreakerState::Closed if snap.consecutive_failures == 0 => HealthState::Healthy,
        _ => HealthState::Degraded,
    }
}

/// The `/health` body and status code.
pub fn health_body(
    snap: &Snapshot,
    dependency_url: &str,
    shutting_down: bool,
    uptime: Duration,
) -> (u16, Value) {
    let dep = dependency_state(snap);
    let overall = if shutting_down {
        HealthState::Unhealthy
    } else {
        dep
    };
    let body = json!({
        "status": overall.as_str(),
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": uptime.as_secs(),
        "checks": {
            "UserService": {
                "status": dep.as_str(),
                "breaker": snap.state.as_str(),
                "consecutive_failures": snap.consecutive_failures,
                "open_remaining_ms": snap.open_remaining.map(|d| d.as_millis() as u64),
                "times_opened": snap.times_opened,
                "url": dependency_url,
            }
        }
    });
    let status = if overall == HealthState::Unhealthy {
        503
    } else {
        200
    };
    (status, body)
}

/// The `/ready` body and status code: ready until shutdown starts.
pub fn ready_body(shutting_down: bool) -> (u16, Value) {
    if shutting_down {
        (503, json!({ "ready": false }))
    } else {
        (200, json!({ "ready": true }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(state: BreakerState, failures: u32) -> Snapshot {
        Snapshot {
            state,
            consecutive_failures: failures,
            open_remaining: None,
            times_opened: 0,
        }
    }

    #[test]
    fn states_follow_the_breaker() {
        let url = "http://127.0.0.1:1";
        let (code, body) = health_body(&snap(BreakerState::Closed, 0), url, false, Duration::ZERO);
        assert_eq!((code, body["status"].as_str()), (200, Some("healthy")));
        let (_, body) = health_body(&snap(BreakerState::Open, 5), url, false, Duration::ZERO);
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["checks"]["UserService"]["breaker"], "open");
        let (_, body) = health_body(&snap(BreakerState::HalfOpen, 5), url, false, Duration::ZERO);
        assert_eq!(body["status"], "degraded");
        let (code, body) = health_body(&snap(BreakerState::Closed, 0), url, true, Duration::ZERO);
        assert_eq!((code, body["status"].as_str()), (503, Some("unhealthy")));
    }
}
