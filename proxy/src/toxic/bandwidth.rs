//! The `bandwidth` toxic: passes data at most `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::int_attr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bandwidth {
    /// Kilobytes per second. Zero or less stalls the stream (in Toxiproxy a zero rate never
    /// lets a byte through either).
    #[serde(deserialize_with = "int_attr")]
    pub rate: i64,
}

impl Bandwidth {
    /// Largest piece written at once: 100 ms worth of bytes, so slow rates trickle smoothly
    /// instead of arriving in one late burst. `None` when the rate stalls the stream.
    pub fn piece_len(&self) -> Option<usize> {
        (self.rate > 0).then(|| (self.rate as usize).saturating_mul(100).max(1))
    }

    /// Time the link is busy sending `bytes` at this rate.
    pub fn transmit_time(&self, bytes: usize) -> Duration {
        if self.rate <= 0 {
            return Duration::MAX;
        }
        // bytes / (rate * 1000 bytes/s), in nanoseconds without float rounding surprises.
        let nanos = (bytes as u128) * 1_000_000 / (self.rate as u128);
        Duration::from_nanos(nanos.min(u64::MAX as u128) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundred_kb_per_second_takes_ten_ms_per_kb() {
        let b = Bandwidth { rate: 100 };
        assert_eq!(b.transmit_time(1000), Duration::from_millis(10));
        assert_eq!(b.piece_len(), Some(10_000));
    }

    #[test]
    fn zero_rate_stalls() {
        assert_eq!(Bandwidth { rate: 0 }.piece_len(), None);
    }
}
