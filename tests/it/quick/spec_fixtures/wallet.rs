//! wallet-bullets.md: an assistant-style spec with numbered headings and labelled bullets.

use super::*;

#[test]
fn wallet_labelled_bullets() {
    let c = parse(WALLET);
    assert_eq!(c.service.as_deref(), Some("Wallet"));
    // A generic label is the budget; an operation label is that operation's target.
    let budget = c.latency_budget.as_ref().unwrap();
    assert_eq!(budget.line, 5);
    assert_close!(budget.p50_ms, None);
    assert_close!(budget.p95_ms, Some(250.0));
    assert_close!(budget.p99_ms, Some(600.0));
    latency(
        &c,
        &[("POST /wallet/topup", None, None, Some(1200.0), None, 9)],
    );

    let t: Vec<_> = c
        .throughput
        .iter()
        .map(|t| (t.text.as_str(), t.rps, t.peak_multiple, t.line))
        .collect();
    assert_eq!(
        t,
        [
            ("Throughput: 500 RPS sustained", Some(500.0), None, 6),
            ("bursts to 2x peak", None, Some(2.0), 6)
        ]
    );
    assert_close!(c.availability, Some(0.9995));
    assert_eq!(c.availability_line, Some(7));
    assert_close!(c.error_rate_max, Some(0.005));
    assert_eq!(c.error_rate_line, Some(8));
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
}

#[test]
fn wallet_prose_breaker_across_clauses() {
    let c = parse(WALLET);
    let d = &c.dependencies[..];
    assert_eq!(d.len(), 1);
    assert_eq!(
        (
            d[0].name.as_str(),
            d[0].timeout_ms,
            d[0].fallback_status,
            d[0].line
        ),
        ("Bank Gateway", Some(3000.0), Some(503), 15)
    );
    assert_eq!(c.breakers.len(), 1);
    breaker(
        &c,
        0,
        None,
        Some("Bank Gateway"),
        (Some(10), Some(60_000.0), Some(3)),
        17,
    );
}
