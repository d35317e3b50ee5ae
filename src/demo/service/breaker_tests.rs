//! Unit tests of the breaker state machine, driven by explicit instants (no sleeping).

use std::time::Duration;

use tokio::time::Instant;

use super::*;

fn cfg() -> BreakerConfig {
    BreakerConfig {
        failure_threshold: 3,
        recovery_timeout: Duration::from_secs(5),
        half_open_requests: 2,
    }
}

fn fail(b: &mut CircuitBreaker, now: Instant) {
    let p = b.try_acquire(now).expect("admitted");
    b.on_failure(p, now);
}

fn succeed(b: &mut CircuitBreaker, now: Instant) {
    let p = b.try_acquire(now).expect("admitted");
    b.on_success(p, now);
}

#[test]
fn opens_after_exactly_threshold_consecutive_failures() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(cfg());
    fail(&mut b, t0);
    fail(&mut b, t0);
    assert_eq!(b.snapshot(t0).state, BreakerState::Closed);
    fail(&mut b, t0);
    assert_eq!(b.snapshot(t0).state, BreakerState::Open);
    let r = b.try_acquire(t0).unwrap_err();
    assert_eq!(r.retry_after, Duration::from_secs(5));
}

#[test]
fn a_success_resets_the_consecutive_count() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(cfg());
    fail(&mut b, t0);
    fail(&mut b, t0);
    succeed(&mut b, t0);
    fail(&mut b, t0);
    fail(&mut b, t0);
    assert_eq!(b.snapshot(t0).state, BreakerState::Closed);
    fail(&mut b, t0);
    assert_eq!(b.snapshot(t0).state, BreakerState::Open);
}

#[test]
fn stays_open_for_the_recovery_timeout_then_admits_k_probes() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(cfg());
    for _ in 0..3 {
        fail(&mut b, t0);
    }
    let almost = t0 + Duration::from_millis(4_999);
    let r = b.try_acquire(almost).unwrap_err();
    assert_eq!(r.retry_after, Duration::from_secs(1), "rounded up to 1 s");
    let t5 = t0 + Duration::from_secs(5);
    let p1 = b.try_acquire(t5).expect("probe 1");
    let p2 = b.try_acquire(t5).expect("probe 2");
    assert!(b.try_acquire(t5).is_err(), "only two probes");
    assert_eq!(b.snapshot(t5).state, BreakerState::HalfOpen);
    b.on_success(p1, t5);
    assert_eq!(
        b.snapshot(t5).state,
        BreakerState::HalfOpen,
        "waits for both"
    );
    b.on_success(p2, t5);
    assert_eq!(b.snapshot(t5).state, BreakerState::Closed);
    assert_eq!(b.snapshot(t5).consecutive_failures, 0);
}

#[test]
fn a_failed_probe_reopens_for_another_recovery_timeout() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(cfg());
    for _ in 0..3 {
        fail(&mut b, t0);
    }
    let t5 = t0 + Duration::from_secs(5);
    let p1 = b.try_acquire(t5).unwrap();
    let p2 = b.try_acquire(t5).unwrap();
    b.on_failure(p1, t5);
    assert_eq!(b.snapshot(t5).state, BreakerState::HalfOpen);
    b.on_success(p2, t5);
    let snap = b.snapshot(t5);
    assert_eq!(snap.state, BreakerState::Open);
    assert_eq!(snap.times_opened, 2);
    assert!(b.try_acquire(t5 + Duration::from_millis(4_900)).is_err());
    assert!(b.try_acquire(t5 + Duration::from_secs(5)).is_ok());
}

#[test]
fn late_results_from_an_earlier_state_are_ignored() {
    let t0 = Instant::now();
    let mut b = CircuitBreaker::new(cfg());
    let slow = b.try_acquire(t0).unwrap();
    for _ in 0..3 {
        fail(&mut b, t0);
    }
    // The slow call admitted while closed finishes after the breaker opened: no effect.
    b.on_success(slow, t0);
    assert_eq!(b.snapshot(t0).state, BreakerState::Open);
    let t5 = t0 + Duration::from_secs(5);
    let p1 = b.try_acquire(t5).unwrap();
    b.on_failure(slow, t5);
    assert_eq!(b.snapshot(t5).state, BreakerState::HalfOpen);
    b.on_abandoned(p1);
    assert!(
        b.try_acquire(t5).is_ok(),
        "an abandoned probe frees its slot"
    );
}
