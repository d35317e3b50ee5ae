//! When a breaker must already have been open: client requests that normally call the dependency
//! but never reached it (the breaker turned them away), placed where their call would have been.
//! They bound the opening far tighter than the rate of calls can.

use std::collections::{BTreeSet, HashMap};

use redline_proxy::log::LogEntry;

use crate::result::RunResult;

/// Share of baseline requests allowed to skip the dependency (caches, validation errors) before
/// a missing call stops meaning "refused".
const MAX_BASELINE_SKIPS: f64 = 0.05;

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
            let d = call - c.t_ms;
            if (0.0..1000.0).contains(&d) {
                delays.push(d);
            }
        }
        let Some(delay) = super::evidence::quantile(&mut delays, 0.5) else {
            return Refusals::default();
        };
        let answered_without_call = |c: &&crate::result::ClientLogEntry| {
            dependent.contains(c.request.as_str())
                && c.error.is_none()
                && c.status.is_some_and(|s| !(400..500).contains(&s))
                && c.request_id
                    .as_deref()
                    .is_some_and(|id| !first_call.contains_key(id))
        };
        let baseline: Vec<_> = result
            .client_log
            .iter()
            .filter(|c| c.t_ms + 1000.0 < first_fault_ms)
            .collect();
        let skipped = baseline.iter().filter(|c| answered_without_call(c)).count();
        if baseline.len() < 20 || skipped as f64 > MAX_BASELINE_SKIPS * baseline.len() as f64 {
            return Refusals::default();
        }
        let mut times: Vec<f64> = result
            .client_log
            .iter()
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
