//! `latency`: delay the request before forwarding it, by a fixed time or a distribution, plus jitter.

use super::{FaultError, Ms, Params};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How the delay is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Always `delay`.
    #[default]
    Fixed,
    /// Uniform between `min` and `max`.
    Uniform,
    /// Normal with `mean` and `stddev`, clamped at zero.
    Normal,
    /// Lognormal with `median` and shape `sigma` (the stddev of the underlying normal).
    Lognormal,
}

/// Delay parameters; which fields are required depends on `distribution`.
/// CLI keys: `delay` (or `ms`), `distribution` (or `dist`), `min`, `max`, `mean`, `stddev`,
/// `median`, `sigma`, `jitter`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    #[serde(default)]
    pub distribution: Distribution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Ms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Ms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Ms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Ms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stddev: Option<Ms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<Ms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// Added uniformly in `-jitter..=+jitter` (the total is clamped at zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Ms>,
}

impl Latency {
    pub const KEYS: &'static [&'static str] = &[
        "delay",
        "distribution",
        "min",
        "max",
        "mean",
        "stddev",
        "median",
        "sigma",
        "jitter",
    ];

    /// A fixed delay.
    pub fn fixed(delay: Duration) -> Latency {
        Latency {
            delay: Some(Ms(delay)),
            ..Latency::default()
        }
    }

    pub fn from_params(p: &mut Params) -> Result<Latency, FaultError> {
        let dist = p.take_str("distribution").or_else(|| p.take_str("dist"));
        let distribution = match dist.as_deref() {
            None | Some("fixed") => Distribution::Fixed,
            Some("uniform") => Distribution::Uniform,
            Some("normal") => Distribution::Normal,
            Some("lognormal") => Distribution::Lognormal,
            Some(other) => {
                return Err(p.bad("distribution", "fixed, uniform, normal or lognormal", other))
            }
        };
        let delay = match p.take_ms("delay")? {
            Some(d) => Some(d),
            None => p.take_ms("ms")?,
        };
        Ok(Latency {
            distribution,
            delay,
            min: p.take_ms("min")?,
            max: p.take_ms("max")?,
            mean: p.take_ms("mean")?,
            stddev: p.take_ms("stddev")?,
            median: p.take_ms("median")?,
            sigma: p.take_f64("sigma")?,
            jitter: p.take_ms("jitter")?,
        })
    }

    pub fn validate(&self, fault: &str) -> Result<(), FaultError> {
        let missing = |field: &str, expected: &str| FaultError::Field {
            fault: fault.to_string(),
            field: field.to_string(),
            expected: expected.to_string(),
            found: "nothing (the key is missing)".into(),
        };
        match self.distribution {
            Distribution::Fixed if self.delay.is_none() => {
                Err(missing("delay", "a duration such as \"250ms\""))
            }
            Distribution::Uniform => match (self.min, self.max) {
                (Some(a), Some(b)) if a <= b => Ok(()),
                (Some(a), Some(b)) => Err(FaultError::Field {
                    fault: fault.to_string(),
                    field: "max".into(),
                    expected: format!("at least min ({a})"),
                    found: b.to_string(),
                }),
                (None, _) => Err(missing("min", "a duration")),
                (_, None) => Err(missing("max", "a duration")),
            },
            Distribution::Normal if self.mean.is_none() => Err(missing("mean", "a duration")),
            Distribution::Normal if self.stddev.is_none() => Err(missing("stddev", "a duration")),
            Distribution::Lognormal if self.median.is_none() => {
                Err(missing("median", "a duration"))
            }
            Distribution::Lognormal => match self.sigma {
                Some(s) if s.is_finite() && (0.0..=10.0).contains(&s) => Ok(()),
                Some(s) => Err(FaultError::Field {
                    fault: fault.to_string(),
                    field: "sigma".into(),
                    expected: "a shape from 0 to 10".into(),
                    found: s.to_string(),
                }),
                None => Err(missing("sigma", "a shape such as 0.5")),
            },
            _ => Ok(()),
        }
    }

    /// Draws one delay (validated specs only: missing fields count as zero).
    pub fn sample<R: Rng>(&self, rng: &mut R) -> Duration {
        let ms = |m: Option<Ms>| m.map(Ms::as_millis_f64).unwrap_or(0.0);
        let base = match self.distribution {
            Distribution::Fixed => ms(self.delay),
            Distribution::Uniform => {
                let (a, b) = (ms(self.min), ms(self.max));
                a + (b - a) * rng.gen::<f64>()
            }
            Distribution::Normal => ms(self.mean) + ms(self.stddev) * standard_normal(rng),
            Distribution::Lognormal => {
                ms(self.median) * (self.sigma.unwrap_or(0.0) * standard_normal(rng)).exp()
            }
        };
        let jitter = ms(self.jitter);
        let total = if jitter > 0.0 {
            base + jitter * (2.0 * rng.gen::<f64>() - 1.0)
        } else {
            base
        };
        // Clamp: a normal tail may go negative, a lognormal tail may overflow a Duration.
        Duration::from_secs_f64(total.clamp(0.0, 1.0e9) / 1000.0)
    }
}

/// Box-Muller: one standard normal draw from two uniforms.
fn standard_normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // in (0, 1], so ln is finite
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn mean_ms(l: &Latency, n: usize) -> f64 {
        let mut rng = StdRng::seed_from_u64(7);
        (0..n)
            .map(|_| l.sample(&mut rng).as_secs_f64() * 1000.0)
            .sum::<f64>()
            / n as f64
    }

    #[test]
    fn distributions_have_the_right_centre() {
        let fixed = Latency::fixed(Duration::from_millis(40));
        assert_eq!(mean_ms(&fixed, 10), 40.0);
        let uniform = Latency {
            distribution: Distribution::Uniform,
            min: Some(Ms::from_millis(10)),
            max: Some(Ms::from_millis(30)),
            ..Latency::default()
        };
        assert!((mean_ms(&uniform, 20_000) - 20.0).abs() < 0.5);
        let normal = Latency {
            distribution: Distribution::Normal,
            mean: Some(Ms::from_millis(100)),
            stddev: Some(Ms::from_millis(10)),
            ..Latency::default()
        };
        assert!((mean_ms(&normal, 20_000) - 100.0).abs() < 1.0);
        let lognormal = Latency {
            distribution: Distribution::Lognormal,
            median: Some(Ms::from_millis(50)),
            sigma: Some(0.5),
            ..Latency::default()
        };
        // Mean of a lognormal is median * exp(sigma^2 / 2) = 56.66 ms.
        assert!((mean_ms(&lognormal, 50_000) - 56.66).abs() < 1.5);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let l = Latency {
            jitter: Some(Ms::from_millis(5)),
            ..Latency::fixed(Duration::from_millis(20))
        };
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let d = l.sample(&mut rng).as_secs_f64() * 1000.0;
            assert!((15.0..=25.0).contains(&d), "{d}");
        }
    }

    #[test]
    fn validation_names_missing_fields() {
        let l = Latency {
            distribution: Distribution::Normal,
            mean: Some(Ms::from_millis(1)),
            ..Latency::default()
        };
        assert!(l.validate("x").unwrap_err().to_string().contains("stddev"));
        assert!(Latency::default()
            .validate("x")
            .unwrap_err()
            .to_string()
            .contains("delay"));
    }
}
