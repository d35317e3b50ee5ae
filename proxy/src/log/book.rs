//! `LogBook`: the bounded store behind a proxy's dependency-side log (ring of the last N entries
//! plus running aggregates that do not grow with the length of the run).

use super::summary::Aggregates;
use super::{LogEntry, LogSummary};
use std::collections::VecDeque;
use std::sync::Mutex;

/// Thread-safe; one per proxy. Sequence numbers are given when an entry is pushed (when its
/// exchange ended), so `since(cursor)` never misses a slow request that finishes late.
pub struct LogBook {
    inner: Mutex<Inner>,
}

struct Inner {
    ring: VecDeque<LogEntry>,
    capacity: usize,
    next_seq: u64,
    aggregates: Aggregates,
}

impl LogBook {
    /// Keeps the last `capacity` entries (at least 1) and per-second counts for the last
    /// `seconds` seconds that saw traffic.
    pub fn new(capacity: usize, seconds: usize) -> LogBook {
        let capacity = capacity.max(1);
        LogBook {
            inner: Mutex::new(Inner {
                ring: VecDeque::with_capacity(capacity.min(4096)),
                capacity,
                next_seq: 0,
                aggregates: Aggregates::new(seconds.max(1)),
            }),
        }
    }

    /// Records one finished exchange; `fault_kind` is the kind's name when a fault applied.
    pub fn push(&self, mut entry: LogEntry, fault_kind: Option<&'static str>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        inner.aggregates.record(&entry, fault_kind);
        if inner.ring.len() == inner.capacity {
            inner.ring.pop_front();
            inner.aggregates.dropped += 1;
        }
        inner.ring.push_back(entry);
    }

    /// Entries with `seq >= seq` still in the ring, oldest first.
    pub fn since(&self, seq: u64) -> Vec<LogEntry> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let first = inner.ring.front().map_or(0, |e| e.seq);
        let skip = seq.saturating_sub(first).min(inner.ring.len() as u64) as usize;
        inner.ring.iter().skip(skip).cloned().collect()
    }

    pub fn summary(&self) -> LogSummary {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.aggregates.summary(inner.next_seq)
    }

    /// Forgets entries and aggregates (sequence numbers keep counting up).
    pub fn clear(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.ring.clear();
        let seconds = inner.aggregates.seconds_capacity();
        inner.aggregates = Aggregates::new(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Outcome;

    fn entry(t_ms: f64, outcome: Outcome, status: Option<u16>, gave_up: Option<f64>) -> LogEntry {
        LogEntry {
            seq: 0,
            t_ms,
            method: "GET".into(),
            path: "/".into(),
            correlation_id: None,
            trace_id: None,
            fault: None,
            outcome,
            status,
            upstream_status: status,
            upstream_ms: None,
            gave_up_ms: gave_up,
            total_ms: 1.0,
            h2: None,
        }
    }

    #[test]
    fn ring_is_bounded_and_since_is_a_cursor() {
        let book = LogBook::new(3, 10);
        for i in 0..5 {
            book.push(entry(i as f64, Outcome::Forwarded, Some(200), None), None);
        }
        let all = book.since(0);
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(book.since(4).len(), 1);
        assert!(book.since(5).is_empty());
        let s = book.summary();
        assert_eq!((s.total, s.dropped), (5, 2));
    }

    #[test]
    fn aggregates_count_outcomes_kinds_seconds_and_gave_up() {
        let book = LogBook::new(2, 2);
        book.push(entry(10.0, Outcome::Forwarded, Some(200), None), None);
        book.push(
            entry(1500.0, Outcome::Aborted, Some(503), None),
            Some("abort"),
        );
        book.push(
            entry(1600.0, Outcome::CallerGaveUp, None, Some(205.0)),
            Some("hang"),
        );
        book.push(
            entry(2100.0, Outcome::CallerGaveUp, None, Some(990.0)),
            Some("hang"),
        );
        let s = book.summary();
        assert_eq!(s.by_outcome["caller_gave_up"], 2);
        assert_eq!(s.by_fault_kind["hang"], 2);
        // Only the last 2 seconds are kept.
        assert_eq!(
            s.per_second.iter().map(|c| c.second).collect::<Vec<_>>(),
            [1, 2]
        );
        let one = &s.per_second[0];
        assert_eq!(
            (one.requests, one.failed, one.faulted, one.gave_up),
            (2, 1, 2, 1)
        );
        assert_eq!(s.gave_up.count, 2);
        assert_eq!(s.gave_up.min_ms, Some(205.0));
        assert_eq!(s.gave_up.max_ms, Some(990.0));
        let total: u64 = s.gave_up.buckets.iter().map(|b| b.count).sum();
        assert_eq!(total, 2);
    }
}
