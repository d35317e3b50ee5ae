//! The shipped spec (scenarios/specs/reference-service.md) promises exactly what the reference
//! service's default configuration does: change one without the other and this fails.

use std::time::Duration;

use redline::demo::service::config::parse_duration;
use redline::demo::ReferenceConfig;

const SPEC: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/specs/reference-service.md"
));

/// Cells of the first table row whose first cell is `first`.
fn row(first: &str) -> Vec<String> {
    SPEC.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells[0] == first)
        .unwrap_or_else(|| panic!("no table row starting with {first:?}"))
}

/// The integer after `key=` in the breaker block.
fn assignment(key: &str) -> u64 {
    let at = SPEC
        .find(&format!("{key}="))
        .unwrap_or_else(|| panic!("no {key}="));
    let rest = &SPEC[at + key.len() + 1..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

fn duration(cell: &str) -> Duration {
    let cell = cell.trim_start_matches('<').trim();
    parse_duration(cell).unwrap_or_else(|e| panic!("{cell:?}: {e}"))
}

#[test]
fn dependency_row_matches_the_call_timeout_and_fallback() {
    let cfg = ReferenceConfig::default();
    let dep = row("UserService");
    assert_eq!(duration(&dep[3]), cfg.call_timeout);
    assert_eq!(dep[4], "Return 503");
}

#[test]
fn breaker_block_matches_the_breaker_config() {
    let b = ReferenceConfig::default().breaker;
    assert_eq!(
        assignment("failure_threshold"),
        u64::from(b.failure_threshold)
    );
    assert_eq!(
        Duration::from_secs(assignment("recovery_timeout")),
        b.recovery_timeout
    );
    assert_eq!(
        assignment("half_open_requests"),
        u64::from(b.half_open_requests)
    );
}

#[test]
fn retry_row_matches_the_retry_config() {
    let r = ReferenceConfig::default().retry;
    let cells = row("UserService timeout, connection error, 5xx or 429");
    assert_eq!(
        cells[2].parse::<u32>().unwrap(),
        r.retries + 1,
        "max attempts include the first"
    );
    let (waits, jitter) = cells[3].split_once('(').expect("backoff with (±N%)");
    let waits: Vec<Duration> = waits.split(',').map(duration).collect();
    let expected: Vec<Duration> = (0..r.retries)
        .map(|i| r.base_backoff * 2u32.pow(i))
        .collect();
    assert_eq!(waits, expected);
    let pct: f64 = jitter
        .trim_start_matches('±')
        .trim_end_matches("%)")
        .parse()
        .unwrap();
    assert!((pct / 100.0 - r.jitter).abs() < 1e-9);
}

#[test]
fn rate_limit_matches_the_token_bucket() {
    let rl = ReferenceConfig::default()
        .rate_limit
        .expect("rate limit on by default");
    let promised = format!("rate=\"{}/second\"", rl.per_second);
    assert!(SPEC.contains(&promised), "spec should say {promised}");
    assert!(SPEC.contains(&format!("a burst allowance of {} requests", rl.burst)));
}

#[test]
fn every_operation_timeout_covers_the_worst_case_attempt_budget() {
    let cfg = ReferenceConfig::default();
    let backoffs: Duration = (0..cfg.retry.retries)
        .map(|i| (cfg.retry.base_backoff * 2u32.pow(i)).mul_f64(1.0 + cfg.retry.jitter))
        .sum();
    let t = cfg.service_times;
    for (op, work) in [
        ("GET item", t.get),
        ("List items", t.list),
        ("Create item", t.create),
        ("Update item", t.update),
        ("Delete item", t.delete),
    ] {
        let cells = row(op);
        let (p50, p99, timeout) = (
            duration(&cells[1]),
            duration(&cells[3]),
            duration(&cells[4]),
        );
        // Work time is capped at 10x its median; each attempt at the call timeout.
        let worst = cfg.call_timeout * (cfg.retry.retries + 1) + backoffs + work.median * 10;
        assert!(
            worst < timeout,
            "{op}: worst case {worst:?} over the {timeout:?} timeout"
        );
        assert!(
            work.median * 2 < p50,
            "{op}: median work {:?} leaves no room under P50 {p50:?}",
            work.median
        );
        assert!(p99 < timeout);
    }
}
