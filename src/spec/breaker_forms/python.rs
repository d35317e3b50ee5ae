//! Python breakers: pybreaker `CircuitBreaker(fail_max=5, reset_timeout=60)` and the `circuitbreaker`
//! package (`@circuit(failure_threshold=5, recovery_timeout=30)`, or class attributes). Python
//! numbers are seconds; `timedelta(seconds=30)` reads too. purgatory: `CircuitBreakerFactory(default_threshold=5, default_ttl=30)`.

use super::values::SECONDS;
use super::{calls, positional, Build, Entry, Field, Form, Found};
use crate::spec::claims::{BreakerKind, CloseRule, HalfOpenExtra};

pub(crate) const PYBREAKER: Form = Form {
    library: "pybreaker",
    field: pybreaker_field,
    scan: pybreaker_scan,
    build: pybreaker,
    space_values: false,
    name_inside: false,
};

fn pybreaker_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "failmax" => Field::Threshold,
        "resettimeout" => Field::RecoveryMs,
        _ => return None,
    })
}

/// `pybreaker.CircuitBreaker(5, 60)`: fail_max and reset_timeout by position.
fn pybreaker_scan(lines: &[(usize, String)]) -> Vec<Found> {
    calls(lines, "CircuitBreaker")
        .iter()
        .flat_map(|c| positional(c, &[Field::Threshold, Field::RecoveryMs], "CircuitBreaker"))
        .collect()
}

/// Defaults from pybreaker's `src/pybreaker/__init__.py` (`fail_max: int = 5`, `reset_timeout: float = 60`
/// seconds). The closed state opens when the consecutive failure counter reaches fail_max; after
/// reset_timeout one trial call runs and its success closes it. `CircuitBreaker.call` holds the
/// breaker's lock for the whole call, so calls arriving meanwhile wait rather than fail.
fn pybreaker(x: &mut Build) {
    x.b.kind = Some(BreakerKind::Consecutive);
    let n = x.count(Field::Threshold);
    x.b.failure_threshold = x.or_default(n, "failure_threshold", 5, "fail_max = 5");
    let t = x.duration(Field::RecoveryMs, SECONDS);
    x.b.recovery_timeout_ms =
        x.or_default(t, "recovery_timeout_ms", 60_000.0, "reset_timeout = 60");
    x.b.half_open_requests = Some(1);
    x.b.half_open_extra = Some(HalfOpenExtra::Queued);
    x.b.close_rule = Some(CloseRule::FirstSuccess);
}

pub(crate) const CIRCUITBREAKER: Form = Form {
    library: "circuitbreaker",
    field: circuitbreaker_field,
    scan: super::no_scan,
    build: circuitbreaker,
    space_values: false,
    name_inside: false,
};

fn circuitbreaker_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "failurethreshold" => Field::Threshold,
        "recoverytimeout" => Field::RecoveryMs,
        "expectedexception" | "expectedexceptions" => Field::Exceptions,
        _ => return None,
    })
}

/// Defaults from the `circuitbreaker` package's `circuitbreaker.py` (FAILURE_THRESHOLD = 5,
/// RECOVERY_TIMEOUT = 30 seconds). It opens when the failure count (reset by any success) reaches the
/// threshold; once the recovery timeout has passed it reports half-open and lets every call through
/// until one succeeds (closed) or fails (open again), so no probe count is claimed.
fn circuitbreaker(x: &mut Build) {
    x.b.kind = Some(BreakerKind::Consecutive);
    let n = x.count(Field::Threshold);
    x.b.failure_threshold = x.or_default(n, "failure_threshold", 5, "failure_threshold = 5");
    let t = x.duration(Field::RecoveryMs, SECONDS);
    x.b.recovery_timeout_ms =
        x.or_default(t, "recovery_timeout_ms", 30_000.0, "recovery_timeout = 30");
    if let Some(f) = x.get(Field::Exceptions) {
        x.b.expected_exceptions = f
            .value
            .trim_matches(|c| matches!(c, '[' | ']' | '(' | ')' | ' '))
            .split(',')
            .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    x.b.close_rule = Some(CloseRule::FirstSuccess);
}

pub(crate) const PURGATORY: Form = Form {
    library: "purgatory",
    field: purgatory_field,
    scan: super::no_scan,
    build: purgatory,
    space_values: false,
    name_inside: false,
};

/// `CircuitBreakerFactory(default_threshold=, default_ttl=)` and the per-circuit
/// `get_breaker("name", threshold=, ttl=)` that overrides them.
fn purgatory_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "defaultthreshold" | "threshold" => Field::Threshold,
        "defaultttl" | "ttl" => Field::RecoveryMs,
        _ => return None,
    })
}

/// Defaults from purgatory's `CircuitBreakerFactory` (`default_threshold = 5`, `default_ttl = 30`
/// seconds). Closed, each failure adds to a count that a success resets, and reaching the threshold
/// opens it; after the ttl it is half-open and the first call to end decides: a success closes it,
/// a failure opens it again (no probe count is claimed).
fn purgatory(x: &mut Build) {
    x.b.kind = Some(BreakerKind::Consecutive);
    let n = x.count(Field::Threshold);
    x.b.failure_threshold = x.or_default(n, "failure_threshold", 5, "default_threshold = 5");
    let t = x.duration(Field::RecoveryMs, SECONDS);
    x.b.recovery_timeout_ms = x.or_default(t, "recovery_timeout_ms", 30_000.0, "default_ttl = 30");
    x.b.close_rule = Some(CloseRule::FirstSuccess);
}
