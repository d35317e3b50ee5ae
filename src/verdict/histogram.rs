//! Decoding the base64 V2 HdrHistograms of result.json and merging them.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer};
use hdrhistogram::Histogram;

/// Decodes one base64 V2 (optionally DEFLATE-compressed) histogram of microseconds.
pub fn decode(b64: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram is not a V2 HdrHistogram: {e:?}"))
}

/// Merges several encoded histograms; empty strings are skipped, a corrupt one is an error.
pub fn merge<'a>(
    encoded: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Histogram<u64>>, String> {
    let mut merged: Option<Histogram<u64>> = None;
    for b64 in encoded {
        if b64.trim().is_empty() {
            continue;
        }
        let h = decode(b64)?;
        match merged.as_mut() {
            None => merged = Some(h),
            Some(m) => m
                .add(&h)
                .map_err(|e| format!("histograms do not merge: {e:?}"))?,
        }
    }
    Ok(merged)
}

/// Quantile in milliseconds (the histogram holds microseconds).
pub fn quantile_ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Encodes a histogram the way the engine does (V2 + DEFLATE, base64); used by tests and fixtures.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    hdrhistogram::serialization::V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serialising to memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_merge() {
        let mut a = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        let mut b = a.clone();
        for v in 1..=100u64 {
            a.record(v * 1000).unwrap();
            b.record(v * 2000).unwrap();
        }
        let merged = merge([encode(&a).as_str(), "", encode(&b).as_str()])
            .unwrap()
            .unwrap();
        assert_eq!(merged.len(), 200);
        // 200 values: 1..=100 ms and 2..=200 ms by 2; the 100th smallest is 67 ms.
        assert!((quantile_ms(&merged, 0.5) - 67.0).abs() < 0.5);
        assert!(decode("not base64!").is_err());
        assert!(decode("AAAA").is_err());
    }
}
