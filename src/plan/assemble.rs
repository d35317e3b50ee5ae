//! Blocks onto the run's clock: warmup, baseline, each kept block in turn, a final recovery;
//! faults moved to absolute times; and the phases the verdicts will see, one line each.

use super::baseline::Baseline;
use super::breaker_phases::fmt2;
use super::budget::Fit;
use super::timeline::{tenth_up, Block, Fault, Segment};
use super::WARMUP_S;
use crate::scenario::{phase_windows, Plan};
use crate::spec::Claims;
use crate::verdict::rules::HEALTH_GRACE_MS;
use crate::verdict::DurationTolerance;

/// The last recovery outlasts the health verdict's allowance after the last fault (the longest
/// claimed open time, its tolerance and the verdict's grace) by this much: one more health sample.
const RECOVERY_AFTER_ALLOWANCE_S: f64 = 0.5;
const MIN_RECOVERY_S: f64 = 3.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// Each segment with its start on the run's clock.
    pub stages: Vec<(f64, Segment)>,
    pub faults: Vec<Fault>,
    pub total_s: f64,
}

/// Length of the recovery after the last block (none without blocks).
pub fn final_recovery_s(claims: &Claims, blocks: &[Block]) -> f64 {
    if blocks.is_empty() {
        return 0.0;
    }
    let open = claims
        .breakers
        .iter()
        .filter_map(|b| b.recovery_timeout_ms)
        .fold(0.0, f64::max);
    let allowance = open + DurationTolerance::default().margin_ms(open) + HEALTH_GRACE_MS;
    tenth_up((allowance / 1000.0 + RECOVERY_AFTER_ALLOWANCE_S).max(MIN_RECOVERY_S))
}

pub fn place(rates: &Baseline, fit: &Fit, claims: &Claims) -> Placed {
    let mut stages = vec![
        (
            0.0,
            Segment {
                name: "warmup".into(),
                length_s: WARMUP_S,
                rate: rates.rate,
                why: "connections open and caches warm; excluded from the statistics".into(),
            },
        ),
        (
            WARMUP_S,
            Segment {
                name: "baseline".into(),
                length_s: tenth_up(fit.baseline_s),
                rate: rates.rate,
                why: baseline_why(rates, fit),
            },
        ),
    ];
    let mut t = WARMUP_S + tenth_up(fit.baseline_s);
    let mut faults = Vec::new();
    for b in &fit.blocks {
        for f in &b.faults {
            let mut f = f.clone();
            f.at_s = round3(t + f.at_s);
            faults.push(f);
        }
        for s in &b.segments {
            stages.push((round3(t), s.clone()));
            t += s.length_s;
        }
    }
    let rec = final_recovery_s(claims, &fit.blocks);
    if rec > 0.0 {
        stages.push((
            round3(t),
            Segment {
                name: "recovery".into(),
                length_s: rec,
                rate: rates.rate,
                why: format!(
                    "the health verdict's allowance after the last fault (the longest claimed open time, its \
                     tolerance and {HEALTH_GRACE_MS} ms of grace) and {RECOVERY_AFTER_ALLOWANCE_S} s: breakers close, \
                     health reports healthy again"
                ),
            },
        ));
        t += rec;
    }
    Placed {
        stages,
        faults,
        total_s: round3(t),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn baseline_why(rates: &Baseline, fit: &Fit) -> String {
    let longest = fit.kept.first();
    match longest {
        Some(n) if n.length_s >= fit.baseline_s - 0.05 => format!(
            "{}/s ({}) for {} s: the longest need is {}{}",
            rates.rate,
            rates.rate_why,
            fmt2(fit.baseline_s),
            n.what,
            if n.samples > 0 {
                format!(" ({} samples, 10% spare)", n.samples)
            } else {
                String::new()
            }
        ),
        _ => format!(
            "{}/s ({}) for {} s",
            rates.rate,
            rates.rate_why,
            fmt2(fit.baseline_s)
        ),
    }
}

/// One line per phase of the planned run, as `scenario::phase_windows` names them.
pub fn phase_lines(plan: &Plan, placed: &Placed) -> Vec<String> {
    phase_windows(plan)
        .iter()
        .map(|w| {
            let (from, to) = (w.from.as_secs_f64(), w.to.as_secs_f64());
            let rates: Vec<String> = placed
                .stages
                .iter()
                .filter(|(s, seg)| *s < to - 1e-6 && s + seg.length_s > from + 1e-6)
                .map(|(_, seg)| format!("{}/s", seg.rate))
                .fold(Vec::new(), |mut v, r| {
                    if v.last() != Some(&r) {
                        v.push(r);
                    }
                    v
                });
            format!(
                "{:>6}–{:<6} {:<34} {}",
                fmt2(from),
                format!("{} s", fmt2(to)),
                w.name,
                rates.join(" → ")
            )
        })
        .collect()
}
