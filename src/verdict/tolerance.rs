//! Tolerances and sample-size rules, each stated in the verdicts that use it.

use std::time::Duration;

/// Tolerance on a measured duration: the larger of a relative and an absolute margin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationTolerance {
    /// Fraction of the claimed value (0.10 = 10%).
    pub relative: f64,
    pub absolute: Duration,
}

impl Default for DurationTolerance {
    /// The default: the larger of 10% and 250 ms.
    fn default() -> Self {
        DurationTolerance {
            relative: 0.10,
            absolute: Duration::from_millis(250),
        }
    }
}

impl DurationTolerance {
    /// Allowed deviation, in ms, around a claimed value in ms.
    pub fn margin_ms(&self, claimed_ms: f64) -> f64 {
        (claimed_ms * self.relative).max(self.absolute.as_secs_f64() * 1000.0)
    }

    /// True when `measured` is within the tolerance of `claimed` (both ms).
    pub fn accepts(&self, claimed_ms: f64, measured_ms: f64) -> bool {
        (measured_ms - claimed_ms).abs() <= self.margin_ms(claimed_ms)
    }

    /// "±250 ms": short, for the expected column.
    pub fn short(&self, claimed_ms: f64) -> String {
        format!("±{}", fmt_ms(self.margin_ms(claimed_ms)))
    }

    /// " Tolerance ±250 ms: the larger of 10% and 250 ms.": the rule, for a verdict's detail.
    pub fn rule(&self, claimed_ms: f64) -> String {
        format!(
            " Tolerance {}: the larger of {:.0}% and {}.",
            self.short(claimed_ms),
            self.relative * 100.0,
            fmt_ms(self.absolute.as_secs_f64() * 1000.0)
        )
    }

    /// "±250 ms (larger of 10% and 250 ms)".
    pub fn describe(&self, claimed_ms: f64) -> String {
        format!(
            "±{} (larger of {:.0}% and {})",
            fmt_ms(self.margin_ms(claimed_ms)),
            self.relative * 100.0,
            fmt_ms(self.absolute.as_secs_f64() * 1000.0)
        )
    }
}

/// The verdict with `more` appended to its detail (the rules its short expected text leaves out).
pub fn explain(mut v: crate::result::Verdict, more: &str) -> crate::result::Verdict {
    v.detail.push_str(more);
    v
}

/// Fewest samples for which a quantile is judged: 10/(1-q), so at least ten samples lie above it.
pub fn min_samples_for_quantile(q: f64) -> u64 {
    (10.0 / (1.0 - q)).round() as u64
}

/// Fewest requests for which a passing error rate `allowed` is believed: 3/allowed ("rule of
/// three": with no more errors than allowed in that many, the 95% upper bound is near `allowed`).
pub fn min_samples_for_rate(allowed: f64) -> u64 {
    if allowed <= 0.0 {
        return u64::MAX;
    }
    (3.0 / allowed).ceil() as u64
}

/// Probability of at least `k` events when `lambda` are expected (Poisson), for "is this many errors
/// improbable under the allowed rate?".
pub fn poisson_tail(lambda: f64, k: u64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let mut term = (-lambda).exp();
    let mut below = term;
    for i in 1..k {
        term *= lambda / i as f64;
        below += term;
    }
    (1.0 - below).max(0.0)
}

/// Human duration from milliseconds: "850 ms", "1.25 s", "3 ms", "0.4 ms".
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        let s = ms / 1000.0;
        if (s - s.round()).abs() < 0.005 {
            format!("{:.0} s", s)
        } else {
            format!("{:.2} s", s)
        }
    } else if ms >= 10.0 {
        format!("{:.0} ms", ms)
    } else {
        format!("{:.1} ms", ms)
    }
}

/// Seconds on the run clock: "20.3 s".
pub fn fmt_t(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

/// Percent with sensible precision, never rounding a figure onto another: "0.12%", "5%", "99.9%".
pub fn fmt_pct(fraction: f64) -> String {
    let p = fraction * 100.0;
    let decimals = if p.abs() >= 1.0 { 2 } else { 3 };
    let text = format!("{:.*}", decimals, p);
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    format!("{trimmed}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tolerance_is_larger_of_ten_percent_and_250ms() {
        let t = DurationTolerance::default();
        assert_eq!(t.margin_ms(1000.0), 250.0);
        assert_eq!(t.margin_ms(5000.0), 500.0);
        assert!(t.accepts(5000.0, 5450.0));
        assert!(!t.accepts(5000.0, 5600.0));
        assert!(!t.accepts(1000.0, 700.0));
    }

    #[test]
    fn sample_rules() {
        assert_eq!(min_samples_for_quantile(0.99), 1000);
        assert_eq!(min_samples_for_quantile(0.95), 200);
        assert_eq!(min_samples_for_quantile(0.5), 20);
        assert_eq!(min_samples_for_rate(0.01), 300);
    }

    #[test]
    fn poisson_tail_matches_hand_values() {
        assert!((poisson_tail(1.0, 1) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        assert_eq!(poisson_tail(3.0, 0), 1.0);
        assert!(poisson_tail(1.0, 8) < 1e-4);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_ms(850.0), "850 ms");
        assert_eq!(fmt_ms(5000.0), "5 s");
        assert_eq!(fmt_ms(1250.0), "1.25 s");
        assert_eq!(fmt_pct(0.0012), "0.12%");
        assert_eq!(fmt_pct(0.999), "99.9%");
        assert_eq!(fmt_pct(0.9995), "99.95%");
        assert_eq!(fmt_pct(0.05), "5%");
        assert_eq!(fmt_pct(1.0), "100%");
        assert_eq!(fmt_pct(0.4123), "41.23%");
        assert_eq!(fmt_pct(0.0), "0%");
    }
}
