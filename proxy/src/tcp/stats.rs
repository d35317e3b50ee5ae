//! Counters of one TCP proxy (read by the control API's JSON and `/metrics`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::toxic::TYPES;

/// Live counters, updated with relaxed atomics on the data path.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub connections: AtomicU64,
    pub open: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub refused: AtomicU64,
    pub bytes_upstream: AtomicU64,
    pub bytes_downstream: AtomicU64,
    /// Times a toxic started acting on a connection (its toxicity coin came up), by type.
    pub toxics_applied: [AtomicU64; TYPES.len()],
}

/// A consistent-enough copy of a TCP proxy's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TcpStats {
    /// Connections accepted since start.
    pub connections: u64,
    /// Connections currently relayed.
    pub open_connections: u64,
    /// Connections closed because the upstream could not be reached.
    pub upstream_errors: u64,
    /// Connections refused because the connection cap was reached.
    pub refused: u64,
    /// Bytes delivered to the upstream.
    pub bytes_upstream: u64,
    /// Bytes delivered to clients.
    pub bytes_downstream: u64,
    /// Toxic activations by type (`latency`, `timeout`, ...), only types seen at least once.
    pub toxics_applied: Vec<(String, u64)>,
}

impl Counters {
    pub fn snapshot(&self) -> TcpStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TcpStats {
            connections: get(&self.connections),
            open_connections: get(&self.open),
            upstream_errors: get(&self.upstream_errors),
            refused: get(&self.refused),
            bytes_upstream: get(&self.bytes_upstream),
            bytes_downstream: get(&self.bytes_downstream),
            toxics_applied: TYPES
                .iter()
                .zip(&self.toxics_applied)
                .filter(|(_, n)| get(n) > 0)
                .map(|(t, n)| (t.to_string(), get(n)))
                .collect(),
        }
    }

    pub fn applied(&self, type_name: &str) {
        if let Some(i) = TYPES.iter().position(|t| *t == type_name) {
            self.toxics_applied[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}
