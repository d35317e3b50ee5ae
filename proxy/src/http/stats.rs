//! `HttpStats`: the counters of one HTTP proxy, rendered as Prometheus text by the control API.

use crate::fault::KIND_NAMES;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of the counters since the proxy started.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HttpStats {
    /// Requests whose head was read.
    pub requests: u64,
    /// Faults injected, by kind, in `fault::KIND_NAMES` order (see `faults_by_kind`).
    pub faults_injected: [u64; 7],
    /// Forwarded requests that failed at the upstream (connect, malformed answer, broken body).
    pub upstream_errors: u64,
    /// Bytes read from callers and written to callers (headers included).
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub open_connections: u64,
    pub connections_total: u64,
    /// Connections closed at once because `max_connections` were open, all of them serving a
    /// request (refused).
    pub connections_rejected: u64,
    /// Requests the caller abandoned before the answer was complete.
    pub caller_gave_up: u64,
    /// Idle or slow-head connections closed to make room for a new caller at the cap.
    #[serde(default)]
    pub connections_shed: u64,
    /// The cap on open caller connections.
    #[serde(default)]
    pub max_connections: u64,
    /// First and last refusal at the cap, ms on the proxy's clock (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_first_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_last_ms: Option<u64>,
}

impl HttpStats {
    /// `(kind name, count)` pairs, for rendering.
    pub fn faults_by_kind(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        KIND_NAMES
            .iter()
            .copied()
            .zip(self.faults_injected.iter().copied())
    }

    pub fn faults_total(&self) -> u64 {
        self.faults_injected.iter().sum()
    }
}

/// The live atomics behind `HttpStats`.
#[derive(Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub faults: [AtomicU64; 7],
    pub upstream_errors: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub open_connections: AtomicU64,
    pub connections_total: AtomicU64,
    pub connections_rejected: AtomicU64,
    pub caller_gave_up: AtomicU64,
    pub connections_shed: AtomicU64,
}

impl Counters {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> HttpStats {
        HttpStats {
            requests: self.requests.load(Relaxed),
            faults_injected: std::array::from_fn(|i| self.faults[i].load(Relaxed)),
            upstream_errors: self.upstream_errors.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            open_connections: self.open_connections.load(Relaxed),
            connections_total: self.connections_total.load(Relaxed),
            connections_rejected: self.connections_rejected.load(Relaxed),
            caller_gave_up: self.caller_gave_up.load(Relaxed),
            connections_shed: self.connections_shed.load(Relaxed),
            ..HttpStats::default()
        }
    }
}
