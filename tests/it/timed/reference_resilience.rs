//! The reference service's per-call timeout, retries, fallback, rate limit, health and correlation
//! headers, observed through real sockets at both the client and the dependency side.

use crate::refsvc;

use std::time::Duration;

use redline::demo::service::{BreakerConfig, RateLimitConfig, ServiceTimes};
use redline::demo::{ReferenceConfig, ReferenceService};
use refsvc::{get, health, send, FlakyDependency, Mode, SilentDependency};

fn config(dep: &FlakyDependency) -> ReferenceConfig {
    let mut cfg = ReferenceConfig::ephemeral(dep.url());
    cfg.service_times = ServiceTimes::zero();
    cfg.rate_limit = None;
    cfg.retry.retries = 0;
    cfg.breaker = BreakerConfig {
        failure_threshold: 100,
        recovery_timeout: Duration::from_secs(5),
        half_open_requests: 2,
    };
    cfg
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::test]
async fn a_hung_dependency_is_given_up_at_the_call_timeout() {
    let dep = FlakyDependency::start(Mode::Hang).await;
    let mut cfg = config(&dep);
    cfg.call_timeout = Duration::from_millis(200);
    let svc = ReferenceService::start(cfg).await.unwrap();
    let a = get(svc.addr(), "/items/1").await;
    assert_eq!(a.status, 503);
    assert_eq!(a.retry_after(), Some(1));
    let t = ms(a.elapsed);
    assert!((195.0..1500.0).contains(&t), "gave up after {t} ms");
    assert_eq!(dep.call_count(), 1);
    svc.shutdown().await;
}

#[tokio::test]
async fn a_timed_out_call_closes_its_connection_at_the_timeout() {
    let dep = SilentDependency::start().await;
    let mut cfg = ReferenceConfig::ephemeral(dep.url());
    cfg.service_times = ServiceTimes::zero();
    cfg.call_timeout = Duration::from_millis(250);
    cfg.retry.retries = 1;
    cfg.retry.jitter = 0.0;
    let svc = ReferenceService::start(cfg).await.unwrap();
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (opened, closed) = (dep.opened(), dep.closed());
    assert_eq!(
        opened.len(),
        2,
        "one connection per attempt: a timed-out one is not reused"
    );
    assert_eq!(closed.len(), 2, "the service closed both");
    for (o, c) in opened.iter().zip(&closed) {
        let held = ms(*c - *o);
        assert!((245.0..1000.0).contains(&held), "gave up after {held} ms");
    }
    svc.shutdown().await;
}

#[tokio::test]
async fn retries_make_the_configured_attempts_with_exponential_spacing() {
    let dep = FlakyDependency::start(Mode::Error(503)).await;
    let mut cfg = config(&dep);
    cfg.retry.retries = 2;
    cfg.retry.base_backoff = Duration::from_millis(100);
    cfg.retry.jitter = 0.2;
    let svc = ReferenceService::start(cfg).await.unwrap();
    for round in 0..4 {
        assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
        let calls = dep.calls();
        assert_eq!(calls.len(), 3 * (round + 1), "3 attempts per request");
        let c = &calls[3 * round..];
        let g1 = ms(c[1].at - c[0].at);
        let g2 = ms(c[2].at - c[1].at);
        // Nominal 100 ms then 200 ms, ±20%; the upper bounds allow for a busy machine.
        assert!((78.0..120.0 + 150.0).contains(&g1), "first backoff {g1} ms");
        assert!(
            (158.0..240.0 + 150.0).contains(&g2),
            "second backoff {g2} ms"
        );
        let rid = c[0].request_id.clone();
        assert!(
            rid.is_some() && c.iter().all(|x| x.request_id == rid),
            "one request id per request"
        );
    }
    svc.shutdown().await;
}

#[tokio::test]
async fn retries_with_timeouts_add_up_to_the_attempt_budget() {
    let dep = FlakyDependency::start(Mode::Hang).await;
    let mut cfg = config(&dep);
    cfg.call_timeout = Duration::from_millis(150);
    cfg.retry.retries = 2;
    cfg.retry.base_backoff = Duration::from_millis(50);
    cfg.retry.jitter = 0.0;
    let svc = ReferenceService::start(cfg).await.unwrap();
    let a = get(svc.addr(), "/items/1").await;
    assert_eq!(a.status, 503);
    assert_eq!(dep.call_count(), 3);
    // 3 x 150 ms + 50 ms + 100 ms = 600 ms at least.
    let t = ms(a.elapsed);
    assert!((595.0..2500.0).contains(&t), "{t} ms");
    svc.shutdown().await;
}

#[tokio::test]
async fn a_refusal_from_user_service_is_not_retried_and_not_a_failure() {
    let dep = FlakyDependency::start(Mode::Error(404)).await;
    let mut cfg = config(&dep);
    cfg.retry.retries = 2;
    cfg.breaker.failure_threshold = 1;
    let svc = ReferenceService::start(cfg).await.unwrap();
    for _ in 0..3 {
        let a = get(svc.addr(), "/items/1").await;
        assert_eq!(a.status, 401);
        assert_eq!(a.body["error_code"], "UNAUTHORIZED");
    }
    assert_eq!(dep.call_count(), 3, "one call per request, no retries");
    assert_eq!(
        health(svc.addr()).await,
        ("healthy".into(), "closed".into())
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn while_open_the_fallback_is_503_with_retry_after_and_fast() {
    let dep = FlakyDependency::start(Mode::Hang).await;
    let mut cfg = config(&dep);
    cfg.call_timeout = Duration::from_millis(300);
    cfg.breaker.failure_threshold = 3;
    let svc = ReferenceService::start(cfg).await.unwrap();
    for _ in 0..3 {
        let a = get(svc.addr(), "/items/1").await;
        assert!(a.elapsed >= Duration::from_millis(295));
    }
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let a = get(svc.addr(), "/items/1").await;
        assert_eq!(a.status, 503);
        let ra = a.retry_after().expect("Retry-After");
        assert!((1..=5).contains(&ra), "{ra}");
        assert_eq!(a.body["retry_after"], ra);
        slowest = slowest.max(a.elapsed);
    }
    // Far below the 300 ms call timeout (the real figure is around a millisecond).
    assert!(slowest < Duration::from_millis(150), "{slowest:?}");
    assert_eq!(dep.call_count(), 3);
    assert_eq!(health(svc.addr()).await.0, "degraded");
    svc.shutdown().await;
}

#[tokio::test]
async fn rate_limit_is_per_client_key_with_429_and_retry_after() {
    let dep = FlakyDependency::start(Mode::Healthy).await;
    let mut cfg = config(&dep);
    // Half a token per second: a refill cannot slip in between the requests below.
    cfg.rate_limit = Some(RateLimitConfig {
        per_second: 0.5,
        burst: 5,
    });
    let svc = ReferenceService::start(cfg).await.unwrap();
    let key_a = [("x-client-key", "alice")];
    for i in 0..5 {
        let a = send(svc.addr(), "GET", "/items/1", &key_a, None).await;
        assert_eq!(a.status, 200, "request {i} within the burst");
    }
    let limited = send(svc.addr(), "GET", "/items/1", &key_a, None).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["error_code"], "RATE_LIMIT_EXCEEDED");
    let ra = limited.retry_after().expect("Retry-After");
    assert!((1..=2).contains(&ra), "{ra}");
    assert_eq!(
        dep.call_count(),
        5,
        "a limited request does not call UserService"
    );

    let key_b = [("x-client-key", "bob")];
    assert_eq!(
        send(svc.addr(), "GET", "/items/1", &key_b, None)
            .await
            .status,
        200
    );
    // Without a key the peer address is the key: its own burst.
    for _ in 0..5 {
        assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    }
    assert_eq!(get(svc.addr(), "/items/1").await.status, 429);
    for _ in 0..10 {
        assert_eq!(
            get(svc.addr(), "/health").await.status,
            200,
            "health is not limited"
        );
    }

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        send(svc.addr(), "GET", "/items/1", &key_a, None)
            .await
            .status,
        200
    );
    assert_eq!(
        send(svc.addr(), "GET", "/items/1", &key_a, None)
            .await
            .status,
        429
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn request_id_and_traceparent_reach_user_service() {
    let dep = FlakyDependency::start(Mode::Healthy).await;
    let svc = ReferenceService::start(config(&dep)).await.unwrap();
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let headers = [
        ("x-request-id", "req-42"),
        ("traceparent", tp),
        ("x-client-key", "carol"),
    ];
    let a = send(svc.addr(), "GET", "/items/7", &headers, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["x-request-id"], "req-42");
    let calls = dep.calls();
    assert_eq!(calls[0].path, "/users/carol");
    assert_eq!(calls[0].request_id.as_deref(), Some("req-42"));
    assert_eq!(calls[0].traceparent.as_deref(), Some(tp));

    // Without one, the service makes an id, forwards it and returns it.
    let b = get(svc.addr(), "/items/7").await;
    let made = b.headers["x-request-id"].to_str().unwrap().to_string();
    assert!(!made.is_empty());
    assert_eq!(dep.calls()[1].request_id.as_deref(), Some(made.as_str()));
    assert_eq!(dep.calls()[1].traceparent, None);
    svc.shutdown().await;
}

#[tokio::test]
async fn healthy_calls_reuse_one_connection_and_failed_ones_do_not_poison_it() {
    let dep = FlakyDependency::start(Mode::Healthy).await;
    let svc = ReferenceService::start(config(&dep)).await.unwrap();
    for _ in 0..10 {
        assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    }
    assert_eq!(dep.connections(), 1, "kept alive between calls");
    // A 5xx answer is complete, so its connection stays usable too.
    dep.set_mode(Mode::Error(500));
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    dep.set_mode(Mode::Healthy);
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    assert_eq!(dep.connections(), 1);
    svc.shutdown().await;
}

#[tokio::test]
async fn health_is_degraded_while_failing_and_healthy_after() {
    let dep = FlakyDependency::start(Mode::Healthy).await;
    let mut cfg = config(&dep);
    cfg.breaker.failure_threshold = 3;
    let svc = ReferenceService::start(cfg).await.unwrap();
    let ready = get(svc.addr(), "/ready").await;
    assert_eq!(
        (ready.status, ready.body["ready"].as_bool()),
        (200, Some(true))
    );
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    assert_eq!(health(svc.addr()).await.0, "healthy");

    dep.set_mode(Mode::Error(502));
    assert_eq!(get(svc.addr(), "/items/1").await.status, 503);
    assert_eq!(
        health(svc.addr()).await,
        ("degraded".into(), "closed".into())
    );
    dep.set_mode(Mode::Healthy);
    assert_eq!(get(svc.addr(), "/items/1").await.status, 200);
    let h = get(svc.addr(), "/health").await;
    assert_eq!(h.status, 200);
    assert_eq!(h.body["status"], "healthy");
    assert_eq!(h.body["checks"]["UserService"]["consecutive_failures"], 0);
    svc.shutdown().await;
}
