//! broken-values.md: values that look like claims but cannot be read become diagnostics with lines.

use super::*;

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
