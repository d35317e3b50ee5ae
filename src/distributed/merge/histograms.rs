//! Exact sums of the parts' encoded HdrHistograms (V2 + DEFLATE, base64), and the per-operation
//! statistics rebuilt from them.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

use crate::engine::collect::{encode, percentiles};
use crate::result::OperationStats;

/// Decodes one encoded histogram; `what` names it in the error.
pub fn decode(text: &str, what: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("{what}: not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("{what}: not an HdrHistogram: {e:?}"))
}

/// The sum of the encoded histograms (None when there are none).
pub fn sum<'a>(
    encoded: impl IntoIterator<Item = (&'a str, String)>,
) -> Result<Option<Histogram<u64>>, String> {
    let mut total: Option<Histogram<u64>> = None;
    for (text, what) in encoded {
        let h = decode(text, &what)?;
        match &mut total {
            None => total = Some(h),
            Some(t) => t
                .add(&h)
                .map_err(|e| format!("{what}: cannot be added: {e:?}"))?,
        }
    }
    Ok(total)
}

/// Adds one operation's statistics over the parts: counts, statuses and error kinds summed,
/// latency and service-time histograms added, percentiles read from the sums.
pub fn merge_operation(
    parts: &[(&str, &OperationStats)],
    name: &str,
) -> Result<OperationStats, String> {
    let mut out = OperationStats::default();
    for (_, op) in parts {
        out.operation = out.operation.or_else(|| op.operation.clone());
        out.count += op.count;
        out.errors += op.errors;
        add_counts(&mut out.status, &op.status);
        add_counts(&mut out.error_kinds, &op.error_kinds);
        add_counts(&mut out.grpc_status, &op.grpc_status);
    }
    let latency = sum(parts.iter().map(|(file, op)| {
        (
            op.histogram.as_str(),
            format!("{file}: operation {name:?} histogram"),
        )
    }))?;
    if let Some(h) = latency {
        out.latency_ms = percentiles(&h);
        out.histogram = encode(&h);
    }
    let service: Vec<_> = parts
        .iter()
        .filter_map(|(file, op)| {
            op.service_histogram
                .as_deref()
                .map(|t| (t, format!("{file}: operation {name:?} service_histogram")))
        })
        .collect();
    if service.len() == parts.len() {
        if let Some(h) = sum(service)? {
            out.service_time_ms = percentiles(&h);
            out.service_histogram = Some(encode(&h));
        }
    }
    Ok(out)
}

/// Adds `b`'s counts into `a`, key by key.
pub fn add_counts(a: &mut BTreeMap<String, u64>, b: &BTreeMap<String, u64>) {
    for (k, n) in b {
        *a.entry(k.clone()).or_default() += n;
    }
}

/// Merges whole operation maps (every part has every request name; one missing counts as empty).
pub fn merge_operations(
    parts: &[(&str, &BTreeMap<String, OperationStats>)],
) -> Result<BTreeMap<String, OperationStats>, String> {
    let mut names: Vec<&String> = parts.iter().flat_map(|(_, m)| m.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = BTreeMap::new();
    for name in names {
        let ops: Vec<(&str, &OperationStats)> = parts
            .iter()
            .filter_map(|(file, m)| m.get(name).map(|op| (*file, op)))
            .collect();
        out.insert(name.clone(), merge_operation(&ops, name)?);
    }
    Ok(out)
}
