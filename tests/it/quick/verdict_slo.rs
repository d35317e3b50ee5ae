//! Latency, error-rate and availability verdicts, sample-size rules and name matching.

use crate::verdict_support;

use std::time::Duration;

use redline::result::{RunResult, VerdictStatus};
use redline::spec::claims::{LatencyBudget, LatencyTarget};
use redline::spec::Claims;
use redline::verdict::{judge, JudgeContext, Judgement, RequestInfo, SloEntry};
use verdict_support::claims::reference;
use verdict_support::*;

fn find<'a>(j: &'a Judgement, id: &str) -> &'a redline::result::Verdict {
    j.verdicts
        .iter()
        .find(|v| v.id == id)
        .unwrap_or_else(|| panic!("no verdict {id}; have {:#?}", j.verdicts))
}

fn target(
    op: &str,
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
    timeout: Option<f64>,
) -> LatencyTarget {
    LatencyTarget {
        operation: op.into(),
        p50_ms: p50,
        p95_ms: p95,
        p99_ms: p99,
        timeout_ms: timeout,
        line: 112,
        ..LatencyTarget::default()
    }
}

/// A quiet run: each request takes about 4.5 ms.
fn quiet(rate: f64, seconds: f64) -> RunResult {
    simulate(
        &Service::reference(),
        &Load {
            rate,
            duration_ms: seconds * 1000.0,
            ..Load::default()
        },
        &[],
    )
}

#[test]
fn percentiles_pass_and_fail_against_their_claims() {
    let run = quiet(20.0, 60.0);
    let claims = Claims {
        latency: vec![target(
            "get  ITEM",
            Some(10.0),
            Some(20.0),
            Some(4.0),
            Some(1000.0),
        )],
        latency_budget: Some(LatencyBudget {
            p50_ms: Some(100.0),
            p95_ms: None,
            p99_ms: Some(500.0),
            line: 90,
            ..LatencyBudget::default()
        }),
        ..Claims::default()
    };
    let j = judge(&run, &claims, &JudgeContext::default());
    let p50 = find(&j, "latency.get-item.p50");
    assert_eq!(p50.status, VerdictStatus::Pass, "{p50:?}");
    assert_eq!(p50.source, "spec.md:112");
    assert_eq!(find(&j, "latency.get-item.p95").status, VerdictStatus::Pass);
    let p99 = find(&j, "latency.get-item.p99");
    assert_eq!(p99.status, VerdictStatus::Fail, "{p99:?}");
    assert!(
        p99.detail.contains("over the claimed 4.0 ms"),
        "{}",
        p99.detail
    );
    assert_eq!(
        find(&j, "latency.get-item.timeout").status,
        VerdictStatus::Pass
    );
    assert_eq!(find(&j, "latency.global.p50").status, VerdictStatus::Pass);
    assert_eq!(find(&j, "latency.global.p99").status, VerdictStatus::Pass);
    assert!(j.failed());
}

#[test]
fn too_few_samples_are_inconclusive_with_the_rule_stated() {
    let run = quiet(5.0, 20.0); // about 100 requests
    let claims = Claims {
        latency: vec![target("GET item", Some(10.0), Some(20.0), Some(1.0), None)],
        ..Claims::default()
    };
    let j = judge(&run, &claims, &JudgeContext::default());
    assert_eq!(find(&j, "latency.get-item.p50").status, VerdictStatus::Pass);
    let p95 = find(&j, "latency.get-item.p95");
    assert_eq!(p95.status, VerdictStatus::Inconclusive);
    assert!(
        p95.detail.contains("at least 200 samples (10/(1-q))"),
        "{}",
        p95.detail
    );
    // Even a percentile far over its claim is not failed on too few samples.
    assert_eq!(
        find(&j, "latency.get-item.p99").status,
        VerdictStatus::Inconclusive
    );
    assert!(!j.failed());
}

#[test]
fn unmatched_operations_are_reported_and_the_scenario_can_map_them() {
    let run = quiet(20.0, 20.0);
    let claims = Claims {
        latency: vec![target("Fetch item", Some(10.0), None, None, None)],
        ..Claims::default()
    };
    let j = judge(&run, &claims, &JudgeContext::default());
    let v = find(&j, "latency.fetch-item");
    assert_eq!(v.status, VerdictStatus::Inconclusive);
    assert!(
        j.notes
            .iter()
            .any(|n| n.contains("'Fetch item' is exercised by no [[request]]")),
        "{:?}",
        j.notes
    );
    assert!(
        j.notes
            .iter()
            .any(|n| n.contains("request 'get-item' exercises operation 'GET item'")),
        "{:?}",
        j.notes
    );

    let mut ctx = JudgeContext::default();
    ctx.requests.insert(
        REQ.into(),
        RequestInfo {
            operation: Some("fetch-item".into()),
            ..RequestInfo::default()
        },
    );
    let j = judge(&run, &claims, &ctx);
    assert_eq!(
        find(&j, "latency.fetch-item.p50").status,
        VerdictStatus::Pass
    );
    assert!(j.notes.is_empty(), "{:?}", j.notes);
}

#[test]
fn scenario_slo_overrides_the_spec_and_names_its_line() {
    let run = quiet(20.0, 60.0);
    let claims = Claims {
        latency: vec![target("GET item", Some(10.0), None, Some(100.0), None)],
        ..Claims::default()
    };
    let ctx = JudgeContext {
        slos: vec![
            SloEntry {
                operation: Some("get item".into()),
                p99: Some(Duration::from_millis(2)),
                line: 40,
                ..SloEntry::default()
            },
            SloEntry {
                error_rate: Some(0.01),
                line: 44,
                ..SloEntry::default()
            },
        ],
        ..JudgeContext::default()
    };
    let j = judge(&run, &claims, &ctx);
    let p99 = find(&j, "latency.get-item.p99");
    assert_eq!(
        (p99.status, p99.source.as_str()),
        (VerdictStatus::Fail, "scenario.toml:40")
    );
    let p50 = find(&j, "latency.get-item.p50");
    assert_eq!(
        (p50.status, p50.source.as_str()),
        (VerdictStatus::Pass, "spec.md:112")
    );
    let e = find(&j, "errors.global.baseline");
    assert_eq!(
        (e.status, e.source.as_str()),
        (VerdictStatus::Pass, "scenario.toml:44")
    );
}

#[test]
fn error_objectives_are_judged_per_phase_with_the_fallback_excused() {
    let faults = vec![Fault {
        from_ms: 20_000.0,
        to_ms: 35_000.0,
        kind: FaultKind::Abort {
            status: 503,
            probability: 1.0,
        },
    }];
    let run = simulate(
        &Service::reference(),
        &Load {
            duration_ms: 60_000.0,
            ..Load::default()
        },
        &faults,
    );
    let mut claims = reference(5, 5000.0, 2);
    claims.error_rate_max = Some(0.01);
    claims.error_rate_line = Some(150);
    claims.availability = Some(0.999);
    claims.availability_line = Some(151);
    let j = judge(&run, &claims, &JudgeContext::default());
    assert_eq!(
        find(&j, "errors.global.baseline").status,
        VerdictStatus::Pass
    );
    // Every request of the fault phase got the fallback: left out of the rate on both sides, so
    // the phase holds no evidence about it (not "0% errors") and has no row; a row names it.
    let has = |id: &str| j.verdicts.iter().any(|v| v.id == id);
    assert!(!has("errors.global.fault-1"), "{:?}", j.verdicts);
    let named = j
        .verdicts
        .iter()
        .filter(|v| v.id.starts_with("errors.global."))
        .find(|v| v.detail.contains("Left out: 'fault-1'"));
    assert!(named.is_some(), "{:?}", j.verdicts);
    // 99.9% needs 3000 requests (rule of three); no phase had that many alone, so the phases are
    // judged together in one row, still too few: inconclusive, saying how many it needs.
    assert!(!has("availability.global.baseline"), "{:?}", j.verdicts);
    let a = find(&j, "availability.global.whole-run");
    assert_eq!(a.status, VerdictStatus::Inconclusive, "{a:?}");
    assert!(a.detail.contains("at least 3000"), "{}", a.detail);
    assert!(a.detail.contains("'baseline' ("), "{}", a.detail);

    // A spec whose fallback is a degraded 200 does not excuse the 503s: the fault phase fails.
    claims.dependencies[0].fallback_status = None;
    claims.dependencies[0].fallback = Some("Serve cached profile".into());
    let j = judge(&run, &claims, &JudgeContext::default());
    let f = find(&j, "errors.global.fault-1");
    assert_eq!(f.status, VerdictStatus::Fail, "{f:?}");
    assert!(f.detail.contains("phase 'fault-1'"), "{}", f.detail);
    assert_eq!(
        find(&j, "fallback.userservice.status").status,
        VerdictStatus::Fail
    );
}

#[test]
fn phase_bound_objectives_have_their_own_ids_and_replace_the_general_one_there() {
    let faults = vec![Fault {
        from_ms: 20_000.0,
        to_ms: 35_000.0,
        kind: FaultKind::Abort {
            status: 503,
            probability: 1.0,
        },
    }];
    let run = simulate(
        &Service::reference(),
        &Load {
            duration_ms: 60_000.0,
            ..Load::default()
        },
        &faults,
    );
    let mut claims = reference(5, 5000.0, 2);
    claims.error_rate_max = Some(0.01);
    claims.error_rate_line = Some(150);
    claims.latency = vec![target("GET item", Some(50.0), None, None, None)];
    let ctx = JudgeContext {
        slos: vec![
            SloEntry {
                phase: Some("fault-1".into()),
                error_rate: Some(0.0),
                line: 50,
                ..SloEntry::default()
            },
            SloEntry {
                operation: Some("GET item".into()),
                phase: Some("recovery".into()),
                p50: Some(Duration::from_millis(1)),
                line: 52,
                ..SloEntry::default()
            },
        ],
        ..JudgeContext::default()
    };
    let j = judge(&run, &claims, &ctx);
    let mut ids: Vec<&str> = j.verdicts.iter().map(|v| v.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "duplicate verdict ids: {ids:?}");
    // The scenario's own objective for the fault phase judges it as measured: 503s count.
    let f = find(&j, "errors.global.fault-1");
    assert_eq!(
        (f.status, f.source.as_str()),
        (VerdictStatus::Fail, "scenario.toml:50")
    );
    assert_eq!(find(&j, "latency.get-item.p50").status, VerdictStatus::Pass);
    let r = find(&j, "latency.get-item.recovery.p50");
    assert_eq!(
        (r.status, r.source.as_str()),
        (VerdictStatus::Fail, "scenario.toml:52")
    );
}

#[test]
fn p90_and_p999_are_judged_and_p999_says_how_many_samples_it_needs() {
    let run = quiet(20.0, 60.0);
    let mut t = target("get item", None, None, None, None);
    t.p90_ms = Some(50.0);
    t.p999_ms = Some(50.0);
    t.percentiles = [("90".to_string(), 50.0), ("99.9".to_string(), 50.0)].into();
    let claims = Claims {
        latency: vec![t],
        ..Claims::default()
    };
    let j = judge(&run, &claims, &JudgeContext::default());
    let p90 = find(&j, "latency.get-item.p90");
    assert_eq!(p90.status, VerdictStatus::Pass, "{p90:?}");
    assert!(p90.claim.starts_with("P90 latency"), "{p90:?}");
    let p999 = find(&j, "latency.get-item.p999");
    assert_eq!(p999.status, VerdictStatus::Inconclusive, "{p999:?}");
    assert!(p999.claim.starts_with("P99.9 latency"), "{p999:?}");
    assert!(p999.detail.contains("at least 10000 samples"), "{p999:?}");
    // The reports list each stated percentile as a latency target.
    let mut judged = run.clone();
    judged.verdicts = j.verdicts.clone();
    let report = redline::report::Report::new(&judged);
    let shown: Vec<&str> = report
        .targets
        .iter()
        .map(|t| t.percentile.as_str())
        .collect();
    assert_eq!(shown, ["P90", "P99.9"], "{:?}", report.targets);
}

#[test]
fn operation_objectives_read_from_the_spec_are_judged_per_phase_and_state_their_window() {
    let run = quiet(20.0, 60.0);
    let spec = "# Items\n\n## SLOs\n\n| Operation | Availability | Window |\n|---|---|---|\n| GET item | 99.5% | monthly |\n\n\
                At most 1 in 500 searches may fail in any 30-minute window.\n";
    let claims = redline::spec::parse(spec);
    let j = judge(&run, &claims, &JudgeContext::default());
    let a = j
        .verdicts
        .iter()
        .find(|v| v.id.starts_with("availability.get-item."))
        .unwrap_or_else(|| panic!("{:#?}", j.verdicts));
    assert_eq!(a.status, VerdictStatus::Pass, "{a:?}");
    assert_eq!(a.source, "spec.md:7");
    assert!(
        a.detail.contains("window for this objective: monthly;"),
        "{}",
        a.detail
    );
    // No request searches: inconclusive, never silent.
    let s = find(&j, "errors.searches");
    assert_eq!(s.status, VerdictStatus::Inconclusive, "{s:?}");
    assert_eq!(s.expected, "≤ 0.2%");
}
