//! Polly breakers (C#): v8 `CircuitBreakerStrategyOptions` (object initializer or appsettings JSON)
//! and v7 `CircuitBreaker(n, TimeSpan)` / `AdvancedCircuitBreaker(ratio, sampling, throughput, break)`.
//! Durations are `TimeSpan.FromSeconds(30)` or TimeSpan text `"00:00:30"`; a bare number is no duration.

use super::values::ratio;
use super::{calls, positional, Build, Entry, Field, Form, Found};
use crate::spec::claims::{BreakerKind, CloseRule, HalfOpenExtra, RateTrip};

pub(crate) const POLLY_V8: Form = Form {
    library: "polly",
    field: v8_field,
    scan: super::no_scan,
    build: v8,
    space_values: false,
    name_inside: false,
};

fn v8_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "failureratio" => Field::RateRatio,
        "samplingduration" => Field::WindowMs,
        "minimumthroughput" => Field::MinimumCalls,
        "breakduration" => Field::RecoveryMs,
        "breakdurationgenerator" => Field::BreakGenerator,
        _ => return None,
    })
}

/// Defaults from Polly's `CircuitBreakerConstants.cs` as documented on
/// `CircuitBreakerStrategyOptions.TResult.cs` (FailureRatio 0.1, MinimumThroughput 100,
/// SamplingDuration 30 s, BreakDuration 5 s). `AdvancedCircuitBehavior.cs` breaks when
/// `Throughput >= MinimumThroughput && FailureRate >= FailureRatio`; half-open lets one probe through.
fn v8(x: &mut Build) {
    x.b.kind = Some(BreakerKind::FailureRate);
    x.b.rate_trips = Some(RateTrip::AtLeast);
    let r = x.read(Field::RateRatio, ratio);
    x.b.failure_rate = x.or_default(r, "failure_rate", 0.1, "FailureRatio = 0.1");
    let m = x.count(Field::MinimumCalls);
    x.b.minimum_calls = x.or_default(m, "minimum_calls", 100, "MinimumThroughput = 100");
    let w = x.duration(Field::WindowMs, None);
    x.b.window_ms = x.or_default(w, "window_ms", 30_000.0, "SamplingDuration = 30s");
    let d = x.duration(Field::RecoveryMs, None);
    if let Some(g) = x.get(Field::BreakGenerator).cloned() {
        // The generator decides each open time; a BreakDuration beside it is not used.
        x.note(g.line, "circuit breaker (polly): BreakDurationGenerator computes the open time in code; redline does not read its growth, so the open time is not claimed".into());
        x.b.recovery_timeout_ms = None;
    } else {
        x.b.recovery_timeout_ms =
            x.or_default(d, "recovery_timeout_ms", 5000.0, "BreakDuration = 5s");
    }
    one_probe(x);
}

fn one_probe(x: &mut Build) {
    x.b.half_open_requests = Some(1);
    x.b.half_open_extra = Some(HalfOpenExtra::Rejected);
    x.b.close_rule = Some(CloseRule::FirstSuccess);
}

pub(crate) const POLLY_V7: Form = Form {
    library: "polly-v7",
    field: v7_field,
    scan: v7_scan,
    build: v7,
    space_values: false,
    name_inside: false,
};

fn v7_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "exceptionsallowedbeforebreaking" | "handledeventsallowedbeforebreaking" => {
            Field::Threshold
        }
        "durationofbreak" => Field::RecoveryMs,
        "failurethreshold" => Field::RateRatio,
        "samplingduration" => Field::WindowMs,
        "minimumthroughput" => Field::MinimumCalls,
        _ => return None,
    })
}

fn v7_scan(lines: &[(usize, String)]) -> Vec<Found> {
    let mut out = Vec::new();
    for name in ["CircuitBreaker", "CircuitBreakerAsync"] {
        for c in calls(lines, name) {
            out.extend(positional(&c, &[Field::Threshold, Field::RecoveryMs], name));
        }
    }
    for name in ["AdvancedCircuitBreaker", "AdvancedCircuitBreakerAsync"] {
        for c in calls(lines, name) {
            let fields = [
                Field::RateRatio,
                Field::WindowMs,
                Field::MinimumCalls,
                Field::RecoveryMs,
            ];
            out.extend(positional(&c, &fields, name));
        }
    }
    out.sort_by_key(|f| f.line);
    out
}

/// Polly v7 has no defaults: every argument is required. `ConsecutiveCountCircuitController` breaks
/// when the consecutive count reaches `exceptionsAllowedBeforeBreaking`; `AdvancedCircuitController`
/// when throughput ≥ minimumThroughput and the failure share ≥ failureThreshold.
fn v7(x: &mut Build) {
    let advanced = x.has(Field::RateRatio) || x.has(Field::WindowMs) || x.has(Field::MinimumCalls);
    if advanced {
        x.b.kind = Some(BreakerKind::FailureRate);
        x.b.rate_trips = Some(RateTrip::AtLeast);
        x.b.failure_rate = x.read(Field::RateRatio, ratio);
        x.b.window_ms = x.duration(Field::WindowMs, None);
        x.b.minimum_calls = x.count(Field::MinimumCalls);
    } else {
        x.b.kind = Some(BreakerKind::Consecutive);
        x.b.failure_threshold = x.count(Field::Threshold);
    }
    x.b.recovery_timeout_ms = x.duration(Field::RecoveryMs, None);
    let missing: Vec<&str> = [
        (advanced && x.b.failure_rate.is_none(), "failureThreshold"),
        (advanced && x.b.window_ms.is_none(), "samplingDuration"),
        (advanced && x.b.minimum_calls.is_none(), "minimumThroughput"),
        (
            !advanced && x.b.failure_threshold.is_none(),
            "exceptionsAllowedBeforeBreaking",
        ),
        (x.b.recovery_timeout_ms.is_none(), "durationOfBreak"),
    ]
    .into_iter()
    .filter_map(|(m, n)| m.then_some(n))
    .collect();
    if !missing.is_empty() {
        let msg = format!(
            "circuit breaker (polly v7): {} not read; Polly v7 requires it and has no default",
            missing.join(", ")
        );
        x.note(x.line(), msg);
    }
    one_probe(x);
}
