//! The reference service's circuit breaker with its shipped settings (5 consecutive failures, 5 s
//! open, 2 half-open probes), broken through a real fault proxy and read from the proxy's
//! dependency log: the evidence a chaos run records and the breaker verdicts judge.

use crate::reference_proxy_support as rig;
use crate::refsvc;

use std::sync::Arc;
use std::time::Duration;

use redline_proxy::log::{LogEntry, Outcome};
use refsvc::get;
use rig::{describe, median, Rig, Sample};

/// `failure_threshold`, `recovery_timeout` and `half_open_requests` of the shipped spec.
const THRESHOLD: usize = 5;
const RECOVERY_MS: f64 = 5000.0;
const PROBES: usize = 2;
/// How late the first call after an open period may come: the client's pause between requests
/// plus scheduling on a loaded 2-core machine. The lower bound has no slack: never early.
const LATE_MS: f64 = 1500.0;

/// `/health`: (status, breaker, times_opened).
async fn health(rig: &Rig) -> (String, String, u64) {
    let a = get(rig.addr(), "/health").await;
    let dep = &a.body["checks"]["UserService"];
    (
        a.body["status"].as_str().unwrap_or("?").to_string(),
        dep["breaker"].as_str().unwrap_or("?").to_string(),
        dep["times_opened"].as_u64().unwrap_or(u64::MAX),
    )
}

fn ids(entries: &[&LogEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e.correlation_id.clone().unwrap_or_default())
        .collect()
}

fn assert_silence(from: &LogEntry, to: &LogEntry, log: &[LogEntry], what: &str) {
    let gap = to.t_ms - from.t_ms;
    assert!(
        (RECOVERY_MS..RECOVERY_MS + LATE_MS).contains(&gap),
        "{what}: {gap:.0} ms without calls, expected the 5 s recovery timeout; {}",
        describe(log)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_503_opens_after_5_failures_stays_silent_5s_probes_twice_then_closes() {
    let rig = Arc::new(Rig::start(|_| {}).await);
    let client = rig.paced_client("steady", Duration::from_millis(25), Duration::from_secs(40));
    rig.wait_log("healthy traffic", Duration::from_secs(5), |log| {
        log.len() >= 5
    })
    .await;
    assert_eq!(health(&rig).await, ("healthy".into(), "closed".into(), 0));

    let fault_at = rig.now_ms();
    rig.fault("abort:status=503");
    let aborted = |log: &[LogEntry]| log.iter().filter(|e| e.fault.is_some()).count();
    rig.wait_log(
        "5 failures, then 2 failed probes",
        Duration::from_secs(15),
        |log| aborted(log) >= THRESHOLD + PROBES,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, breaker, opened) = health(&rig).await;
    assert_eq!((status.as_str(), breaker.as_str()), ("degraded", "open"));
    assert_eq!(opened, 2, "opened once, reopened after the failed probes");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let cleared_at = rig.now_ms();
    rig.clear();
    rig.wait_log(
        "successful probes and resumed traffic",
        Duration::from_secs(12),
        |log| log.iter().filter(|e| e.t_ms > cleared_at).count() >= 10,
    )
    .await;
    let samples = client.finish().await;
    assert_eq!(health(&rig).await, ("healthy".into(), "closed".into(), 2));

    let log = rig.log();
    let during: Vec<&LogEntry> = log
        .iter()
        .filter(|e| (fault_at..cleared_at).contains(&e.t_ms))
        .collect();
    let after: Vec<&LogEntry> = log.iter().filter(|e| e.t_ms >= cleared_at).collect();
    check_fault_window(&log, &during);
    check_recovery(&log, &during, &after, &samples);
    check_client_while_open(&samples, &during);
}

/// Exactly 5 failed calls, a silent recovery timeout, exactly 2 probes (one request: the first
/// probe failed, its retry took the second), and nothing more while the fault lasted.
fn check_fault_window(log: &[LogEntry], during: &[&LogEntry]) {
    assert_eq!(
        during.len(),
        THRESHOLD + PROBES,
        "calls while UserService failed; {}",
        describe(log)
    );
    for e in during {
        assert_eq!((e.outcome, e.status), (Outcome::Aborted, Some(503)));
        assert_eq!(e.fault.as_deref(), Some("abort"));
    }
    let ids = ids(during);
    assert!(
        ids[0] == ids[1] && ids[1] == ids[2] && ids[2] != ids[3] && ids[3] == ids[4],
        "3 attempts of one request, then 2 of the next before the breaker opened: {ids:?}"
    );
    assert_eq!(ids[5], ids[6], "both probes belong to one request: {ids:?}");
    assert_silence(during[4], during[5], log, "first open period");
    let probe_gap = during[6].t_ms - during[5].t_ms;
    assert!(
        (40.0..250.0).contains(&probe_gap),
        "the second probe is the first's retry after 50 ms ± 20%: {probe_gap:.1} ms"
    );
}

/// Open again for 5 s after the failed probes; then 2 successful probes close it and every request
/// makes exactly one call again.
fn check_recovery(log: &[LogEntry], during: &[&LogEntry], after: &[&LogEntry], samples: &[Sample]) {
    assert!(after.len() >= 10, "{}", describe(log));
    assert_silence(during[6], after[0], log, "reopened period");
    for e in after {
        assert_eq!(
            (e.outcome, e.status),
            (Outcome::Forwarded, Some(200)),
            "{}",
            describe(log)
        );
    }
    assert_ne!(
        after[0].correlation_id, after[1].correlation_id,
        "two successful probes come from two requests"
    );
    let closed_from = after[1].t_ms;
    let resumed: Vec<&Sample> = samples.iter().filter(|s| s.t_ms > closed_from).collect();
    assert!(resumed.len() >= 5, "traffic after the breaker closed");
    for s in resumed {
        assert_eq!(s.status, 200, "{s:?}");
        let calls = rig::for_request(log, &s.request_id).len();
        assert_eq!(calls, 1, "one call per request once closed: {s:?}");
    }
}

/// While open, clients got the fallback (503, SERVICE_UNAVAILABLE, Retry-After counting down from
/// the recovery timeout) fast, without any call to UserService.
fn check_client_while_open(samples: &[Sample], during: &[&LogEntry]) {
    let opened = during[THRESHOLD - 1].t_ms;
    let probing = during[THRESHOLD].t_ms;
    let open: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.t_ms > opened + 50.0 && s.t_ms + s.elapsed_ms < probing - 10.0)
        .collect();
    assert!(
        open.len() >= 20,
        "client demand continued while open: {} requests",
        open.len()
    );
    for s in &open {
        assert_eq!(s.status, 503, "{s:?}");
        assert_eq!(s.error_code.as_deref(), Some("SERVICE_UNAVAILABLE"));
        let ra = s.retry_after.expect("Retry-After on the fallback");
        assert!(
            (1..=5).contains(&ra),
            "Retry-After {ra} s: within the 5 s open period"
        );
    }
    assert!(open[0].retry_after >= Some(4), "{:?}", open[0]);
    assert!(
        open[open.len() - 1].retry_after <= Some(2),
        "{:?}",
        open.last()
    );
    let lat: Vec<f64> = open.iter().map(|s| s.elapsed_ms).collect();
    let m = median(&lat);
    assert!(
        m < 50.0,
        "fail fast: median {m:.1} ms, far below the 300 ms call timeout"
    );
    let first = samples
        .iter()
        .find(|s| s.status == 503)
        .expect("a failed request");
    assert!(
        first.elapsed_ms >= 40.0 + 80.0,
        "the first failing request waited out both backoffs: {first:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_that_is_down_opens_the_breaker_and_its_return_closes_it() {
    let rig = Arc::new(Rig::start(|_| {}).await);
    for i in 0..3 {
        assert_eq!(rig.get_item(&format!("up-{i}"), "k").await.status, 200);
    }
    let fault_at = rig.now_ms();
    rig.fault("down");
    let a = rig.get_item("down-a", "k").await;
    assert_eq!(
        (a.status, a.error_code.as_deref()),
        (503, Some("SERVICE_UNAVAILABLE"))
    );
    assert!(
        a.elapsed_ms >= 40.0 + 80.0,
        "3 refused attempts, 2 backoffs: {a:?}"
    );
    let b = rig.get_item("down-b", "k").await;
    assert_eq!(b.status, 503);
    let (status, breaker, opened) = health(&rig).await;
    assert_eq!(
        (status.as_str(), breaker.as_str(), opened),
        ("degraded", "open", 1),
        "5 refused connections open the breaker"
    );
    for i in 0..5 {
        let s = rig.get_item(&format!("open-{i}"), "k").await;
        assert_eq!(s.status, 503);
        assert!((1..=5).contains(&s.retry_after.unwrap_or(0)), "{s:?}");
    }
    assert!(
        rig.log().iter().all(|e| e.t_ms < fault_at),
        "a down proxy refuses connections: nothing reaches the log"
    );

    let cleared_at = rig.now_ms();
    rig.clear();
    let client = rig.paced_client("back", Duration::from_millis(25), Duration::from_secs(20));
    let log = rig
        .wait_log("traffic after the return", Duration::from_secs(12), |log| {
            log.iter().filter(|e| e.t_ms > cleared_at).count() >= 5
        })
        .await;
    client.finish().await;
    let after: Vec<&LogEntry> = log.iter().filter(|e| e.t_ms > cleared_at).collect();
    let resumed = after[0].t_ms;
    assert!(
        resumed >= b.t_ms + RECOVERY_MS && resumed < b.t_ms + b.elapsed_ms + RECOVERY_MS + LATE_MS,
        "first call {resumed:.0} ms, breaker opened during the request sent at {:.0} ms; {}",
        b.t_ms,
        describe(&log)
    );
    assert!(after
        .iter()
        .all(|e| e.outcome == Outcome::Forwarded && e.status == Some(200)));
    assert_eq!(health(&rig).await, ("healthy".into(), "closed".into(), 1));
}
