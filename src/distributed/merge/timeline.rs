//! The parts' timelines summed second by second on the shared clock (every part counts from the
//! same t = 0, `--start-at`); per-second percentiles read from the added per-second histograms.

use std::collections::BTreeMap;

use crate::result::{OpSecond, TimelineBucket};

use super::histograms::{add_counts, sum};

/// Sums the timelines; a second some part lacks counts as empty there. Returns the merged
/// timeline (contiguous from 0) and how many per-second percentiles could not be exact (a part
/// without per-second histograms: the largest of the parts' values is kept).
pub fn merge(parts: &[(&str, &[TimelineBucket])]) -> Result<(Vec<TimelineBucket>, u64), String> {
    let mut by_second: BTreeMap<u32, Vec<(&str, &TimelineBucket)>> = BTreeMap::new();
    for (file, timeline) in parts {
        for b in timeline.iter() {
            by_second.entry(b.t_s).or_default().push((file, b));
        }
    }
    let last = by_second.keys().next_back().copied();
    let mut out = Vec::with_capacity(last.map_or(0, |l| l as usize + 1));
    let mut approximate = 0;
    for t in 0..=last.unwrap_or(0) {
        let Some(buckets) = by_second.get(&t) else {
            if last.is_some() {
                out.push(TimelineBucket {
                    t_s: t,
                    ..TimelineBucket::default()
                });
            }
            continue;
        };
        let mut m = TimelineBucket {
            t_s: t,
            ..TimelineBucket::default()
        };
        let mut ops: BTreeMap<&str, Vec<(&str, &OpSecond)>> = BTreeMap::new();
        for (file, b) in buckets {
            m.sent += b.sent;
            m.completed += b.completed;
            m.errors += b.errors;
            m.dropped += b.dropped;
            m.in_flight += b.in_flight;
            add_counts(&mut m.error_kinds, &b.error_kinds);
            add_counts(&mut m.status_classes, &b.status_classes);
            for (name, op) in &b.ops {
                ops.entry(name.as_str()).or_default().push((file, op));
            }
        }
        for (name, seconds) in ops {
            let (op, exact) = merge_second(name, t, &seconds)?;
            approximate += u64::from(!exact);
            m.ops.insert(name.to_string(), op);
        }
        out.push(m);
    }
    Ok((out, approximate))
}

/// One operation's second over the parts; false when a part had no histogram for it.
fn merge_second(
    name: &str,
    t: u32,
    parts: &[(&str, &OpSecond)],
) -> Result<(OpSecond, bool), String> {
    let mut out = OpSecond::default();
    for (_, s) in parts {
        out.count += s.count;
        out.errors += s.errors;
    }
    let encoded: Vec<_> = parts
        .iter()
        .filter_map(|(file, s)| {
            s.histogram.as_deref().map(|h| {
                (
                    h,
                    format!("{file}: timeline second {t} operation {name:?} histogram"),
                )
            })
        })
        .collect();
    if encoded.len() < parts.len() {
        let max = |f: fn(&OpSecond) -> f64| parts.iter().map(|(_, s)| f(s)).fold(0.0, f64::max);
        out.p50_ms = max(|s| s.p50_ms);
        out.p95_ms = max(|s| s.p95_ms);
        out.p99_ms = max(|s| s.p99_ms);
        return Ok((out, false));
    }
    if let Some(h) = sum(encoded)? {
        // As the engine reads a second: microseconds at the quantile, in milliseconds.
        let q = |p: f64| h.value_at_quantile(p).min(u32::MAX as u64) as f64 / 1000.0;
        out.p50_ms = q(0.5);
        out.p95_ms = q(0.95);
        out.p99_ms = q(0.99);
    }
    Ok((out, true))
}
