//! Decoding the base64 V2-compressed latency HdrHistograms of result.json, and reading them.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

/// A latency histogram as stored in result.json: values in microseconds.
pub type Latency = Histogram<u64>;

/// Why a stored histogram could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("histogram is empty")]
    Empty,
    #[error("histogram is not valid base64")]
    Base64,
    #[error("histogram is not a valid V2 HdrHistogram: {0:?}")]
    Hdr(hdrhistogram::serialization::DeserializeError),
}

/// Decodes one `histogram` field. Accepts standard and URL-safe base64, padded or not, so a
/// result written by another tool still reads.
pub fn decode(encoded: &str) -> Result<Latency, DecodeError> {
    let encoded = encoded.trim();
    if encoded.is_empty() {
        return Err(DecodeError::Empty);
    }
    let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(encoded).ok())
        .ok_or(DecodeError::Base64)?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(DecodeError::Hdr)
}

/// Merges several histograms into one (None if none decodes).
pub fn merge<'a>(encoded: impl IntoIterator<Item = &'a str>) -> Option<Latency> {
    let mut merged: Option<Latency> = None;
    for h in encoded.into_iter().filter_map(|e| decode(e).ok()) {
        match merged.as_mut() {
            None => merged = Some(h),
            Some(m) => {
                // Bounds differ only between differently configured writers; an auto-resizing
                // copy absorbs that instead of failing the whole report.
                if m.add(&h).is_err() {
                    let mut wide = Latency::new(3).expect("3 significant figures is valid");
                    wide.auto(true);
                    let _ = wide.add(&*m);
                    let _ = wide.add(&h);
                    *m = wide;
                }
            }
        }
    }
    merged
}

/// The value at quantile `q` in milliseconds.
pub fn quantile_ms(h: &Latency, q: f64) -> f64 {
    h.value_at_quantile(q.clamp(0.0, 1.0)) as f64 / 1000.0
}

/// The percentile spectrum as HdrHistogram plots it: points (1 / (1 - q), latency ms), q rising
/// from 0 to the last recorded value, x capped at `max_x` (the largest q the sample supports).
pub fn spectrum(h: &Latency) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    if h.is_empty() {
        return points;
    }
    let max_x = max_spectrum_x(h);
    for step in h.iter_quantiles(5) {
        let q = step.quantile_iterated_to();
        if q >= 1.0 {
            break;
        }
        let x = 1.0 / (1.0 - q);
        if x > max_x {
            break;
        }
        points.push((
            x,
            h.highest_equivalent(step.value_iterated_to()) as f64 / 1000.0,
        ));
    }
    points.push((max_x, h.max() as f64 / 1000.0));
    points
}

/// The rightmost x of the spectrum: the sample count (q = 1 - 1/n is the last distinct rank).
pub fn max_spectrum_x(h: &Latency) -> f64 {
    (h.len() as f64).max(2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};

    fn encode(h: &Latency) -> String {
        let mut buf = Vec::new();
        V2DeflateSerializer::new().serialize(h, &mut buf).unwrap();
        STANDARD.encode(buf)
    }

    #[test]
    fn round_trips_a_compressed_histogram() {
        let mut h = Latency::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 100).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), 1000);
        assert!((quantile_ms(&back, 0.5) - 50.0).abs() < 0.1);
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(matches!(decode(""), Err(DecodeError::Empty)));
        assert!(matches!(decode("%%%"), Err(DecodeError::Base64)));
        assert!(matches!(decode("aGVsbG8="), Err(DecodeError::Hdr(_))));
    }

    #[test]
    fn spectrum_rises_and_ends_at_the_max() {
        let mut h = Latency::new(3).unwrap();
        for v in 1..=10_000u64 {
            h.record(v).unwrap();
        }
        let s = spectrum(&h);
        assert!(s.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(s.last().unwrap().1, h.max() as f64 / 1000.0);
        assert!(s.first().unwrap().0 >= 1.0);
    }
}
