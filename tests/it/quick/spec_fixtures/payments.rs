//! payments-gateway.md: the template shape, every family, the JSON numbers.

use super::*;

#[test]
fn payments_latency_and_budget() {
    let c = parse(PAYMENTS);
    assert_eq!(c.service.as_deref(), Some("Payments Gateway"));
    latency(
        &c,
        &[
            (
                "Get payment",
                Some(25.0),
                Some(60.0),
                Some(120.0),
                Some(2000.0),
                29,
            ),
            (
                "Create payment",
                Some(150.0),
                Some(400.0),
                Some(800.0),
                Some(5000.0),
                30,
            ),
            (
                "Refund payment",
                Some(200.0),
                Some(450.0),
                Some(900.0),
                Some(5000.0),
                31,
            ),
        ],
    );
    let budget = c.latency_budget.as_ref().unwrap();
    assert_eq!(budget.line, 12);
    assert_close!(budget.p50_ms, Some(100.0));
    assert_close!(budget.p95_ms, None);
    assert_close!(budget.p99_ms, Some(500.0));
}

#[test]
fn payments_dependencies() {
    let c = parse(PAYMENTS);
    let deps: Vec<_> = c
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.kind.as_deref(),
                d.fallback.as_deref(),
                d.fallback_status,
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
                "AcquirerAPI",
                Some("External API"),
                Some("Return 503"),
                Some(503),
                false,
                Some("/status"),
                18
            ),
            (
                "LedgerDB",
                Some("Database"),
                None,
                None,
                true,
                Some("SELECT 1"),
                19
            ),
            (
                "FraudScore",
                Some("Internal API"),
                Some("Skip scoring, accept"),
                None,
                false,
                Some("/health"),
                20
            ),
            (
                "Redis",
                Some("Cache"),
                Some("Bypass cache"),
                None,
                false,
                Some("PING"),
                21
            ),
        ]
    );
    let timeouts: Vec<_> = c.dependencies.iter().map(|d| d.timeout_ms).collect();
    assert_eq!(
        timeouts,
        [Some(1500.0), Some(2000.0), Some(300.0), Some(50.0)]
    );
}

#[test]
fn payments_breakers_and_retries() {
    let c = parse(PAYMENTS);
    assert_eq!(c.breakers.len(), 2);
    breaker(
        &c,
        0,
        Some("acquirer_breaker"),
        Some("AcquirerAPI"),
        (Some(6), Some(20_000.0), Some(2)),
        38,
    );
    assert_eq!(
        c.breakers[0].expected_exceptions,
        ["AcquirerTimeout", "AcquirerUnavailable"]
    );
    breaker(
        &c,
        1,
        Some("fraud_score_breaker"),
        Some("FraudScore"),
        (Some(10), Some(5000.0), Some(1)),
        45,
    );
    assert!(c.breakers[1].expected_exceptions.is_empty());

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
                "Acquirer timeout",
                Some("exponential"),
                Some(3),
                vec![200.0, 400.0, 800.0],
                Some(0.1),
                58
            ),
            (
                "Ledger deadlock",
                Some("fixed"),
                Some(2),
                vec![50.0],
                None,
                59
            ),
            ("Card declined", Some("none"), Some(1), vec![], None, 60),
        ]
    );
}

#[test]
fn payments_errors_rate_limits_and_alerts() {
    let c = parse(PAYMENTS);
    let errors: Vec<_> = c
        .error_classes
        .iter()
        .map(|e| {
            (
                e.error_type.as_str(),
                e.status,
                e.code.as_deref(),
                e.retryable,
                e.line,
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (
                "CardDeclined",
                Some(402),
                Some("CARD_DECLINED"),
                Some(false),
                66
            ),
            (
                "AcquirerUnavailable",
                Some(503),
                Some("ACQUIRER_DOWN"),
                Some(true),
                67
            ),
            (
                "TooManyRequests",
                Some(429),
                Some("RATE_LIMITED"),
                Some(true),
                68
            ),
        ]
    );

    assert_eq!(c.rate_limits.len(), 2);
    rate(&c, 0, "default", 300, 60.0, None, 76);
    rate(&c, 1, "refunds", 20, 60.0, None, 77);

    let alerts: Vec<_> = c
        .alerts
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.condition.clone(),
                a.severity.as_deref(),
                a.line,
            )
        })
        .collect();
    assert_eq!(
        alerts,
        [
            (
                "PaymentErrors",
                AlertCondition::ErrorRate {
                    threshold: 0.02,
                    for_s: Some(300.0)
                },
                Some("Critical"),
                87
            ),
            (
                "SlowPayments",
                AlertCondition::Latency {
                    percentile: 99.0,
                    threshold_ms: 900.0,
                    for_s: Some(600.0)
                },
                Some("Warning"),
                88
            ),
            (
                "AcquirerDown",
                AlertCondition::Other {
                    text: "Acquirer failures > 50% for 1m".into()
                },
                Some("Critical"),
                89
            ),
        ]
    );
}

#[test]
fn payments_objectives_and_health() {
    let c = parse(PAYMENTS);
    // The stated objective (line 11) wins over the alert threshold.
    assert_close!(c.error_rate_max, Some(0.02));
    assert_eq!(c.error_rate_line, Some(11));
    assert_close!(c.availability, Some(0.9995));
    assert_eq!(c.availability_line, Some(10));
    assert!(c.throughput.is_empty());
    let h = c.health.as_ref().unwrap();
    assert_eq!(
        (h.path.as_str(), h.ready_path.as_deref(), h.line),
        ("/health", Some("/ready"), 95)
    );
    assert_eq!(h.states, ["healthy", "degraded", "unhealthy"]);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
}
