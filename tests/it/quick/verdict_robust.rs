//! The verdict module never panics and never passes a claim on arbitrary, even nonsensical, input.

use crate::verdict_support;

use proptest::prelude::*;
use redline::result::{
    AppliedFault, ClientLogEntry, DependencyReport, HealthSample, RunResult, VerdictStatus,
};
use redline::verdict::{judge, JudgeContext};
use redline_proxy::log::{LogEntry, Outcome};
use verdict_support::claims::reference;

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Forwarded),
        Just(Outcome::Aborted),
        Just(Outcome::Reset),
        Just(Outcome::Hung),
        Just(Outcome::Truncated),
        Just(Outcome::CallerGaveUp),
        Just(Outcome::UpstreamError),
        Just(Outcome::Refused),
    ]
}

fn entry() -> impl Strategy<Value = LogEntry> {
    (
        0.0..30_000.0f64,
        outcome(),
        prop::option::of(100u16..600),
        prop::option::of(0.0..5000.0f64),
        0.0..5000.0f64,
        0u8..20,
    )
        .prop_map(
            |(t_ms, outcome, status, gave_up_ms, total_ms, id)| LogEntry {
                seq: 0,
                t_ms,
                method: "GET".into(),
                path: "/".into(),
                correlation_id: Some(format!("r{id}")),
                trace_id: None,
                fault: None,
                outcome,
                status,
                upstream_status: status,
                upstream_ms: None,
                gave_up_ms,
                total_ms,
                h2: None,
            },
        )
}

fn client() -> impl Strategy<Value = ClientLogEntry> {
    (
        0.0..30_000.0f64,
        prop::option::of(100u16..600),
        0.0..5000.0f64,
        any::<bool>(),
        0u8..20,
    )
        .prop_map(
            |(t_ms, status, latency_ms, retry_after, id)| ClientLogEntry {
                t_ms,
                request: "get-item".into(),
                request_id: Some(format!("r{id}")),
                trace_id: None,
                status,
                error: status.is_none().then(|| "timeout".to_string()),
                latency_ms,
                retry_after,
                grpc_status: None,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_runs_never_panic(
        mut log in prop::collection::vec(entry(), 0..300),
        clients in prop::collection::vec(client(), 0..300),
        from in 0.0..20.0f64,
        len in 0.0..20.0f64,
        kind in prop_oneof![Just("abort"), Just("hang"), Just("latency"), Just("down")],
        health in prop::collection::vec((0.0..30.0f64, any::<bool>()), 0..40),
    ) {
        log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        for (i, e) in log.iter_mut().enumerate() {
            e.seq = i as u64;
        }
        let run = RunResult {
            duration_s: 30.0,
            faults: vec![AppliedFault {
                dependency: "UserService".into(),
                kind: kind.into(),
                params: serde_json::json!({}),
                applied_at_s: from,
                removed_at_s: Some(from + len),
                source: "schedule".into(),
            }],
            dependencies: [("UserService".to_string(), DependencyReport { log, ..DependencyReport::default() })].into(),
            client_log: clients,
            health: health
                .into_iter()
                .map(|(t_s, ok)| HealthSample { t_s, status: Some(200), state: Some(if ok { "healthy" } else { "degraded" }.into()) })
                .collect(),
            ..RunResult::default()
        };
        let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
        for v in &j.verdicts {
            prop_assert!(!v.id.is_empty() && !v.detail.is_empty() && !v.source.is_empty());
        }
    }
}

/// Breaker claims of every kind, with figures that may be nonsensical (zero, negative, NaN).
fn breaker_claim() -> impl Strategy<Value = redline::spec::claims::Breaker> {
    use redline::spec::claims::{Breaker, BreakerKind, CloseRule, RateTrip};
    let figure = || {
        prop_oneof![
            Just(f64::NAN),
            Just(-1.0),
            Just(0.0),
            0.0..2.0f64,
            1.0..20_000.0f64
        ]
    };
    (
        prop_oneof![
            Just(None),
            Just(Some(BreakerKind::Consecutive)),
            Just(Some(BreakerKind::FailureRate)),
            Just(Some(BreakerKind::FailuresInWindow)),
        ],
        (figure(), figure(), figure(), figure(), figure()),
        (
            prop::option::of(0u32..50),
            prop::option::of(0u32..50),
            prop::option::of(0u32..5),
        ),
        prop_oneof![
            Just(None),
            Just(Some(RateTrip::AtLeast)),
            Just(Some(RateTrip::Above))
        ],
        prop_oneof![
            Just(None),
            Just(Some(CloseRule::FirstSuccess)),
            Just(Some(CloseRule::AllProbes)),
            Just(Some(CloseRule::ProbeRateBelowThreshold)),
        ],
    )
        .prop_map(
            |(kind, (rate, window, recovery, mult, cap), (n, calls, probes), trips, close)| {
                Breaker {
                    dependency: Some("UserService".into()),
                    kind,
                    failure_threshold: n,
                    failure_rate: Some(rate),
                    rate_trips: trips,
                    window_calls: calls,
                    window_ms: Some(window),
                    minimum_calls: n,
                    recovery_timeout_ms: Some(recovery),
                    recovery_multiplier: Some(mult),
                    recovery_max_ms: Some(cap),
                    recovery_jitter: Some(rate),
                    half_open_requests: probes,
                    close_rule: close,
                    line: 1,
                    ..Breaker::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Rate, windowed-count and close-rule claims on arbitrary logs: no panic, every verdict filled.
    #[test]
    fn arbitrary_breaker_claims_never_panic(
        mut log in prop::collection::vec(entry(), 0..300),
        clients in prop::collection::vec(client(), 0..300),
        from in 0.0..20.0f64,
        len in 0.0..20.0f64,
        b in breaker_claim(),
    ) {
        log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        for (i, e) in log.iter_mut().enumerate() {
            e.seq = i as u64;
        }
        let run = RunResult {
            duration_s: 30.0,
            faults: vec![AppliedFault {
                dependency: "UserService".into(),
                kind: "abort".into(),
                params: serde_json::json!({}),
                applied_at_s: from,
                removed_at_s: Some(from + len),
                source: "schedule".into(),
            }],
            dependencies: [("UserService".to_string(), DependencyReport { log, ..DependencyReport::default() })].into(),
            client_log: clients,
            ..RunResult::default()
        };
        let mut claims = reference(5, 5000.0, 2);
        claims.breakers = vec![b];
        let j = judge(&run, &claims, &JudgeContext::default());
        for v in &j.verdicts {
            prop_assert!(!v.id.is_empty() && !v.detail.is_empty() && !v.source.is_empty());
            prop_assert!(!v.measured.is_empty());
        }
    }
}

#[test]
fn an_empty_result_passes_nothing() {
    let j = judge(
        &RunResult::default(),
        &reference(5, 5000.0, 2),
        &JudgeContext::default(),
    );
    assert!(
        j.verdicts.iter().all(|v| v.status != VerdictStatus::Pass),
        "{:#?}",
        j.verdicts
    );
}
