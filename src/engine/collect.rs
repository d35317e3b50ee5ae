//! Measurements -> `result::RunResult`: percentiles, encoded histograms, phases, client log.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::result::{
    ClientLogEntry, FirstError, OperationStats, Percentiles, PhaseStats, RunResult, Totals,
    SCHEMA_VERSION,
};
use crate::scenario::Plan;

use super::failure::hints::hint;
use super::stats::{FailKind, SlotStats};
use super::Measurements;

/// Shapes a run's measurements into the result model. `faults`, `dependencies` and `verdicts`
/// are left empty for the chaos and verdict steps to fill.
pub fn collect(plan: &Plan, m: &Measurements, scenario_file: Option<String>) -> RunResult {
    let duration_s = m.elapsed.as_secs_f64();
    let ops_in = |slot: usize| -> BTreeMap<String, OperationStats> {
        plan.requests
            .iter()
            .zip(&m.ops)
            .map(|(r, slots)| {
                let mut stats = operation(r.operation.clone(), &slots[slot]);
                if m.segment.is_some() {
                    stats.service_histogram = Some(encode(&slots[slot].service));
                }
                (r.name.clone(), stats)
            })
            .collect()
    };
    let phases = m
        .phases
        .iter()
        .enumerate()
        .map(|(k, w)| PhaseStats {
            name: w.name.clone(),
            kind: w.kind,
            from_s: w.from.as_secs_f64(),
            to_s: w.to.as_secs_f64(),
            operations: ops_in(k + 1),
        })
        .collect();
    let client_log = m
        .client_log
        .iter()
        .map(|r| ClientLogEntry {
            t_ms: r.t_us as f64 / 1000.0,
            request: plan.requests[r.op as usize].name.clone(),
            request_id: m.gen.request_id_string(r.index),
            trace_id: m.gen.trace_id_string(r.index),
            status: r.status,
            error: r.fail.map(|k| k.name().to_string()),
            latency_ms: r.latency_us as f64 / 1000.0,
            retry_after: r.retry_after,
            grpc_status: r.grpc_status,
        })
        .collect();
    let mut notes = Vec::new();
    if m.interrupted {
        notes.push(format!(
            "interrupted at {:.1} s; figures cover what was measured until then",
            duration_s
        ));
    }
    RunResult {
        schema_version: SCHEMA_VERSION,
        scenario: plan.name.clone(),
        scenario_file,
        seed: plan.seed,
        started_at: rfc3339(m.started_at),
        duration_s,
        interrupted: m.interrupted,
        warmup_s: plan.load.warmup.as_secs_f64(),
        http_version: m.http2.then(|| "2".to_string()),
        totals: Totals {
            sent: m.sent,
            completed: m.completed,
            errors: m.errors,
            dropped: m.dropped,
            rps: if duration_s > 0.0 {
                m.completed as f64 / duration_s
            } else {
                0.0
            },
        },
        operations: with_first_errors(plan, m, ops_in(0)),
        timeline: m.timeline.clone(),
        phases,
        client_log,
        client_log_truncated: m.client_log_truncated,
        body_samples: super::bodies::shape::shape(plan, &m.phases, &m.gen, m.bodies.clone()),
        spec: plan.spec.clone(),
        notes,
        ..RunResult::default()
    }
}

/// Each operation's first failure texts, with the hint that fixes each when one is known.
fn with_first_errors(
    plan: &Plan,
    m: &Measurements,
    mut ops: BTreeMap<String, OperationStats>,
) -> BTreeMap<String, OperationStats> {
    for (i, r) in plan.requests.iter().enumerate() {
        let (Some(stats), Some(slots)) = (ops.get_mut(&r.name), m.ops.get(i)) else {
            continue;
        };
        stats.first_errors = m
            .samples
            .of(i)
            .into_iter()
            .map(|f| FirstError {
                kind: f.kind.name().to_string(),
                hint: hint(plan, f.kind, &f.text, &slots[0]),
                message: f.text,
                t_ms: f.at_us as f64 / 1000.0,
            })
            .collect();
    }
    ops
}

fn operation(operation: Option<String>, s: &SlotStats) -> OperationStats {
    OperationStats {
        operation,
        count: s.count,
        errors: s.errors,
        status: s
            .statuses()
            .map(|(code, n)| (code.to_string(), n))
            .collect(),
        error_kinds: FailKind::ALL
            .iter()
            .filter(|k| s.kinds[**k as usize] > 0)
            .map(|k| (k.name().to_string(), s.kinds[*k as usize]))
            .collect(),
        grpc_status: s
            .grpc
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| {
                let name = super::http2::grpc::status_name(code as u8);
                (name.to_string(), *n)
            })
            .collect(),
        latency_ms: percentiles(&s.latency),
        service_time_ms: percentiles(&s.service),
        histogram: encode(&s.latency),
        first_errors: Vec::new(),
        service_histogram: None,
    }
}

/// Summary of a microsecond histogram, in milliseconds (all zero when empty).
pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let q = |p: f64| ms(h.value_at_quantile(p));
    Percentiles {
        min: ms(h.min()),
        mean: h.mean() / 1000.0,
        p50: q(0.5),
        p90: q(0.9),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
        max: ms(h.max()),
    }
}

/// V2 + DEFLATE serialisation, base64: readable by every HdrHistogram implementation.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    match V2DeflateSerializer::new().serialize(h, &mut bytes) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(bytes),
        Err(_) => String::new(),
    }
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-21T21:31:55.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (date, secs) = civil(d.as_secs());
    format!(
        "{date}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        d.subsec_millis()
    )
}

/// Compact UTC stamp for folder names, e.g. `20261121T213155Z`.
pub fn stamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (date, secs) = civil(d.as_secs());
    format!(
        "{}T{:02}{:02}{:02}Z",
        date.replace('-', ""),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// ("YYYY-MM-DD", seconds into the day) from Unix seconds (days-to-civil, proleptic Gregorian).
fn civil(unix: u64) -> (String, u64) {
    let days = (unix / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (format!("{year:04}-{month:02}-{day:02}"), unix % 86_400)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_utc_times() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_297_915_123);
        assert_eq!(rfc3339(t), "2026-11-21T21:51:55.123Z");
        assert_eq!(stamp(t), "20261121T215155Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn histogram_round_trips() {
        let mut h = super::super::stats::histogram(3);
        h.record(1500).unwrap();
        let text = encode(&h);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap();
        let back: Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(percentiles(&back).p50, percentiles(&h).p50);
    }
}
