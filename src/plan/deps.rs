//! What the spec claims about one dependency of the base scenario, gathered once for the phase
//! builders: its breaker, per-attempt timeout, retry policy (the retry verdict's own choice of
//! policy) and the fallback status an outage is answered with.

use crate::spec::claims::{Breaker, RetryPolicy};
use crate::spec::Claims;
use crate::verdict::rules::{expected_wait, max_attempts, policy_for};

/// A call answered at once (an `abort` fault) still takes the service this long to read and count;
/// generous on purpose: the planner spaces calls by it, never judges by it.
pub const REACTION_MS: f64 = 50.0;

#[derive(Debug, Clone)]
pub struct DepClaims<'c> {
    /// The scenario's `[[dependency]]` name.
    pub name: String,
    pub breaker: Option<&'c Breaker>,
    pub timeout_ms: Option<f64>,
    pub retry: Option<&'c RetryPolicy>,
    pub fallback_status: Option<u16>,
}

impl DepClaims<'_> {
    /// Attempts one request makes (1 without a retry policy).
    pub fn attempts(&self) -> u32 {
        self.retry.map_or(1, max_attempts)
    }

    /// Sum of the waits between one request's attempts, at their longest (jitter included), ms.
    pub fn backoff_total_ms(&self) -> f64 {
        let Some(p) = self.retry else { return 0.0 };
        let j = 1.0 + p.jitter.unwrap_or(0.0);
        (0..self.attempts().saturating_sub(1) as usize)
            .map(|k| expected_wait(p, k).unwrap_or(0.0) * j)
            .sum()
    }

    /// How long one request's calls last when each call takes `call_ms`: its attempts and waits.
    pub fn chain_ms(&self, call_ms: f64) -> f64 {
        self.backoff_total_ms() + f64::from(self.attempts()) * call_ms
    }

    /// True when the spec claims anything the plan can provoke on this dependency.
    pub fn has_claims(&self) -> bool {
        self.breaker.is_some() || self.timeout_ms.is_some() || self.retry.is_some()
    }
}

/// The claims about dependency `name` (as the scenario names it).
pub fn claims_for<'c>(claims: &'c Claims, name: &str) -> DepClaims<'c> {
    let spec_dep = claims.dependency(name);
    let breaker = claims.breaker_for(name);
    let timeout_ms = spec_dep
        .and_then(|d| d.timeout_ms)
        .or(breaker.and_then(|b| b.call_timeout_ms));
    let kind = spec_dep.and_then(|d| d.kind.as_deref());
    let dep_name = spec_dep.map_or(name, |d| d.name.as_str());
    let retry = policy_for(claims, dep_name, kind).filter(|p| max_attempts(p) >= 2);
    DepClaims {
        name: name.to_string(),
        breaker,
        timeout_ms,
        retry,
        fallback_status: spec_dep.and_then(|d| d.fallback_status),
    }
}
