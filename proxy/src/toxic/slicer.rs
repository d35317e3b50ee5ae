//! The `slicer` toxic: cuts each chunk into pieces of about `average_size` bytes
//! (plus or minus `size_variation`), `delay` microseconds apart, like a slow real network.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::int_attr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Slicer {
    /// Average piece size in bytes; 0 or less leaves chunks whole.
    #[serde(deserialize_with = "int_attr")]
    pub average_size: i64,
    /// Pieces vary uniformly by up to this many bytes (kept below `average_size`).
    #[serde(deserialize_with = "int_attr")]
    pub size_variation: i64,
    /// Microseconds between pieces.
    #[serde(deserialize_with = "int_attr")]
    pub delay: i64,
}

impl Slicer {
    pub fn gap(&self) -> Duration {
        Duration::from_micros(self.delay.max(0) as u64)
    }

    /// Appends to `ends` the end offset of every piece of a `len`-byte chunk (the last is `len`).
    pub fn cut<R: Rng>(&self, len: usize, rng: &mut R, ends: &mut Vec<usize>) {
        if self.average_size <= 0 {
            ends.push(len);
            return;
        }
        let avg = self.average_size;
        let var = self.size_variation.clamp(0, avg - 1);
        let mut at = 0usize;
        while at < len {
            let size = if var > 0 {
                avg + rng.gen_range(-var..=var)
            } else {
                avg
            };
            at = (at + size.max(1) as usize).min(len);
            ends.push(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::SmallRng, SeedableRng};

    #[test]
    fn pieces_cover_the_chunk_within_bounds() {
        let s = Slicer {
            average_size: 10,
            size_variation: 3,
            delay: 0,
        };
        let mut rng = SmallRng::seed_from_u64(7);
        let mut ends = Vec::new();
        s.cut(1000, &mut rng, &mut ends);
        assert_eq!(*ends.last().unwrap(), 1000);
        let mut prev = 0;
        for (i, &e) in ends.iter().enumerate() {
            let size = e - prev;
            assert!(size <= 13, "piece {i} is {size}");
            if i + 1 < ends.len() {
                assert!(size >= 7, "piece {i} is {size}");
            }
            prev = e;
        }
    }

    #[test]
    fn zero_average_leaves_chunk_whole() {
        let mut ends = Vec::new();
        Slicer::default().cut(50, &mut SmallRng::seed_from_u64(1), &mut ends);
        assert_eq!(ends, vec![50]);
    }
}
