//! Judging one step on its own measurements: the verdicts (`verdict::judge`, the same rules as
//! `redline run`) over the step's judged window, whether the target answered the offered rate, and
//! whether latency rose through the step (a queue building up is not sustainable).

use std::collections::BTreeMap;

use super::criteria::{Criteria, FLAG_LINE};
use super::trend::{self, Trend};
use crate::result::{CapacityStep, RunResult, StepClaim, StepOperation, Verdict, VerdictStatus};

/// Share of the offered rate the target must answer in the judged window, less what the in-flight
/// count of a stable queue explains at the window's edges (`KeptUp::slack`).
pub const KEPT_UP: f64 = 0.99;

/// Id of the rule "the target answered the offered rate".
pub const KEPT_UP_ID: &str = "capacity.kept_up";
/// Id of the rule "latency did not rise through the step".
pub const TREND_ID: &str = "capacity.trend";

/// A judged step and the verdicts behind it (kept by the driver to name the limiting claim).
#[derive(Debug, Clone)]
pub struct Judged {
    pub step: CapacityStep,
    pub verdicts: Vec<Verdict>,
}

/// What the driver knows about the step it ran.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Offered rate.
    pub rate: f64,
    /// Judged window on the step's clock, seconds (after the warm-up slice).
    pub from_s: f64,
    pub to_s: f64,
}

/// Judges a finished step.
pub fn judge(result: &RunResult, criteria: &Criteria, w: Window, phase: &str) -> Judged {
    let mut verdicts = crate::verdict::judge(result, &criteria.claims, &criteria.ctx).verdicts;
    let flag_source = format!("{}:{FLAG_LINE}", criteria.ctx.scenario_file);
    verdicts.retain(|v| {
        ["latency.", "errors.", "availability."]
            .iter()
            .any(|p| v.id.starts_with(p))
    });
    for v in &mut verdicts {
        if v.source == flag_source {
            v.source = "command line".to_string();
        }
    }
    let ids = |s: VerdictStatus| -> Vec<String> {
        verdicts
            .iter()
            .filter(|v| v.status == s)
            .map(|v| v.id.clone())
            .collect()
    };
    let mut failed = ids(VerdictStatus::Fail);
    let inconclusive = ids(VerdictStatus::Inconclusive);
    let mut notes = Vec::new();
    let kept = kept_up(result, w);
    if kept.achieved < KEPT_UP * kept.offered - kept.slack || result.totals.dropped > 0 {
        failed.push(KEPT_UP_ID.to_string());
        notes.push(format!(
            "fell behind: answered {:.1} req/s of {:.1} req/s offered in the judged window (needs ≥ {:.0}% less {:.1} req/s of in-flight noise){}",
            kept.achieved,
            kept.offered,
            KEPT_UP * 100.0,
            kept.slack,
            if result.totals.dropped > 0 {
                format!(", {} arrivals dropped at max_in_flight", result.totals.dropped)
            } else {
                String::new()
            }
        ));
    }
    let tightest = verdicts
        .iter()
        .filter_map(|v| v.numbers.and_then(|n| n.target_ms))
        .fold(f64::INFINITY, f64::min);
    if let Trend::Rising { first_ms, last_ms } = trend::of_log(result, w.from_s, w.to_s, tightest) {
        failed.push(TREND_ID.to_string());
        notes.push(format!(
            "latency rose through the step: median {first_ms:.1} ms in its first quarter, {last_ms:.1} ms in its last (a queue building up)"
        ));
    }
    let holds = if !failed.is_empty() {
        Some(false)
    } else if !inconclusive.is_empty() {
        None
    } else {
        Some(true)
    };
    let claims = verdicts
        .iter()
        .filter(|v| v.id.starts_with("latency."))
        .map(|v| StepClaim {
            id: v.id.clone(),
            status: status_name(v.status).to_string(),
            target_ms: v.numbers.and_then(|n| n.target_ms),
            measured_ms: v.numbers.and_then(|n| n.measured_ms),
        })
        .collect();
    let (count, errors) = result
        .operations
        .values()
        .fold((0, 0), |(c, e), o| (c + o.count, e + o.errors));
    let step = CapacityStep {
        phase: phase.to_string(),
        rate: w.rate,
        achieved_rate: kept.achieved,
        duration_s: w.to_s - w.from_s,
        warmup_s: w.from_s,
        holds,
        failed_claims: failed,
        inconclusive_claims: inconclusive,
        operations: operations(result),
        error_rate: ratio(errors, count),
        claims,
        notes,
        cool_down_s: 0.0,
    };
    Judged { step, verdicts }
}

pub fn status_name(s: VerdictStatus) -> &'static str {
    match s {
        VerdictStatus::Pass => "pass",
        VerdictStatus::Fail => "fail",
        VerdictStatus::Inconclusive => "inconclusive",
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn operations(result: &RunResult) -> BTreeMap<String, StepOperation> {
    result
        .operations
        .iter()
        .map(|(name, o)| {
            (
                name.clone(),
                StepOperation {
                    count: o.count,
                    p50_ms: o.latency_ms.p50,
                    p95_ms: o.latency_ms.p95,
                    p99_ms: o.latency_ms.p99,
                    error_rate: ratio(o.errors, o.count),
                },
            )
        })
        .collect()
}

/// Offered and answered rates over the judged window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeptUp {
    pub offered: f64,
    pub achieved: f64,
    /// Per second: 3 standard deviations of the in-flight count of a stable queue (Little's law:
    /// rate × mean latency requests in flight, Poisson-like spread), which the window's edges can
    /// move from one side to the other without the target falling behind.
    pub slack: f64,
}

/// Arrivals whose intended time falls in the window, and answers that arrived in it (whenever
/// their request was due), per second. From the client log when it holds every request;
/// otherwise from the whole seconds of the timeline inside the window.
pub fn kept_up(result: &RunResult, w: Window) -> KeptUp {
    let (from_ms, to_ms) = (w.from_s * 1000.0, w.to_s * 1000.0);
    let secs = (w.to_s - w.from_s).max(1e-9);
    if !result.client_log.is_empty() && !result.client_log_truncated {
        let arrived: Vec<_> = result
            .client_log
            .iter()
            .filter(|e| e.t_ms >= from_ms && e.t_ms < to_ms)
            .collect();
        let answered = result
            .client_log
            .iter()
            .filter(|e| e.status.is_some())
            .filter(|e| {
                let done = e.t_ms + e.latency_ms;
                done >= from_ms && done < to_ms
            })
            .count();
        let offered = arrived.len() as f64 / secs;
        let mean_s = arrived.iter().map(|e| e.latency_ms).sum::<f64>()
            / arrived.len().max(1) as f64
            / 1000.0;
        return KeptUp {
            offered,
            achieved: answered as f64 / secs,
            slack: 3.0 * (offered * mean_s).max(1.0).sqrt() / secs,
        };
    }
    let inside: Vec<_> = result
        .timeline
        .iter()
        .filter(|b| f64::from(b.t_s) >= w.from_s && f64::from(b.t_s) + 1.0 <= w.to_s)
        .collect();
    let n = inside.len().max(1) as f64;
    KeptUp {
        offered: inside.iter().map(|b| b.sent + b.dropped).sum::<u64>() as f64 / n,
        achieved: inside.iter().map(|b| b.completed).sum::<u64>() as f64 / n,
        slack: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::ClientLogEntry;

    fn entry(t_ms: f64, latency_ms: f64) -> ClientLogEntry {
        ClientLogEntry {
            t_ms,
            request: "r".into(),
            request_id: None,
            trace_id: None,
            status: Some(200),
            error: None,
            latency_ms,

            retry_after: false,
            grpc_status: None,
        }
    }

    fn window() -> Window {
        Window {
            rate: 100.0,
            from_s: 1.0,
            to_s: 3.0,
        }
    }

    #[test]
    fn a_target_that_answers_as_fast_as_asked_keeps_up() {
        let r = RunResult {
            client_log: (0..300).map(|i| entry(i as f64 * 10.0, 5.0)).collect(),
            ..RunResult::default()
        };
        let k = kept_up(&r, window());
        assert!((k.offered - 100.0).abs() < 1e-9 && (k.achieved - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_target_that_answers_slower_than_asked_falls_behind() {
        // Requests every 10 ms, answered one per 12 ms: latency grows by 2 ms per request.
        let r = RunResult {
            client_log: (0..300)
                .map(|i| entry(i as f64 * 10.0, 5.0 + 2.0 * i as f64))
                .collect(),
            ..RunResult::default()
        };
        let k = kept_up(&r, window());
        assert!(k.achieved < KEPT_UP * k.offered - k.slack, "{k:?}");
    }
}
