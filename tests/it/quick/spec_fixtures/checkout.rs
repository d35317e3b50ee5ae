//! checkout-variants.md: header units, shares of requests, integrations tables, JS breakers, 5xx alerts, health tables.

use super::*;

#[test]
fn checkout_header_units_and_shares_of_requests() {
    let c = parse(CHECKOUT);
    assert_eq!(c.service.as_deref(), Some("Checkout API"));
    // Bare numbers are read in the unit the header names ("p95 (ms)"); inline code is kept as text.
    latency(
        &c,
        &[
            (
                "POST /checkout",
                Some(180.0),
                Some(450.0),
                Some(950.0),
                None,
                14,
            ),
            ("GET /cart", Some(15.0), Some(40.0), None, None, 15),
        ],
    );
    let budget = c.latency_budget.as_ref().unwrap();
    assert_eq!(budget.line, 17);
    assert_close!(budget.p50_ms, None);
    assert_close!(budget.p95_ms, Some(300.0));
    assert_close!(budget.p99_ms, Some(1500.0));
}

#[test]
fn checkout_integrations_and_retries_without_attempts() {
    let c = parse(CHECKOUT);
    // A "Service | Timeout | Fallback" table under "Integrations" is a dependencies table; "300s" is no status.
    let deps: Vec<_> = c
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.timeout_ms,
                d.fallback_status,
                d.critical,
                d.line,
            )
        })
        .collect();
    assert_eq!(
        deps,
        [
            ("TaxEngine", Some(900.0), None, false, 7),
            ("ShippingQuotes", Some(1200.0), Some(504), false, 8)
        ]
    );
    assert_eq!(
        c.dependencies[0].fallback.as_deref(),
        Some("Serve stale rates (up to 300s old)")
    );

    // A retry table without an attempts column is still a retry table.
    let r = &c.retries[..];
    assert_eq!(r.len(), 1);
    assert_eq!(
        (
            r[0].scenario.as_str(),
            r[0].strategy.as_deref(),
            r[0].max_attempts,
            r[0].line
        ),
        ("Tax lookup", Some("exponential"), None, 25)
    );
    assert_eq!(r[0].backoff_ms, [100.0, 200.0]);
}

#[test]
fn checkout_js_breaker_alerts_and_health_table() {
    let c = parse(CHECKOUT);
    // opossum's options (errorThresholdPercentage): JavaScript milliseconds, so resetTimeout 30000 is
    // 30 s; failureThreshold is no opossum option and is said so, not read.
    assert_eq!(c.breakers.len(), 1);
    breaker(
        &c,
        0,
        Some("taxBreaker"),
        Some("TaxEngine"),
        (None, Some(30_000.0), Some(1)),
        30,
    );
    let b = &c.breakers[0];
    assert_eq!(b.library.as_deref(), Some("opossum"));
    assert_eq!(b.kind, Some(BreakerKind::FailureRate));
    assert_close!(b.failure_rate, Some(0.5));
    assert_eq!(b.rate_trips, Some(RateTrip::Above));
    assert_close!(b.window_ms, Some(10_000.0));
    assert_eq!(b.minimum_calls, Some(0));
    assert_close!(b.call_timeout_ms, Some(10_000.0));
    assert_eq!(
        b.defaults_applied,
        ["window_ms", "minimum_calls", "call_timeout_ms"]
    );
    let diags: Vec<_> = c
        .diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert_eq!(diags[0].0, 30);
    assert!(diags[0].1.contains("rollingCountTimeout = 10000, volumeThreshold = 0, timeout = 10000; read opossum's documented defaults"));
    assert_eq!(diags[1].0, 32);
    assert!(diags[1]
        .1
        .contains("failureThreshold is not one of opossum's options"));

    assert_eq!(c.alerts.len(), 1);
    assert_eq!(
        c.alerts[0].condition,
        AlertCondition::ErrorRate {
            threshold: 0.005,
            for_s: Some(180.0)
        }
    );
    assert_eq!(
        (
            c.alerts[0].name.as_str(),
            c.alerts[0].severity.as_deref(),
            c.alerts[0].line
        ),
        ("Checkout5xx", Some("page"), 41)
    );
    assert_close!(c.error_rate_max, Some(0.005));
    assert_eq!(c.error_rate_line, Some(41));
    assert_close!(c.availability, Some(0.995));
    assert_eq!(c.availability_line, Some(19));

    let h = c.health.as_ref().unwrap();
    assert_eq!(
        (h.path.as_str(), h.ready_path.as_deref(), h.line),
        ("/healthz", Some("/readyz"), 47)
    );
    assert_eq!(h.states, ["healthy", "degraded", "unhealthy"]);
}
