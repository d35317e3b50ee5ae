//! The reference service's per-call timeout, retry policy, fallback and rate limit with its shipped
//! settings (300 ms per attempt; 3 attempts, backoff 50 ms then 100 ms ± 20%; 100/s per key), under
//! real faults injected by a real proxy, read from the proxy's dependency log and the client side.

use crate::reference_proxy_support as rig;
use crate::refsvc;

use std::sync::Arc;
use std::time::Duration;

use redline_proxy::log::{LogEntry, Outcome};
use rig::{describe, for_request, gaps, Rig};

const CALL_TIMEOUT_MS: f64 = 300.0;
/// Bounds of the two backoffs (nominal ± 20%), and the slack allowed above them for scheduling.
const BACKOFFS: [(f64, f64); 2] = [(40.0, 60.0), (80.0, 120.0)];
const SLACK_MS: f64 = 150.0;

/// Waits until the proxy has logged `n` calls of request `id`; returns them in arrival order.
async fn calls_of(rig: &Rig, id: &str, n: usize) -> Vec<LogEntry> {
    let log = rig
        .wait_log(
            &format!("{n} calls of {id}"),
            Duration::from_secs(5),
            |log| for_request(log, id).len() >= n,
        )
        .await;
    for_request(&log, id).into_iter().cloned().collect()
}

/// Arrival gaps between attempts: each attempt's own time (`busy_ms`: the timeout for calls that
/// were given up, ~0 for calls answered at once) plus the backoff of the retry policy.
fn assert_backoffs(calls: &[LogEntry], busy_ms: f64) {
    let refs: Vec<&LogEntry> = calls.iter().collect();
    for (i, gap) in gaps(&refs).into_iter().enumerate() {
        let (lo, hi) = BACKOFFS[i];
        let wait = gap - busy_ms;
        assert!(
            (lo - 10.0..hi + SLACK_MS).contains(&wait),
            "backoff {} was {wait:.1} ms, expected {lo}..{hi} ms; {}",
            i + 1,
            describe(calls)
        );
    }
}

/// Every call given up by the service at its 300 ms call timeout, as the proxy saw it.
fn assert_given_up_at_timeout(calls: &[LogEntry], fault: &str) {
    for e in calls {
        assert_eq!(e.outcome, Outcome::CallerGaveUp, "{}", describe(calls));
        assert_eq!(e.fault.as_deref(), Some(fault));
        let g = e
            .gave_up_ms
            .expect("gave_up_ms on a call the caller gave up");
        assert!(
            (CALL_TIMEOUT_MS - 15.0..CALL_TIMEOUT_MS + 300.0).contains(&g),
            "the service gave up after {g:.1} ms, expected its 300 ms call timeout"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_is_given_up_at_300ms_per_attempt_and_5_timeouts_open_the_breaker() {
    let rig = Rig::start(|_| {}).await;
    rig.fault("hang");
    let a = rig.get_item("hang-a", "k").await;
    assert_eq!(
        (a.status, a.error_code.as_deref()),
        (503, Some("SERVICE_UNAVAILABLE"))
    );
    assert!(a.retry_after.is_some(), "{a:?}");
    let floor = 3.0 * CALL_TIMEOUT_MS + 40.0 + 80.0;
    assert!(
        (floor - 15.0..floor + 1200.0).contains(&a.elapsed_ms),
        "3 timed-out attempts and 2 backoffs: {a:?}"
    );
    let calls = calls_of(&rig, "hang-a", 3).await;
    assert_eq!(calls.len(), 3);
    assert_given_up_at_timeout(&calls, "hang");
    assert_backoffs(&calls, CALL_TIMEOUT_MS);

    // Timeouts count as failures: 3 + 2 open the breaker; the second request's last attempt is
    // never made, and the next request is refused without a call.
    let b = rig.get_item("hang-b", "k").await;
    assert_eq!(b.status, 503);
    let calls = calls_of(&rig, "hang-b", 2).await;
    assert_given_up_at_timeout(&calls, "hang");
    let c = rig.get_item("hang-c", "k").await;
    assert_eq!(c.status, 503);
    assert!(
        c.elapsed_ms < CALL_TIMEOUT_MS,
        "fail fast while open: {c:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = rig.log();
    assert_eq!(log.len(), 5, "{}", describe(&log));
    assert!(for_request(&log, "hang-c").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_beyond_the_call_timeout_is_given_up_like_a_hang() {
    let rig = Rig::start(|_| {}).await;
    rig.fault("latency:delay=1s");
    let a = rig.get_item("slow-a", "k").await;
    assert_eq!(a.status, 503);
    let calls = calls_of(&rig, "slow-a", 3).await;
    assert_eq!(calls.len(), 3);
    assert_given_up_at_timeout(&calls, "latency");
    assert_backoffs(&calls, CALL_TIMEOUT_MS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_within_the_call_timeout_is_waited_for_without_retry() {
    let rig = Rig::start(|_| {}).await;
    rig.fault("latency:delay=120ms");
    let a = rig.get_item("slowish", "k").await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.elapsed_ms >= 120.0, "{a:?}");
    let calls = calls_of(&rig, "slowish", 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(for_request(&rig.log(), "slowish").len(), 1, "no retry");
    assert_eq!(
        (calls[0].outcome, calls[0].status),
        (Outcome::Forwarded, Some(200))
    );
    assert_eq!(calls[0].gave_up_ms, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_is_retried_twice_with_exponential_backoff() {
    let rig = Rig::start(|_| {}).await;
    rig.fault("reset");
    let a = rig.get_item("reset-a", "k").await;
    assert_eq!(
        (a.status, a.error_code.as_deref()),
        (503, Some("SERVICE_UNAVAILABLE"))
    );
    let calls = calls_of(&rig, "reset-a", 3).await;
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|e| e.outcome == Outcome::Reset));
    assert_backoffs(&calls, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_5xx_and_429_are_retried_with_jittered_backoff() {
    let rig = Rig::start(|cfg| cfg.breaker.failure_threshold = 1000).await;
    rig.fault("abort:status=500,path=/users/five");
    rig.fault("abort:status=429,name=overloaded,path=/users/busy");
    let mut first_waits = Vec::new();
    for i in 0..8 {
        let (id, key) = if i % 2 == 0 {
            (format!("five-{i}"), "five")
        } else {
            (format!("busy-{i}"), "busy")
        };
        let a = rig.get_item(&id, key).await;
        assert_eq!(a.status, 503, "{a:?}");
        let calls = calls_of(&rig, &id, 3).await;
        assert_eq!(calls.len(), 3);
        assert!(calls.iter().all(|e| e.outcome == Outcome::Aborted));
        assert_backoffs(&calls, 0.0);
        first_waits.push(calls[1].t_ms - calls[0].t_ms);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rig.log().len(), 24, "exactly 3 attempts per request");
    // Jitter is real: the first backoff is not the same every time.
    let spread = first_waits.iter().cloned().fold(f64::MIN, f64::max)
        - first_waits.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 2.0, "backoffs {first_waits:?} show no jitter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_from_userservice_is_not_retried_and_not_a_breaker_failure() {
    let rig = Arc::new(Rig::start(|_| {}).await);
    rig.fault("abort:status=404");
    for i in 0..8 {
        let a = rig.get_item(&format!("unknown-{i}"), "stranger").await;
        assert_eq!(
            (a.status, a.error_code.as_deref()),
            (401, Some("UNAUTHORIZED")),
            "{a:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = rig.log();
    assert_eq!(log.len(), 8, "one call per request; {}", describe(&log));
    let (_, breaker) = refsvc::health(rig.addr()).await;
    assert_eq!(breaker, "closed", "8 refusals > threshold 5, still closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_100_per_second_a_key_gets_429_with_retry_after_and_userservice_is_not_called() {
    let rig = Arc::new(Rig::start(|_| {}).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..300 {
        let rig = Arc::clone(&rig);
        tasks.spawn(async move { rig.get_item(&format!("burst-{i}"), "burst").await });
    }
    let (mut ok, mut limited) = (0, 0);
    while let Some(s) = tasks.join_next().await {
        let s = s.expect("client task");
        match s.status {
            200 => ok += 1,
            429 => {
                limited += 1;
                assert_eq!(s.error_code.as_deref(), Some("RATE_LIMIT_EXCEEDED"));
                assert!(s.retry_after >= Some(1), "{s:?}");
            }
            other => panic!("unexpected status {other}: {s:?}"),
        }
    }
    assert!(ok >= 100, "the burst allowance of 100 was served: {ok}");
    assert!(limited > 0, "300 requests at once exceed 100 + 100/s");
    let other = rig.get_item("other-key", "other").await;
    assert_eq!(other.status, 200, "another key has its own bucket");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let burst_calls = rig
        .log()
        .iter()
        .filter(|e| e.path == "/users/burst")
        .count();
    assert_eq!(
        burst_calls, ok,
        "only admitted requests reach UserService (the limit is checked first)"
    );
}
