//! The fault book: every fault as it was applied during the run (by the schedule or over the
//! control API), with when it took effect and when it went away. It becomes `result.faults`,
//! and the live view reads the faults active now from it.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::result::AppliedFault;

/// Shared, append-mostly record of applied faults. Cheap to clone.
#[derive(Clone, Default)]
pub struct FaultBook {
    inner: Arc<Mutex<Vec<AppliedFault>>>,
}

impl FaultBook {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<AppliedFault>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a fault taking effect; returns its index for `close`.
    pub fn open(
        &self,
        dependency: &str,
        kind: &str,
        params: Value,
        at_s: f64,
        source: &str,
    ) -> usize {
        let mut v = self.lock();
        v.push(AppliedFault {
            dependency: dependency.to_string(),
            kind: kind.to_string(),
            params,
            applied_at_s: at_s,
            removed_at_s: None,
            source: source.to_string(),
        });
        v.len() - 1
    }

    /// Marks entry `i` removed at `at_s` (kept as it is if it was already removed).
    pub fn close(&self, i: usize, at_s: f64) {
        if let Some(f) = self.lock().get_mut(i) {
            f.removed_at_s.get_or_insert(at_s);
        }
    }

    /// Closes the open entries of `dependency` that `pick` selects.
    pub fn close_where(&self, dependency: &str, at_s: f64, pick: impl Fn(&AppliedFault) -> bool) {
        for f in self.lock().iter_mut() {
            if f.dependency == dependency && f.removed_at_s.is_none() && pick(f) {
                f.removed_at_s = Some(at_s);
            }
        }
    }

    /// Closes every open entry (the end of the run: everything is removed).
    pub fn close_all(&self, at_s: f64) {
        for f in self.lock().iter_mut() {
            f.removed_at_s.get_or_insert(at_s);
        }
    }

    /// "dependency kind" of every fault active now, for the live view.
    pub fn active(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .filter(|f| f.removed_at_s.is_none())
            .map(|f| (f.dependency.clone(), f.kind.clone()))
            .collect()
    }

    pub fn snapshot(&self) -> Vec<AppliedFault> {
        let mut v = self.lock().clone();
        v.sort_by(|a, b| a.applied_at_s.total_cmp(&b.applied_at_s));
        v
    }
}

/// A fault's name in its applied parameters (the proxy's fault or toxic name).
pub fn name_of(f: &AppliedFault) -> Option<&str> {
    f.params.get("name").and_then(Value::as_str)
}

/// Flattens a proxy fault (`{"name", "kind": {"type": ..., params}, ...}`) or a toxic
/// (`{"name", "type", "attributes": {...}}`) into one object of parameters, and adds `delay_ms`
/// (the typical delay of a latency fault) so readers need not know every distribution.
pub fn flat_params(v: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(obj) = v {
        for (k, val) in obj {
            match (k.as_str(), val) {
                ("kind" | "attributes", Value::Object(inner)) => {
                    for (ik, iv) in inner {
                        let ik = if ik == "type" { "type" } else { ik.as_str() };
                        out.insert(ik.to_string(), iv.clone());
                    }
                }
                ("matcher" | "limit", Value::Object(inner)) if inner.is_empty() => {}
                _ => {
                    out.insert(k.clone(), val.clone());
                }
            }
        }
    }
    let num = |k: &str| out.get(k).and_then(Value::as_f64);
    let delay = num("delay")
        .or_else(|| num("mean"))
        .or_else(|| num("median"))
        .or_else(|| Some((num("min")? + num("max")?) / 2.0))
        .or_else(|| {
            (out.get("type")?.as_str()? == "latency")
                .then(|| num("latency"))
                .flatten()
        });
    if let Some(d) = delay {
        out.insert("delay_ms".into(), Value::from(d));
    }
    Value::Object(out)
}

/// The kind name of a flattened fault: the HTTP kind, or the toxic's type.
pub fn kind_of(flat: &Value, fallback: &str) -> String {
    flat.get("type")
        .and_then(Value::as_str)
        .unwrap_or(fallback)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_faults_and_toxics() {
        let f = flat_params(
            &json!({"name": "latency@2s", "kind": {"type": "latency", "distribution": "normal", "mean": 200, "stddev": 50}, "probability": 1.0, "matcher": {}}),
        );
        assert_eq!(
            f,
            json!({"name": "latency@2s", "type": "latency", "distribution": "normal", "mean": 200, "stddev": 50, "probability": 1.0, "delay_ms": 200.0})
        );
        let t = flat_params(
            &json!({"name": "x", "type": "latency", "stream": "downstream", "toxicity": 1.0, "attributes": {"latency": 250, "jitter": 0}}),
        );
        assert_eq!(t["delay_ms"], json!(250.0));
        assert_eq!(kind_of(&t, "?"), "latency");
    }

    #[test]
    fn close_keeps_the_first_removal() {
        let b = FaultBook::default();
        let i = b.open("Users", "abort", json!({"name": "a"}), 1.0, "schedule");
        b.open("Users", "latency", json!({"name": "l"}), 2.0, "api me");
        b.close_where("Users", 3.0, |f| name_of(f) == Some("l"));
        b.close(i, 4.0);
        b.close(i, 5.0);
        let s = b.snapshot();
        assert_eq!(
            (s[0].removed_at_s, s[1].removed_at_s),
            (Some(4.0), Some(3.0))
        );
        assert!(b.active().is_empty());
    }
}
