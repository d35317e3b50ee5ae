//! The "Circuit breaker rules" table of `redline spec`: each breaker's rule (kind and library), its
//! window, open-time growth, half-open rule and the library defaults it was given.

use super::{ms, pct, Family};
use crate::spec::claims::{
    Breaker, BreakerKind, CloseRule, HalfOpenExtra, RateTrip, RecoveryGrowth,
};

/// One row per breaker; written after the claim families (these rows add no claims of their own).
pub(super) fn breaker_rules(breakers: &[Breaker]) -> Family {
    let rows = breakers.iter().map(|b| {
        vec![
            b.line.to_string(),
            b.name.clone().unwrap_or_else(|| "-".into()),
            kind(b),
            b.library.clone().unwrap_or_else(|| "-".into()),
            opens_when(b),
            window(b),
            b.minimum_calls.map_or("-".into(), |n| n.to_string()),
            slow(b),
            ms(b.call_timeout_ms),
            growth(b),
            half_open(b),
            if b.defaults_applied.is_empty() {
                "-".into()
            } else {
                b.defaults_applied.join(", ")
            },
        ]
    });
    (
        "Circuit breaker rules",
        &[
            "line",
            "name",
            "kind",
            "library",
            "opens when",
            "window",
            "min calls",
            "slow calls",
            "call timeout",
            "open time grows",
            "half-open",
            "defaults applied",
        ],
        rows.collect(),
    )
}

fn kind(b: &Breaker) -> String {
    match b.kind {
        Some(BreakerKind::Consecutive) => "consecutive",
        Some(BreakerKind::FailureRate) => "failure_rate",
        Some(BreakerKind::FailuresInWindow) => "failures_in_window",
        None => "(not stated)",
    }
    .into()
}

/// `5 in a row`, `≥ 50% failed`, `> 50% failed`, `3 within the window`, `5 failures`.
fn opens_when(b: &Breaker) -> String {
    let n = b.failure_threshold.map(|n| n.to_string());
    match (b.kind, n) {
        (Some(BreakerKind::Consecutive), Some(n)) => format!("{n} in a row"),
        (Some(BreakerKind::FailuresInWindow), Some(n)) => format!("{n} within the window"),
        (Some(BreakerKind::FailureRate), _) => {
            let cmp = match b.rate_trips {
                Some(RateTrip::AtLeast) => "≥ ",
                Some(RateTrip::Above) => "> ",
                None => "",
            };
            format!("{cmp}{} failed", pct(b.failure_rate))
        }
        (_, Some(n)) => format!("{n} failures"),
        (_, None) => "-".into(),
    }
}

fn window(b: &Breaker) -> String {
    match (b.window_calls, b.window_ms) {
        (Some(n), _) => format!("last {n} calls"),
        (None, Some(t)) => ms(Some(t)),
        (None, None) => "-".into(),
    }
}

fn slow(b: &Breaker) -> String {
    match (b.slow_call_rate, b.slow_call_ms) {
        (Some(r), Some(t)) => format!("{} slower than {}", pct(Some(r)), ms(Some(t))),
        (None, Some(t)) => format!("slower than {}", ms(Some(t))),
        _ => "-".into(),
    }
}

/// `×2 up to 80s`, `+15s each, up to 2min, swept every 5s`, `±20%`.
fn growth(b: &Breaker) -> String {
    let mut parts = Vec::new();
    match b.recovery_growth {
        Some(RecoveryGrowth::Multiply) => parts.push(format!(
            "×{}",
            b.recovery_multiplier.map_or("?".into(), super::trim)
        )),
        Some(RecoveryGrowth::Linear) => parts.push(format!("+{} each", ms(b.recovery_timeout_ms))),
        None => {}
    }
    if b.recovery_max_ms.is_some() {
        parts.push(format!("up to {}", ms(b.recovery_max_ms)));
    }
    if let Some(j) = b.recovery_jitter {
        parts.push(format!("±{}", pct(Some(j))));
    }
    if b.ejection_sweep_ms.is_some() {
        parts.push(format!("swept every {}", ms(b.ejection_sweep_ms)));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// `4 probes, rest rejected, closes if their rate < threshold`.
fn half_open(b: &Breaker) -> String {
    let mut parts = Vec::new();
    if let Some(n) = b.half_open_requests {
        parts.push(format!("{n} probe{}", if n == 1 { "" } else { "s" }));
    }
    match b.half_open_extra {
        Some(HalfOpenExtra::Rejected) => parts.push("rest rejected".into()),
        Some(HalfOpenExtra::Queued) => parts.push("rest wait".into()),
        None => {}
    }
    match b.close_rule {
        Some(CloseRule::FirstSuccess) => parts.push("first success closes".into()),
        Some(CloseRule::AllProbes) => parts.push("all must succeed".into()),
        Some(CloseRule::ProbeRateBelowThreshold) => {
            parts.push("closes if their rate < threshold".into())
        }
        None => {}
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}
