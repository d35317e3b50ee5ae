//! The TCP proxy's connection log: one entry per relayed connection (opened when, bytes each way,
//! toxics that acted, who closed first and when, when the client gave up on a held answer), kept
//! in a bounded ring with running aggregates. Recorded once per connection, at its end.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Who ended a connection first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    /// The client closed (FIN) or reset its side.
    Client,
    /// The upstream closed (FIN) or reset its side.
    Upstream,
    /// A toxic ended it (`reset_peer`, `timeout`, `limit_data`; see `ConnEntry::toxic`).
    Toxic,
    /// The proxy dropped it (disabled, stopped, upstream changed).
    Proxy,
    /// The upstream could not be dialed; the client was closed.
    UpstreamUnreachable,
}

impl ClosedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedBy::Client => "client",
            ClosedBy::Upstream => "upstream",
            ClosedBy::Toxic => "toxic",
            ClosedBy::Proxy => "proxy",
            ClosedBy::UpstreamUnreachable => "upstream_unreachable",
        }
    }
}

/// One relayed connection as the dependency side saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnEntry {
    /// Sequence number within this proxy, from 0, given when the connection ended; gaps show
    /// entries dropped from the ring.
    pub seq: u64,
    /// When the connection was accepted, ms since the proxy's clock origin.
    pub t_ms: f64,
    /// Bytes delivered to the upstream.
    pub bytes_upstream: u64,
    /// Bytes delivered to the client.
    pub bytes_downstream: u64,
    /// Types of the toxics that acted on this connection (toxicity came up), in start order.
    #[serde(default)]
    pub toxics: Vec<String>,
    pub closed_by: ClosedBy,
    /// The toxic type that ended it, when `closed_by` is `toxic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toxic: Option<String>,
    /// Ms from accept until the first side closed.
    pub closed_ms: f64,
    /// Ms from accept until the client closed while bytes were held by a toxic (a latency
    /// toxic's delay line, or data swallowed by a timeout): the client's own timeout, seen from
    /// outside. `None` if the client did not give up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gave_up_ms: Option<f64>,
    /// When the client gave up: how long the oldest bytes a toxic still held had waited, in ms.
    /// On a connection that carries many calls (a pool) this, not `gave_up_ms`, is the wait of
    /// the call given up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_ms: Option<f64>,
    /// Ms from accept until both sides were closed.
    pub total_ms: f64,
}

/// Running aggregates over every connection recorded (not only those in the ring).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConnSummary {
    /// Connections ever recorded.
    pub total: u64,
    /// Entries pushed out of the ring (still counted here).
    pub dropped: u64,
    /// Count per `closed_by` (`client`, `upstream`, `toxic`, ...).
    pub by_closed_by: BTreeMap<String, u64>,
    /// Count per toxic type that ended a connection.
    pub by_toxic: BTreeMap<String, u64>,
    /// Connections the client gave up on, with min, max and mean give-up time.
    pub gave_up: u64,
    pub gave_up_min_ms: Option<f64>,
    pub gave_up_max_ms: Option<f64>,
    pub gave_up_mean_ms: Option<f64>,
}

/// Thread-safe; one per TCP proxy. Locked once per connection end, never on the data path.
pub struct ConnBook {
    inner: Mutex<Inner>,
}

struct Inner {
    ring: VecDeque<ConnEntry>,
    capacity: usize,
    summary: ConnSummary,
    gave_up_sum: f64,
}

impl ConnBook {
    /// Keeps the last `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> ConnBook {
        let capacity = capacity.max(1);
        ConnBook {
            inner: Mutex::new(Inner {
                ring: VecDeque::with_capacity(capacity.min(4096)),
                capacity,
                summary: ConnSummary::default(),
                gave_up_sum: 0.0,
            }),
        }
    }

    pub fn push(&self, mut entry: ConnEntry) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *inner;
        let s = &mut inner.summary;
        entry.seq = s.total;
        s.total += 1;
        *s.by_closed_by
            .entry(entry.closed_by.as_str().to_string())
            .or_insert(0) += 1;
        if let Some(t) = &entry.toxic {
            *s.by_toxic.entry(t.clone()).or_insert(0) += 1;
        }
        if let Some(g) = entry.gave_up_ms {
            s.gave_up += 1;
            inner.gave_up_sum += g;
            s.gave_up_min_ms = Some(s.gave_up_min_ms.map_or(g, |m| m.min(g)));
            s.gave_up_max_ms = Some(s.gave_up_max_ms.map_or(g, |m| m.max(g)));
            s.gave_up_mean_ms = Some(inner.gave_up_sum / s.gave_up as f64);
        }
        if inner.ring.len() == inner.capacity {
            inner.ring.pop_front();
            s.dropped += 1;
        }
        inner.ring.push_back(entry);
    }

    /// Entries with `seq >= seq` still in the ring, oldest first.
    pub fn since(&self, seq: u64) -> Vec<ConnEntry> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let first = inner.ring.front().map_or(0, |e| e.seq);
        let skip = seq.saturating_sub(first).min(inner.ring.len() as u64) as usize;
        inner.ring.iter().skip(skip).cloned().collect()
    }

    pub fn summary(&self) -> ConnSummary {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .summary
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(closed_by: ClosedBy, gave_up: Option<f64>) -> ConnEntry {
        ConnEntry {
            seq: 0,
            t_ms: 1.0,
            bytes_upstream: 1,
            bytes_downstream: 2,
            toxics: Vec::new(),
            closed_by,
            toxic: None,
            closed_ms: 3.0,
            gave_up_ms: gave_up,
            held_ms: gave_up,
            total_ms: 4.0,
        }
    }

    #[test]
    fn ring_is_bounded_and_aggregates_cover_everything() {
        let book = ConnBook::new(2);
        book.push(entry(ClosedBy::Client, Some(100.0)));
        book.push(entry(ClosedBy::Upstream, None));
        book.push(entry(ClosedBy::Client, Some(300.0)));
        assert_eq!(
            book.since(0).iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(book.since(2).len(), 1);
        assert!(book.since(3).is_empty());
        let s = book.summary();
        assert_eq!((s.total, s.dropped, s.gave_up), (3, 1, 2));
        assert_eq!(s.by_closed_by["client"], 2);
        assert_eq!(s.gave_up_mean_ms, Some(200.0));
    }
}
