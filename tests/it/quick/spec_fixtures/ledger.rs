//! ledger-reordered.md: reordered and extra columns, bold cells, `≤`, `<0.7s`, `-`/N/A/empty cells, µs, emoji and numbered headings, YAML breakers.

use super::*;

#[test]
fn ledger_latency_reordered_columns_and_cell_shapes() {
    let c = parse(LEDGER);
    assert_eq!(c.service.as_deref(), Some("Ledger Service"));
    latency(
        &c,
        &[
            (
                "GET balance",
                Some(20.0),
                Some(80.0),
                Some(150.0),
                Some(3000.0),
                21,
            ),
            (
                "POST transfer",
                Some(120.0),
                None,
                Some(700.0),
                Some(10_000.0),
                22,
            ),
            ("GET statement line", Some(0.25), None, Some(0.9), None, 23),
            ("List accounts", None, Some(400.0), Some(1000.0), None, 24),
        ],
    );
    let budget = c.latency_budget.as_ref().unwrap();
    assert_eq!(budget.line, 26);
    assert_close!(budget.p50_ms, None);
    assert_close!(budget.p95_ms, Some(200.0));
    assert_close!(budget.p99_ms, Some(500.0));
}

#[test]
fn ledger_dependencies_reordered_columns() {
    let c = parse(LEDGER);
    let deps: Vec<_> = c
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.kind.as_deref(),
                d.timeout_ms,
                d.fallback.as_deref(),
                d.critical,
                d.health_check.as_deref(),
                d.line,
            )
        })
        .collect();
    assert_eq!(
        deps,
        [
            (
                "Postgres",
                None,
                Some(3000.0),
                None,
                true,
                Some("SELECT 1"),
                11
            ),
            (
                "FxRates",
                None,
                Some(800.0),
                Some("Serve cached rate"),
                false,
                Some("/ping"),
                12
            ),
            (
                "AuditBus",
                None,
                None,
                Some("Queue for retry"),
                false,
                None,
                13
            ),
        ]
    );
    assert!(c.dependencies.iter().all(|d| d.fallback_status.is_none()));
}

#[test]
fn ledger_yaml_breakers_retries_and_nothing_else() {
    let c = parse(LEDGER);
    assert_eq!(c.breakers.len(), 2);
    breaker(
        &c,
        0,
        Some("postgres"),
        Some("Postgres"),
        (Some(3), Some(10_000.0), Some(1)),
        32,
    );
    breaker(
        &c,
        1,
        Some("fx_rates"),
        Some("FxRates"),
        (Some(8), Some(45_000.0), None),
        36,
    );

    let retries: Vec<_> = c
        .retries
        .iter()
        .map(|r| {
            (
                r.scenario.as_str(),
                r.strategy.as_deref(),
                r.max_attempts,
                r.backoff_ms.clone(),
                r.jitter,
                r.line,
            )
        })
        .collect();
    assert_eq!(
        retries,
        [
            (
                "FX rate fetch",
                Some("exponential"),
                Some(4),
                vec![1000.0, 2000.0, 4000.0],
                None,
                45
            ),
            (
                "Journal write conflict",
                Some("linear"),
                Some(3),
                vec![25.0, 50.0, 100.0],
                Some(0.05),
                46
            ),
        ]
    );
    assert!(c.rate_limits.is_empty() && c.alerts.is_empty() && c.error_classes.is_empty());
    assert!(c.availability.is_none() && c.error_rate_max.is_none() && c.health.is_none());
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
}
