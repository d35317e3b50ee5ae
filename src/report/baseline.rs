//! Nightly comparison: per operation and percentile, the change against a baseline run, flagged
//! as a regression only when it is beyond sampling noise as read from the two histograms.

use crate::result::RunResult;

use super::histogram::{self, Latency};

/// The rule, stated in every report that shows a comparison.
pub const RULE: &str = "A percentile is flagged as a regression only when its 99% confidence interval in \
this run lies entirely above the baseline's (and as an improvement when entirely below). Intervals are \
distribution-free, from order statistics of each run's HdrHistogram: for n samples and quantile q, the \
values at ranks nq ± 2.576·√(nq(1−q)). Where that interval runs past the first or last sample, the \
percentile has too few samples to judge. Two runs of the same build rarely separate this far (for \
independent samples, fewer than 1 comparison in 1,000), so a flag means a real shift; small shifts in \
sparse tails go unflagged rather than cry wolf.";

/// z for a two-sided 99% interval.
const Z99: f64 = 2.576;

/// Percentiles compared, with their labels.
pub const PERCENTILES: [(f64, &str); 4] =
    [(0.5, "P50"), (0.9, "P90"), (0.99, "P99"), (0.999, "P99.9")];

/// What the comparison says about one percentile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Regression,
    Improvement,
    /// The intervals overlap: no change beyond noise.
    Unchanged,
    /// Too few samples in one of the runs for a bounded interval.
    TooFewSamples,
    /// A histogram is missing or unreadable in one of the runs.
    NoHistogram,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::Regression => "regression",
            Change::Improvement => "improvement",
            Change::Unchanged => "within noise",
            Change::TooFewSamples => "too few samples",
            Change::NoHistogram => "no histogram",
        }
    }
}

/// One operation × percentile.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    pub operation: String,
    pub percentile: &'static str,
    pub baseline_ms: Option<f64>,
    pub current_ms: Option<f64>,
    /// Relative change in percent (current vs baseline).
    pub change_pct: Option<f64>,
    pub baseline_ci_ms: Option<(f64, f64)>,
    pub current_ci_ms: Option<(f64, f64)>,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub baseline_scenario: String,
    pub baseline_started_at: String,
    pub rows: Vec<ComparisonRow>,
    /// Operations present in only one of the two runs.
    pub unmatched: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.change == Change::Regression)
            .count()
    }
}

/// Compares every operation the two runs share.
pub fn compare(current: &RunResult, baseline: &RunResult) -> Comparison {
    let mut rows = Vec::new();
    let mut unmatched = Vec::new();
    for (name, stats) in &current.operations {
        let Some(old) = baseline.operations.get(name) else {
            unmatched.push(format!("{name} (not in baseline)"));
            continue;
        };
        let now = histogram::decode(&stats.histogram).ok();
        let then = histogram::decode(&old.histogram).ok();
        for (q, label) in PERCENTILES {
            rows.push(compare_percentile(
                name,
                q,
                label,
                now.as_ref(),
                then.as_ref(),
            ));
        }
    }
    for name in baseline.operations.keys() {
        if !current.operations.contains_key(name) {
            unmatched.push(format!("{name} (only in baseline)"));
        }
    }
    Comparison {
        baseline_scenario: baseline.scenario.clone(),
        baseline_started_at: baseline.started_at.clone(),
        rows,
        unmatched,
    }
}

fn compare_percentile(
    operation: &str,
    q: f64,
    label: &'static str,
    now: Option<&Latency>,
    then: Option<&Latency>,
) -> ComparisonRow {
    let mut row = ComparisonRow {
        operation: operation.to_string(),
        percentile: label,
        baseline_ms: then
            .filter(|h| !h.is_empty())
            .map(|h| histogram::quantile_ms(h, q)),
        current_ms: now
            .filter(|h| !h.is_empty())
            .map(|h| histogram::quantile_ms(h, q)),
        change_pct: None,
        baseline_ci_ms: then.and_then(|h| interval_ms(h, q)),
        current_ci_ms: now.and_then(|h| interval_ms(h, q)),
        change: Change::NoHistogram,
    };
    let (Some(b), Some(c)) = (row.baseline_ms, row.current_ms) else {
        return row;
    };
    if b > 0.0 {
        row.change_pct = Some(100.0 * (c - b) / b);
    }
    row.change = match (row.baseline_ci_ms, row.current_ci_ms) {
        (Some((_, b_hi)), Some((c_lo, _))) if c_lo > b_hi => Change::Regression,
        (Some((b_lo, _)), Some((_, c_hi))) if c_hi < b_lo => Change::Improvement,
        (Some(_), Some(_)) => Change::Unchanged,
        _ => Change::TooFewSamples,
    };
    row
}

/// The distribution-free 99% interval of quantile `q`, in ms, or None when the sample is too
/// small for both ends to fall on recorded values.
pub fn interval_ms(h: &Latency, q: f64) -> Option<(f64, f64)> {
    let n = h.len() as f64;
    if n < 1.0 {
        return None;
    }
    let spread = Z99 * (n * q * (1.0 - q)).sqrt();
    let lo_rank = (n * q - spread).floor();
    let hi_rank = (n * q + spread).ceil() + 1.0;
    if lo_rank < 1.0 || hi_rank > n {
        return None;
    }
    // Rank r (1-based) is the value at quantile r / n. Bucket edges widen the interval outward
    // (lowest / highest equivalent value), so histogram resolution never reads as a change.
    let lo = h.lowest_equivalent(h.value_at_quantile(lo_rank / n));
    let hi = h.highest_equivalent(h.value_at_quantile(hi_rank / n));
    Some((lo as f64 / 1000.0, hi as f64 / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: impl IntoIterator<Item = u64>) -> Latency {
        let mut h = Latency::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn the_same_histogram_is_within_noise() {
        let h = hist((0..50_000u64).map(|i| 10_000 + (i * 7919) % 20_000));
        for (q, label) in PERCENTILES {
            let row = compare_percentile("op", q, label, Some(&h), Some(&h));
            assert_eq!(row.change, Change::Unchanged, "{label}");
        }
    }

    #[test]
    fn a_clearly_slower_run_is_flagged() {
        let then = hist((0..5000u64).map(|i| 10_000 + (i * 7919) % 20_000));
        let now = hist((0..5000u64).map(|i| 13_000 + (i * 7919) % 20_000));
        let row = compare_percentile("op", 0.5, "P50", Some(&now), Some(&then));
        assert_eq!(row.change, Change::Regression);
        let back = compare_percentile("op", 0.5, "P50", Some(&then), Some(&now));
        assert_eq!(back.change, Change::Improvement);
    }

    /// A log-normal sample (median 20 ms) from a SplitMix64 stream.
    fn lognormal(seed: u64, n: usize) -> Latency {
        let mut state = seed;
        let mut unit = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (((z ^ (z >> 31)) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        hist((0..n).map(|_| {
            let normal = (-2.0 * unit().ln()).sqrt() * (std::f64::consts::TAU * unit()).cos();
            (20_000.0 * (0.5 * normal).exp()) as u64
        }))
    }

    #[test]
    fn same_distribution_runs_almost_never_raise_a_false_alarm() {
        let mut flagged = 0;
        for pair in 0..100u64 {
            let (a, b) = (lognormal(2 * pair + 1, 3000), lognormal(2 * pair + 2, 3000));
            for (q, label) in PERCENTILES {
                if compare_percentile("op", q, label, Some(&a), Some(&b)).change
                    == Change::Regression
                {
                    flagged += 1;
                }
            }
        }
        assert!(flagged <= 1, "{flagged} false alarms in 400 comparisons");
    }

    #[test]
    fn a_ten_percent_shift_is_caught_with_enough_samples() {
        let then = lognormal(1, 20_000);
        let now = {
            let mut h = Latency::new_with_bounds(1, 60_000_000, 3).unwrap();
            for v in lognormal(2, 20_000).iter_recorded() {
                h.record_n(
                    (v.value_iterated_to() as f64 * 1.1) as u64,
                    v.count_at_value(),
                )
                .unwrap();
            }
            h
        };
        let row = compare_percentile("op", 0.5, "P50", Some(&now), Some(&then));
        assert_eq!(row.change, Change::Regression, "{row:?}");
    }

    #[test]
    fn a_tail_percentile_of_a_small_sample_is_not_judged() {
        let h = hist(1..=200u64);
        assert_eq!(interval_ms(&h, 0.999), None);
        let row = compare_percentile("op", 0.999, "P99.9", Some(&h), Some(&h));
        assert_eq!(row.change, Change::TooFewSamples);
    }
}
