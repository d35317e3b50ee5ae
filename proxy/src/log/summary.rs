//! Running aggregates of the dependency-side log: per outcome, per fault kind, per second, and a
//! histogram of the times at which callers gave up. Fixed size whatever the run length.

use super::{LogEntry, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Upper bounds (ms) of the gave-up histogram buckets; a last bucket catches the rest.
const GAVE_UP_BOUNDS_MS: [f64; 24] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 75.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 750.0,
    1000.0, 1500.0, 2000.0, 3000.0, 5000.0, 10000.0, 30000.0, 60000.0, 300000.0,
];

/// A snapshot of the aggregates, served as JSON by the native API.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LogSummary {
    /// Entries ever recorded.
    pub total: u64,
    /// Entries pushed out of the ring (still counted here).
    pub dropped: u64,
    pub by_outcome: BTreeMap<String, u64>,
    pub by_fault_kind: BTreeMap<String, u64>,
    /// The most recent seconds (by arrival time) that saw requests, oldest first.
    pub per_second: Vec<SecondCounts>,
    pub gave_up: GaveUpHistogram,
}

/// Counts for one second of arrival time (`second` = floor(t_ms / 1000)).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SecondCounts {
    pub second: u64,
    pub requests: u64,
    /// Answered with a status below 500 (forwarded, or a fault's own answer).
    pub ok: u64,
    /// Neither ok nor given up: 5xx, reset, truncated, refused, upstream error.
    pub failed: u64,
    pub faulted: u64,
    pub gave_up: u64,
}

/// When callers gave up, in ms after arrival.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GaveUpHistogram {
    pub count: u64,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub mean_ms: Option<f64>,
    /// Non-empty buckets only; `le_ms` is the bucket's upper bound (`null` = above the last).
    pub buckets: Vec<GaveUpBucket>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GaveUpBucket {
    pub le_ms: Option<f64>,
    pub count: u64,
}

pub(super) struct Aggregates {
    pub(super) dropped: u64,
    by_outcome: [u64; OUTCOMES.len()],
    by_kind: BTreeMap<&'static str, u64>,
    seconds: VecDeque<SecondCounts>,
    seconds_cap: usize,
    gave_up: [u64; GAVE_UP_BOUNDS_MS.len() + 1],
    gave_up_sum: f64,
    gave_up_min: f64,
    gave_up_max: f64,
}

pub(crate) fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Forwarded => "forwarded",
        Outcome::Aborted => "aborted",
        Outcome::Reset => "reset",
        Outcome::Hung => "hung",
        Outcome::Truncated => "truncated",
        Outcome::CallerGaveUp => "caller_gave_up",
        Outcome::UpstreamError => "upstream_error",
        Outcome::Refused => "refused",
        Outcome::BadRequest => "bad_request",
    }
}

const OUTCOMES: [Outcome; 9] = [
    Outcome::Forwarded,
    Outcome::Aborted,
    Outcome::Reset,
    Outcome::Hung,
    Outcome::Truncated,
    Outcome::CallerGaveUp,
    Outcome::UpstreamError,
    Outcome::Refused,
    Outcome::BadRequest,
];

impl Aggregates {
    pub(super) fn new(seconds_cap: usize) -> Aggregates {
        Aggregates {
            dropped: 0,
            by_outcome: [0; OUTCOMES.len()],
            by_kind: BTreeMap::new(),
            seconds: VecDeque::new(),
            seconds_cap,
            gave_up: [0; GAVE_UP_BOUNDS_MS.len() + 1],
            gave_up_sum: 0.0,
            gave_up_min: f64::INFINITY,
            gave_up_max: 0.0,
        }
    }

    pub(super) fn seconds_capacity(&self) -> usize {
        self.seconds_cap
    }

    pub(super) fn record(&mut self, e: &LogEntry, fault_kind: Option<&'static str>) {
        let idx = OUTCOMES.iter().position(|o| *o == e.outcome).unwrap_or(0);
        self.by_outcome[idx] += 1;
        if let Some(kind) = fault_kind {
            *self.by_kind.entry(kind).or_insert(0) += 1;
        }
        let gave_up = e.outcome == Outcome::CallerGaveUp;
        if let (true, Some(ms)) = (gave_up, e.gave_up_ms) {
            let b = GAVE_UP_BOUNDS_MS.iter().position(|le| ms <= *le);
            self.gave_up[b.unwrap_or(GAVE_UP_BOUNDS_MS.len())] += 1;
            self.gave_up_sum += ms;
            self.gave_up_min = self.gave_up_min.min(ms);
            self.gave_up_max = self.gave_up_max.max(ms);
        }
        let ok = !gave_up
            && matches!(
                e.outcome,
                Outcome::Forwarded | Outcome::Aborted | Outcome::Hung
            )
            && e.status.is_some_and(|s| s < 500);
        if let Some(c) = self.second_mut((e.t_ms.max(0.0) / 1000.0) as u64) {
            c.requests += 1;
            c.ok += u64::from(ok);
            c.gave_up += u64::from(gave_up);
            c.failed += u64::from(!ok && !gave_up);
            c.faulted += u64::from(fault_kind.is_some());
        }
    }

    /// The bucket for `second`, created in order; `None` when it is older than the window.
    fn second_mut(&mut self, second: u64) -> Option<&mut SecondCounts> {
        // Entries are recorded when they end, so arrival seconds come slightly out of order.
        let pos = self.seconds.iter().rposition(|c| c.second <= second);
        let at = match pos {
            Some(i) if self.seconds[i].second == second => i,
            Some(i) => {
                self.seconds.insert(
                    i + 1,
                    SecondCounts {
                        second,
                        ..Default::default()
                    },
                );
                i + 1
            }
            None if self.seconds.len() < self.seconds_cap => {
                self.seconds.push_front(SecondCounts {
                    second,
                    ..Default::default()
                });
                0
            }
            None => return None,
        };
        if self.seconds.len() > self.seconds_cap {
            self.seconds.pop_front();
            if at == 0 {
                return None;
            }
            return self.seconds.get_mut(at - 1);
        }
        self.seconds.get_mut(at)
    }

    pub(super) fn summary(&self, total: u64) -> LogSummary {
        let count: u64 = self.gave_up.iter().sum();
        let buckets = self
            .gave_up
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| GaveUpBucket {
                le_ms: GAVE_UP_BOUNDS_MS.get(i).copied(),
                count: *n,
            })
            .collect();
        LogSummary {
            total,
            dropped: self.dropped,
            by_outcome: OUTCOMES
                .iter()
                .zip(self.by_outcome)
                .filter(|(_, n)| *n > 0)
                .map(|(o, n)| (outcome_name(*o).to_string(), n))
                .collect(),
            by_fault_kind: self
                .by_kind
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect(),
            per_second: self.seconds.iter().cloned().collect(),
            gave_up: GaveUpHistogram {
                count,
                min_ms: (count > 0).then_some(self.gave_up_min),
                max_ms: (count > 0).then_some(self.gave_up_max),
                mean_ms: (count > 0).then(|| self.gave_up_sum / count as f64),
                buckets,
            },
        }
    }
}
