//! The verdicts' own thresholds and rules that `redline plan` sizes its phases by, re-exported
//! from the verdict that applies each one, so the planner never keeps a copy of a number.

pub use super::breaker::MIN_GAP_MS;
pub use super::fallback::MIN_REQUESTS as FALLBACK_MIN_REQUESTS;
pub use super::health::GRACE_MS as HEALTH_GRACE_MS;
pub use super::rate_limit::{BELOW as RATE_LIMIT_BELOW, BURST_ALLOWANCE};
pub use super::retries::{expected_wait, max_attempts, policy_for, MIN_COMPLETE, MIN_WAITS};
pub use super::throughput::MIN_SUSTAIN_S;

/// Seconds an alert's condition must hold ("for 2m"; a breaker-open condition's own length),
/// read the way the alert verdict reads it; None when it states none.
pub fn alert_window_s(a: &crate::spec::claims::Alert) -> Option<f64> {
    use crate::spec::claims::AlertCondition;
    match &a.condition {
        AlertCondition::ErrorRate { for_s, .. } | AlertCondition::Latency { for_s, .. } => *for_s,
        AlertCondition::Other { text } => super::alert_breaker::breaker_rule(text).flatten(),
    }
}
