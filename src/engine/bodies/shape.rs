//! Merged body samples -> `result.body_samples`: request and phase names, the request id and
//! trace id the engine sent (rendered again from the arrival index), JSON parsed when the
//! content type says JSON, everything redacted.

use crate::result::{BodySample, BodySampleSet};
use crate::scenario::{PhaseWindow, Plan};

use super::redact::Redactor;
use super::{Kept, Slot, NO_PHASE};
use crate::engine::RequestGen;

/// Whether a content type is JSON (`application/json`, `application/problem+json`, `...+json`).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json") || essence == "text/json"
}

pub fn shape(
    plan: &Plan,
    phases: &[PhaseWindow],
    gen: &RequestGen,
    slots: Vec<Slot>,
) -> Vec<BodySampleSet> {
    let redactor = Redactor::new(plan);
    slots
        .into_iter()
        .filter_map(|s| {
            let request = plan.requests.get(s.key.op as usize)?.name.clone();
            let phase = (s.key.phase != NO_PHASE)
                .then(|| phases.get(s.key.phase as usize).map(|p| p.name.clone()))
                .flatten();
            let samples = s
                .first
                .into_iter()
                .chain(s.reservoir)
                .map(|k| sample(k, gen, &redactor))
                .collect();
            Some(BodySampleSet {
                request,
                phase,
                status: s.key.status,
                seen: s.seen,
                samples,
            })
        })
        .collect()
}

fn sample(k: Kept, gen: &RequestGen, redactor: &Redactor) -> BodySample {
    let truncated = k.total > k.bytes.len() as u64;
    let mut json = None;
    if !truncated && is_json(&k.content_type) {
        if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&k.bytes) {
            redactor.json(&mut v);
            json = Some(v);
        }
    }
    let text = match (&json, k.bytes.is_empty()) {
        (None, false) => Some(redactor.text(&String::from_utf8_lossy(&k.bytes))),
        _ => None,
    };
    BodySample {
        kind: if k.reservoir { "reservoir" } else { "first" }.to_string(),
        t_ms: k.t_us as f64 / 1000.0,
        request_id: gen.request_id_string(k.index),
        trace_id: gen.trace_id_string(k.index),
        retry_after: k.retry_after,
        content_type: (!k.content_type.is_empty()).then(|| redactor.text(&k.content_type)),
        bytes: k.total,
        truncated,
        json,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        for t in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/Problem+JSON",
            "application/vnd.api+json",
        ] {
            assert!(is_json(t), "{t}");
        }
        for t in ["text/plain", "", "application/jsonp", "text/html"] {
            assert!(!is_json(t), "{t}");
        }
    }
}
