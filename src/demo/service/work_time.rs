//! Simulated work time per operation: log-normal samples from a seeded RNG.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::config::ServiceTime;

/// Samples are capped at this multiple of the median so one draw cannot stall a request.
const CAP: f64 = 10.0;

#[derive(Debug)]
pub struct WorkTime {
    rng: Mutex<SmallRng>,
}

impl WorkTime {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
        }
    }

    /// One draw: median * exp(sigma * Z), Z standard normal (Box-Muller).
    pub fn sample(&self, t: ServiceTime) -> Duration {
        if t.median.is_zero() || t.sigma <= 0.0 {
            return t.median;
        }
        let (u1, u2): (f64, f64) = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            (rng.gen_range(f64::EPSILON..1.0), rng.gen())
        };
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        t.median.mul_f64((t.sigma * z).exp().min(CAP))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_centre_on_the_median() {
        let w = WorkTime::new(5);
        let t = ServiceTime::new(10, 0.35);
        let mut v: Vec<f64> = (0..2001).map(|_| w.sample(t).as_secs_f64()).collect();
        v.sort_by(f64::total_cmp);
        let median = v[1000];
        assert!((0.009..0.011).contains(&median), "{median}");
        assert!(v[2000] <= 0.1 + 1e-9);
        assert_eq!(w.sample(ServiceTime::new(0, 0.3)), Duration::ZERO);
    }
}
