//! The dependency side of a run: reads each HTTP proxy's log as the run goes (so the proxy's
//! ring never loses what the result needs), counts every entry per second and per outcome, keeps
//! a histogram of when callers gave up, and keeps the raw entries around fault windows (from a
//! few seconds before each fault until well into the recovery after it), bounded in number.

use std::collections::{BTreeMap, VecDeque};

use hdrhistogram::Histogram;
use redline_proxy::log::{LogEntry, Outcome};

use crate::engine::collect::percentiles;
use crate::result::{AppliedFault, DependencyReport, DependencySecond};

/// Raw entries kept per dependency.
pub const LOG_CAP: usize = 20_000;
/// Entries this long before a fault are kept (the baseline just before it).
const BEFORE_MS: f64 = 5_000.0;
/// Entries this long after a fault are kept (the recovery: breaker probes, traffic resuming).
const AFTER_MS: f64 = 15_000.0;
/// Longest run the per-second counts cover (a day; a hold is capped well below).
const MAX_SECONDS: usize = 86_400;

/// Reads and condenses one HTTP dependency's log.
pub struct LogCollector {
    pub next_seq: u64,
    /// Entries the proxy's ring dropped before we read them.
    pub lost: u64,
    seconds: Vec<DependencySecond>,
    outcomes: BTreeMap<String, u64>,
    faults: BTreeMap<String, u64>,
    gave_up_us: Histogram<u64>,
    requests: u64,
    /// Recent entries not (yet) near a fault: kept for `BEFORE_MS` in case one starts.
    recent: VecDeque<LogEntry>,
    kept: Vec<LogEntry>,
    truncated: bool,
}

impl Default for LogCollector {
    fn default() -> Self {
        LogCollector {
            next_seq: 0,
            lost: 0,
            seconds: Vec::new(),
            outcomes: BTreeMap::new(),
            faults: BTreeMap::new(),
            gave_up_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            requests: 0,
            recent: VecDeque::new(),
            kept: Vec::new(),
            truncated: false,
        }
    }
}

fn outcome_name(o: Outcome) -> String {
    serde_json::to_value(o)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Fault windows in ms on the run's clock, widened by the keep margins.
fn windows(faults: &[AppliedFault], dependency: &str, end_ms: f64) -> Vec<(f64, f64)> {
    faults
        .iter()
        .filter(|f| f.dependency == dependency)
        .map(|f| {
            let to = f.removed_at_s.map_or(end_ms, |s| s * 1000.0);
            (f.applied_at_s * 1000.0 - BEFORE_MS, to + AFTER_MS)
        })
        .collect()
}

impl LogCollector {
    /// A collector whose first entry is `seq` (an attached proxy's log goes back before the run).
    pub fn starting_at(seq: u64) -> LogCollector {
        LogCollector {
            next_seq: seq,
            ..LogCollector::default()
        }
    }

    /// Takes new entries (in seq order). `faults` are the faults known so far (scheduled ones
    /// are known from the start, so their lead-in is kept too).
    pub fn take(&mut self, entries: Vec<LogEntry>, dependency: &str, faults: &[AppliedFault]) {
        let Some(last) = entries.last() else { return };
        let now_ms = last.t_ms;
        let wins = windows(faults, dependency, f64::INFINITY);
        let near = |t: f64| wins.iter().any(|(a, b)| *a <= t && t < *b);
        // A fault that appeared since the last read may claim entries waiting in `recent`.
        while let Some(e) = self.recent.pop_front() {
            if near(e.t_ms) {
                self.keep(e);
            } else if e.t_ms >= now_ms - BEFORE_MS {
                self.recent.push_front(e);
                break;
            }
        }
        for e in entries {
            if e.seq > self.next_seq {
                self.lost += e.seq - self.next_seq;
            }
            self.next_seq = e.seq + 1;
            self.count(&e);
            if near(e.t_ms) {
                self.keep(e);
            } else {
                self.recent.push_back(e);
            }
        }
        while self
            .recent
            .front()
            .is_some_and(|e| e.t_ms < now_ms - BEFORE_MS)
        {
            self.recent.pop_front();
        }
    }

    fn keep(&mut self, e: LogEntry) {
        if self.kept.len() < LOG_CAP {
            self.kept.push(e);
        } else {
            self.truncated = true;
        }
    }

    fn count(&mut self, e: &LogEntry) {
        self.requests += 1;
        *self.outcomes.entry(outcome_name(e.outcome)).or_insert(0) += 1;
        if let Some(f) = &e.fault {
            *self.faults.entry(f.clone()).or_insert(0) += 1;
        }
        if let Some(ms) = e.gave_up_ms {
            let _ = self.gave_up_us.record(((ms * 1000.0) as u64).max(1));
        }
        let second = (e.t_ms.max(0.0) / 1000.0) as usize;
        if second >= MAX_SECONDS {
            return;
        }
        while self.seconds.len() <= second {
            let t_s = self.seconds.len() as u32;
            self.seconds.push(DependencySecond {
                t_s,
                ..DependencySecond::default()
            });
        }
        let s = &mut self.seconds[second];
        s.requests += 1;
        let ok = e.fault.is_none()
            && e.outcome == Outcome::Forwarded
            && e.status.is_some_and(|c| c < 500);
        if ok {
            s.ok += 1;
        } else {
            s.failed += 1;
        }
        s.faulted += u64::from(e.fault.is_some());
        s.gave_up += u64::from(e.outcome == Outcome::CallerGaveUp || e.gave_up_ms.is_some());
    }

    /// The report; `faults` are every fault of the run (the final windows), `by_kind` the
    /// proxy's own count of injected faults per kind (entries only name the fault).
    pub fn report(
        mut self,
        listen: &str,
        upstream: &str,
        dependency: &str,
        faults: &[AppliedFault],
        by_kind: Option<BTreeMap<String, u64>>,
    ) -> DependencyReport {
        let wins = windows(faults, dependency, f64::INFINITY);
        for e in std::mem::take(&mut self.recent) {
            if wins.iter().any(|(a, b)| *a <= e.t_ms && e.t_ms < *b) {
                self.keep(e);
            }
        }
        self.kept
            .sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms).then(a.seq.cmp(&b.seq)));
        let per_second = self
            .seconds
            .into_iter()
            .filter(|s| s.requests > 0)
            .collect();
        DependencyReport {
            listen: listen.to_string(),
            upstream: upstream.to_string(),
            protocol: "http".into(),
            requests: self.requests,
            per_second,
            outcomes: self.outcomes,
            faults_injected: by_kind.filter(|k| !k.is_empty()).unwrap_or(self.faults),
            gave_up_ms: (!self.gave_up_us.is_empty()).then(|| percentiles(&self.gave_up_us)),
            log: self.kept,
            log_truncated: self.truncated || self.lost > 0,
            connections: None,
            connection_cap: None,
        }
    }

    /// Seconds counted so far.
    pub fn seconds_len(&self) -> usize {
        self.seconds.len()
    }

    /// Requests seen in second `t_s` so far (for the live view).
    pub fn second(&self, t_s: usize) -> Option<&DependencySecond> {
        self.seconds.get(t_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, t_ms: f64, fault: Option<&str>, gave_up: Option<f64>) -> LogEntry {
        LogEntry {
            seq,
            t_ms,
            method: "GET".into(),
            path: "/users/1".into(),
            correlation_id: None,
            trace_id: None,
            fault: fault.map(str::to_string),
            outcome: if fault.is_some() {
                Outcome::Aborted
            } else if gave_up.is_some() {
                Outcome::CallerGaveUp
            } else {
                Outcome::Forwarded
            },
            status: Some(if fault.is_some() { 503 } else { 200 }),
            upstream_status: None,
            upstream_ms: None,
            gave_up_ms: gave_up,
            total_ms: 1.0,
            h2: None,
        }
    }

    fn fault(at: f64, to: f64) -> AppliedFault {
        AppliedFault {
            dependency: "U".into(),
            kind: "abort".into(),
            params: serde_json::Value::Null,
            applied_at_s: at,
            removed_at_s: Some(to),
            source: "schedule".into(),
        }
    }

    #[test]
    fn counts_everything_and_keeps_only_around_faults() {
        let mut c = LogCollector::default();
        let faults = [fault(30.0, 31.0)];
        // One entry per 100 ms for 60 s; the fault sits at 30-31 s.
        let all: Vec<LogEntry> = (0..600)
            .map(|i| {
                entry(
                    i,
                    i as f64 * 100.0,
                    (300..310).contains(&i).then_some("abort"),
                    (i == 305).then_some(300.0),
                )
            })
            .collect();
        for chunk in all.chunks(7) {
            c.take(chunk.to_vec(), "U", &faults);
        }
        let r = c.report("l", "u", "U", &faults, None);
        assert_eq!(r.requests, 600);
        assert_eq!(r.per_second.len(), 60);
        assert_eq!(r.per_second[30].faulted, 10);
        assert_eq!(r.faults_injected["abort"], 10);
        // Kept: 25 s .. 46 s (5 s before, 15 s after).
        assert_eq!(r.log.first().unwrap().t_ms, 25_000.0);
        assert_eq!(r.log.last().unwrap().t_ms, 45_900.0);
        assert_eq!(r.log.len(), 210);
        assert!(!r.log_truncated);
        assert!(r.gave_up_ms.is_some_and(|p| (p.p50 - 300.0).abs() < 1.0));
    }

    #[test]
    fn a_fault_learned_late_still_gets_its_lead_in() {
        let mut c = LogCollector::default();
        c.take(
            (0..50)
                .map(|i| entry(i, i as f64 * 100.0, None, None))
                .collect(),
            "U",
            &[],
        );
        let faults = [fault(4.0, 4.5)];
        c.take(
            (50..60)
                .map(|i| entry(i, i as f64 * 100.0, None, None))
                .collect(),
            "U",
            &faults,
        );
        let r = c.report("l", "u", "U", &faults, None);
        assert_eq!(r.log.first().unwrap().t_ms, 0.0);
        assert_eq!(r.log.len(), 60);
    }

    #[test]
    fn gaps_in_seq_mark_the_log_truncated() {
        let mut c = LogCollector::default();
        c.take(
            vec![entry(0, 0.0, None, None), entry(5, 1.0, None, None)],
            "U",
            &[],
        );
        assert_eq!(c.lost, 4);
        assert!(c.report("l", "u", "U", &[], None).log_truncated);
    }
}
