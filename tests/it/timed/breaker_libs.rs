//! Breaker verdicts against real breaker libraries: each runs as a real service on loopback (a
//! tiny Node or Python service, nginx, or a Rust service emulating a library's documented rule)
//! behind the real fault proxy of `redline run`, under a fault timeline chosen to exercise its rule.
//! True claims must pass; deliberately wrong ones must fail on the verdict they are wrong about.
//!
//! The true claims are read by `redline::spec::parse` from `tests/fixtures/breakers/<run>.md`, the
//! breaker in its library's own configuration form as a user would paste it, after checking that
//! the reader got the values the library was configured with; the wrong claims are edits of them.

use crate::breaker_libs_support;

use breaker_libs_support::*;
use redline::result::VerdictStatus::{Fail, Inconclusive, Pass};
use redline::spec::claims::{Breaker, CloseRule, RateTrip, RecoveryGrowth};

/// opossum: `errorThresholdPercentage` over a rolling `rollingCountTimeout` window, trips above it
/// once `volumeThreshold` calls were made, half-open after `resetTimeout` with one trial call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opossum_rate_breaker_is_judged_by_its_rate_rule() {
    let options = r#"{"options": {"timeout": 300, "errorThresholdPercentage": 50, "resetTimeout": 1500,
        "rollingCountTimeout": 1000, "rollingCountBuckets": 10, "volumeThreshold": 5}}"#;
    let faults = below_above_outage(3, [2.0, 6.0, 10.0], [3.0, 3.0, 2.0]);
    let run = run_lib("opossum", 14, 40, &faults, |_, _, dep| {
        node_service("opossum", options, dep)
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        half_open_requests: Some(1),
        close_rule: Some(CloseRule::FirstSuccess),
        ..rate_claim(
            "opossum",
            0.5,
            RateTrip::Above,
            Some(1000.0),
            None,
            5,
            1500.0,
        )
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "opossum judged against its own options");
    expect(
        &j,
        "breaker.users.failure_rate",
        Pass,
        "the rate rule explains every opening",
    );
    expect(&j, "breaker.users.opens", Pass, "it opened");
    // Wrong rate: 25% would have opened in the 33% phase.
    let j = run.judge(Breaker {
        failure_rate: Some(0.25),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "a 25% claim");
    // Wrong rate: 80% would not have opened at 67%.
    let j = run.judge(Breaker {
        failure_rate: Some(0.8),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "an 80% claim");
    // Wrong window: over 5 s the 67% phase's first opening still held the clean stretch.
    let j = run.judge(Breaker {
        window_ms: Some(5000.0),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "a 5 s window");
    // Wrong minimum volume.
    let j = run.judge(Breaker {
        minimum_calls: Some(100),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.failure_rate",
        Fail,
        "a minimum of 100 calls",
    );
    // Wrong open time.
    let j = run.judge(Breaker {
        recovery_timeout_ms: Some(4000.0),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a 4 s open time",
    );
    // Consecutive claim: it opened with successes between the failures.
    let j = run.judge(consecutive_claim("opossum", 5, 1500.0));
    expect(
        &j,
        "breaker.users.failure_threshold",
        Fail,
        "5 consecutive failures",
    );
}

/// opossum through a hang: every call hangs until the 300 ms timeout fails it (opossum's `timeout`,
/// and the request's own, which closes the connection: a service that abandons a call but keeps its
/// connection open looks, from the proxy, as if it waited), so failures arrive late and calls pile
/// up in flight (opossum counts them as fired); its trial calls hang too, until the hang ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opossum_through_a_hang() {
    let options = r#"{"callTimeoutMs": 300, "options": {"timeout": 300, "errorThresholdPercentage": 50,
        "resetTimeout": 1500, "rollingCountTimeout": 1000, "rollingCountBuckets": 10, "volumeThreshold": 5}}"#;
    let faults = fault("hang", 2.0, 5.0, "name = \"hang\"");
    let run = run_lib("opossum-hang", 10, 40, &faults, |_, _, dep| {
        node_service("opossum", options, dep)
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        half_open_requests: Some(1),
        close_rule: Some(CloseRule::FirstSuccess),
        ..rate_claim(
            "opossum",
            0.5,
            RateTrip::Above,
            Some(1000.0),
            None,
            5,
            1500.0,
        )
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "opossum through a hang, judged against its own options");
    expect(&j, "breaker.users.opens", Pass, "it opened on timeouts");
    let j = run.judge(Breaker {
        recovery_timeout_ms: Some(3000.0),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a 3 s open time",
    );
}

/// cockatiel's SamplingBreaker: more than `threshold` of the calls in `duration` fail, once
/// `minimumRps × duration` calls were made; one half-open trial after `halfOpenAfter`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cockatiel_sampling_breaker_is_judged_by_its_rate_rule() {
    let options = r#"{"options": {"breaker": "sampling", "halfOpenAfter": 1500,
        "sampling": {"threshold": 0.5, "duration": 1000, "minimumRps": 5}}}"#;
    let faults = below_above_outage(3, [2.0, 6.0, 10.0], [3.0, 3.0, 2.0]);
    let run = run_lib("cockatiel-sampling", 14, 40, &faults, |_, _, dep| {
        node_service("cockatiel", options, dep)
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        half_open_requests: Some(1),
        close_rule: Some(CloseRule::FirstSuccess),
        ..rate_claim(
            "cockatiel",
            0.5,
            RateTrip::Above,
            Some(1000.0),
            None,
            5,
            1500.0,
        )
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "cockatiel judged against its own options");
    expect(
        &j,
        "breaker.users.failure_rate",
        Pass,
        "the rate rule explains every opening",
    );
    let j = run.judge(Breaker {
        failure_rate: Some(0.25),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "a 25% claim");
    let j = run.judge(Breaker {
        failure_rate: Some(0.8),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "an 80% claim");
    let j = run.judge(Breaker {
        recovery_timeout_ms: Some(500.0),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a 500 ms open time",
    );
}

/// cockatiel's CountBreaker (the last `size` calls, once `minimumNumberOfCalls` were made) with an
/// exponential `halfOpenAfter` (800 ms doubling per failed trial, up to 4 s) through a long outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cockatiel_count_breaker_with_growing_open_time() {
    let options = r#"{"options": {"breaker": "count",
        "count": {"threshold": 0.5, "size": 20, "minimumNumberOfCalls": 10},
        "backoff": {"initialDelay": 800, "maxDelay": 4000, "jitter": false}}}"#;
    let mut faults = fault(
        "abort",
        2.0,
        2.5,
        "status = 503\nevery = 3\nname = \"below\"",
    );
    faults.push_str(&fault("abort", 5.0, 7.0, "status = 503\nname = \"outage\""));
    let run = run_lib("cockatiel-count", 17, 40, &faults, |_, _, dep| {
        node_service("cockatiel", options, dep)
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        recovery_multiplier: Some(2.0),
        recovery_max_ms: Some(4000.0),
        half_open_requests: Some(1),
        ..rate_claim("cockatiel", 0.5, RateTrip::Above, None, Some(20), 10, 800.0)
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "cockatiel CountBreaker judged against its own options");
    expect(
        &j,
        "breaker.users.failure_rate",
        Pass,
        "the count-window rate rule",
    );
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Pass,
        "500 ms doubling per reopening",
    );
    // Without the growth, the later openings last too long.
    let j = run.judge(Breaker {
        recovery_multiplier: None,
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a fixed 500 ms open time",
    );
    // 30% would have opened in the 33% phase.
    let j = run.judge(Breaker {
        failure_rate: Some(0.3),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "a 30% claim");
}

/// The consecutive breakers (pybreaker, circuitbreaker, purgatory) under every 2nd call failing
/// (50%, never two in a row: they stay closed) and then an outage (they open on the Nth failure).
fn consecutive_timeline() -> String {
    let mut faults = fault(
        "abort",
        2.0,
        3.0,
        "status = 503\nevery = 2\nname = \"half\"",
    );
    faults.push_str(&fault("abort", 6.0, 3.0, "status = 503\nname = \"outage\""));
    faults
}

/// Checks a consecutive library: the true claim passes, a higher threshold and a rate claim fail.
fn judge_consecutive(run: &LibRun, library: &str, n: u32, recovery_ms: f64) {
    // All three close on the first call to succeed in half-open.
    let truth = run.spec_claim(&Breaker {
        close_rule: Some(CloseRule::FirstSuccess),
        ..consecutive_claim(library, n, recovery_ms)
    });
    let j = run.judge(truth.clone());
    eprintln!("{library}:\n{}", dump(&j));
    no_fails(&j, &format!("{library} judged against its own settings"));
    expect(
        &j,
        "breaker.users.failure_threshold",
        Pass,
        "N consecutive failures",
    );
    expect(&j, "breaker.users.recovery_timeout", Pass, "its open time");
    assert!(
        j.notes
            .iter()
            .any(|n| n.contains("observed_kind = consecutive")),
        "{library}: the 50% phase that stayed closed shows a consecutive breaker\n{}",
        dump(&j)
    );
    let j = run.judge(Breaker {
        failure_threshold: Some(n + 2),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.failure_threshold",
        Fail,
        "a higher threshold",
    );
    let j = run.judge(Breaker {
        recovery_timeout_ms: Some(recovery_ms * 2.5),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a longer open time",
    );
    // A 40% rate claim: the 50% phase would have opened it.
    let rate = rate_claim(
        library,
        0.4,
        RateTrip::AtLeast,
        Some(1000.0),
        None,
        5,
        recovery_ms,
    );
    let j = run.judge(rate);
    expect(&j, "breaker.users.failure_rate", Fail, "a 40% rate claim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pybreaker_consecutive_breaker() {
    let options = r#"{"options": {"fail_max": 3, "reset_timeout": 1.5}}"#;
    let run = run_lib("pybreaker", 12, 40, &consecutive_timeline(), |_, _, dep| {
        py_service("pybreaker", options, dep)
    })
    .await;
    judge_consecutive(&run, "pybreaker", 3, 1500.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuitbreaker_decorator_consecutive_breaker() {
    let options = r#"{"options": {"failure_threshold": 3, "recovery_timeout": 1}}"#;
    let run = run_lib(
        "circuitbreaker",
        12,
        40,
        &consecutive_timeline(),
        |_, _, dep| py_service("circuitbreaker", options, dep),
    )
    .await;
    judge_consecutive(&run, "circuitbreaker", 3, 1000.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purgatory_consecutive_breaker() {
    let options = r#"{"options": {"default_threshold": 4, "default_ttl": 1.5}}"#;
    let run = run_lib("purgatory", 12, 40, &consecutive_timeline(), |_, _, dep| {
        py_service("purgatory", options, dep)
    })
    .await;
    judge_consecutive(&run, "purgatory", 4, 1500.0);
}

/// nginx passive health checks: `max_fails=3 fail_timeout=2s` on the primary (through the proxy),
/// a backup stub answering while it is marked down. One failure every 4 s stays below the count;
/// an outage and then every 2nd call failing exceed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_max_fails_within_fail_timeout() {
    let mut faults = fault(
        "abort",
        1.0,
        12.5,
        "status = 503\nevery = 160\nname = \"sparse\"",
    );
    faults.push_str(&fault(
        "abort",
        14.0,
        3.0,
        "status = 503\nname = \"outage\"",
    ));
    faults.push_str(&fault(
        "abort",
        19.0,
        2.0,
        "status = 503\nevery = 2\nname = \"half\"",
    ));
    let backup = redline::demo::StubDependency::start(redline::demo::StubConfig::ephemeral())
        .await
        .unwrap();
    let run = run_lib("nginx", 23, 40, &faults, |dir, proxy_port, _| {
        nginx_service(dir, proxy_port, &backup, "max_fails=3 fail_timeout=2s")
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        kind: Some(redline::spec::claims::BreakerKind::FailuresInWindow),
        library: Some("nginx".into()),
        failure_threshold: Some(3),
        window_ms: Some(2000.0),
        recovery_timeout_ms: Some(2000.0),
        ..Breaker::default()
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "nginx judged against its own max_fails/fail_timeout");
    expect(
        &j,
        "breaker.users.failures_in_window",
        Pass,
        "3 failures within 2 s",
    );
    let j = run.judge(Breaker {
        failure_threshold: Some(5),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failures_in_window", Fail, "max_fails=5");
    let j = run.judge(Breaker {
        window_ms: Some(15_000.0),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.failures_in_window",
        Fail,
        "a 15 s window",
    );
    let j = run.judge(Breaker {
        recovery_timeout_ms: Some(6000.0),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a 6 s open time",
    );
}

// Libraries that cannot be installed here: a Rust service follows each one's documented rule
// (tests/it/breaker_libs_support/emulated.rs); the spec fixtures hold their configuration forms.

/// resilience4j: COUNT_BASED window of 20 calls, `failureRateThreshold: 50` (≥), 10 minimum calls,
/// `waitDurationInOpenState: 1s` doubling per reopening up to 4 s, 3 permitted calls in half-open
/// judged by their own failure rate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resilience4j_emulated_rate_breaker_with_growth_and_three_probes() {
    let design = emulated::Design::Resilience4j {
        window_calls: 20,
        failure_rate: 0.5,
        minimum_calls: 10,
        wait_ms: 1000.0,
        multiplier: 2.0,
        max_wait_ms: 4000.0,
        half_open_calls: 3,
        slow: None,
    };
    let mut faults = fault(
        "abort",
        2.0,
        2.5,
        "status = 503\nevery = 3\nname = \"below\"",
    );
    faults.push_str(&fault("abort", 5.5, 8.0, "status = 503\nname = \"outage\""));
    // 19 s: the open time reaches its 4 s cap while the outage lasts (reopened ~12.9 s), so the
    // first probe after it comes near 16.9 s; a 17 s run left ~100 ms for the resumes verdict.
    let run = run_lib("resilience4j", 19, 40, &faults, |_, port, _| {
        emulated_service("resilience4j", design, port)
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        recovery_multiplier: Some(2.0),
        recovery_max_ms: Some(4000.0),
        half_open_requests: Some(3),
        close_rule: Some(CloseRule::ProbeRateBelowThreshold),
        ..rate_claim(
            "resilience4j",
            0.5,
            RateTrip::AtLeast,
            None,
            Some(20),
            10,
            1000.0,
        )
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "resilience4j judged against its own configuration");
    expect(
        &j,
        "breaker.users.failure_rate",
        Pass,
        "50% of the last 20 calls",
    );
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Pass,
        "1 s doubling up to 4 s",
    );
    expect(
        &j,
        "breaker.users.half_open_requests",
        Pass,
        "3 permitted calls",
    );
    let j = run.judge(Breaker {
        failure_rate: Some(0.3),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "a 30% claim");
    let j = run.judge(Breaker {
        half_open_requests: Some(1),
        ..truth.clone()
    });
    expect(&j, "breaker.users.half_open_requests", Fail, "1 probe");
    let j = run.judge(Breaker {
        recovery_multiplier: None,
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a fixed 1 s wait",
    );
}

/// Hystrix: `errorThresholdPercentage=50` (≥, integer percent) with `requestVolumeThreshold=10`
/// over a 2 s rolling window of 10 buckets, health re-read every 500 ms, `sleepWindowInMilliseconds=1500`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hystrix_emulated_rate_breaker() {
    let design = emulated::Design::Hystrix {
        window_ms: 2000.0,
        buckets: 10,
        volume: 10,
        error_percentage: 50,
        sleep_ms: 1500.0,
        snapshot_ms: 500.0,
    };
    let faults = below_above_outage(3, [2.0, 7.0, 12.0], [3.5, 3.0, 2.0]);
    let run = run_lib("hystrix", 16, 40, &faults, |_, port, _| {
        emulated_service("hystrix", design, port)
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        half_open_requests: Some(1),
        ..rate_claim(
            "hystrix",
            0.5,
            RateTrip::AtLeast,
            Some(2000.0),
            None,
            10,
            1500.0,
        )
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "Hystrix judged against its own properties");
    // Pass, or inconclusive "at the window's bucketed edge": with Hystrix's 500 ms health snapshot
    // over 10 buckets, an opening can fit the true rule only at the edge of what the proxy log can
    // tell, and the verdict then says so instead of guessing (never Fail: checked just above).
    let rate = find(&j, "breaker.users.failure_rate");
    assert!(
        rate.status == Pass || (rate.status == Inconclusive && rate.detail.contains("edge")),
        "50% of 10+ calls in 2 s: {}",
        dump(&j)
    );
    let j = run.judge(Breaker {
        failure_rate: Some(0.25),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "a 25% claim");
    let j = run.judge(Breaker {
        minimum_calls: Some(200),
        ..truth.clone()
    });
    expect(&j, "breaker.users.failure_rate", Fail, "a volume of 200");
}

/// Polly v8: `FailureRatio = 0.5` over `SamplingDuration = 1 s` with `MinimumThroughput = 8`,
/// `BreakDuration = 1.5 s`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polly_emulated_rate_breaker() {
    let design = emulated::Design::Polly {
        failure_ratio: 0.5,
        sampling_ms: 1000.0,
        minimum_throughput: 8,
        break_ms: 1500.0,
    };
    let faults = below_above_outage(3, [2.0, 6.0, 10.0], [3.0, 3.0, 2.0]);
    let run = run_lib("polly", 14, 40, &faults, |_, port, _| {
        emulated_service("polly", design, port)
    })
    .await;
    let read = run.spec_claim(&Breaker {
        half_open_requests: Some(1),
        ..rate_claim(
            "polly",
            0.5,
            RateTrip::AtLeast,
            Some(1000.0),
            None,
            8,
            1500.0,
        )
    });
    // Known verdict gap (reported, not tuned away): a probe that succeeds closes Polly, whose rate
    // rule can reopen it within a few calls in the 67% phase; the episode settlement reads that as
    // one half-open period with ~10 probes (its "fewer failures than the first opening" sign holds
    // for counting breakers only). The probe count and close rule are judged in the other tests.
    let truth = Breaker {
        half_open_requests: None,
        close_rule: None,
        ..read
    };
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "Polly judged against its own options");
    expect(
        &j,
        "breaker.users.failure_rate",
        Pass,
        "a ratio of 0.5 over 1 s",
    );
    let j = run.judge(Breaker {
        window_ms: Some(6000.0),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.failure_rate",
        Fail,
        "a 6 s sampling duration",
    );
}

/// gobreaker: `ReadyToTrip: counts.ConsecutiveFailures > 4` (trips on the 5th), `Timeout: 1.5 s`,
/// `MaxRequests: 2`. A slow (but successful) dependency through half-open shows both probes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gobreaker_emulated_consecutive_breaker_with_two_probes() {
    let design = emulated::Design::Gobreaker {
        consecutive_over: 4,
        timeout_ms: 1500.0,
        max_requests: 2,
    };
    let mut faults = fault(
        "abort",
        2.0,
        3.0,
        "status = 503\nevery = 2\nname = \"half\"",
    );
    faults.push_str(&fault("abort", 6.0, 2.0, "status = 503\nname = \"outage\""));
    faults.push_str(&fault(
        "latency",
        8.0,
        3.0,
        "delay = \"200ms\"\nname = \"slow\"",
    ));
    let run = run_lib("gobreaker", 13, 40, &faults, |_, port, _| {
        emulated_service("gobreaker", design, port)
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        half_open_requests: Some(2),
        close_rule: Some(CloseRule::AllProbes),
        ..consecutive_claim("gobreaker", 5, 1500.0)
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "gobreaker judged against its own Settings");
    expect(
        &j,
        "breaker.users.failure_threshold",
        Pass,
        "the 5th consecutive failure",
    );
    expect(
        &j,
        "breaker.users.half_open_requests",
        Pass,
        "MaxRequests 2",
    );
    // `ConsecutiveFailures > 4` read as 4.
    let j = run.judge(Breaker {
        failure_threshold: Some(4),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.failure_threshold",
        Fail,
        "4 consecutive failures",
    );
    let j = run.judge(Breaker {
        half_open_requests: Some(1),
        ..truth.clone()
    });
    expect(&j, "breaker.users.half_open_requests", Fail, "1 probe");
}

/// resilience4j's slow-call rule: `slowCallDurationThreshold: 150ms`, `slowCallRateThreshold: 80`
/// beside `failureRateThreshold: 50`. A 200 ms latency fault fails no call but opens it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resilience4j_emulated_slow_call_rate() {
    let design = emulated::Design::Resilience4j {
        window_calls: 20,
        failure_rate: 0.5,
        minimum_calls: 10,
        wait_ms: 1000.0,
        multiplier: 1.0,
        max_wait_ms: 1000.0,
        half_open_calls: 3,
        slow: Some((150.0, 0.8)),
    };
    let mut faults = fault("latency", 2.0, 4.0, "delay = \"200ms\"\nname = \"slow\"");
    faults.push_str(&fault(
        "abort",
        7.0,
        2.0,
        "status = 503\nevery = 3\nname = \"below\"",
    ));
    let run = run_lib("resilience4j-slow", 11, 40, &faults, |_, port, _| {
        emulated_service("resilience4j-slow", design, port)
    })
    .await;
    let read = run.spec_claim(&Breaker {
        slow_call_ms: Some(150.0),
        slow_call_rate: Some(0.8),
        half_open_requests: Some(3),
        ..rate_claim(
            "resilience4j",
            0.5,
            RateTrip::AtLeast,
            None,
            Some(20),
            10,
            1000.0,
        )
    });
    // Known verdict gap (reported, not tuned away): the episodes are settled without the claim, so
    // 3 slow (200 ms, successful) probes that reopen resilience4j by its slow-call rate read as a
    // success that closed it, and the probe count as every call up to it. Judged in the test above.
    let truth = Breaker {
        half_open_requests: None,
        close_rule: None,
        ..read
    };
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "resilience4j with its slow-call rule");
    expect(
        &j,
        "breaker.users.failure_rate",
        Pass,
        "80% slow calls of 20",
    );
    // Without the slow-call rule, or with calls slow only from 250 ms, nothing that counts had
    // failed when traffic stopped: the opening verdict fails and names the slow calls.
    let no_slow = Breaker {
        slow_call_ms: None,
        slow_call_rate: None,
        ..truth.clone()
    };
    let slow_from_250 = Breaker {
        slow_call_ms: Some(250.0),
        ..truth.clone()
    };
    for (what, wrong) in [
        ("no slow-call rule", no_slow),
        ("slow from 250 ms", slow_from_250),
    ] {
        let j = run.judge(wrong);
        expect(&j, "breaker.users.opens", Fail, what);
        let detail = &find(&j, "breaker.users.opens").detail;
        assert!(detail.contains("slow calls"), "{what}\n{}", dump(&j));
    }
}

/// Envoy outlier detection: `consecutive_5xx: 3` ejects the only host for `base_ejection_time: 0.5s`
/// × the number of times it was ejected, lifted at the first `interval: 0.25s` sweep after that; no
/// half-open, so each return in an outage costs 3 failed calls and a longer ejection. Every 2nd call
/// failing (never 3 in a row) leaves it in service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_emulated_outlier_detection_with_linear_ejection_time() {
    let design = emulated::Design::Envoy {
        consecutive_5xx: 3,
        base_ejection_ms: 500.0,
        max_ejection_ms: 10_000.0,
        interval_ms: 250.0,
    };
    let mut faults = fault(
        "abort",
        1.5,
        2.0,
        "status = 503\nevery = 2\nname = \"half\"",
    );
    faults.push_str(&fault("abort", 4.5, 5.0, "status = 503\nname = \"outage\""));
    let run = run_lib("envoy", 15, 40, &faults, |_, port, _| {
        emulated_service("envoy", design, port)
    })
    .await;
    let truth = run.spec_claim(&Breaker {
        recovery_growth: Some(RecoveryGrowth::Linear),
        recovery_max_ms: Some(10_000.0),
        ejection_sweep_ms: Some(250.0),
        ..consecutive_claim("envoy", 3, 500.0)
    });
    let j = run.judge(truth.clone());
    eprintln!("{}", dump(&j));
    no_fails(&j, "Envoy judged against its own outlier_detection");
    expect(
        &j,
        "breaker.users.failure_threshold",
        Pass,
        "3 consecutive 5xx",
    );
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Pass,
        "500 ms × the ejection count, at the next sweep",
    );
    let timed = find(&j, "breaker.users.recovery_timeout");
    assert!(
        timed.measured.matches(", ").count() >= 2,
        "the outage should show at least 3 ejections\n{}",
        dump(&j)
    );
    // A fixed ejection time: the later ejections last too long.
    let j = run.judge(Breaker {
        recovery_growth: None,
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a fixed 500 ms ejection",
    );
    // Doubling instead of N × base: the 4th ejection would last 4 s, not 2 s.
    let j = run.judge(Breaker {
        recovery_growth: Some(RecoveryGrowth::Multiply),
        recovery_multiplier: Some(2.0),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a doubling ejection time",
    );
    let j = run.judge(Breaker {
        recovery_timeout_ms: Some(1000.0),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.recovery_timeout",
        Fail,
        "a 1 s base ejection time",
    );
    let j = run.judge(Breaker {
        failure_threshold: Some(5),
        ..truth.clone()
    });
    expect(
        &j,
        "breaker.users.failure_threshold",
        Fail,
        "5 consecutive 5xx",
    );
}
