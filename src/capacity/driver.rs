//! Runs the search against the target: each step is one chaos run of the step's plan (the same
//! engine, proxies and verdicts as `redline run`), judged on its own measurements, then a
//! cool-down when it did not hold. The only part of `capacity` that does I/O or reads the clock.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::criteria::{seconds_needed, Criteria};
use super::progress::{self, StepInfo};
use super::search::{fmt_rate, Limits, Phase, Search};
use super::step::{self, Judged, Window};
use super::step_plan::{probe_plan, step_plan};
use crate::chaos::{self, installed::Installed, ChaosError, ChaosOptions};
use crate::engine::StopSignal;
use crate::result::{Capacity, RunResult, TimelineBucket, Verdict};
use crate::scenario::Plan;

/// A step is stretched (to collect the samples its claims need) to at most this share of the
/// budget left: 1/3.
const STRETCH_SHARE: u32 = 3;
/// Time a step costs besides its load (proxies, clock origin 300 ms ahead, drain), for the budget.
const STEP_OVERHEAD: Duration = Duration::from_millis(800);
/// Longest cool-down after a step that did not hold: the step's length, 2 s to 10 s (a target
/// that never recovers must not eat the budget).
fn cool_down_max(step: Duration) -> Duration {
    step.clamp(Duration::from_secs(2), Duration::from_secs(10))
}
/// Length of one cool-down probe.
const COOL_PROBE: Duration = Duration::from_secs(1);
/// Latency counts as recovered within this factor of the last good step's p50 (plus 2 ms).
const RECOVERED: f64 = 1.5;
/// Users and length of the probe that picks the first rate when no --min is given.
const PROBE_USERS: u32 = 16;
const PROBE_LENGTH: Duration = Duration::from_secs(2);

/// Everything the search needs, checked before it starts.
pub struct Setup {
    pub plan: Plan,
    pub scenario_file: String,
    pub with_faults: bool,
    pub criteria: Criteria,
    pub min: Option<f64>,
    pub max: f64,
    pub precision: f64,
    pub step: Duration,
    pub budget: Duration,
    pub stop: StopSignal,
    /// Draw a live progress line (stderr is a terminal and not --quiet).
    pub live: bool,
    /// Print one line per finished step on stderr (not --quiet).
    pub announce: bool,
    pub installed: Installed,
}

/// What the search found, and the step whose measurements the reports show.
pub struct Outcome {
    pub capacity: Capacity,
    /// The last verification step's result (else the last step that held, else the last step).
    pub result: Option<RunResult>,
    /// That step's number (1-based).
    pub shown_step: Option<usize>,
    /// The verdicts of that step.
    pub verdicts: Vec<Verdict>,
    pub judged: Vec<Judged>,
    /// True when the bracket's top is a step that failed (not an inconclusive one).
    pub upper_failed: bool,
    pub interrupted: bool,
    pub notes: Vec<String>,
}

/// The warm-up slice dropped at the start of every step: a fifth of the step, 0.5 s to 5 s.
pub fn warmup_for(step: Duration) -> Duration {
    (step / 5).clamp(Duration::from_millis(500), Duration::from_secs(5))
}

pub async fn run(s: &Setup) -> Result<Outcome, ChaosError> {
    let started = Instant::now();
    let mut notes = vec![
        "capacity: the scenario's [load] stages were replaced by the search's steps (one open-model rate each)"
            .to_string(),
    ];
    if !s.with_faults && !s.plan.faults.is_empty() {
        notes.push("capacity: the scenario's faults were not applied (use --with-faults)".into());
    }
    let start = match s.min {
        Some(m) => m,
        None => {
            let r = one_run(s, &probe_plan(&s.plan, PROBE_USERS, PROBE_LENGTH), None).await?;
            let answered = r.totals.completed as f64 / r.duration_s.max(0.1);
            let start = (answered / 2.0).round().clamp(1.0, s.max);
            notes.push(format!(
                "capacity: a {} s probe with {PROBE_USERS} users got {answered:.0} answers/s; the search starts at half that ({})",
                PROBE_LENGTH.as_secs(),
                fmt_rate(start)
            ));
            start
        }
    };
    let mut search = Search::new(Limits {
        start,
        max: s.max,
        precision: s.precision,
        start_is_floor: s.min.is_some(),
    });
    let mut judged: Vec<Judged> = Vec::new();
    let mut shown: Option<(RunResult, u8, Vec<Verdict>, usize)> = None;
    let mut good_p50: Option<f64> = None;
    let mut interrupted = false;
    while let Some(next) = search.next() {
        if s.stop.is_stopped() {
            interrupted = true;
            search.stop("interrupted");
            break;
        }
        let Some((warmup, length)) = step_length(s, next.rate, next.phase, started) else {
            search.stop(format!(
                "budget exhausted while in the {} phase",
                next.phase.name()
            ));
            break;
        };
        let info = StepInfo {
            number: judged.len() + 1,
            phase: next.phase,
            rate: next.rate,
            length: warmup + length,
            warmup,
            bracket: (search.best(), search.upper()),
        };
        let plan = step_plan(&s.plan, next.rate, warmup, length, s.with_faults);
        let (feed, printer) = progress::start(s.live, info);
        let result = one_run(s, &plan, feed).await;
        if let Some(p) = printer {
            let _ = p.await;
        }
        let result = result?;
        if result.interrupted {
            interrupted = true;
            notes.push(format!(
                "capacity: step {} at {} was interrupted and is not counted",
                info.number,
                fmt_rate(next.rate)
            ));
            search.stop("interrupted");
            break;
        }
        let window = Window {
            rate: next.rate,
            from_s: warmup.as_secs_f64(),
            to_s: (warmup + length).as_secs_f64(),
        };
        let mut j = step::judge(&result, &s.criteria, window, next.phase.name());
        search.record(j.step.holds);
        if j.step.holds == Some(true) {
            good_p50 = median_ms(&result);
        }
        // The reports show the best evidence: a verification that held, else a step that held.
        let rank = match (j.step.holds, next.phase) {
            (Some(true), Phase::Verify) => 2,
            (Some(true), _) => 1,
            _ => 0,
        };
        if shown.as_ref().is_none_or(|(_, r, _, _)| rank >= *r) {
            shown = Some((result, rank, j.verdicts.clone(), info.number));
        }
        if j.step.holds == Some(false) && search.next().is_some() {
            j.step.cool_down_s = cool_down(s, next.rate, good_p50, started).await?;
        }
        if s.announce {
            progress::finished(&j.step, info.number);
        }
        judged.push(j);
    }
    let upper_failed = search.upper().is_some_and(|_| !search.upper_inconclusive());
    let status = if interrupted {
        "interrupted"
    } else if search.verified() {
        "pass"
    } else {
        "inconclusive"
    };
    let mut reason = search.reason().unwrap_or("ended").to_string();
    if search.upper_inconclusive() {
        reason.push_str(
            "; the step above the answer was inconclusive, so the capacity may be higher",
        );
    }
    let capacity = Capacity {
        max_rate: search.best(),
        verified: search.verified(),
        limiting_claim: super::answer::limiting_claim(&judged, search.upper()),
        upper_rate: search.upper(),
        precision: s.precision,
        steps: judged.iter().map(|j| j.step.clone()).collect(),
        budget_s: s.budget.as_secs_f64(),
        elapsed_s: started.elapsed().as_secs_f64(),
        reason,
        status: status.to_string(),
        criteria: s.criteria.described.clone(),
    };
    Ok(Outcome {
        capacity,
        verdicts: shown.as_ref().map(|s| s.2.clone()).unwrap_or_default(),
        shown_step: shown.as_ref().map(|s| s.3),
        result: shown.map(|(r, _, _, _)| r),
        judged,
        upper_failed,
        interrupted,
        notes,
    })
}

/// (warm-up, judged length) of the next step: the step length (twice for a verification),
/// stretched until every claim has its samples, but to no more than a third of the budget left
/// (the rest of the search needs it too); None when not even the plain length fits.
fn step_length(
    s: &Setup,
    rate: f64,
    phase: Phase,
    started: Instant,
) -> Option<(Duration, Duration)> {
    let warmup = warmup_for(s.step);
    let plain = if phase == Phase::Verify {
        s.step * 2
    } else {
        s.step
    };
    let left = s.budget.checked_sub(started.elapsed())?;
    let fits = left.checked_sub(warmup + STEP_OVERHEAD)?;
    if fits < plain {
        return None;
    }
    let needed = Duration::from_secs_f64(seconds_needed(&s.plan, &s.criteria.needs, rate).min(1e6));
    let stretch_to = (left / STRETCH_SHARE).max(plain).min(fits);
    Some((warmup, needed.clamp(plain, stretch_to)))
}

/// One chaos run of `plan` (its proxies, none of its faults unless the step kept them).
async fn one_run(
    s: &Setup,
    plan: &Plan,
    feed: Option<mpsc::UnboundedSender<TimelineBucket>>,
) -> Result<RunResult, ChaosError> {
    // The step's faults were checked with the scenario's (only their times changed).
    let faults = chaos::fault_spec::plan_faults(plan, &s.scenario_file).unwrap_or_default();
    let opts = ChaosOptions {
        scenario_file: Some(s.scenario_file.clone()),
        stop: s.stop.clone(),
        live: false,
        hold: None,
        control: None,
        workers: None,
        announce: false,
        installed: s.installed.clone(),
        feed,
        segment: None,
        start_at: None,
    };
    chaos::run(plan, faults, opts).await
}

/// Median latency of a step's requests after its warm-up (the client log), in ms.
fn median_ms(r: &RunResult) -> Option<f64> {
    let from = r.warmup_s * 1000.0;
    let mut v: Vec<f64> = r
        .client_log
        .iter()
        .filter(|e| e.t_ms >= from)
        .map(|e| e.latency_ms)
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// After a step that did not hold: light probes (a tenth of its rate, 1 s each) until latency is
/// back near the last good step's p50, at most `cool_down_max` (and within the budget). Without a
/// good step yet, one probe. Returns the seconds spent.
async fn cool_down(
    s: &Setup,
    rate: f64,
    good_p50: Option<f64>,
    started: Instant,
) -> Result<f64, ChaosError> {
    let t0 = Instant::now();
    let probe_rate = (rate / 10.0).max(10.0);
    let plan = step_plan(&s.plan, probe_rate, Duration::ZERO, COOL_PROBE, false);
    loop {
        let budget_left = s.budget.saturating_sub(started.elapsed());
        if s.stop.is_stopped() || budget_left < COOL_PROBE + STEP_OVERHEAD * 2 {
            break;
        }
        let r = one_run(s, &plan, None).await?;
        let recovered = match (good_p50, median_ms(&r)) {
            (Some(good), Some(now)) => now <= good * RECOVERED + 2.0,
            _ => true,
        };
        if recovered || t0.elapsed() >= cool_down_max(s.step) {
            break;
        }
    }
    Ok(t0.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_is_a_fifth_of_the_step_within_bounds() {
        assert_eq!(warmup_for(Duration::from_secs(20)), Duration::from_secs(4));
        assert_eq!(
            warmup_for(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        assert_eq!(warmup_for(Duration::from_secs(60)), Duration::from_secs(5));
    }
}
