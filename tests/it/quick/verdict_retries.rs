//! Retry verdicts on modelled runs: attempts per correlated request and the wait between them.

use crate::verdict_support;

use redline::result::VerdictStatus;
use redline::verdict::{judge, JudgeContext, Judgement};
use verdict_support::claims::{reference, retry};
use verdict_support::*;

fn find<'a>(j: &'a Judgement, id: &str) -> &'a redline::result::Verdict {
    j.verdicts
        .iter()
        .find(|v| v.id == id)
        .unwrap_or_else(|| panic!("no verdict {id}; have {:#?}", j.verdicts))
}

/// Some calls fail, so requests retry while the breaker mostly stays closed.
fn partial_fault() -> Vec<Fault> {
    vec![Fault {
        from_ms: 5_000.0,
        to_ms: 25_000.0,
        kind: FaultKind::Abort {
            status: 503,
            probability: 0.3,
        },
    }]
}

fn run(svc: &Service) -> redline::result::RunResult {
    simulate(
        svc,
        &Load {
            duration_ms: 30_000.0,
            ..Load::default()
        },
        &partial_fault(),
    )
}

#[test]
fn retries_with_the_claimed_backoff_pass() {
    let j = judge(
        &run(&Service::reference()),
        &reference(5, 5000.0, 2),
        &JudgeContext::default(),
    );
    let a = find(&j, "retries.userservice.attempts");
    assert_eq!(a.status, VerdictStatus::Pass, "{a:?}");
    let b = find(&j, "retries.userservice.backoff");
    assert_eq!(b.status, VerdictStatus::Pass, "{b:?}");
}

#[test]
fn retries_without_backoff_fail_the_backoff_claim() {
    let svc = Service {
        backoff_ms: vec![0.0, 0.0],
        jitter: 0.0,
        ..Service::reference()
    };
    let j = judge(
        &run(&svc),
        &reference(5, 5000.0, 2),
        &JudgeContext::default(),
    );
    let b = find(&j, "retries.userservice.backoff");
    assert_eq!(b.status, VerdictStatus::Fail, "{b:?}");
    assert!(
        b.detail.contains("came too early") && b.detail.contains("where 100 ms ±20% was due"),
        "{}",
        b.detail
    );
    // Immediate retries trip the breaker quickly, so few requests complete all attempts; whatever
    // the count verdict says, it must not blame the count.
    assert_ne!(
        find(&j, "retries.userservice.attempts").status,
        VerdictStatus::Fail
    );
}

#[test]
fn backoff_longer_than_claimed_fails() {
    let svc = Service {
        backoff_ms: vec![300.0, 600.0],
        ..Service::reference()
    };
    let j = judge(
        &run(&svc),
        &reference(5, 5000.0, 2),
        &JudgeContext::default(),
    );
    let b = find(&j, "retries.userservice.backoff");
    assert_eq!(b.status, VerdictStatus::Fail, "{b:?}");
    assert!(
        b.detail.contains("waited longer than the claimed backoff"),
        "{}",
        b.detail
    );
}

#[test]
fn wrong_attempt_counts_fail_both_ways() {
    let svc = Service {
        attempts: 4,
        backoff_ms: vec![100.0, 200.0, 400.0],
        ..Service::reference()
    };
    let j = judge(
        &run(&svc),
        &reference(5, 5000.0, 2),
        &JudgeContext::default(),
    );
    let a = find(&j, "retries.userservice.attempts");
    assert_eq!(a.status, VerdictStatus::Fail, "{a:?}");
    assert!(
        a.detail.contains("more than 3 time(s)") && a.detail.contains("counts retries"),
        "{}",
        a.detail
    );

    let svc = Service {
        attempts: 2,
        ..Service::reference()
    };
    let j = judge(
        &run(&svc),
        &reference(5, 5000.0, 2),
        &JudgeContext::default(),
    );
    let a = find(&j, "retries.userservice.attempts");
    assert_eq!(a.status, VerdictStatus::Fail, "{a:?}");
    assert!(a.detail.contains("fewer than 3 time(s)"), "{}", a.detail);
}

#[test]
fn a_spec_without_retries_fails_a_retrying_service() {
    let mut claims = reference(5, 5000.0, 2);
    claims.retries = vec![retry(1, vec![], None)];
    let j = judge(
        &run(&Service::reference()),
        &claims,
        &JudgeContext::default(),
    );
    let a = find(&j, "retries.userservice.attempts");
    assert_eq!(a.status, VerdictStatus::Fail, "{a:?}");
}

#[test]
fn uncorrelated_calls_are_inconclusive() {
    let svc = Service {
        forward_ids: false,
        ..Service::reference()
    };
    let j = judge(
        &run(&svc),
        &reference(5, 5000.0, 2),
        &JudgeContext::default(),
    );
    let a = find(&j, "retries.userservice.attempts");
    assert_eq!(a.status, VerdictStatus::Inconclusive, "{a:?}");
    assert!(a.detail.contains("forward x-request-id"), "{}", a.detail);
}

#[test]
fn requests_that_call_twice_anyway_make_retries_inconclusive() {
    let mut run = run(&Service::reference());
    // Every request also fetches the caller's preferences: two calls per request without faults.
    let dep = run.dependencies.get_mut(DEP).unwrap();
    let mut extra: Vec<_> = dep
        .log
        .iter()
        .filter(|e| e.t_ms < 5_000.0)
        .cloned()
        .collect();
    for e in &mut extra {
        e.t_ms += 1.0;
        e.path = "/users/1/preferences".into();
    }
    dep.log.extend(extra);
    dep.log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    for (i, e) in dep.log.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    let a = find(&j, "retries.userservice.attempts");
    assert_eq!(a.status, VerdictStatus::Inconclusive, "{a:?}");
    assert!(
        a.detail.contains("already calls UserService 2 times"),
        "{}",
        a.detail
    );
}

#[test]
fn retry_verdicts_hold_across_seeds() {
    for seed in 1..=8 {
        let load = Load {
            seed,
            duration_ms: 30_000.0,
            ..Load::default()
        };
        let j = judge(
            &simulate(&Service::reference(), &load, &partial_fault()),
            &reference(5, 5000.0, 2),
            &JudgeContext::default(),
        );
        for id in [
            "retries.userservice.attempts",
            "retries.userservice.backoff",
        ] {
            assert_eq!(
                find(&j, id).status,
                VerdictStatus::Pass,
                "seed {seed}: {:?}",
                find(&j, id)
            );
        }
        let eager = Service {
            backoff_ms: vec![0.0, 0.0],
            jitter: 0.0,
            ..Service::reference()
        };
        let j = judge(
            &simulate(&eager, &load, &partial_fault()),
            &reference(5, 5000.0, 2),
            &JudgeContext::default(),
        );
        assert_eq!(
            find(&j, "retries.userservice.backoff").status,
            VerdictStatus::Fail,
            "seed {seed}"
        );
        assert_ne!(
            find(&j, "retries.userservice.attempts").status,
            VerdictStatus::Fail,
            "seed {seed}"
        );
    }
}
