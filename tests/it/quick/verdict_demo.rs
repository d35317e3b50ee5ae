//! Verdicts on a real `redline demo` run (the shipped scenario and spec, the reference service
//! behind the real fault proxy): the fixture is that run's result.json with its verdicts stripped,
//! judged again here through the same path `redline run` takes (scenario -> context, spec reader).

use std::io::Read;

use redline::result::{RunResult, Verdict, VerdictStatus};
use redline::verdict::Judgement;

fn fixture(name: &str) -> RunResult {
    let path = format!(
        "{}/tests/verdict_fixtures/{name}.json.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut json = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("fixture present"))
        .read_to_string(&mut json)
        .expect("gzip");
    serde_json::from_str(&json).expect("a result.json")
}

/// Judges `run` against the shipped demo scenario and spec, as `redline demo` does.
fn judge_demo(run: &RunResult) -> Judgement {
    let root = env!("CARGO_MANIFEST_DIR");
    let scenario = std::fs::read_to_string(format!("{root}/scenarios/demo.toml")).unwrap();
    let plan = redline::scenario::parse(&scenario, "scenarios/demo.toml").expect("demo scenario");
    let spec_md =
        std::fs::read_to_string(format!("{root}/scenarios/specs/reference-service.md")).unwrap();
    let claims = redline::spec::parse(&spec_md);
    let ctx = redline::chaos::judge::context(
        &plan,
        &claims,
        "scenarios/specs/reference-service.md",
        "scenarios/demo.toml",
    );
    redline::verdict::judge(run, &claims, &ctx)
}

fn find<'a>(j: &'a Judgement, id: &str) -> &'a Verdict {
    j.verdicts
        .iter()
        .find(|v| v.id == id)
        .unwrap_or_else(|| panic!("no verdict {id}; have {}", dump(j)))
}

fn dump(j: &Judgement) -> String {
    let mut s = String::new();
    for v in &j.verdicts {
        s.push_str(&format!(
            "{:?} {} | {} | {} | {}\n",
            v.status, v.id, v.expected, v.measured, v.detail
        ));
    }
    s
}

#[test]
fn demo_calls_resume_after_back_to_back_faults() {
    // Abort 13-16 s then hang 16-25 s, back to back (6 µs apart); the breaker's probes succeeded
    // at 28.8 s and 865 client requests came in the recovery phase. Judging the gap between the
    // two faults as "after the fault" found no demand and called it inconclusive.
    let j = judge_demo(&fixture("demo1"));
    let v = find(&j, "breaker.userservice.resumes");
    assert_eq!(v.status, VerdictStatus::Pass, "{}", dump(&j));
    assert!(v.measured.contains("3.81 s"), "{}", v.measured);
    assert!(v.detail.contains("25.0 s"), "{}", v.detail);
}
#[test]
fn demo_verdicts_measured_fit_a_narrow_column() {
    // On the current demo (demo2) only the families added with it are held to this here:
    // `breaker.userservice.opens` reads 39 characters there ("opened 2×, first at 17.0 s, reopened 2×").
    let (j1, j2) = (judge_demo(&fixture("demo1")), judge_demo(&fixture("demo2")));
    for v in j1.verdicts.iter().chain(claims_left(&j2)) {
        assert!(
            v.measured.chars().count() <= 32,
            "{} measured is {} chars: {:?}",
            v.id,
            v.measured.chars().count(),
            v.measured
        );
        // The expected column is as narrow; the rules behind it (tolerances, bounds) are in the detail.
        assert!(
            v.expected.chars().count() <= 32,
            "{} expected is {} chars: {:?}",
            v.id,
            v.expected.chars().count(),
            v.expected
        );
        assert!(
            !v.measured.trim_end().ends_with(':'),
            "{}: {:?}",
            v.id,
            v.measured
        );
    }
}

#[test]
fn demo_error_rates_leave_the_fallback_out_of_both_sides() {
    // Every request of the abort and hang phases got the 503 fallback: counting them as requests
    // but not as errors read "0% (0 errors in 208 requests)" for a phase where nothing succeeded.
    // Those phases hold no evidence about the rate: no row of their own, and a row names them.
    let j = judge_demo(&fixture("demo1"));
    for kind in ["errors", "availability"] {
        for phase in ["fault-userservice-abort", "fault-userservice-hang"] {
            let id = format!("{kind}.global.{phase}");
            assert!(
                j.verdicts.iter().all(|v| v.id != id),
                "{id}: {:?}",
                j.verdicts
            );
        }
        let named = j
            .verdicts
            .iter()
            .filter(|v| v.id.starts_with(&format!("{kind}.global.")))
            .any(|v| {
                v.detail
                    .contains("'fault:UserService:abort', 'fault:UserService:hang'")
            });
        assert!(named, "{kind}: {:?}", j.verdicts);
    }
    // Recovery: 865 requests, 209 of them the fallback while the breaker was still open.
    let v = find(&j, "errors.global.recovery");
    assert_eq!(v.status, VerdictStatus::Pass, "{v:?}");
    assert_eq!(v.measured, "0% (0 errors in 656)");
    assert!(v.claim.contains("phase 'recovery'"), "{}", v.claim);
    assert!(v.detail.contains("209 answer(s)"), "{}", v.detail);
}

#[test]
fn demo_breaker_and_fallback_read_as_the_log_shows() {
    let j = judge_demo(&fixture("demo1"));
    // Three episodes: opened at 13.1 s, reopened twice after failed probes (not "opened 1 time").
    let v = find(&j, "breaker.userservice.opens");
    assert_eq!(v.measured, "opened 13.1 s, reopened 2×");
    // The two 200s 'while the breaker was open' were the probes that closed it at 28.8 s: their
    // requests were sent a millisecond before the calls reached UserService.
    let v = find(&j, "fallback.userservice.status");
    assert_eq!(v.status, VerdictStatus::Pass);
    assert_eq!(v.measured, "898 of 898 matched (100%)");
    assert!(v.detail.contains("became the probes"), "{}", v.detail);
    let v = find(&j, "breaker.userservice.half_open_requests");
    assert!(
        v.detail
            .contains("2 then reopened, 2 then reopened, 2 then closed"),
        "{}",
        v.detail
    );
}

#[test]
fn demo_client_bound_and_health_say_what_was_compared() {
    let j = judge_demo(&fixture("demo1"));
    let v = find(&j, "timeout.userservice.client");
    assert_eq!(v.status, VerdictStatus::Pass);
    // 358 ms is not "bounded by the 300 ms timeout": it is within 3 attempts' bound of 2.83 s.
    assert!(v.detail.contains("within the 2.83 s"), "{}", v.detail);
    let v = find(&j, "health.userservice.healthy");
    assert_eq!(v.status, VerdictStatus::Pass);
    assert_eq!(v.measured, "healthy again 4 s after");
    assert!(v.detail.contains("from 29.0 s"), "{}", v.detail);
}

#[test]
fn demo_rate_limit_is_the_specs_only_limit_per_client_key() {
    // The spec's only limit is `@rate_limit(key="client_key", rate="100/second") def items_api`;
    // no request is named items_api, and the scenario has no way to assign one, so it was "not
    // exercised". Every key stayed far below 100/s and got no 429.
    let j = judge_demo(&fixture("demo1"));
    for key in ["demo-readers", "demo-browsers", "demo-writers"] {
        let v = find(&j, &format!("rate_limit.items-api.{key}"));
        assert_eq!(v.status, VerdictStatus::Pass, "{v:?}");
        assert!(v.claim.contains(key), "{}", v.claim);
        assert!(v.detail.contains("only rate limit"), "{}", v.detail);
    }
}

#[test]
fn health_that_recovers_later_than_allowed_fails() {
    // The same run with /health left degraded until 35 s: 10 s after the fault ended, past the
    // 7.5 s allowed. Looking only at the last sample (healthy at 40 s) passed it.
    let mut run = fixture("demo1");
    for s in run
        .health
        .iter_mut()
        .filter(|s| s.t_s >= 25.0 && s.t_s < 35.0)
    {
        s.state = Some("degraded".into());
    }
    let j = judge_demo(&run);
    let v = find(&j, "health.userservice.healthy");
    assert_eq!(v.status, VerdictStatus::Fail, "{v:?}");
    assert!(v.detail.contains("only at 35.0 s"), "{}", v.detail);
}

/// The verdicts of the families that judge throughput, alerts, error classes and /ready.
fn claims_left(j: &Judgement) -> Vec<&Verdict> {
    j.verdicts
        .iter()
        .filter(|v| {
            ["throughput.", "alert.", "error_class.", "ready"]
                .iter()
                .any(|p| v.id.starts_with(p))
        })
        .collect()
}

#[test]
fn demo_every_throughput_alert_error_class_and_ready_claim_gets_a_verdict() {
    // The spec has 1 throughput claim, 3 alerts, 9 error classes and a /ready endpoint: none may
    // vanish from the report.
    for name in ["demo1", "demo2"] {
        let j = judge_demo(&fixture(name));
        let ids: Vec<&str> = claims_left(&j).iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids.len(), 14, "{name}: {ids:?}");
        for id in [
            "throughput.200-rps",
            "alert.higherrorrate",
            "alert.slowresponses",
            "alert.userservicecircuitopen",
            "error_class.validationerror",
            "error_class.userserviceunavailable",
            "ready",
        ] {
            assert!(ids.contains(&id), "{name}: no {id} in {ids:?}");
        }
        for v in claims_left(&j) {
            assert!(
                v.source
                    .starts_with("scenarios/specs/reference-service.md:"),
                "{v:?}"
            );
            assert_ne!(v.status, VerdictStatus::Fail, "{name}: {v:?}");
        }
    }
}

#[test]
fn demo_throughput_needs_the_rate_offered() {
    // The recorded run of the first demo offered about 60 requests/s: the claim of 200/s cannot be
    // judged, and the verdict says what would judge it.
    let j = judge_demo(&fixture("demo1"));
    let v = find(&j, "throughput.200-rps");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");
    assert_eq!(v.measured, "offered 60 req/s");
    assert!(
        v.detail
            .contains("needs at least 200 req/s offered for 10 s"),
        "{}",
        v.detail
    );
    // The current demo offers 250/s for a 15 s baseline, and the service answered all of it.
    let j = judge_demo(&fixture("demo2"));
    let v = find(&j, "throughput.200-rps");
    assert_eq!(v.status, VerdictStatus::Pass, "{v:?}");
    assert_eq!(v.measured, "252 req/s, 0% errors");
    assert!(
        v.detail.contains("0 of 3777 requests failed"),
        "{}",
        v.detail
    );
}

#[test]
fn demo_alerts_wait_longer_than_the_baseline_and_say_when_they_would_fire() {
    let j = judge_demo(&fixture("demo2"));
    let v = find(&j, "alert.higherrorrate");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");
    assert_eq!(v.measured, "held 0 of 15 s healthy");
    assert!(
        v.detail.contains("A run with a baseline of at least 1 min"),
        "{}",
        v.detail
    );
    // The outage (abort then hang, breaker open until 32.6 s) kept errors above 5% for 16 s:
    // too short for a 1-minute alert.
    assert!(
        v.detail
            .contains("17.0–33.0 s (16 s, during UserService abort, UserService hang)"),
        "{}",
        v.detail
    );
    assert!(v.detail.contains("would not have fired"), "{}", v.detail);
    let v = find(&j, "alert.userservicecircuitopen");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");
    assert!(
        v.claim.contains("Breaker open for more than 30s"),
        "{}",
        v.claim
    );
    assert!(
        v.detail
            .contains("the breaker on UserService was open 17.0–22.0 s (5.0 s"),
        "{}",
        v.detail
    );
}

#[test]
fn demo_error_classes_pass_where_the_run_produced_them() {
    let j = judge_demo(&fixture("demo2"));
    for (id, measured) in [
        ("error_class.notfounderror", "299 × 404"),
        ("error_class.versionconflict", "201 × 409"),
        ("error_class.userserviceunavailable", "3732 × 503 in faults"),
    ] {
        let v = find(&j, id);
        assert_eq!(v.status, VerdictStatus::Pass, "{v:?}");
        assert_eq!(v.measured, measured);
    }
    // No UserService fault answered 4xx, so its refusal (502) was never produced.
    let v = find(&j, "error_class.userservicerefused");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");
    let v = find(&j, "error_class.payloadtoolarge");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");
    assert!(v.detail.contains("expect_status = [413]"), "{}", v.detail);
    // These recorded runs predate readiness samples (no `ready` in them) and sampled /health, so
    // /ready is not judged, and the verdict says how it would be.
    let v = find(&j, "ready");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");
    assert!(v.detail.contains("ready_path = \"/ready\""), "{}", v.detail);
}

#[test]
fn demo_opening_after_a_closed_recovery_is_counted_from_its_own_failures() {
    // demo3: the breaker closed at ~32.6 s; in the 30%-abort phase it opened at 37.5 s after a run
    // of failures with hundreds of calls since it closed. Reading that opening as a failed half-open
    // period counted every failure since the pause ("273 consecutive failures") and failed the
    // consecutive-threshold claim of a breaker that is consecutive (serve-reference's).
    let j = judge_demo(&fixture("demo3"));
    let v = find(&j, "breaker.userservice.failure_threshold");
    assert_ne!(v.status, VerdictStatus::Fail, "{}", dump(&j));
    assert!(!v.measured.contains("273"), "{}", v.measured);
}
