//! When a breaker must already have been open: client requests that normally call the dependency
//! but never reached it (the breaker turned them away), placed where their call would have been.
//! They bound the opening far tighter than the rate of calls can.

use std::collections::{BTreeSet, HashMap};

use redline_proxy::log::LogEntry;

use crate::result::RunResult;

/// Share of baseline requests allowed to skip the dependency (caches, validation errors) before
/// a missing call stops meaning "refused".
const MAX_BASELINE_SKIPS: f64 = 0.05;

/// How much later than the service the proxy may see a call start or end (connection setup,
/// scheduling); seen on real runs as a few milliseconds.
const PROXY_LAG_MS: f64 = 5.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refusals {
    /// When each refused request's call would have reached the proxy, sorted.
    times: Vec<f64>,
}

impl Refusals {
    /// Reads refusals from the client log and the dependency log (arrival order). Empty when the
    /// two cannot be correlated or when requests skip the dependency even without faults.
    pub fn read(result: &RunResult, log: &[LogEntry], first_fault_ms: f64) -> Refusals {
        let mut first_call: HashMap<&str, f64> = HashMap::new();
        for e in log {
            if let Some(id) = e.correlation_id.as_deref() {
                first_call.entry(id).or_insert(e.t_ms);
            }
        }
        let mut delays: Vec<f64> = Vec::new();
        let mut dependent: BTreeSet<&str> = BTreeSet::new();
        for c in &result.client_log {
            let Some(call) = c.request_id.as_deref().and_then(|id| first_call.get(id)) else {
                continue;
            };
            dependent.insert(c.request.as_str());
            // Measured before any fault: queueing behind a failing dependency inflates it later,
            // while a refusal is immediate.
            let d = call - c.t_ms;
            if (0.0..1000.0).contains(&d) && c.t_ms < first_fault_ms {
                delays.push(d);
            }
        }
        // The latest a refused request's call could have come: the slow end of the usual delay
        // from send to call, plus the proxy's own lag in seeing a call (a new connection).
        let Some(delay) =
            crate::verdict::evidence::quantile(&mut delays, 0.95).map(|d| d + PROXY_LAG_MS)
        else {
            return Refusals::default();
        };
        let answered_without_call = |c: &&crate::result::ClientLogEntry| {
            dependent.contains(c.request.as_str())
                && c.status.is_some_and(|s| !(400..500).contains(&s))
                && c.request_id
                    .as_deref()
                    .is_some_and(|id| !first_call.contains_key(id))
        };
        // The raw log may cover only the time around faults: judge only where it was kept.
        let log_start = log.first().map_or(f64::INFINITY, |e| e.t_ms);
        let covered = |c: &&crate::result::ClientLogEntry| c.t_ms >= log_start;
        let baseline: Vec<_> = result
            .client_log
            .iter()
            .filter(covered)
            .filter(|c| c.t_ms + 1000.0 < first_fault_ms)
            .collect();
        let skipped = baseline.iter().filter(|c| answered_without_call(c)).count();
        if baseline.len() < 20 || skipped as f64 > MAX_BASELINE_SKIPS * baseline.len() as f64 {
            return Refusals::default();
        }
        let mut times: Vec<f64> = result
            .client_log
            .iter()
            .filter(covered)
            .filter(answered_without_call)
            .map(|c| c.t_ms + delay)
            .collect();
        times.sort_by(f64::total_cmp);
        Refusals { times }
    }

    /// The first moment after `t_ms` at which a call was refused: the breaker was open by then.
    pub fn first_after(&self, t_ms: f64) -> Option<f64> {
        let i = self.times.partition_point(|x| *x <= t_ms);
        self.times.get(i).copied()
    }
}
