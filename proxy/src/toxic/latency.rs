//! The `latency` toxic: delays every chunk by `latency` ms plus or minus up to `jitter` ms.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::int_attr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Latency {
    /// Milliseconds added to each chunk.
    #[serde(deserialize_with = "int_attr")]
    pub latency: i64,
    /// Up to this many milliseconds more or less, uniformly, per chunk.
    #[serde(deserialize_with = "int_attr")]
    pub jitter: i64,
}

impl Latency {
    /// The delay for the next chunk: latency + U[-jitter, jitter), never negative.
    pub fn delay<R: Rng>(&self, rng: &mut R) -> Duration {
        let mut ms = self.latency;
        if self.jitter > 0 {
            ms += rng.gen_range(-self.jitter..self.jitter);
        }
        Duration::from_millis(ms.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::SmallRng, SeedableRng};

    #[test]
    fn delay_stays_within_jitter() {
        let t = Latency {
            latency: 100,
            jitter: 10,
        };
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..1000 {
            let d = t.delay(&mut rng).as_millis();
            assert!((90..110).contains(&d), "{d}");
        }
    }

    #[test]
    fn negative_delay_clamps_to_zero() {
        let t = Latency {
            latency: -5,
            jitter: 0,
        };
        assert_eq!(t.delay(&mut SmallRng::seed_from_u64(1)), Duration::ZERO);
    }
}
