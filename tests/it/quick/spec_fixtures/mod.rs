//! The spec reader against fixture specs of every shape in spec-format.md: every value and every line.
//!
//! Fixtures are compiled in with `include_str!`, so the reader is tested on a `&str` without disk I/O.

pub use redline::spec::claims::{AlertCondition, BreakerKind, Claims, RateTrip};
pub use redline::spec::parse;

pub const PAYMENTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/payments-gateway.md"
));
pub const LEDGER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/ledger-reordered.md"
));
pub const NOTIFICATIONS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/notifications-prose.md"
));
pub const CATALOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/catalog-no-performance.md"
));
pub const BROKEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/broken-values.md"
));
pub const ORDERS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/orders-decorators.md"
));
pub const CHECKOUT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/checkout-variants.md"
));
pub const WALLET: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/wallet-bullets.md"
));

/// Equal up to float rounding (0.7 s is 700 ms give or take an ulp); None only equals None.
pub fn close(actual: Option<f64>, expected: Option<f64>) -> bool {
    match (actual, expected) {
        (Some(a), Some(e)) => (a - e).abs() <= 1e-9 * e.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

macro_rules! assert_close {
    ($actual:expr, $expected:expr) => {{
        let (actual, expected): (Option<f64>, Option<f64>) = ($actual, $expected);
        assert!(
            close(actual, expected),
            "{} = {:?}, expected {:?}",
            stringify!($actual),
            actual,
            expected
        )
    }};
}

/// (operation, p50, p95, p99, timeout, line) for every latency row, in order.
/// (operation, p50, p95, p99, timeout, line) of one latency row.
pub type LatencyRow<'a> = (
    &'a str,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    usize,
);

pub fn latency(c: &Claims, expected: &[LatencyRow]) {
    assert_eq!(c.latency.len(), expected.len(), "{:#?}", c.latency);
    for (t, (op, p50, p95, p99, timeout, line)) in c.latency.iter().zip(expected) {
        assert_eq!((t.operation.as_str(), t.line), (*op, *line));
        assert_close!(t.p50_ms, *p50);
        assert_close!(t.p95_ms, *p95);
        assert_close!(t.p99_ms, *p99);
        assert_close!(t.timeout_ms, *timeout);
    }
}

/// Breaker `i`: name, dependency, (threshold, recovery ms, half-open probes), line.
pub fn breaker(
    c: &Claims,
    i: usize,
    name: Option<&str>,
    dep: Option<&str>,
    values: (Option<u32>, Option<f64>, Option<u32>),
    line: usize,
) {
    let (threshold, recovery, half_open) = values;
    let b = &c.breakers[i];
    assert_eq!(b.name.as_deref(), name, "{b:?}");
    assert_eq!(b.dependency.as_deref(), dep, "{b:?}");
    assert_eq!(b.failure_threshold, threshold, "{b:?}");
    assert_close!(b.recovery_timeout_ms, recovery);
    assert_eq!(b.half_open_requests, half_open, "{b:?}");
    assert_eq!(b.line, line, "{b:?}");
}

pub fn rate(
    c: &Claims,
    i: usize,
    name: &str,
    requests: u64,
    per_s: f64,
    per_key: Option<&str>,
    line: usize,
) {
    let r = &c.rate_limits[i];
    assert_eq!(
        (r.name.as_str(), r.requests, r.per_key.as_deref(), r.line),
        (name, requests, per_key, line),
        "{r:?}"
    );
    assert_close!(Some(r.per_s), Some(per_s));
}

mod broken;
mod checkout;
mod ledger;
mod notifications;
mod orders;
mod payments;
mod shapes;
mod wallet;
