//! Verdicts on results recorded from real runs: `redline run` (chaos branch) against the real
//! reference service (`redline serve-reference`, several settings) behind the real fault proxy,
//! all on loopback. The fixtures are those runs' result.json (verdicts stripped), gzipped.

use std::io::Read;

use redline::result::{RunResult, Verdict, VerdictStatus};
use redline::spec::claims::*;
use redline::spec::Claims;
use redline::verdict::{judge, JudgeContext, Judgement, RequestInfo};

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

/// The reference service's shipped spec, as the spec reader reads it, with the breaker settings given.
fn spec(n: u32, recovery_ms: f64, probes: u32) -> Claims {
    let retry =
        |scenario: &str, strategy: &str, max: u32, backoff: Vec<f64>, jitter: Option<f64>, line| {
            RetryPolicy {
                scenario: scenario.into(),
                strategy: Some(strategy.into()),
                max_attempts: Some(max),
                backoff_ms: backoff,
                jitter,
                line,
            }
        };
    Claims {
        service: Some("Reference Service".into()),
        dependencies: vec![Dependency {
            name: "UserService".into(),
            kind: Some("Internal API".into()),
            timeout_ms: Some(300.0),
            fallback: Some("Return 503".into()),
            fallback_status: Some(503),
            fallback_grpc_status: None,
            critical: false,
            health_check: Some("/health".into()),
            line: 37,
        }],
        breakers: vec![Breaker {
            name: Some("user_service_breaker".into()),
            dependency: Some("UserService".into()),
            failure_threshold: Some(n),
            recovery_timeout_ms: Some(recovery_ms),
            half_open_requests: Some(probes),
            expected_exceptions: vec![],
            line: 92,
            ..Breaker::default()
        }],
        retries: vec![
            retry(
                "UserService timeout, connection error, 5xx or 429",
                "exponential",
                3,
                vec![50.0, 100.0],
                Some(0.2),
                83,
            ),
            retry(
                "UserService 4xx (caller unknown)",
                "none",
                1,
                vec![],
                None,
                84,
            ),
        ],
        rate_limits: vec![rate_limit(100)],
        health: Some(HealthCheck {
            path: "/health".into(),
            ready_path: Some("/ready".into()),
            states: vec![],
            line: 159,
        }),
        error_rate_max: Some(0.05),
        error_rate_line: Some(112),
        ..Claims::default()
    }
}

/// The spec's `"default": "100/second"` per client key, or another figure.
fn rate_limit(per_second: u64) -> RateLimit {
    RateLimit {
        name: "default".into(),
        requests: per_second,
        per_s: 1.0,
        per_key: Some("client key".into()),
        line: 124,
    }
}

fn ctx() -> JudgeContext {
    let mut ctx = JudgeContext {
        spec_file: "reference-service.md".into(),
        client_timeout: Some(std::time::Duration::from_secs(2)),
        ..JudgeContext::default()
    };
    for (name, op, key) in [
        ("get-item", "get_item", "gameday-a"),
        ("list-items", "list_items", "gameday-b"),
        ("hot", "get_item", "hot-key"),
        ("cool", "list_items", "cool-key"),
    ] {
        let info = RequestInfo {
            operation: Some(op.into()),
            rate_key: Some(key.into()),
            rate_limit: None,
            grpc_method: None,
        };
        ctx.requests.insert(name.into(), info);
    }
    ctx
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
            "{:?} {} | {} | {}\n",
            v.status, v.id, v.measured, v.detail
        ));
    }
    for e in &j.episodes {
        s.push_str(&format!("{e:?}\n"));
    }
    s
}

fn status(j: &Judgement, id: &str) -> VerdictStatus {
    find(j, id).status
}

fn no_fails(j: &Judgement, what: &str) {
    let fails: Vec<&Verdict> = j
        .verdicts
        .iter()
        .filter(|v| v.status == VerdictStatus::Fail)
        .collect();
    assert!(fails.is_empty(), "{what}: {}", dump(j));
}

const BREAKER: [&str; 3] = [
    "failure_threshold",
    "recovery_timeout",
    "half_open_requests",
];

#[test]
fn reference_gameday_keeps_its_spec() {
    // Default settings; UserService aborted 12-22 s, then 1 s slow 30-36 s.
    let run = fixture("gameday");
    let j = judge(&run, &spec(5, 5000.0, 2), &ctx());
    no_fails(&j, "gameday");
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
            "{id}: {}",
            dump(&j)
        );
    }
    for id in [
        "timeout.userservice",
        "timeout.userservice.client",
        "fallback.userservice.status",
    ] {
        assert_eq!(status(&j, id), VerdictStatus::Pass, "{id}: {}", dump(&j));
    }
    assert_eq!(
        status(&j, "fallback.userservice.fail_fast"),
        VerdictStatus::Pass
    );
    assert_eq!(status(&j, "health.userservice.during"), VerdictStatus::Pass);
    assert_eq!(j.episodes.len(), 4, "{:?}", j.episodes);
    assert_eq!(
        (
            j.episodes[0].failures_before_open,
            j.episodes[0].outcome.as_str()
        ),
        (5, "reopened")
    );

    // The same run against a spec claiming other values.
    let j = judge(&run, &spec(3, 10_000.0, 1), &ctx());
    for id in BREAKER {
        assert_eq!(
            status(&j, &format!("breaker.userservice.{id}")),
            VerdictStatus::Fail,
            "{id}: {}",
            dump(&j)
        );
    }
    let t = find(&j, "breaker.userservice.failure_threshold");
    assert!(
        t.detail
            .contains("3 consecutive failed calls did not open the breaker"),
        "{}",
        t.detail
    );
}

#[test]
fn reference_with_other_breaker_settings() {
    // serve-reference --failure-threshold 3 --recovery-timeout 2s --half-open-requests 1
    let run = fixture("gameday-breaker-3-2s-1");
    let j = judge(&run, &spec(3, 2000.0, 1), &ctx());
    no_fails(&j, "own settings");
    for id in BREAKER {
        assert_eq!(
            status(&j, &format!("breaker.userservice.{id}")),
            VerdictStatus::Pass,
            "{id}: {}",
            dump(&j)
        );
    }
    let j = judge(&run, &spec(5, 5000.0, 2), &ctx());
    for id in BREAKER {
        assert_eq!(
            status(&j, &format!("breaker.userservice.{id}")),
            VerdictStatus::Fail,
            "{id}: {}",
            dump(&j)
        );
    }
    let k = find(&j, "breaker.userservice.half_open_requests");
    assert!(
        k.detail.contains("let only 1 call(s) through"),
        "{}",
        k.detail
    );
}

#[test]
fn reference_under_a_hang_gives_up_at_its_timeout() {
    let j = judge(&fixture("hang"), &spec(5, 5000.0, 2), &ctx());
    no_fails(&j, "hang");
    assert_eq!(status(&j, "timeout.userservice"), VerdictStatus::Pass);
    assert_eq!(
        status(&j, "timeout.userservice.client"),
        VerdictStatus::Pass
    );
    assert_eq!(
        status(&j, "breaker.userservice.half_open_requests"),
        VerdictStatus::Pass
    );
    assert_eq!(
        status(&j, "breaker.userservice.recovery_timeout"),
        VerdictStatus::Pass
    );
}

#[test]
fn reference_without_a_timeout_fails_clearly_under_a_hang() {
    // serve-reference --call-timeout 30s: calls hang until the client (2 s) gives up.
    let j = judge(&fixture("hang-no-timeout"), &spec(5, 5000.0, 2), &ctx());
    let t = find(&j, "timeout.userservice");
    assert_eq!(t.status, VerdictStatus::Fail);
    assert!(
        t.detail.contains("never gave up on UserService by itself"),
        "{}",
        t.detail
    );
    assert_eq!(
        status(&j, "timeout.userservice.client"),
        VerdictStatus::Fail
    );
    let o = find(&j, "breaker.userservice.opens");
    assert_eq!(o.status, VerdictStatus::Fail);
    assert!(
        o.detail.contains("its breaker never saw a failure"),
        "{}",
        o.detail
    );
    // Abandoned by the client, the requests never had a failure to retry on.
    assert_ne!(
        status(&j, "retries.userservice.attempts"),
        VerdictStatus::Fail,
        "{}",
        dump(&j)
    );
}

#[test]
fn reference_retries_with_and_without_backoff() {
    // UserService aborts 30% of calls 8-24 s: requests retry while the breaker mostly stays closed.
    let j = judge(&fixture("partial"), &spec(5, 5000.0, 2), &ctx());
    no_fails(&j, "partial");
    assert_eq!(
        status(&j, "retries.userservice.attempts"),
        VerdictStatus::Pass,
        "{}",
        dump(&j)
    );
    assert_eq!(
        status(&j, "retries.userservice.backoff"),
        VerdictStatus::Pass,
        "{}",
        dump(&j)
    );
    // serve-reference --backoff 0ms --jitter 0
    let j = judge(&fixture("partial-no-backoff"), &spec(5, 5000.0, 2), &ctx());
    assert_eq!(
        status(&j, "retries.userservice.attempts"),
        VerdictStatus::Pass,
        "{}",
        dump(&j)
    );
    let b = find(&j, "retries.userservice.backoff");
    assert_eq!(b.status, VerdictStatus::Fail);
    assert!(b.detail.contains("came too early"), "{}", b.detail);
    let others: Vec<&Verdict> = j
        .verdicts
        .iter()
        .filter(|v| v.status == VerdictStatus::Fail && v.id != b.id)
        .collect();
    assert!(others.is_empty(), "{others:#?}");
}

#[test]
fn reference_rate_limit_per_key() {
    // 150 requests per second for 12 s: 135/s with key hot-key, 15/s with key cool-key.
    let run = fixture("rate-limit");
    let j = judge(&run, &spec(5, 5000.0, 2), &ctx());
    no_fails(&j, "rate limit");
    assert_eq!(
        status(&j, "rate_limit.default.hot-key"),
        VerdictStatus::Pass,
        "{}",
        dump(&j)
    );
    assert_eq!(
        status(&j, "rate_limit.default.cool-key"),
        VerdictStatus::Pass,
        "{}",
        dump(&j)
    );
    // A spec promising 200/s: the hot key was refused below it.
    let mut claims = spec(5, 5000.0, 2);
    claims.rate_limits = vec![rate_limit(200)];
    let j = judge(&run, &claims, &ctx());
    let v = find(&j, "rate_limit.default.hot-key");
    assert_eq!(v.status, VerdictStatus::Fail, "{}", dump(&j));
    assert!(
        v.detail.contains("stricter than the spec says"),
        "{}",
        v.detail
    );
    // A spec promising 50/s: the service lets about twice that through.
    claims.rate_limits = vec![rate_limit(50)];
    let j = judge(&run, &claims, &ctx());
    assert_eq!(
        status(&j, "rate_limit.default.hot-key"),
        VerdictStatus::Fail,
        "{}",
        dump(&j)
    );
    assert_eq!(
        status(&j, "rate_limit.default.cool-key"),
        VerdictStatus::Pass,
        "{}",
        dump(&j)
    );
}

#[test]
fn gameday_with_a_call_admitted_as_the_breaker_opened_never_fails() {
    // A real gameday run of the correct reference service. Under the abort (12-22 s) a retry was
    // let through 0.1 ms after the proxy had answered the fifth failure, before the service had
    // read that answer: six failed calls in a row from the proxy's side, though the fifth opened
    // it (the sixth one's outcome was ignored, as the breaker discards results from an earlier
    // state). Under the latency fault (30-36 s) the breaker cut most requests' retries short.
    for name in ["gameday-race", "gameday-race-2"] {
        let run = fixture(name);
        let j = judge(&run, &spec(5, 5000.0, 2), &ctx());
        no_fails(&j, name);
        let t = find(&j, "breaker.userservice.failure_threshold");
        assert_eq!(t.status, VerdictStatus::Inconclusive, "{}", dump(&j));
        assert!(
            t.detail
                .contains("before the service can have read that failure"),
            "{}",
            t.detail
        );
        assert_eq!(j.episodes[0].failures_before_open, 5, "{:?}", j.episodes);
        // Claims the run rules out still fail: 4 (five failed first) and 7 (it opened by six).
        for n in [4, 7] {
            let j = judge(&run, &spec(n, 5000.0, 2), &ctx());
            assert_eq!(
                status(&j, "breaker.userservice.failure_threshold"),
                VerdictStatus::Fail,
                "claim {n}: {}",
                dump(&j)
            );
        }
    }
}

#[test]
fn a_success_read_after_the_first_failure_does_not_fail_the_threshold() {
    // The gameday run opened after five failures, the first answered 2.7 ms after the last
    // success. Add a failed call answered 1.3 ms after that success: six in a row from the proxy,
    // but the service may read the success last and count from the second failure on.
    let mut run = fixture("gameday");
    let dep = run.dependencies.get_mut("UserService").unwrap();
    let mut log = dep.log.clone();
    log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    let mut extra = log
        .iter()
        .find(|e| e.t_ms > 12_000.0 && e.fault.is_some())
        .unwrap()
        .clone();
    extra.t_ms = 12_001.0;
    extra.total_ms = 0.02;
    extra.correlation_id = Some("race-extra".into());
    log.push(extra);
    log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    for (i, e) in log.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    dep.log = log;
    let j = judge(&run, &spec(5, 5000.0, 2), &ctx());
    no_fails(&j, "success read late");
    let t = find(&j, "breaker.userservice.failure_threshold");
    assert!(
        t.status == VerdictStatus::Inconclusive
            && t.detail.contains("may have read that success last"),
        "{}",
        dump(&j)
    );
    // A claim of 6 fits the proxy's order, but it is not proven either.
    let j = judge(&run, &spec(6, 5000.0, 2), &ctx());
    assert_ne!(
        status(&j, "breaker.userservice.failure_threshold"),
        VerdictStatus::Fail,
        "{}",
        dump(&j)
    );
    for n in [4, 7] {
        let j = judge(&run, &spec(n, 5000.0, 2), &ctx());
        assert_eq!(
            status(&j, "breaker.userservice.failure_threshold"),
            VerdictStatus::Fail,
            "claim {n}: {}",
            dump(&j)
        );
    }
}
