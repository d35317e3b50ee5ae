//! JavaScript/TypeScript breakers: opossum options and cockatiel `circuitBreaker(policy, { halfOpenAfter,
//! breaker })` with `ConsecutiveBreaker(n)`, `SamplingBreaker({...})` or `CountBreaker({...})`.
//! JavaScript numbers are milliseconds (`resetTimeout: 3000` is 3 s, `30 * 1000` reads too).

use super::values::{duration_ms, percent, ratio, MS};
use super::{calls, positional, Build, Entry, Field, Form, Found};
use crate::spec::claims::{BreakerKind, CloseRule, HalfOpenExtra, RateTrip, RecoveryGrowth};

pub(crate) const OPOSSUM: Form = Form {
    library: "opossum",
    field: opossum_field,
    scan: super::no_scan,
    build: opossum,
    space_values: false,
    name_inside: false,
};

fn opossum_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "timeout" => Field::CallTimeoutMs,
        "errorthresholdpercentage" => Field::RatePercent,
        "resettimeout" => Field::RecoveryMs,
        "rollingcounttimeout" => Field::WindowMs,
        "volumethreshold" => Field::MinimumCalls,
        "maxfailures" => Field::Threshold,
        _ => return None,
    })
}

/// Defaults from opossum's `lib/circuit.js` constructor (timeout 10000, resetTimeout 30000,
/// errorThresholdPercentage 50, rollingCountTimeout 10000, volumeThreshold 0). Its `fail()` opens when
/// `failures / fires * 100 > errorThresholdPercentage` (strictly above) once `fires >= volumeThreshold`;
/// after resetTimeout one call is let through (pendingClose) and its success closes the circuit.
fn opossum(x: &mut Build) {
    x.b.kind = Some(BreakerKind::FailureRate);
    x.b.rate_trips = Some(RateTrip::Above);
    let r = x.read(Field::RatePercent, percent);
    x.b.failure_rate = x.or_default(r, "failure_rate", 0.5, "errorThresholdPercentage = 50");
    let w = x.duration(Field::WindowMs, MS);
    x.b.window_ms = x.or_default(w, "window_ms", 10_000.0, "rollingCountTimeout = 10000");
    let m = x.count(Field::MinimumCalls);
    x.b.minimum_calls = x.or_default(m, "minimum_calls", 0, "volumeThreshold = 0");
    let reset = x.duration(Field::RecoveryMs, MS);
    x.b.recovery_timeout_ms = x.or_default(
        reset,
        "recovery_timeout_ms",
        30_000.0,
        "resetTimeout = 30000",
    );
    let disabled = x
        .get(Field::CallTimeoutMs)
        .is_some_and(|f| super::values::clean(&f.value) == "false");
    if !disabled {
        let t = x.duration(Field::CallTimeoutMs, MS);
        x.b.call_timeout_ms = x.or_default(t, "call_timeout_ms", 10_000.0, "timeout = 10000");
    }
    if let Some(f) = x.get(Field::Threshold).cloned() {
        x.note(f.line, format!("circuit breaker (opossum): {} is deprecated; opossum also opens at that many failures in the rolling window, but redline judges the errorThresholdPercentage rule", f.key));
    }
    one_probe(x);
}

fn one_probe(x: &mut Build) {
    x.b.half_open_requests = Some(1);
    x.b.half_open_extra = Some(HalfOpenExtra::Rejected);
    x.b.close_rule = Some(CloseRule::FirstSuccess);
}

pub(crate) const COCKATIEL: Form = Form {
    library: "cockatiel",
    field: cockatiel_field,
    scan: cockatiel_scan,
    build: cockatiel,
    space_values: false,
    name_inside: false,
};

fn cockatiel_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "halfopenafter" => Field::RecoveryMs,
        "threshold" => Field::RateRatio,
        "duration" => Field::WindowMs,
        "minimumrps" => Field::MinimumRps,
        "size" => Field::WindowCalls,
        "minimumnumberofcalls" => Field::MinimumCalls,
        "initialdelay" => Field::BackoffInitialMs,
        "maxdelay" => Field::RecoveryMaxMs,
        "exponent" => Field::Multiplier,
        "generator" => Field::BreakGenerator,
        _ => return None,
    })
}

/// `new ConsecutiveBreaker(5)` (its count), and which breaker each `new ...Breaker(` is.
fn cockatiel_scan(lines: &[(usize, String)]) -> Vec<Found> {
    let mut out = Vec::new();
    for (name, rule) in [
        ("ConsecutiveBreaker", "consecutive"),
        ("SamplingBreaker", "sampling"),
        ("CountBreaker", "count"),
    ] {
        for c in calls(lines, name) {
            out.push(Found {
                field: Field::TripRule,
                key: name.into(),
                value: rule.into(),
                line: c.0,
            });
            if rule == "consecutive" {
                out.extend(positional(&c, &[Field::Threshold], name));
            }
        }
    }
    out.sort_by_key(|f| f.line);
    out
}

/// cockatiel's rules, from its source: `ConsecutiveBreaker.ts` opens when `++count >= threshold`;
/// `SamplingBreaker.ts` when `failures > threshold * total` over `duration` with at least
/// `duration × minimumRps` calls (default minimumRps: 5 / threshold, "at least 5 failures per
/// second"); `CountBreaker.ts` when `failures > threshold * total` over the last `size` calls with at
/// least `minimumNumberOfCalls` (default: size). `ExponentialBackoff.ts` defaults: initialDelay 128 ms,
/// maxDelay 30 s, exponent 2. Half-open lets one call through; its success closes the circuit.
fn cockatiel(x: &mut Build) {
    let rule = x.get(Field::TripRule).map(|f| f.value.clone());
    match rule.as_deref() {
        Some("consecutive") => {
            x.b.kind = Some(BreakerKind::Consecutive);
            x.b.failure_threshold = x.count(Field::Threshold);
        }
        Some(r @ ("sampling" | "count")) => {
            x.b.kind = Some(BreakerKind::FailureRate);
            x.b.rate_trips = Some(RateTrip::Above);
            x.b.failure_rate = x.read(Field::RateRatio, ratio);
            if r == "sampling" {
                sampling_window(x);
            } else {
                x.b.window_calls = x.count(Field::WindowCalls);
                let m = x.count(Field::MinimumCalls);
                x.b.minimum_calls = match x.b.window_calls {
                    Some(size) => x.or_default(m, "minimum_calls", size, "minimumNumberOfCalls = size"),
                    None => m,
                };
            }
        }
        _ => x.note(x.line(), "circuit breaker (cockatiel): no ConsecutiveBreaker, SamplingBreaker or CountBreaker, so the rule that opens it is not claimed".into()),
    }
    recovery(x);
    x.b.half_open_requests = Some(1);
    x.b.half_open_extra = Some(HalfOpenExtra::Rejected);
    x.b.close_rule = Some(CloseRule::FirstSuccess);
}

fn sampling_window(x: &mut Build) {
    x.b.window_ms = x.duration(Field::WindowMs, MS);
    let rps = x.read(Field::MinimumRps, |v| {
        super::values::number(v).ok_or_else(|| format!("\"{v}\" is not a number"))
    });
    let (Some(window), Some(threshold)) = (x.b.window_ms, x.b.failure_rate) else {
        return;
    };
    let calls = |rps: f64| {
        (window / 1000.0 * rps)
            .ceil()
            .max(0.0)
            .min(f64::from(u32::MAX)) as u32
    };
    x.b.minimum_calls = match rps {
        Some(r) => Some(calls(r)),
        None if threshold > 0.0 => x.or_default(
            None,
            "minimum_calls",
            calls(5.0 / threshold),
            "minimumRps = 5 / threshold",
        ),
        None => None,
    };
}

/// `halfOpenAfter: 10_000`, `new ConstantBackoff(5000)` or `new ExponentialBackoff({...})`.
fn recovery(x: &mut Build) {
    let Some(f) = x.get(Field::RecoveryMs).cloned() else {
        x.note(x.line(), "circuit breaker (cockatiel): no halfOpenAfter (cockatiel requires it), so the open time is not claimed".into());
        return;
    };
    let v = f.value.trim();
    if v.contains("ExponentialBackoff") {
        let init = x.duration(Field::BackoffInitialMs, MS);
        x.b.recovery_timeout_ms =
            x.or_default(init, "recovery_timeout_ms", 128.0, "initialDelay = 128");
        let e = x.read(Field::Multiplier, |v| {
            super::values::number(v).ok_or_else(|| format!("\"{v}\" is not a number"))
        });
        x.b.recovery_multiplier = x.or_default(e, "recovery_multiplier", 2.0, "exponent = 2");
        let max = x.duration(Field::RecoveryMaxMs, MS);
        x.b.recovery_max_ms = x.or_default(max, "recovery_max_ms", 30_000.0, "maxDelay = 30000");
        x.b.recovery_growth = Some(RecoveryGrowth::Multiply);
        let exact = x
            .get(Field::BreakGenerator)
            .is_some_and(|g| g.value.contains("noJitter"));
        if !exact {
            // ExponentialBackoffGenerators.ts: decorrelatedJitterGenerator unless another is given.
            x.note(f.line, "circuit breaker (cockatiel): ExponentialBackoff draws each open time with decorrelated jitter (its default generator), so open times are random around initialDelay × exponent^n; growth is approximate".into());
        }
    } else if let Some(inner) = v
        .strip_prefix("new ConstantBackoff(")
        .and_then(|s| s.strip_suffix(')'))
    {
        x.b.recovery_timeout_ms = match duration_ms(inner, MS) {
            Ok(ms) => Some(ms),
            Err(why) => {
                x.note(
                    f.line,
                    format!("circuit breaker (cockatiel): halfOpenAfter = {v}: {why}"),
                );
                None
            }
        };
    } else {
        x.b.recovery_timeout_ms = x.duration(Field::RecoveryMs, MS);
    }
}
