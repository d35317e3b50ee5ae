//! Breaker, timeout, fallback and health verdicts on modelled runs of the reference service and of
//! services of other designs.

mod verdict_support;

use redline::result::{Verdict, VerdictStatus};
use redline::verdict::{judge, JudgeContext, Judgement};
use verdict_support::claims::reference;
use verdict_support::*;

fn status(j: &Judgement, id: &str) -> VerdictStatus {
    find(j, id).status
}

fn find<'a>(j: &'a Judgement, id: &str) -> &'a Verdict {
    j.verdicts
        .iter()
        .find(|v| v.id == id)
        .unwrap_or_else(|| panic!("no verdict {id}; have {:#?}", j.verdicts))
}

fn dump(j: &Judgement) -> String {
    let mut s = String::new();
    for v in &j.verdicts {
        s.push_str(&format!(
            "{:?} {} | {} | {} | {}\n",
            v.status, v.id, v.expected, v.measured, v.detail
        ));
    }
    for e in &j.episodes {
        s.push_str(&format!("{e:?}\n"));
    }
    s
}

fn abort_window() -> Vec<Fault> {
    vec![Fault {
        from_ms: 10_000.0,
        to_ms: 25_000.0,
        kind: FaultKind::Abort {
            status: 503,
            probability: 1.0,
        },
    }]
}

fn hang_window() -> Vec<Fault> {
    vec![Fault {
        from_ms: 10_000.0,
        to_ms: 25_000.0,
        kind: FaultKind::Hang,
    }]
}

#[test]
fn reference_service_under_abort_passes_its_own_spec() {
    let run = simulate(&Service::reference(), &Load::default(), &abort_window());
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    println!("{}", dump(&j));
    assert_eq!(status(&j, "breaker.userservice.opens"), VerdictStatus::Pass);
    assert_eq!(
        status(&j, "breaker.userservice.failure_threshold"),
        VerdictStatus::Pass
    );
    assert_eq!(
        status(&j, "breaker.userservice.recovery_timeout"),
        VerdictStatus::Pass
    );
    assert_eq!(
        status(&j, "breaker.userservice.resumes"),
        VerdictStatus::Pass
    );
    assert_eq!(
        status(&j, "fallback.userservice.status"),
        VerdictStatus::Pass
    );
    assert_eq!(
        status(&j, "fallback.userservice.fail_fast"),
        VerdictStatus::Pass
    );
    assert_eq!(status(&j, "health.userservice.during"), VerdictStatus::Pass);
    assert_eq!(
        status(&j, "health.userservice.healthy"),
        VerdictStatus::Pass
    );
    assert!(
        j.episodes.len() >= 3,
        "opened, then reopened at least twice in 15 s: {:?}",
        j.episodes
    );
    assert_eq!(j.episodes[0].failures_before_open, 5);
}

#[test]
fn reference_service_under_hang_shows_its_two_probes() {
    let run = simulate(&Service::reference(), &Load::default(), &hang_window());
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    println!("{}", dump(&j));
    for id in [
        "opens",
        "failure_threshold",
        "recovery_timeout",
        "half_open_requests",
        "resumes",
    ] {
        assert_eq!(
            status(&j, &format!("breaker.userservice.{id}")),
            VerdictStatus::Pass,
            "{id}"
        );
    }
    assert_eq!(status(&j, "timeout.userservice"), VerdictStatus::Pass);
    assert_eq!(
        status(&j, "timeout.userservice.client"),
        VerdictStatus::Pass
    );
}

#[test]
fn spec_claiming_other_breaker_values_fails_each_with_the_measured_value() {
    let run = simulate(&Service::reference(), &Load::default(), &hang_window());
    let j = judge(&run, &reference(10, 10_000.0, 3), &JudgeContext::default());
    println!("{}", dump(&j));
    let t = find(&j, "breaker.userservice.failure_threshold");
    assert_eq!(t.status, VerdictStatus::Fail);
    assert!(
        t.detail
            .contains("after only 5 consecutive failed call(s), fewer than the 10 claimed"),
        "{}",
        t.detail
    );
    let r = find(&j, "breaker.userservice.recovery_timeout");
    assert_eq!(r.status, VerdictStatus::Fail);
    assert!(
        r.detail.contains("shorter than the claimed 10 s"),
        "{}",
        r.detail
    );
    let k = find(&j, "breaker.userservice.half_open_requests");
    assert_eq!(k.status, VerdictStatus::Fail);
    assert!(
        k.detail.contains("let only 2 call(s) through"),
        "{}",
        k.detail
    );
    // What the service does right still passes.
    assert_eq!(status(&j, "breaker.userservice.opens"), VerdictStatus::Pass);
    assert_eq!(
        status(&j, "breaker.userservice.resumes"),
        VerdictStatus::Pass
    );

    let j = judge(&run, &reference(3, 2000.0, 1), &JudgeContext::default());
    println!("{}", dump(&j));
    let t = find(&j, "breaker.userservice.failure_threshold");
    assert_eq!(t.status, VerdictStatus::Fail);
    assert!(
        t.detail
            .contains("3 consecutive failed calls did not open the breaker"),
        "{}",
        t.detail
    );
    assert!(
        t.detail.contains("threshold is higher than claimed") && !t.detail.contains("failure-rate"),
        "{}",
        t.detail
    );
    // Resuming is judged against the breaker's own time open, not failed a second time.
    assert_eq!(
        status(&j, "breaker.userservice.resumes"),
        VerdictStatus::Pass
    );
    let r = find(&j, "breaker.userservice.recovery_timeout");
    assert!(
        r.status == VerdictStatus::Fail && r.detail.contains("longer than the claimed 2 s"),
        "{}",
        r.detail
    );
    let k = find(&j, "breaker.userservice.half_open_requests");
    assert!(
        k.status == VerdictStatus::Fail && k.detail.contains("2 calls reached UserService"),
        "{}",
        k.detail
    );
}

#[test]
fn off_by_one_threshold_claims_fail_under_a_fast_fault() {
    let run = simulate(&Service::reference(), &Load::default(), &abort_window());
    for n in [4, 6] {
        let j = judge(&run, &reference(n, 5000.0, 2), &JudgeContext::default());
        assert_eq!(
            status(&j, "breaker.userservice.failure_threshold"),
            VerdictStatus::Fail,
            "claim {n}: {}",
            dump(&j)
        );
    }
    let j = judge(&run, &reference(5, 5600.0, 2), &JudgeContext::default());
    assert_eq!(
        status(&j, "breaker.userservice.recovery_timeout"),
        VerdictStatus::Fail,
        "5.6 s is outside 5 s ±560 ms"
    );
    let j = judge(&run, &reference(5, 4400.0, 2), &JudgeContext::default());
    assert_eq!(
        status(&j, "breaker.userservice.recovery_timeout"),
        VerdictStatus::Fail
    );
}

#[test]
fn service_without_breaker_fails_clearly() {
    let svc = Service {
        breaker: Design::None,
        health_tracks_breaker: true,
        ..Service::reference()
    };
    let run = simulate(&svc, &Load::default(), &abort_window());
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    println!("{}", dump(&j));
    assert!(j.episodes.is_empty(), "{:?}", j.episodes);
    let v = find(&j, "breaker.userservice.opens");
    assert_eq!(v.status, VerdictStatus::Fail);
    assert!(
        v.detail.starts_with(
            "Calls to UserService continued through the whole fault window (10.0 s–25.0 s)"
        ),
        "{}",
        v.detail
    );
    for id in [
        "failure_threshold",
        "recovery_timeout",
        "half_open_requests",
    ] {
        assert_eq!(
            status(&j, &format!("breaker.userservice.{id}")),
            VerdictStatus::Fail,
            "{id}"
        );
    }
    // It still answers with the promised 503, only slowly: the status is right, fail-fast is not judged.
    assert_eq!(
        status(&j, "fallback.userservice.status"),
        VerdictStatus::Pass
    );
    assert!(j
        .verdicts
        .iter()
        .all(|v| v.id != "fallback.userservice.fail_fast"));
    // Its health endpoint never noticed.
    assert_eq!(status(&j, "health.userservice.during"), VerdictStatus::Fail);
    // Without a breaker every request retries in full: the retry policy is visible.
    assert_eq!(
        status(&j, "retries.userservice.attempts"),
        VerdictStatus::Pass
    );
    assert_eq!(
        status(&j, "retries.userservice.backoff"),
        VerdictStatus::Pass
    );
}

#[test]
fn breaker_claim_without_a_fault_is_inconclusive_not_pass() {
    let run = simulate(
        &Service::reference(),
        &Load {
            duration_ms: 20_000.0,
            ..Load::default()
        },
        &[],
    );
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    let v = find(&j, "breaker.userservice.opens");
    assert_eq!(v.status, VerdictStatus::Inconclusive);
    assert!(
        v.detail.contains("injected no fault into UserService"),
        "{}",
        v.detail
    );
    assert_eq!(
        status(&j, "breaker.userservice.failure_threshold"),
        VerdictStatus::Inconclusive
    );
    assert!(j.episodes.is_empty());
    assert!(!j.failed());
}

#[test]
fn percentage_breaker_with_minimum_volume_is_told_apart_from_consecutive() {
    let svc = Service {
        breaker: Design::Percentage {
            threshold: 0.5,
            window_ms: 10_000.0,
            min_volume: 20,
        },
        attempts: 1,
        backoff_ms: vec![],
        ..Service::reference()
    };
    // Every call fails: earlier successes in the window delay the opening far past 5 failures.
    let run = simulate(&svc, &Load::default(), &abort_window());
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    println!("{}", dump(&j));
    let t = find(&j, "breaker.userservice.failure_threshold");
    assert_eq!(t.status, VerdictStatus::Fail);
    assert!(
        t.detail
            .contains("5 consecutive failed calls did not open the breaker"),
        "{}",
        t.detail
    );
    assert!(t.detail.contains("failure-rate breaker"), "{}", t.detail);
    assert_eq!(status(&j, "breaker.userservice.opens"), VerdictStatus::Pass);
    assert_eq!(
        status(&j, "breaker.userservice.recovery_timeout"),
        VerdictStatus::Pass
    );

    // Some calls fail: it opens with successes in between, never on a streak of 5.
    let faults = vec![Fault {
        from_ms: 10_000.0,
        to_ms: 30_000.0,
        kind: FaultKind::Abort {
            status: 503,
            probability: 0.6,
        },
    }];
    let run = simulate(
        &svc,
        &Load {
            duration_ms: 45_000.0,
            ..Load::default()
        },
        &faults,
    );
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    println!("{}", dump(&j));
    let t = find(&j, "breaker.userservice.failure_threshold");
    assert_eq!(t.status, VerdictStatus::Fail);
    assert!(
        t.detail.contains("successes in between")
            || t.detail
                .contains("failed in a row and calls still went through"),
        "{}",
        t.detail
    );
}

#[test]
fn service_without_timeouts_under_hang_fails_the_timeout_claims() {
    let svc = Service {
        timeout_ms: None,
        ..Service::reference()
    };
    let run = simulate(&svc, &Load::default(), &hang_window());
    let ctx = JudgeContext {
        client_timeout: Some(std::time::Duration::from_secs(10)),
        ..JudgeContext::default()
    };
    let j = judge(&run, &reference(5, 5000.0, 2), &ctx);
    println!("{}", dump(&j));
    let t = find(&j, "timeout.userservice");
    assert_eq!(t.status, VerdictStatus::Fail);
    assert!(
        t.detail.contains("only when the load generator gave up"),
        "{}",
        t.detail
    );
    let c = find(&j, "timeout.userservice.client");
    assert_eq!(c.status, VerdictStatus::Fail);
    // Without the client's timeout known, the verdict still fails, naming the late give-up.
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    let t = find(&j, "timeout.userservice");
    assert!(
        t.status == VerdictStatus::Fail && t.detail.contains("later than the claimed 1 s"),
        "{}",
        t.detail
    );
}

#[test]
fn timeout_longer_than_claimed_fails_and_shorter_fails() {
    let svc = Service {
        timeout_ms: Some(2000.0),
        ..Service::reference()
    };
    let run = simulate(&svc, &Load::default(), &hang_window());
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    assert_eq!(status(&j, "timeout.userservice"), VerdictStatus::Fail);
    let svc = Service {
        timeout_ms: Some(500.0),
        ..Service::reference()
    };
    let run = simulate(&svc, &Load::default(), &hang_window());
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    let t = find(&j, "timeout.userservice");
    assert!(
        t.status == VerdictStatus::Fail && t.detail.contains("before the claimed 1 s"),
        "{}",
        t.detail
    );
    // A latency fault shorter than the timeout tests nothing.
    let faults = vec![Fault {
        from_ms: 10_000.0,
        to_ms: 25_000.0,
        kind: FaultKind::Latency { delay_ms: 300.0 },
    }];
    let run = simulate(&Service::reference(), &Load::default(), &faults);
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    assert_eq!(
        status(&j, "timeout.userservice"),
        VerdictStatus::Inconclusive
    );
}

#[test]
fn slow_fallback_fails_fail_fast() {
    // A breaker that opens but whose open state still waits on the dependency is modelled by
    // judging the fail-fast bound against a spec with a much shorter timeout.
    let run = simulate(&Service::reference(), &Load::default(), &abort_window());
    let mut claims = reference(5, 5000.0, 2);
    claims.dependencies[0].fallback_status = Some(500);
    let j = judge(&run, &claims, &JudgeContext::default());
    let v = find(&j, "fallback.userservice.status");
    assert_eq!(v.status, VerdictStatus::Fail);
    assert!(v.detail.contains("got status 500"), "{}", v.detail);
}
