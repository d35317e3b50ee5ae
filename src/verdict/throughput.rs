//! Throughput claims ("handles 200 requests/sec with <1% errors", "2x peak"): judged in the run's
//! healthy (fault-free) phases from the per-second timeline, on what the service completed rather
//! than what it was offered. A run that never offered the rate says so and names the run that would.

use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::series::{self, Window};
use super::tolerance::{explain, fmt_pct, min_samples_for_rate, poisson_tail};
use crate::result::{RunResult, Verdict};
use crate::spec::claims::{Claims, Throughput};

/// Seconds a rate must be held to count as sustained.
pub const MIN_SUSTAIN_S: usize = 10;
/// Share of the offered requests the service must answer in the same seconds to have kept up
/// (the rest is the edge of the window: answers that land in the next second).
const KEPT_UP: f64 = 0.97;

/// Said on a pass: the rate and the error rate are what a run measures, not the claim's setting.
const UNCHECKED: &str = " What else the claim states (hardware, payloads) is not checked.";

const RULE: &str = " Rule: judged on whole seconds of fault-free phases of at least 10 s; offered counts arrivals \
                    (sent and dropped) and may fall short of the rate by 3 Poisson standard deviations.";

/// What one healthy window measured.
#[derive(Debug, Clone, Default)]
struct Load {
    names: Vec<String>,
    secs: usize,
    /// Arrivals in the window: sent plus dropped at `max_in_flight`.
    offered: u64,
    completed: u64,
    dropped: u64,
    settled: u64,
    errors: u64,
}

impl Load {
    fn offered_rps(&self) -> f64 {
        self.offered as f64 / self.secs.max(1) as f64
    }
    fn completed_rps(&self) -> f64 {
        self.completed as f64 / self.secs.max(1) as f64
    }
    fn add(&mut self, o: &Load) {
        self.names.extend(o.names.iter().cloned());
        self.secs += o.secs;
        self.offered += o.offered;
        self.completed += o.completed;
        self.dropped += o.dropped;
        self.settled += o.settled;
        self.errors += o.errors;
    }
}

fn measure(result: &RunResult, w: &Window) -> Load {
    let buckets = series::buckets_within(result, w.from_s, w.to_s);
    Load {
        names: vec![w.name.clone()],
        secs: buckets.len(),
        offered: buckets.iter().map(|b| b.sent + b.dropped).sum(),
        completed: buckets.iter().map(|b| b.completed).sum(),
        dropped: buckets.iter().map(|b| b.dropped).sum(),
        settled: buckets.iter().map(|b| series::settled(b)).sum(),
        errors: buckets.iter().map(|b| series::server_errors(b)).sum(),
    }
}

/// The lowest mean rate over `secs` seconds still consistent with a schedule of `rps` (Poisson
/// arrivals, three standard deviations).
fn low(rps: f64, secs: usize) -> f64 {
    rps - 3.0 * (rps / secs.max(1) as f64).sqrt()
}

fn fmt_rps(rps: f64) -> String {
    if rps >= 10.0 {
        format!("{rps:.0} req/s")
    } else {
        format!("{rps:.1} req/s")
    }
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    let windows = series::healthy_windows(result);
    let loads: Vec<Load> = windows.iter().map(|w| measure(result, w)).collect();
    for (i, t) in claims.throughput.iter().enumerate() {
        let mut id = match (t.rps, t.peak_multiple) {
            (_, Some(m)) => format!("throughput.{}x-peak", fmt_num(m)),
            (Some(r), None) => format!("throughput.{}-rps", fmt_num(r)),
            (None, None) => "throughput".to_string(),
        };
        if claims.throughput[..i]
            .iter()
            .any(|o| o.rps == t.rps && o.peak_multiple == t.peak_multiple)
        {
            id = format!("{id}.{}", i + 1);
        }
        let v = one(t, id, spec_source(ctx, t.line), &loads);
        out.verdicts.push(explain(v, RULE));
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}").replace('.', "_")
    }
}

fn one(t: &Throughput, id: String, source: String, loads: &[Load]) -> Verdict {
    let claim = format!("Throughput: {}", t.text);
    let target = match (t.rps, t.peak_multiple) {
        (Some(r), Some(m)) => Some(r * m),
        (Some(r), None) => Some(r),
        _ => None,
    };
    let errors = t
        .max_error_rate
        .map_or(String::new(), |e| format!(", ≤ {} errors", fmt_pct(e)));
    let Some(target) = target else {
        let c = Claim::new(
            id,
            claim,
            source,
            format!("peak × {}{errors}", t.peak_multiple.unwrap_or(1.0)),
        );
        let detail = "The spec does not say what its peak is in requests per second, so this claim names no rate a \
                      run could offer: state the peak (\"peak 100 requests/sec\") to have it judged.";
        return c.inconclusive("peak not stated", detail);
    };
    let c = Claim::new(id, claim, source, format!("≥ {}{errors}", fmt_rps(target)));
    if loads.iter().all(|l| l.secs == 0) {
        let detail = format!(
            "The run has no fault-free phase with whole seconds of timeline to measure a sustained rate in: add a \
             baseline of at least {MIN_SUSTAIN_S} s at ≥ {} before the first fault.",
            fmt_rps(target)
        );
        return c.inconclusive("no healthy phase", detail);
    }
    let offered: Vec<&Load> = loads
        .iter()
        .filter(|l| l.secs >= MIN_SUSTAIN_S && l.offered_rps() >= low(target, l.secs))
        .collect();
    if offered.is_empty() {
        let best = loads
            .iter()
            .filter(|l| l.secs > 0)
            .max_by(|a, b| a.offered_rps().total_cmp(&b.offered_rps()))
            .expect("some load has seconds");
        let detail = format!(
            "The run offered {} in its fault-free phase '{}' ({} s); this claim needs at least {} offered for \
             {MIN_SUSTAIN_S} s in a fault-free phase: raise the load (a stage at ≥ {}) or lengthen the baseline.",
            fmt_rps(best.offered_rps()),
            best.names.join("', '"),
            best.secs,
            fmt_rps(target),
            fmt_rps(target)
        );
        return c.inconclusive(format!("offered {}", fmt_rps(best.offered_rps())), detail);
    }
    let mut l = Load::default();
    for o in offered {
        l.add(o);
    }
    judge_load(&c, t, target, &l)
}

fn judge_load(c: &Claim, t: &Throughput, target: f64, l: &Load) -> Verdict {
    let (offered, done) = (l.offered_rps(), l.completed_rps());
    let rate = if l.settled == 0 {
        0.0
    } else {
        l.errors as f64 / l.settled as f64
    };
    let measured = match t.max_error_rate {
        Some(_) => format!("{}, {} errors", fmt_rps(done), fmt_pct(rate)),
        None => fmt_rps(done),
    };
    let what = format!(
        "Over {} s of '{}' the run offered {} and the service answered {}",
        l.secs,
        l.names.join("', '"),
        fmt_rps(offered),
        fmt_rps(done)
    );
    let mut misses = Vec::new();
    if done < low(target, l.secs) || done < KEPT_UP * offered {
        misses.push(format!(
            "it did not keep up (needs ≥ {} answered and ≥ {} of what was offered)",
            fmt_rps(target),
            fmt_pct(KEPT_UP)
        ));
    }
    if l.dropped > 0 {
        misses.push(format!(
            "{} arrivals were dropped at the generator's max_in_flight: requests piled up",
            l.dropped
        ));
    }
    let Some(max) = t.max_error_rate else {
        return if misses.is_empty() {
            c.pass(measured, format!("{what}.{UNCHECKED}"))
        } else {
            c.fail(measured, format!("{what}: {}.", misses.join("; ")))
        };
    };
    let min = min_samples_for_rate(max);
    let improbable = l.errors >= 3 && poisson_tail(max * l.settled as f64, l.errors) < 0.05;
    let errs = format!(
        "{} of {} requests failed ({}, 5xx answers and failures without an answer)",
        l.errors,
        l.settled,
        fmt_pct(rate)
    );
    if rate > max && (improbable || l.settled >= min) {
        misses.push(format!("{errs}, over the {} allowed", fmt_pct(max)));
    }
    if !misses.is_empty() {
        return c.fail(measured, format!("{what}: {}.", misses.join("; ")));
    }
    if rate > max {
        let detail = format!(
            "{what}; {errs}, above the allowed {} but too few requests to tell (needs {min}, 3/allowed, or a \
             clearer excess): run longer.",
            fmt_pct(max)
        );
        return c.inconclusive(measured, detail);
    }
    if l.settled < min {
        let detail = format!(
            "{what}; {errs}. An error rate of {} is believed on at least {min} requests (3/allowed): run longer.",
            fmt_pct(max)
        );
        return c.inconclusive(measured, detail);
    }
    c.pass(
        measured,
        format!("{what}; {errs}, within {}.{UNCHECKED}", fmt_pct(max)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{PhaseKind, PhaseStats, TimelineBucket, VerdictStatus::*};

    /// A run whose baseline (2 s to `secs + 2` s) offers `offered`/s and answers `answered`/s,
    /// `errors`/s of them 5xx.
    fn run(secs: u32, offered: u64, answered: u64, errors: u64) -> RunResult {
        let timeline = (0..secs + 2)
            .map(|t| {
                let mut b = TimelineBucket {
                    t_s: t,
                    sent: offered,
                    completed: answered,
                    errors,
                    ..TimelineBucket::default()
                };
                b.status_classes.insert("2xx".into(), answered - errors);
                b.status_classes.insert("5xx".into(), errors);
                b
            })
            .collect();
        RunResult {
            duration_s: f64::from(secs + 2),
            warmup_s: 2.0,
            timeline,
            phases: vec![PhaseStats {
                name: "baseline".into(),
                kind: PhaseKind::Baseline,
                from_s: 2.0,
                to_s: f64::from(secs + 2),
                operations: Default::default(),
            }],
            ..RunResult::default()
        }
    }

    fn claims(rps: Option<f64>, multiple: Option<f64>, errors: Option<f64>) -> Claims {
        Claims {
            throughput: vec![Throughput {
                text: "handles 200 requests/sec with <1% errors".into(),
                rps,
                peak_multiple: multiple,
                max_error_rate: errors,
                line: 7,
            }],
            ..Claims::default()
        }
    }

    fn verdict(r: &RunResult, c: &Claims) -> Verdict {
        let mut out = Judgement::default();
        judge(r, c, &JudgeContext::default(), &mut out);
        assert_eq!(out.verdicts.len(), 1);
        out.verdicts.remove(0)
    }

    #[test]
    fn a_rate_answered_in_full_with_few_errors_passes() {
        let v = verdict(
            &run(15, 250, 250, 1),
            &claims(Some(200.0), None, Some(0.01)),
        );
        assert_eq!(v.status, Pass, "{v:?}");
        assert_eq!(v.id, "throughput.200-rps");
        assert_eq!(v.source, "spec.md:7");
        assert_eq!(v.measured, "250 req/s, 0.4% errors");
        assert!(v.detail.contains("offered 250 req/s"), "{}", v.detail);
    }

    #[test]
    fn a_service_that_falls_behind_or_errs_fails() {
        let v = verdict(
            &run(15, 250, 180, 0),
            &claims(Some(200.0), None, Some(0.01)),
        );
        assert_eq!(v.status, Fail, "{v:?}");
        assert!(v.detail.contains("did not keep up"), "{}", v.detail);
        let v = verdict(
            &run(15, 250, 250, 10),
            &claims(Some(200.0), None, Some(0.01)),
        );
        assert_eq!(v.status, Fail, "{v:?}");
        assert!(v.detail.contains("over the 1% allowed"), "{}", v.detail);
    }

    #[test]
    fn a_run_that_never_offered_the_rate_is_inconclusive_and_says_what_would_judge_it() {
        let v = verdict(&run(15, 60, 60, 0), &claims(Some(200.0), None, Some(0.01)));
        assert_eq!(v.status, Inconclusive, "{v:?}");
        assert_eq!(v.measured, "offered 60 req/s");
        assert!(
            v.detail
                .contains("needs at least 200 req/s offered for 10 s"),
            "{}",
            v.detail
        );
        // The rate offered, but for too short a time to call it sustained.
        let v = verdict(&run(5, 250, 250, 0), &claims(Some(200.0), None, None));
        assert_eq!(v.status, Inconclusive, "{v:?}");
    }

    #[test]
    fn a_multiple_of_peak_needs_the_peak_and_the_multiple() {
        let v = verdict(&run(15, 250, 250, 0), &claims(None, Some(2.0), Some(0.05)));
        assert_eq!(v.status, Inconclusive, "{v:?}");
        assert_eq!(v.id, "throughput.2x-peak");
        assert!(v.detail.contains("state the peak"), "{}", v.detail);
        let v = verdict(
            &run(15, 250, 250, 0),
            &claims(Some(200.0), Some(2.0), Some(0.05)),
        );
        assert_eq!(v.status, Inconclusive, "needs 400/s: {v:?}");
        assert!(v.detail.contains("400 req/s"), "{}", v.detail);
        let v = verdict(
            &run(15, 420, 420, 0),
            &claims(Some(200.0), Some(2.0), Some(0.05)),
        );
        assert_eq!(v.status, Pass, "{v:?}");
    }

    #[test]
    fn too_few_requests_for_the_error_bound_is_inconclusive() {
        // 10 s at 20/s is 200 requests: a 0.1% bound needs 3000.
        let v = verdict(&run(10, 20, 20, 0), &claims(Some(20.0), None, Some(0.001)));
        assert_eq!(v.status, Inconclusive, "{v:?}");
        assert!(v.detail.contains("at least 3000"), "{}", v.detail);
    }

    #[test]
    fn an_empty_result_is_inconclusive() {
        let v = verdict(&RunResult::default(), &claims(Some(200.0), None, None));
        assert_eq!(v.status, Inconclusive, "{v:?}");
    }
}
