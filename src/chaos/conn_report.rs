//! The dependency side of a run for TCP dependencies: reads each TCP proxy's connection log as
//! the run goes, counts who closed each connection first, keeps a histogram of when the service
//! gave up on an answer a toxic held, and keeps the first entries, bounded in number.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use redline_proxy::tcp::{ClosedBy, ConnEntry};

use crate::engine::collect::percentiles;
use crate::result::{Percentiles, TcpConnections};

/// Raw connection entries kept per dependency.
pub const CONN_LOG_CAP: usize = 5_000;

/// Reads and condenses one TCP dependency's connection log.
pub struct ConnCollector {
    pub next_seq: u64,
    /// Entries the proxy's ring dropped before we read them.
    pub lost: u64,
    total: u64,
    closed_by: BTreeMap<String, u64>,
    by_toxic: BTreeMap<String, u64>,
    gave_up_us: Histogram<u64>,
    log: Vec<ConnEntry>,
    truncated: bool,
}

impl ConnCollector {
    /// A collector whose first entry is `seq` (an attached proxy's log goes back before the run).
    pub fn starting_at(seq: u64) -> ConnCollector {
        ConnCollector {
            next_seq: seq,
            lost: 0,
            total: 0,
            closed_by: BTreeMap::new(),
            by_toxic: BTreeMap::new(),
            gave_up_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            log: Vec::new(),
            truncated: false,
        }
    }

    /// Takes new entries (in seq order).
    pub fn take(&mut self, entries: Vec<ConnEntry>) {
        for e in entries {
            if e.seq < self.next_seq {
                continue;
            }
            self.lost += e.seq - self.next_seq;
            self.next_seq = e.seq + 1;
            self.total += 1;
            *self
                .closed_by
                .entry(e.closed_by.as_str().to_string())
                .or_insert(0) += 1;
            if let (ClosedBy::Toxic, Some(t)) = (e.closed_by, &e.toxic) {
                *self.by_toxic.entry(t.clone()).or_insert(0) += 1;
            }
            // The wait of the call given up; a pooled connection's age is not the timeout.
            if let Some(ms) = e.held_ms.or(e.gave_up_ms) {
                let _ = self.gave_up_us.record(((ms * 1000.0) as u64).max(1));
            }
            if self.log.len() < CONN_LOG_CAP {
                self.log.push(e);
            } else {
                self.truncated = true;
            }
        }
    }

    /// The report part, and the give-up times for the dependency's `gave_up_ms`.
    pub fn report(self) -> (TcpConnections, Option<Percentiles>) {
        let gave_up = (!self.gave_up_us.is_empty()).then(|| percentiles(&self.gave_up_us));
        let report = TcpConnections {
            total: self.total,
            closed_by: self.closed_by,
            closed_by_toxic: self.by_toxic,
            gave_up: self.gave_up_us.len(),
            log: self.log,
            log_truncated: self.truncated || self.lost > 0,
        };
        (report, gave_up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        seq: u64,
        closed_by: ClosedBy,
        toxic: Option<&str>,
        gave_up: Option<f64>,
    ) -> ConnEntry {
        ConnEntry {
            seq,
            t_ms: seq as f64,
            bytes_upstream: 1,
            bytes_downstream: 1,
            toxics: Vec::new(),
            closed_by,
            toxic: toxic.map(str::to_string),
            closed_ms: 1.0,
            gave_up_ms: gave_up.map(|g| g + 1000.0),
            held_ms: gave_up,
            total_ms: 2.0,
        }
    }

    #[test]
    fn counts_closers_give_ups_and_gaps() {
        let mut c = ConnCollector::starting_at(0);
        c.take(vec![
            entry(0, ClosedBy::Client, None, Some(300.0)),
            entry(1, ClosedBy::Toxic, Some("reset_peer"), None),
        ]);
        // A re-read of an old entry is ignored; a gap marks the log truncated.
        c.take(vec![
            entry(1, ClosedBy::Toxic, Some("reset_peer"), None),
            entry(4, ClosedBy::Upstream, None, None),
        ]);
        let (r, gave_up) = c.report();
        assert_eq!(r.total, 3);
        assert_eq!(r.closed_by["client"], 1);
        assert_eq!(r.closed_by_toxic["reset_peer"], 1);
        assert_eq!(r.gave_up, 1);
        assert!(r.log_truncated);
        assert!(gave_up.is_some_and(|p| (p.p50 - 300.0).abs() < 1.0));
    }
}
