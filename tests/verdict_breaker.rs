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
    j.verdicts.iter().find(|v| v.id == id).unwrap_or_else(|| panic!("no verdict {id}; have {:#?}", j.verdicts))
}

fn dump(j: &Judgement) -> String {
    let mut s = String::new();
    for v in &j.verdicts {
        s.push_str(&format!("{:?} {} | {} | {} | {}\n", v.status, v.id, v.expected, v.measured, v.detail));
    }
    for e in &j.episodes {
        s.push_str(&format!("{e:?}\n"));
    }
    s
}

fn abort_window() -> Vec<Fault> {
    vec![Fault { from_ms: 10_000.0, to_ms: 25_000.0, kind: FaultKind::Abort { status: 503, probability: 1.0 } }]
}

fn hang_window() -> Vec<Fault> {
    vec![Fault { from_ms: 10_000.0, to_ms: 25_000.0, kind: FaultKind::Hang }]
}

#[test]
fn reference_service_under_abort_passes_its_own_spec() {
    let run = simulate(&Service::reference(), &Load::default(), &abort_window());
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    println!("{}", dump(&j));
    assert_eq!(status(&j, "breaker.userservice.opens"), VerdictStatus::Pass);
    assert_eq!(status(&j, "breaker.userservice.failure_threshold"), VerdictStatus::Pass);
    assert_eq!(status(&j, "breaker.userservice.recovery_timeout"), VerdictStatus::Pass);
    assert_eq!(status(&j, "breaker.userservice.resumes"), VerdictStatus::Pass);
    assert_eq!(status(&j, "fallback.userservice.status"), VerdictStatus::Pass);
    assert_eq!(status(&j, "fallback.userservice.fail_fast"), VerdictStatus::Pass);
    assert_eq!(status(&j, "health.userservice.during"), VerdictStatus::Pass);
    assert_eq!(status(&j, "health.userservice.healthy"), VerdictStatus::Pass);
    assert!(j.episodes.len() >= 3, "opened, then reopened at least twice in 15 s: {:?}", j.episodes);
    assert_eq!(j.episodes[0].failures_before_open, 5);
}

#[test]
fn reference_service_under_hang_shows_its_two_probes() {
    let run = simulate(&Service::reference(), &Load::default(), &hang_window());
    let j = judge(&run, &reference(5, 5000.0, 2), &JudgeContext::default());
    println!("{}", dump(&j));
    for id in ["opens", "failure_threshold", "recovery_timeout", "half_open_requests", "resumes"] {
        assert_eq!(status(&j, &format!("breaker.userservice.{id}")), VerdictStatus::Pass, "{id}");
    }
    assert_eq!(status(&j, "timeout.userservice"), VerdictStatus::Pass);
    assert_eq!(status(&j, "timeout.userservice.client"), VerdictStatus::Pass);
}
