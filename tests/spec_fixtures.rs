//! The spec reader against fixture specs of every shape in spec-format.md: every value and every line.
//!
//! Fixtures are compiled in with `include_str!`, so the reader is tested on a `&str` without disk I/O.

use redline::spec::claims::{AlertCondition, Claims};
use redline::spec::parse;

const PAYMENTS: &str = include_str!("fixtures/specs/payments-gateway.md");
const LEDGER: &str = include_str!("fixtures/specs/ledger-reordered.md");
const NOTIFICATIONS: &str = include_str!("fixtures/specs/notifications-prose.md");
const CATALOG: &str = include_str!("fixtures/specs/catalog-no-performance.md");
const BROKEN: &str = include_str!("fixtures/specs/broken-values.md");
const ORDERS: &str = include_str!("fixtures/specs/orders-decorators.md");
const CHECKOUT: &str = include_str!("fixtures/specs/checkout-variants.md");

/// Equal up to float rounding (0.7 s is 700 ms give or take an ulp); None only equals None.
fn close(actual: Option<f64>, expected: Option<f64>) -> bool {
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
type LatencyRow<'a> = (
    &'a str,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    usize,
);

fn latency(c: &Claims, expected: &[LatencyRow]) {
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
fn breaker(
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

fn rate(
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

#[test]
fn payments_gateway_template_shape() {
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

#[test]
fn ledger_reordered_columns_emoji_headings_and_unit_shapes() {
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

#[test]
fn notifications_prose_claims() {
    let c = parse(NOTIFICATIONS);
    assert_eq!(c.service.as_deref(), Some("Notification Hub"));
    assert!(c.latency.is_empty());
    let budget = c.latency_budget.as_ref().unwrap();
    assert_eq!(budget.line, 25);
    assert_close!(budget.p50_ms, Some(100.0));
    assert_close!(budget.p95_ms, None);
    assert_close!(budget.p99_ms, Some(500.0));

    let deps: Vec<_> = c
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.timeout_ms,
                d.fallback_status,
                d.health_check.as_deref(),
                d.line,
            )
        })
        .collect();
    assert_eq!(
        deps,
        [
            ("MailRelay", Some(4000.0), None, Some("/healthz"), 13),
            ("SmsProvider", Some(2500.0), Some(503), None, 14)
        ]
    );

    assert_eq!(c.breakers.len(), 2);
    breaker(
        &c,
        0,
        None,
        Some("MailRelay"),
        (Some(5), Some(30_000.0), None),
        18,
    );
    // "within 10 seconds" is the counting window, not the time open.
    breaker(
        &c,
        1,
        None,
        Some("SmsProvider"),
        (Some(4), Some(45_000.0), Some(2)),
        20,
    );

    assert_eq!(c.rate_limits.len(), 5);
    rate(&c, 0, "POST /v1/notifications", 60, 60.0, Some("user"), 33);
    rate(
        &c,
        1,
        "GET /v1/notifications/{id}",
        600,
        60.0,
        Some("api key"),
        37,
    );
    rate(&c, 2, "Anon", 60, 60.0, None, 41);
    rate(&c, 3, "Pro", 1000, 60.0, None, 41);
    rate(&c, 4, "Enterprise", 10_000, 3600.0, None, 41);

    let alerts: Vec<_> = c
        .alerts
        .iter()
        .map(|a| (a.name.as_str(), a.condition.clone(), a.line))
        .collect();
    assert_eq!(
        alerts,
        [
            (
                "Error Rate",
                AlertCondition::ErrorRate {
                    threshold: 0.01,
                    for_s: Some(300.0)
                },
                47
            ),
            (
                "Response Time",
                AlertCondition::Latency {
                    percentile: 95.0,
                    threshold_ms: 750.0,
                    for_s: Some(600.0)
                },
                48
            ),
        ]
    );
    // No stated objective: the error-rate alert is the most the spec tolerates.
    assert_close!(c.error_rate_max, Some(0.01));
    assert_eq!(c.error_rate_line, Some(47));
    assert_close!(c.availability, Some(0.999));
    assert_eq!(c.availability_line, Some(7));

    assert_eq!(c.throughput.len(), 2);
    let (peak, rate) = (&c.throughput[0], &c.throughput[1]);
    assert_eq!(
        (peak.text.as_str(), peak.line),
        ("It must handle 2x peak traffic with <5% error rate", 6)
    );
    assert_close!(peak.peak_multiple, Some(2.0));
    assert_close!(peak.max_error_rate, Some(0.05));
    assert_close!(peak.rps, None);
    assert_eq!(
        (rate.text.as_str(), rate.line),
        ("sustain 100 messages/sec on a single node", 6)
    );
    assert_close!(rate.rps, Some(100.0));
    assert_close!(rate.peak_multiple, None);
    // Retry policies from labelled bullets; "2 retries" is not silently turned into attempts.
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
                "Delivery Guarantees",
                Some("exponential"),
                Some(4),
                vec![2000.0, 4000.0, 8000.0],
                Some(0.25),
                53
            ),
            (
                "Webhook retries",
                Some("fixed"),
                None,
                vec![10_000.0],
                None,
                54
            ),
        ]
    );
    let diags: Vec<_> = c
        .diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(
        diags,
        [(
            54,
            "retry \"Webhook retries\": 2 retries, not attempts; not read as max attempts"
        )]
    );
}

#[test]
fn a_spec_without_performance_section_has_no_claims_and_no_noise() {
    let c = parse(CATALOG);
    let expected = Claims {
        service: Some("Catalog Search".into()),
        ..Claims::default()
    };
    assert_eq!(c, expected);
}

#[test]
fn decorators_dicts_tables_and_breakers_named_by_heading() {
    let c = parse(ORDERS);
    assert_eq!(c.service.as_deref(), Some("Order Service"));
    let deps: Vec<_> = c
        .dependencies
        .iter()
        .map(|d| (d.name.as_str(), d.timeout_ms, d.fallback_status, d.line))
        .collect();
    assert_eq!(
        deps,
        [
            ("InventoryService", Some(750.0), None, 8),
            ("PaymentsGateway", Some(5000.0), Some(502), 9),
            ("Kafka", Some(1000.0), None, 10)
        ]
    );

    // The prose "opens after 7 consecutive failures" restates the code block: one breaker, not two.
    assert_eq!(c.breakers.len(), 4, "{:#?}", c.breakers);
    breaker(
        &c,
        0,
        Some("breaker"),
        Some("InventoryService"),
        (Some(7), Some(12_000.0), None),
        24,
    );
    breaker(
        &c,
        1,
        Some("payments"),
        Some("PaymentsGateway"),
        (Some(3), Some(1500.0), None),
        33,
    );
    breaker(
        &c,
        2,
        Some("kafka_producer"),
        Some("Kafka"),
        (Some(20), Some(120_000.0), None),
        34,
    );
    breaker(
        &c,
        3,
        Some("publish_audit_event"),
        None,
        (Some(2), Some(60_000.0), None),
        39,
    );

    assert_eq!(c.rate_limits.len(), 3);
    rate(&c, 0, "create_order", 50, 1.0, Some("ip"), 48);
    rate(&c, 1, "Free", 100, 3600.0, None, 55);
    rate(&c, 2, "Partner", 20, 1.0, None, 56);

    assert_close!(c.availability, Some(0.9999));
    assert_eq!(c.availability_line, Some(16));
    assert_eq!(c.throughput.len(), 1);
    assert_eq!(
        (c.throughput[0].text.as_str(), c.throughput[0].line),
        ("Throughput 250 orders/sec sustained", 17)
    );
    assert_close!(c.throughput[0].rps, Some(250.0));

    // Several breakers, and the audit one names no known dependency: said, not guessed.
    let diags: Vec<_> = c.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(diags, [39]);
    assert!(c.diagnostics[0].message.contains("publish_audit_event"));
}

#[test]
fn unreadable_claims_become_diagnostics_with_their_lines() {
    let c = parse(BROKEN);
    let found: Vec<(usize, &str)> = c
        .diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    let expect = [
        (7, "\"soon\""),
        (8, "without a name"),
        (16, "P50 of \"Sync item\": could not read \"30\""),
        (16, "P95 of \"Sync item\": could not read \"fast\""),
        (16, "P99 of \"Sync item\": could not read \"~200ms\""),
        (18, "P99 budget: could not read \"0.5\""),
        (23, "failure_threshold = \"many\""),
        (23, "recovery_timeout = \"soonish\""),
        (30, "\"Max Retries\" gives 3 retries"),
        (30, "\"doubling from 100\""),
        (31, "\"several\""),
        (39, "not a percentage"),
        (43, "99.5% conflicts with 99.9%"),
    ];
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    for ((line, msg), (want_line, want)) in found.iter().zip(expect) {
        assert_eq!(*line, want_line, "{msg}");
        assert!(
            msg.contains(want),
            "line {line}: {msg:?} should mention {want:?}"
        );
    }
    // What could be read still is.
    latency(&c, &[("Sync item", None, None, None, Some(4000.0), 16)]);
    assert_eq!(c.dependencies.len(), 1);
    assert_close!(c.dependencies[0].timeout_ms, None);
    breaker(
        &c,
        0,
        Some("warehouse_breaker"),
        Some("Warehouse"),
        (None, None, None),
        23,
    );
    assert_eq!(c.retries[1].backoff_ms, [1000.0]);
    assert_close!(c.availability, Some(0.999));
    assert!(c.latency_budget.is_none());
    assert_eq!(
        c.alerts[0].condition,
        AlertCondition::Other {
            text: "Error rate > 0.05 for 5m".into()
        }
    );
}

#[test]
fn lookups_by_normalised_name() {
    let c = parse(PAYMENTS);
    assert_eq!(c.latency_for("get_payment").map(|t| t.line), Some(29));
    assert_eq!(c.latency_for("GET PAYMENT").map(|t| t.line), Some(29));
    assert!(c.latency_for("get payments").is_none());
    assert_eq!(c.dependency("acquirer-api").map(|d| d.line), Some(18));
    assert_eq!(
        c.dependency("acquirer").map(|d| d.name.as_str()),
        Some("AcquirerAPI")
    );
    assert!(c.dependency("billing").is_none());
    assert_eq!(
        c.breaker_for("AcquirerAPI").and_then(|b| b.name.as_deref()),
        Some("acquirer_breaker")
    );
    assert_eq!(
        c.breaker_for("fraud score").and_then(|b| b.name.as_deref()),
        Some("fraud_score_breaker")
    );
    assert!(c.breaker_for("Redis").is_none());
    assert_eq!(redline::spec::normalize_name(" Fraud-Score "), "fraudscore");

    // One breaker that names no dependency guards them all.
    let single =
        parse("## Backend Spec: X\n\n```python\ncb = CircuitBreaker(failure_threshold=3)\n```\n");
    assert_eq!(
        single
            .breaker_for("anything")
            .and_then(|b| b.failure_threshold),
        Some(3)
    );
}

#[test]
fn header_units_shares_of_requests_integrations_and_js_breakers() {
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

    // camelCase keys; a bare 30000 follows the format's rule (seconds) and says so.
    assert_eq!(c.breakers.len(), 1);
    breaker(
        &c,
        0,
        Some("taxBreaker"),
        Some("TaxEngine"),
        (Some(5), Some(30_000_000.0), None),
        30,
    );
    assert_eq!(c.diagnostics.len(), 1, "{:#?}", c.diagnostics);
    assert_eq!(c.diagnostics[0].line, 33);
    assert!(c.diagnostics[0]
        .message
        .contains("resetTimeout = 30000 read as seconds"));

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

#[test]
fn windows_line_endings_read_the_same() {
    for spec in [PAYMENTS, LEDGER, NOTIFICATIONS, ORDERS, CHECKOUT, BROKEN] {
        assert_eq!(parse(&spec.replace('\n', "\r\n")), parse(spec));
    }
}

#[test]
fn prose_explaining_a_code_breaker_adds_no_breaker() {
    let spec = "## Backend Spec: S\n\n#### Circuit Breaker\n\n```python\ncb = CircuitBreaker(failure_threshold=4, recovery_timeout=30)\n```\n\nThe breaker stays open for 30 seconds.\nAfter that it lets 1 probe request through.\n";
    let c = parse(spec);
    assert_eq!(c.breakers.len(), 1, "{:#?}", c.breakers);
    breaker(&c, 0, Some("cb"), None, (Some(4), Some(30_000.0), None), 6);

    // Without a code block, the same prose is the claim.
    let prose_only = "## Backend Spec: S\n\n#### Circuit Breaker\n\nThe breaker stays open for 30 seconds.\nAfter that it lets 1 probe request through.\n";
    let c = parse(prose_only);
    assert_eq!(c.breakers.len(), 1, "{:#?}", c.breakers);
    breaker(&c, 0, None, None, (None, Some(30_000.0), Some(1)), 5);
}

#[test]
fn method_and_path_columns_make_the_operation() {
    let spec = "## Backend Spec: T\n\n| Method | Path | P95 | P99 |\n|---|---|---|---|\n| GET | /orders | 100ms | 1s |\n| POST | /orders | 200ms | - |\n";
    let c = parse(spec);
    latency(
        &c,
        &[
            ("GET /orders", None, Some(100.0), Some(1000.0), None, 5),
            ("POST /orders", None, Some(200.0), None, None, 6),
        ],
    );
    assert!(c.latency_for("get /orders").is_some());
}

#[test]
fn labelled_bullets_are_operations_or_the_budget() {
    let spec = "## Backend Spec: T\n\n### Performance\n\n- Overall: P99 < 900ms\n- Checkout: P95 < 300ms, P99 < 0.8s\n- `GET /cart`: P50 under 20 ms\n\n### Notes\n\n- Note: P95 < 250ms everywhere\n- create_order: P99 < 0.5\n";
    let c = parse(spec);
    latency(
        &c,
        &[
            ("Checkout", None, Some(300.0), Some(800.0), None, 6),
            ("GET /cart", Some(20.0), None, None, None, 7),
        ],
    );
    let budget = c.latency_budget.as_ref().unwrap();
    assert_eq!(budget.line, 5);
    assert_close!(budget.p95_ms, Some(250.0));
    assert_close!(budget.p99_ms, Some(900.0));
    let diags: Vec<_> = c.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(diags, [12]);
    assert!(
        c.diagnostics[0]
            .message
            .starts_with("P99 of \"create_order\""),
        "{:?}",
        c.diagnostics
    );
}
