//! Test support for the verdict tests: a discrete-event model of a service calling one dependency
//! through a fault proxy, producing the RunResult a chaos run would, log entry by log entry.
//!
//! The model is deliberately simple but faithful where verdicts look: per-call timeout, retries
//! with backoff and jitter, a circuit breaker of several designs, the fallback, and what the proxy
//! logs (arrival, fault, outcome, caller give-up time).

#![allow(dead_code)]

pub mod claims;
mod sim;
mod sim_result;

#[allow(unused_imports)]
pub use sim::*;
