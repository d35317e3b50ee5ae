//! Small specs and lookups: no performance section, normalised names, CRLF, prose beside code, labelled bullets.

use super::*;

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
fn windows_line_endings_read_the_same() {
    for spec in [PAYMENTS, LEDGER, NOTIFICATIONS, ORDERS, CHECKOUT, BROKEN] {
        assert_eq!(parse(&spec.replace('\n', "\r\n")), parse(spec));
    }
}

#[test]
fn prose_beside_a_code_breaker_describes_that_breaker() {
    let spec = "## Backend Spec: S\n\n#### Circuit Breaker\n\n```python\ncb = CircuitBreaker(failure_threshold=4, recovery_timeout=30)\n```\n\nThe breaker stays open for 30 seconds.\nAfter that it lets 1 probe request through.\n";
    let c = parse(spec);
    // One breaker; the prose adds the probe count the code block does not state.
    assert_eq!(c.breakers.len(), 1, "{:#?}", c.breakers);
    breaker(
        &c,
        0,
        Some("cb"),
        None,
        (Some(4), Some(30_000.0), Some(1)),
        6,
    );
    assert!(c.diagnostics.is_empty());

    // Prose that contradicts the code block is named, and the code block's value is kept.
    let c = parse(
        &spec
            .replace("after 30 seconds", "")
            .replace("open for 30 seconds", "open for 45 seconds"),
    );
    breaker(
        &c,
        0,
        Some("cb"),
        None,
        (Some(4), Some(30_000.0), Some(1)),
        6,
    );
    let diags: Vec<_> = c
        .diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(diags, [(9, "circuit breaker: the text says recovery timeout 45000ms, the code block (line 6) says 30000ms; kept the code block's value")]);

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
    let spec = "## Backend Spec: T\n\n### Performance\n\n- Overall: P99 < 900ms\n- Checkout: P95 < 300ms, P99 < 0.8s\n- `GET /cart`: P50 under 20 ms, timeout 2s\n\n### Notes\n\n- Note: P95 < 250ms everywhere\n- create_order: P99 < 0.5\n";
    let c = parse(spec);
    latency(
        &c,
        &[
            ("Checkout", None, Some(300.0), Some(800.0), None, 6),
            ("GET /cart", Some(20.0), None, None, Some(2000.0), 7),
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

#[test]
fn an_objectives_table_can_state_the_budget() {
    let spec = "## Backend Spec: T\n\n### SLOs\n\n| Objective | Target |\n|---|---|\n| Availability | 99.9% |\n| P99 latency | < 400 ms |\n| P50 latency | 60ms |\n";
    let c = parse(spec);
    let budget = c.latency_budget.as_ref().unwrap();
    assert_eq!(budget.line, 8);
    assert_close!(budget.p50_ms, Some(60.0));
    assert_close!(budget.p99_ms, Some(400.0));
    assert_close!(c.availability, Some(0.999));
    assert_eq!(c.availability_line, Some(7));
    assert!(c.latency.is_empty() && c.diagnostics.is_empty());
}

#[test]
fn a_dependency_rate_limit_is_not_the_service_limit() {
    let spec = "## Backend Spec: T\n\n## External Service Integration\n\n### Stripe Integration\n\n- **Purpose**: charges\n- **Rate Limiting**: 100 requests per second\n\n## Security\n\n### Rate Limiting\n\nDefault: 30/minute per user\n";
    let c = parse(spec);
    assert_eq!(c.rate_limits.len(), 1, "{:#?}", c.rate_limits);
    rate(&c, 0, "Default", 30, 60.0, Some("user"), 14);
    let diags: Vec<_> = c.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(diags, [8]);
}

#[test]
fn an_unknown_rate_window_is_a_diagnostic() {
    let spec = "## Backend Spec: T\n\n#### Rate Limiting\n\n```python\nLIMITS = {\n    \"default\": \"100/fortnight\",\n    \"search\": \"20/minute\",\n    \"path\": \"/v1/search\",\n}\n```\n";
    let c = parse(spec);
    assert_eq!(c.rate_limits.len(), 1);
    rate(&c, 0, "search", 20, 60.0, None, 8);
    let diags: Vec<_> = c
        .diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(diags, [(7, "rate limit \"100/fortnight\": not a rate (expected e.g. \"100/minute\" or \"10 per second\")")]);
}

#[test]
fn two_targets_for_one_operation_are_named() {
    let spec = "## Backend Spec: T\n\n| Operation | P99 |\n|---|---|\n| Get order | 100ms |\n\n| Endpoint | P99 |\n|---|---|\n| get_order | 300ms |\n";
    let c = parse(spec);
    assert_eq!(c.latency.len(), 2);
    assert_eq!(c.latency_for("GET ORDER").map(|t| t.line), Some(5));
    let diags: Vec<_> = c
        .diagnostics
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(
        diags,
        [(
            9,
            "operation \"get_order\" already has latency targets on line 5; lookups use line 5"
        )]
    );
}
