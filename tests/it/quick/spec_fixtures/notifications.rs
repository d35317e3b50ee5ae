//! notifications-prose.md: claims in prose and bullets (breakers, budget, rate limits, alerts, objectives, retries).

use super::*;

#[test]
fn notifications_budget_and_dependencies() {
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
}

#[test]
fn notifications_prose_breakers() {
    let c = parse(NOTIFICATIONS);
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
}

#[test]
fn notifications_prose_rate_limits_and_alert_bullets() {
    let c = parse(NOTIFICATIONS);
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
}

#[test]
fn notifications_objectives_and_throughput() {
    let c = parse(NOTIFICATIONS);
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
}

#[test]
fn notifications_retry_bullets_and_diagnostics() {
    let c = parse(NOTIFICATIONS);
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
