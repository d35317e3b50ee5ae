//! Circuit breaker on one dependency: a small state machine over `tokio::time::Instant`.
//!
//! Closed: calls pass; `failure_threshold` consecutive failed calls open it. Open: calls are
//! rejected without touching the dependency until `recovery_timeout` has passed. Half-open: exactly
//! `half_open_requests` trial calls are let through; once they have all reported, the breaker closes
//! if every one succeeded and opens again otherwise. Deciding only when all trials are in keeps the
//! number of probes a caller sees from outside equal to the configured figure, whatever the
//! timing of their answers. Results from calls admitted in an earlier state (a slow call that
//! finishes after the breaker opened) are ignored: each permit carries the generation it was
//! issued in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::config::BreakerConfig;

/// The breaker's state as reported by `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        issued: u32,
        reported: u32,
        failed: bool,
    },
}

/// Leave to make one call; hand it back with the call's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    generation: u64,
}

/// The breaker refused the call; the dependency was not touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// How long until the breaker may let calls through again (at least one second when open).
    pub retry_after: Duration,
}

/// A point-in-time view for health checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    pub state: BreakerState,
    pub consecutive_failures: u32,
    /// Time left before probing, while open.
    pub open_remaining: Option<Duration>,
    /// How many times the breaker has opened since start.
    pub times_opened: u64,
}

/// The state machine; time is always passed in, so tests drive it without sleeping.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    cfg: BreakerConfig,
    state: State,
    generation: u64,
    consecutive_failures: u32,
    times_opened: u64,
}

impl CircuitBreaker {
    pub fn new(cfg: BreakerConfig) -> Self {
        Self {
            cfg,
            state: State::Closed,
            generation: 0,
            consecutive_failures: 0,
            times_opened: 0,
        }
    }

    /// Asks to make one call at `now`.
    pub fn try_acquire(&mut self, now: Instant) -> Result<Permit, Rejected> {
        self.advance(now);
        let permit = Permit {
            generation: self.generation,
        };
        match &mut self.state {
            State::Closed => Ok(permit),
            State::Open { until } => Err(Rejected {
                retry_after: ceil_secs(until.saturating_duration_since(now)),
            }),
            State::HalfOpen { issued, .. } if *issued < self.cfg.half_open_requests => {
                *issued += 1;
                Ok(permit)
            }
            // All trial calls are out; the answer is due within one call timeout.
            State::HalfOpen { .. } => Err(Rejected {
                retry_after: Duration::from_secs(1),
            }),
        }
    }

    /// The call made under `permit` succeeded.
    pub fn on_success(&mut self, permit: Permit, now: Instant) {
        if permit.generation != self.generation {
            return;
        }
        match &mut self.state {
            State::Closed => self.consecutive_failures = 0,
            State::HalfOpen { reported, .. } => {
                *reported += 1;
                self.settle_half_open(now);
            }
            State::Open { .. } => {}
        }
    }

    /// The call made under `permit` failed (timeout, connect error, reset, 5xx).
    pub fn on_failure(&mut self, permit: Permit, now: Instant) {
        if permit.generation != self.generation {
            return;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        match &mut self.state {
            State::Closed if self.consecutive_failures >= self.cfg.failure_threshold => {
                self.open(now);
            }
            State::Closed | State::Open { .. } => {}
            State::HalfOpen {
                reported, failed, ..
            } => {
                *reported += 1;
                *failed = true;
                self.settle_half_open(now);
            }
        }
    }

    /// The call made under `permit` was abandoned before it had an outcome (the client went away):
    /// in half-open its trial slot is handed to the next caller so the breaker cannot stall.
    pub fn on_abandoned(&mut self, permit: Permit) {
        if permit.generation != self.generation {
            return;
        }
        if let State::HalfOpen { issued, .. } = &mut self.state {
            *issued = issued.saturating_sub(1);
        }
    }

    pub fn snapshot(&mut self, now: Instant) -> Snapshot {
        self.advance(now);
        let (state, open_remaining) = match self.state {
            State::Closed => (BreakerState::Closed, None),
            State::Open { until } => (
                BreakerState::Open,
                Some(until.saturating_duration_since(now)),
            ),
            State::HalfOpen { .. } => (BreakerState::HalfOpen, None),
        };
        Snapshot {
            state,
            consecutive_failures: self.consecutive_failures,
            open_remaining,
            times_opened: self.times_opened,
        }
    }

    fn advance(&mut self, now: Instant) {
        if let State::Open { until } = self.state {
            if now >= until {
                self.transition(State::HalfOpen {
                    issued: 0,
                    reported: 0,
                    failed: false,
                });
            }
        }
    }

    fn settle_half_open(&mut self, now: Instant) {
        if let State::HalfOpen {
            reported, failed, ..
        } = self.state
        {
            if reported < self.cfg.half_open_requests {
                return;
            }
            if failed {
                self.open(now);
            } else {
                self.consecutive_failures = 0;
                self.transition(State::Closed);
            }
        }
    }

    fn open(&mut self, now: Instant) {
        self.times_opened += 1;
        self.transition(State::Open {
            until: now + self.cfg.recovery_timeout,
        });
    }

    fn transition(&mut self, to: State) {
        self.state = to;
        self.generation += 1;
    }
}

/// Whole seconds for a Retry-After header: rounded up, at least one.
pub fn ceil_secs(d: Duration) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

/// The breaker shared by every request handler.
#[derive(Debug, Clone)]
pub struct SharedBreaker(Arc<Mutex<CircuitBreaker>>);

impl SharedBreaker {
    pub fn new(cfg: BreakerConfig) -> Self {
        Self(Arc::new(Mutex::new(CircuitBreaker::new(cfg))))
    }

    /// Admits one call; the returned guard must be resolved with the call's outcome.
    pub fn acquire(&self) -> Result<CallGuard, Rejected> {
        let permit = self.lock().try_acquire(Instant::now())?;
        Ok(CallGuard {
            breaker: self.clone(),
            permit: Some(permit),
        })
    }

    pub fn snapshot(&self) -> Snapshot {
        self.lock().snapshot(Instant::now())
    }

    /// `Some` while the breaker is open: a caller about to retry can give up at once.
    pub fn rejects_now(&self) -> Option<Rejected> {
        self.snapshot().open_remaining.map(|d| Rejected {
            retry_after: ceil_secs(d),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CircuitBreaker> {
        // A panic while holding this lock cannot leave the state machine half-updated in a way
        // that matters more than losing the service, so recover the guard.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One admitted call. Dropping it without an outcome reports it abandoned.
#[derive(Debug)]
pub struct CallGuard {
    breaker: SharedBreaker,
    permit: Option<Permit>,
}

impl CallGuard {
    pub fn success(mut self) {
        if let Some(p) = self.permit.take() {
            self.breaker.lock().on_success(p, Instant::now());
        }
    }

    pub fn failure(mut self) {
        if let Some(p) = self.permit.take() {
            self.breaker.lock().on_failure(p, Instant::now());
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            self.breaker.lock().on_abandoned(p);
        }
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
