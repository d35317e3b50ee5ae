//! orders-decorators.md: setext title, decorators, dict breakers, rate-limit tables, SLO tables, breaker named by heading.

use super::*;

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
