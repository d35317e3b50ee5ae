//! The reference service's circuit breaker, seen from both sides: the client's answers and the calls
//! the (real, switchable) UserService received.

use crate::refsvc;

use std::time::{Duration, Instant};

use redline::demo::service::{BreakerConfig, ServiceTimes};
use redline::demo::{ReferenceConfig, ReferenceHandle, ReferenceService};
use refsvc::{get, health, FlakyDependency, Mode};

const RECOVERY: Duration = Duration::from_secs(1);

fn config(dep: &FlakyDependency, threshold: u32, retries: u32) -> ReferenceConfig {
    let mut cfg = ReferenceConfig::ephemeral(dep.url());
    cfg.service_times = ServiceTimes::zero();
    cfg.rate_limit = None;
    cfg.call_timeout = Duration::from_secs(1);
    cfg.retry.retries = retries;
    cfg.retry.base_backoff = Duration::from_millis(20);
    cfg.breaker = BreakerConfig {
        failure_threshold: threshold,
        recovery_timeout: RECOVERY,
        half_open_requests: 2,
    };
    cfg
}

/// Fails `n` requests (no retries configured) and returns when the last answer arrived.
async fn trip(svc: &ReferenceHandle, dep: &FlakyDependency, n: usize) -> Instant {
    for i in 1..=n {
        let a = get(svc.addr(), "/items/1").await;
        assert_eq!(a.status, 503, "request {i}");
        assert_eq!(dep.call_count(), i, "each failed request made one call");
    }
    Instant::now()
}

/// Polls `/health` until the breaker reports `state` (5 s cap); returns when it did.
async fn wait_for_breaker(svc: &ReferenceHandle, state: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if health(svc.addr()).await.1 == state {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "breaker never became {state}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn opens_after_exactly_n_consecutive_failures_and_stops_calling() {
    let dep = FlakyDependency::start(Mode::Error(503)).await;
    let svc = ReferenceService::start(config(&dep, 3, 0)).await.unwrap();
    assert_eq!(
        health(svc.addr()).await,
        ("healthy".into(), "closed".into())
    );

    trip(&svc, &dep, 2).await;
    assert_eq!(
        health(svc.addr()).await.1,
        "closed",
        "2 failures < threshold 3"
    );
    let a = get(svc.addr(), "/items/1").await;
    assert_eq!(a.status, 503);
    assert_eq!(dep.call_count(), 3);
    assert_eq!(health(svc.addr()).await, ("degraded".into(), "open".into()));

    for _ in 0..10 {
        let a = get(svc.addr(), "/items/1").await;
        assert_eq!(a.status, 503);
        assert_eq!(
            a.retry_after(),
            Some(1),
            "Retry-After: the 1 s left, rounded up"
        );
        assert_eq!(a.body["error_code"], "SERVICE_UNAVAILABLE");
    }
    assert_eq!(
        dep.call_count(),
        3,
        "no call reaches UserService while open"
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn a_success_in_between_resets_the_count() {
    let dep = FlakyDependency::start(Mode::Error(500)).await;
    let svc = ReferenceService::start(config(&dep, 3, 0)).await.unwrap();
    trip(&svc, &dep, 2).await;
    dep.set_mode(Mode::Healthy);
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    dep.set_mode(Mode::Error(500));
    for _ in 0..2 {
        assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    }
    assert_eq!(health(svc.addr()).await.1, "closed", "only 2 consecutive");
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    assert_eq!(health(svc.addr()).await.1, "open");
    assert_eq!(dep.call_count(), 6);
    svc.shutdown().await;
}

#[tokio::test]
async fn every_retry_attempt_counts_toward_the_threshold() {
    let dep = FlakyDependency::start(Mode::Error(503)).await;
    // 3 attempts per request, threshold 5: the first request makes 3 calls, the second 2 and then
    // finds the breaker open, the third makes none.
    let svc = ReferenceService::start(config(&dep, 5, 2)).await.unwrap();
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    assert_eq!(dep.call_count(), 3);
    let second = get(svc.addr(), "/items/1").await;
    assert_eq!(second.status, 503);
    assert_eq!(dep.call_count(), 5);
    assert_eq!(second.retry_after(), Some(1));
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    assert_eq!(dep.call_count(), 5);
    svc.shutdown().await;
}

#[tokio::test]
async fn stays_open_for_the_recovery_timeout_then_k_probes_close_it() {
    let dep = FlakyDependency::start(Mode::Error(503)).await;
    let svc = ReferenceService::start(config(&dep, 3, 0)).await.unwrap();
    let opened = trip(&svc, &dep, 3).await;
    // Slow enough that all six callers below arrive while the two probes are still out.
    dep.set_mode(Mode::Slow(Duration::from_millis(700)));

    let half = wait_for_breaker(&svc, "half_open").await;
    let open_for = half - opened;
    assert!(
        open_for >= RECOVERY - Duration::from_millis(50),
        "{open_for:?}"
    );
    assert!(
        open_for < RECOVERY + Duration::from_millis(800),
        "{open_for:?}"
    );
    assert_eq!(
        dep.call_count(),
        3,
        "nothing reached UserService while open"
    );

    // Six callers at once in half-open: exactly two become probes, the rest are refused fast.
    let addr = svc.addr();
    let tasks: Vec<_> = (0..6)
        .map(|_| tokio::spawn(async move { get(addr, "/items/1").await }))
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 200, 503, 503, 503, 503]);
    assert_eq!(dep.call_count(), 5, "exactly 2 probes");
    assert_eq!(
        health(svc.addr()).await,
        ("healthy".into(), "closed".into())
    );

    dep.set_mode(Mode::Healthy);
    for _ in 0..5 {
        assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    }
    assert_eq!(dep.call_count(), 10, "traffic resumed");
    svc.shutdown().await;
}

#[tokio::test]
async fn a_failed_probe_reopens_it_for_another_recovery_timeout() {
    let dep = FlakyDependency::start(Mode::Error(503)).await;
    let svc = ReferenceService::start(config(&dep, 3, 0)).await.unwrap();
    trip(&svc, &dep, 3).await;
    wait_for_breaker(&svc, "half_open").await;

    // Both trial calls fail; only then does the breaker reopen.
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    assert_eq!(health(svc.addr()).await.1, "half_open");
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    let reopened = Instant::now();
    assert_eq!(dep.call_count(), 5);
    let h = get(svc.addr(), "/health").await;
    assert_eq!(h.body["checks"]["UserService"]["breaker"], "open");
    assert_eq!(h.body["checks"]["UserService"]["times_opened"], 2);
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    assert_eq!(dep.call_count(), 5, "open again: no call");

    dep.set_mode(Mode::Healthy);
    let half = wait_for_breaker(&svc, "half_open").await;
    assert!(half - reopened >= RECOVERY - Duration::from_millis(50));
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    assert_eq!(
        health(svc.addr()).await,
        ("healthy".into(), "closed".into())
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn refused_connections_open_it_and_a_returning_dependency_closes_it() {
    let dep = FlakyDependency::start(Mode::Healthy).await;
    let dep_addr = dep.addr();
    let svc = ReferenceService::start(config(&dep, 3, 0)).await.unwrap();
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    drop(dep);
    // Let the stopped server's sockets close so the pooled connection is seen as gone.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..3 {
        let a = get(svc.addr(), "/items/1").await;
        assert_eq!(a.status, 503);
        assert!(
            a.elapsed < Duration::from_millis(500),
            "refused fast, no timeout"
        );
    }
    assert_eq!(health(svc.addr()).await, ("degraded".into(), "open".into()));

    let back = FlakyDependency::start_on(dep_addr, Mode::Healthy).await;
    wait_for_breaker(&svc, "half_open").await;
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    assert_eq!(
        health(svc.addr()).await,
        ("healthy".into(), "closed".into())
    );
    assert_eq!(back.call_count(), 2, "the two probes");
    svc.shutdown().await;
}
