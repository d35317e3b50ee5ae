//! resilience4j (Spring YAML, `.properties`, the Java builder) and Hystrix (properties and
//! `@HystrixProperty`) breakers. Java durations: bare numbers are milliseconds (Spring `Duration`
//! properties, Hystrix `...InMilliseconds`), `10s` strings and `Duration.ofSeconds(10)` also read.

use super::values::{percent, MS};
use super::{no_scan, Build, Entry, Field, Form};
use crate::spec::claims::{BreakerKind, CloseRule, HalfOpenExtra, RateTrip, RecoveryGrowth};

pub(crate) const RESILIENCE4J: Form = Form {
    library: "resilience4j",
    field: resilience4j_field,
    scan: no_scan,
    build: resilience4j,
    space_values: false,
    name_inside: false,
};

fn resilience4j_field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "failureratethreshold" => Field::RatePercent,
        "slowcallratethreshold" => Field::SlowRatePercent,
        "slowcalldurationthreshold" => Field::SlowCallMs,
        "slidingwindowsize" => Field::WindowSize,
        "slidingwindowtype" => Field::WindowType,
        "minimumnumberofcalls" => Field::MinimumCalls,
        "waitdurationinopenstate" => Field::RecoveryMs,
        "permittednumberofcallsinhalfopenstate" => Field::HalfOpen,
        "enableexponentialbackoff" => Field::BackoffEnabled,
        "exponentialbackoffmultiplier" => Field::Multiplier,
        "exponentialmaxwaitdurationinopenstate" => Field::RecoveryMaxMs,
        "enablerandomizedwait" => Field::RandomizedEnabled,
        "randomizedwaitfactor" => Field::RandomizedFactor,
        "recordexceptions" => Field::Exceptions,
        "baseconfig" => Field::BaseConfig,
        _ => return None,
    })
}

/// Defaults from resilience4j's `CircuitBreakerConfig.java` (DEFAULT_FAILURE_RATE_THRESHOLD = 50,
/// DEFAULT_SLOW_CALL_RATE_THRESHOLD = 100, DEFAULT_WAIT_DURATION_IN_OPEN_STATE = 60 s,
/// DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN_STATE = 10, DEFAULT_MINIMUM_NUMBER_OF_CALLS = 100,
/// DEFAULT_SLIDING_WINDOW_SIZE = 100, DEFAULT_SLOW_CALL_DURATION_THRESHOLD = 60 s, COUNT_BASED) and
/// `IntervalFunction.DEFAULT_MULTIPLIER` = 1.5 / `DEFAULT_RANDOMIZATION_FACTOR` = 0.5 for the
/// exponential and randomized waits. It trips at `failureRate >= failureRateThreshold`
/// (`CircuitBreakerMetrics`), and half-open closes when the probes' rate is below the threshold.
fn resilience4j(x: &mut Build) {
    x.b.kind = Some(BreakerKind::FailureRate);
    x.b.rate_trips = Some(RateTrip::AtLeast);
    let rate = x.read(Field::RatePercent, percent);
    x.b.failure_rate = x.or_default(rate, "failure_rate", 0.5, "failureRateThreshold = 50");
    sliding_window(x);
    let wait = x.duration(Field::RecoveryMs, MS);
    x.b.recovery_timeout_ms = x.or_default(
        wait,
        "recovery_timeout_ms",
        60_000.0,
        "waitDurationInOpenState = 60s",
    );
    let probes = x.count(Field::HalfOpen);
    x.b.half_open_requests = x.or_default(
        probes,
        "half_open_requests",
        10,
        "permittedNumberOfCallsInHalfOpenState = 10",
    );
    x.b.half_open_extra = Some(HalfOpenExtra::Rejected);
    x.b.close_rule = Some(CloseRule::ProbeRateBelowThreshold);
    let slow_rate = x.read(Field::SlowRatePercent, percent);
    x.b.slow_call_rate = x.or_default(
        slow_rate,
        "slow_call_rate",
        1.0,
        "slowCallRateThreshold = 100",
    );
    let slow_ms = x.duration(Field::SlowCallMs, MS);
    x.b.slow_call_ms = x.or_default(
        slow_ms,
        "slow_call_ms",
        60_000.0,
        "slowCallDurationThreshold = 60s",
    );
    growth(x);
}

/// `slidingWindowType` + `slidingWindowSize` (calls, or seconds when TIME_BASED) and
/// `minimumNumberOfCalls`, capped at the size for a count-based window as resilience4j does.
fn sliding_window(x: &mut Build) {
    let time_based = match x.get(Field::WindowType).map(|f| f.value.to_lowercase()) {
        Some(v) if v.contains("time") => Some(true),
        Some(v) if v.contains("count") => Some(false),
        Some(v) => {
            let line = x.get(Field::WindowType).map_or(x.line(), |f| f.line);
            x.note(line, format!("circuit breaker (resilience4j): slidingWindowType = {v} is not COUNT_BASED or TIME_BASED; read as COUNT_BASED"));
            Some(false)
        }
        None => None,
    };
    let size = x.count(Field::WindowSize);
    let time_based = match time_based {
        Some(t) => t,
        None if size.is_some() => {
            x.defaults.push((
                "window_calls".into(),
                "slidingWindowType = COUNT_BASED".into(),
            ));
            false
        }
        None => false,
    };
    let size = if time_based {
        x.or_default(size, "window_ms", 100, "slidingWindowSize = 100")
    } else {
        x.or_default(
            size,
            "window_calls",
            100,
            "slidingWindowSize = 100 (COUNT_BASED)",
        )
    };
    if time_based {
        x.b.window_ms = size.map(|s| f64::from(s) * 1000.0);
    } else {
        x.b.window_calls = size;
    }
    let min = x.count(Field::MinimumCalls);
    let mut min = x.or_default(min, "minimum_calls", 100, "minimumNumberOfCalls = 100");
    if let (false, Some(m), Some(s)) = (time_based, min, size) {
        if m > s {
            // CircuitBreakerMetrics caps it for a count-based window (Math.min with the size).
            x.note(x.line(), format!("circuit breaker (resilience4j): minimumNumberOfCalls = {m} is more than slidingWindowSize = {s}; resilience4j uses {s}"));
            min = Some(s);
        }
    }
    x.b.minimum_calls = min;
}

/// `enableExponentialBackoff` / `enableRandomizedWait` and their parameters.
fn growth(x: &mut Build) {
    let backoff = x
        .read(Field::BackoffEnabled, super::values::boolean)
        .unwrap_or(false);
    if backoff {
        let m = x.read(Field::Multiplier, |v| {
            super::values::number(v).ok_or_else(|| format!("\"{v}\" is not a number"))
        });
        x.b.recovery_multiplier = x.or_default(
            m,
            "recovery_multiplier",
            1.5,
            "exponentialBackoffMultiplier = 1.5",
        );
        x.b.recovery_growth = Some(RecoveryGrowth::Multiply);
        x.b.recovery_max_ms = x.duration(Field::RecoveryMaxMs, MS);
    } else if let Some(f) = x
        .get(Field::Multiplier)
        .or(x.get(Field::RecoveryMaxMs))
        .cloned()
    {
        x.note(f.line, format!("circuit breaker (resilience4j): {} has no effect without enableExponentialBackoff: true; the open time stays fixed", f.key));
    }
    let randomized = x
        .read(Field::RandomizedEnabled, super::values::boolean)
        .unwrap_or(false);
    if randomized {
        let j = x.read(Field::RandomizedFactor, super::values::ratio);
        x.b.recovery_jitter = x.or_default(j, "recovery_jitter", 0.5, "randomizedWaitFactor = 0.5");
    }
}

pub(crate) const HYSTRIX: Form = Form {
    library: "hystrix",
    field: hystrix_field,
    scan: no_scan,
    build: hystrix,
    space_values: false,
    name_inside: false,
};

fn hystrix_field(e: &Entry) -> Option<Field> {
    let path = e.path();
    Some(match e.last().as_str() {
        "requestvolumethreshold" => Field::MinimumCalls,
        "errorthresholdpercentage" => Field::RatePercent,
        "sleepwindowinmilliseconds" => Field::RecoveryMs,
        "timeinmilliseconds" if path.contains("rollingstats") => Field::WindowMs,
        "rollingstatstimeinmilliseconds" => Field::WindowMs,
        "timeoutinmilliseconds" => Field::CallTimeoutMs,
        _ => return None,
    })
}

/// Defaults from Hystrix's `HystrixCommandProperties.java` (circuitBreakerRequestVolumeThreshold = 20,
/// circuitBreakerErrorThresholdPercentage = 50, circuitBreakerSleepWindowInMilliseconds = 5000,
/// metricsRollingStatisticalWindowInMilliseconds = 10000, executionTimeoutInMilliseconds = 1000).
/// `HystrixCircuitBreaker.java` opens unless `errorPercentage < threshold` (so at ≥), once the window
/// holds the volume threshold, and lets one single test request through when the sleep window ends.
fn hystrix(x: &mut Build) {
    x.b.kind = Some(BreakerKind::FailureRate);
    x.b.rate_trips = Some(RateTrip::AtLeast);
    let rate = x.read(Field::RatePercent, percent);
    x.b.failure_rate = x.or_default(
        rate,
        "failure_rate",
        0.5,
        "circuitBreaker.errorThresholdPercentage = 50",
    );
    let min = x.count(Field::MinimumCalls);
    x.b.minimum_calls = x.or_default(
        min,
        "minimum_calls",
        20,
        "circuitBreaker.requestVolumeThreshold = 20",
    );
    let window = x.duration(Field::WindowMs, MS);
    x.b.window_ms = x.or_default(
        window,
        "window_ms",
        10_000.0,
        "metrics.rollingStats.timeInMilliseconds = 10000",
    );
    let sleep = x.duration(Field::RecoveryMs, MS);
    x.b.recovery_timeout_ms = x.or_default(
        sleep,
        "recovery_timeout_ms",
        5000.0,
        "circuitBreaker.sleepWindowInMilliseconds = 5000",
    );
    let timeout = x.duration(Field::CallTimeoutMs, MS);
    x.b.call_timeout_ms = x.or_default(
        timeout,
        "call_timeout_ms",
        1000.0,
        "execution.isolation.thread.timeoutInMilliseconds = 1000",
    );
    x.b.half_open_requests = Some(1);
    x.b.half_open_extra = Some(HalfOpenExtra::Rejected);
    x.b.close_rule = Some(CloseRule::FirstSuccess);
}
