//! Unit tests of `rule`: readings of rate and windowed-count rules over synthetic calls.

use super::*;
use redline_proxy::log::Outcome;

/// A call arriving at `t_ms`, answered 1 ms later, failed or not.
fn call(t_ms: f64, failed: bool) -> LogEntry {
    LogEntry {
        seq: 0,
        t_ms,
        method: "GET".into(),
        path: "/users/1".into(),
        correlation_id: None,
        trace_id: None,
        fault: None,
        outcome: if failed {
            Outcome::Aborted
        } else {
            Outcome::Forwarded
        },
        status: Some(if failed { 503 } else { 200 }),
        upstream_status: None,
        upstream_ms: None,
        gave_up_ms: None,
        total_ms: 1.0,
        h2: None,
    }
}

fn ends(log: &[LogEntry]) -> Vec<(f64, bool, usize)> {
    log.iter()
        .enumerate()
        .map(|(i, e)| (evidence::end_ms(e), evidence::is_failure(e), i))
        .collect()
}

fn rate(rate: f64, trips: Option<RateTrip>, window: Window, min: u32) -> Rule {
    Rule::Rate {
        rate,
        trips,
        window,
        minimum_calls: Some(min),
        slow: None,
        counts_in_flight: true,
        lag_ms: 0.0,
        window_runs_over: false,
    }
}

/// 10 calls 100 ms apart, the last `failed` of them failing.
fn tail_failing(failed: usize) -> Vec<LogEntry> {
    (0..10)
        .map(|i| call(i as f64 * 100.0, i >= 10 - failed))
        .collect()
}

#[test]
fn a_count_window_trips_at_its_rate_and_not_below() {
    let log = tail_failing(5);
    let e = ends(&log);
    let calls = Calls {
        ends: &e,
        log: &log,
    };
    let at_least = rate(0.5, Some(RateTrip::AtLeast), Window::Calls(10), 10);
    assert_eq!(calls.says(&at_least, 9, f64::NEG_INFINITY), Says::Must);
    // Exactly at the threshold: `above` does not trip, an unstated side only may.
    let above = rate(0.5, Some(RateTrip::Above), Window::Calls(10), 10);
    assert_eq!(calls.says(&above, 9, f64::NEG_INFINITY), Says::No);
    let unstated = rate(0.5, None, Window::Calls(10), 10);
    assert_eq!(calls.says(&unstated, 9, f64::NEG_INFINITY), Says::May);
    // One failure fewer is below 50%.
    assert_eq!(calls.says(&at_least, 8, f64::NEG_INFINITY), Says::No);
    let r = calls.reading(&at_least, 9, f64::NEG_INFINITY);
    assert_eq!((r.calls, r.failures), (10, 5));
}

#[test]
fn the_minimum_volume_holds_the_rule_back() {
    let log = tail_failing(5);
    let e = ends(&log);
    let calls = Calls {
        ends: &e,
        log: &log,
    };
    let rule = rate(0.5, Some(RateTrip::AtLeast), Window::Calls(20), 11);
    assert_eq!(calls.says(&rule, 9, f64::NEG_INFINITY), Says::No);
    // Counting restarted at a close 350 ms in: 6 calls, under a minimum of 7; a library that
    // kept its metrics counts 10 (5 failed): it may have opened, it need not.
    let rule = rate(0.5, Some(RateTrip::AtLeast), Window::Calls(20), 7);
    assert_eq!(calls.says(&rule, 9, 350.0), Says::May);
}

#[test]
fn a_time_window_edge_makes_a_trip_only_possible() {
    // Failures at 600..900 ms, successes before: over the last 1 s 4 of 10 failed (40%),
    // over its bucketed 800 ms edge 4 of 8 (50%).
    let log = tail_failing(4);
    let e = ends(&log);
    let calls = Calls {
        ends: &e,
        log: &log,
    };
    let rule = rate(0.5, Some(RateTrip::AtLeast), Window::Time(1000.0), 5);
    assert_eq!(calls.says(&rule, 9, f64::NEG_INFINITY), Says::May);
    let shown = calls.tripping(&rule, 9, f64::NEG_INFINITY).unwrap();
    assert_eq!(shown.window, Window::Time(800.0));
    assert_eq!((shown.calls, shown.failures), (8, 4));
}

#[test]
fn a_window_that_runs_over_must_trip_over_its_long_reading_too() {
    // 12 calls 100 ms apart, the last 6 failing; a 950 ms window: over 950 ms 6 of 10 failed
    // (60%), over 760 ms 6 of 8, over the long 1045 ms 6 of 11 (54.5%): above 55% but on that one.
    let log: Vec<LogEntry> = (0..12).map(|i| call(i as f64 * 100.0, i >= 6)).collect();
    let e = ends(&log);
    let calls = Calls {
        ends: &e,
        log: &log,
    };
    let exact = rate(0.55, Some(RateTrip::Above), Window::Time(950.0), 5);
    assert_eq!(calls.says(&exact, 11, f64::NEG_INFINITY), Says::Must);
    // cockatiel's buckets may still hold the long reading: it may open, it need not.
    let mut over = exact.clone();
    if let Rule::Rate {
        window_runs_over, ..
    } = &mut over
    {
        *window_runs_over = true;
    }
    assert_eq!(calls.says(&over, 11, f64::NEG_INFINITY), Says::May);
}

#[test]
fn a_windowed_count_counts_failures_whatever_the_successes() {
    let mut log: Vec<LogEntry> = (0..20).map(|i| call(i as f64 * 50.0, i % 4 == 0)).collect();
    log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    let e = ends(&log);
    let calls = Calls {
        ends: &e,
        log: &log,
    };
    let rule = Rule::Count {
        failures: 3,
        window_ms: 1000.0,
        granularity_ms: 0.0,
    };
    // Failures at 0, 200, 400 ms: the third trips a count of 3 within 1 s (and its 800 ms edge).
    assert_eq!(calls.says(&rule, 8, f64::NEG_INFINITY), Says::Must);
    assert_eq!(calls.says(&rule, 4, f64::NEG_INFINITY), Says::No);
}

#[test]
fn claims_without_the_figures_their_kind_needs_have_no_rule() {
    let b = Breaker {
        kind: Some(BreakerKind::FailureRate),
        failure_rate: Some(0.5),
        ..Breaker::default()
    };
    assert_eq!(Rule::of(&b), None, "no window");
    let b = Breaker {
        kind: Some(BreakerKind::FailuresInWindow),
        failure_threshold: Some(3),
        ..Breaker::default()
    };
    assert_eq!(Rule::of(&b), None, "no window");
    let b = Breaker {
        kind: Some(BreakerKind::FailureRate),
        failure_rate: Some(f64::NAN),
        window_ms: Some(1000.0),
        ..Breaker::default()
    };
    assert_eq!(Rule::of(&b), None, "no rate");
    let b = Breaker {
        kind: None,
        failure_threshold: Some(5),
        ..Breaker::default()
    };
    assert_eq!(Rule::of(&b), None, "consecutive");
}
