//! Circuit-breaker episodes inferred from outside: dependency traffic stopped after failures while
//! client demand continued, stayed stopped, then resumed with probes. Observation only; the claims
//! are judged in `claims`.
//!
//! Failures are counted per dependency CALL (log entry), in the order the service learned of them
//! (its give-up time or the answer's end), because retries multiply calls and hung calls fail late.
//!
//! Over 600 lines: one walk over the dependency log finds, builds and settles the episodes, and
//! its steps share the `Observation` they fill; the next addition should split it.

use std::collections::BTreeSet;

use redline_proxy::log::LogEntry;

use super::refusals::Refusals;
use crate::result::{BreakerEpisode, RunResult};
use crate::spec::Claims;
use crate::verdict::evidence::{self, FaultWindow};
use crate::verdict::model::JudgeContext;

/// A gap must last at least this long (and 5 median inter-arrival gaps) to count as "traffic stopped";
/// a shorter claimed open time lowers it to 80% of that time (not below 200 ms).
pub const MIN_GAP_MS: f64 = 1000.0;
/// More calls than this after a pause are a closed breaker's traffic, not half-open probes.
pub const MAX_PROBES: usize = 10;
/// Trailing window used to describe the failure rate before an opening.
pub const RATE_WINDOW_MS: f64 = 10_000.0;
/// The proxy times a failure when it answers; the service learns of it a little later (it reads
/// the answer first), and a call it admits meanwhile reaches the proxy just after. A failure
/// answered this close before the last admitted call may still be the one that opened the breaker.
pub const LEARN_SLACK_MS: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A probe succeeded and traffic flowed again.
    Closed,
    /// The probes failed and traffic stopped again.
    Reopened,
    /// The run (or the log) ended before traffic resumed.
    Unknown,
}

/// Why traffic stopped: failures from a closed state, or a failed half-open probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Threshold,
    Probe,
}

/// One opening of the breaker, with the evidence behind it (times in ms on the run clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub dependency: String,
    pub trigger: Trigger,
    /// Arrival of the last call before traffic stopped.
    pub last_call_ms: f64,
    /// Estimated opening: the first failed call the service learned of after that arrival.
    pub opened_at_ms: f64,
    /// Consecutive failed calls before opening; a range when several failures completed in the
    /// instant traffic stopped, so the exact one that opened it cannot be told apart.
    pub failures_min: u64,
    pub failures_max: u64,
    /// Set when the last call got through within `LEARN_SLACK_MS` after an earlier failure was
    /// answered (ms between the two): the service may have admitted it before reading that
    /// failure, so that failure may have opened the breaker and the count is a range.
    pub admitted_as_failed_ms: Option<f64>,
    /// Failures of the run answered within `LEARN_SLACK_MS` after the success before it: the
    /// service may have read that success last and not counted them (so as few as
    /// `failures_min - failed_as_reset` may have opened it).
    pub failed_as_reset: u64,
    /// Longest run of failed calls learned, since counting restarted, before the last admitted
    /// call: a consecutive-failure breaker with a threshold at or below it should have opened then.
    pub earlier_streak: u64,
    /// Distinct correlation ids among those failures (when every one carried an id).
    pub failed_requests: Option<u64>,
    /// Calls admitted before the opening that failed after it (in flight when it opened).
    pub in_flight_failed_after: u64,
    /// When the service learned of the earliest and the latest failure that may have opened it
    /// (the same instant unless the opener is ambiguous).
    pub opener_from_ms: f64,
    pub opener_to_ms: f64,
    /// Calls the service learned the outcome of in the `RATE_WINDOW_MS` before opening, and failures among them.
    pub window_calls: u64,
    pub window_failures: u64,
    /// When the service learned of the last (up to 64) failures before the opening, oldest first.
    pub recent_failures_ms: Vec<f64>,
    /// Arrival of the first call after the gap (the first half-open probe).
    pub resumed_at_ms: Option<f64>,
    /// Calls let through after the gap before the breaker closed (first success known) or reopened.
    pub probes: u64,
    /// True when a probe was let through after an earlier probe's failure was known: the breaker
    /// waits for all its probes, so `probes` is exactly how many it allows.
    pub probes_exact: bool,
    /// Distinct requests (correlation ids) among the probes, when every probe carried one: a
    /// breaker around the retry loop lets requests through, each with its retries.
    pub probe_requests: Option<u64>,
    /// Client demand (as expected dependency calls) while those probes were undecided.
    pub demand_during_probes: f64,
    pub outcome: Outcome,
}

impl Episode {
    /// How long the last `n` failures before the opening took to arrive (None: fewer were seen).
    pub fn failure_span_ms(&self, n: usize) -> Option<f64> {
        let len = self.recent_failures_ms.len();
        (n > 0 && len >= n)
            .then(|| self.recent_failures_ms[len - 1] - self.recent_failures_ms[len - n])
    }

    /// How long traffic stayed stopped.
    pub fn open_for_ms(&self) -> Option<f64> {
        self.resumed_at_ms.map(|r| r - self.opened_at_ms)
    }

    pub fn to_result(&self) -> BreakerEpisode {
        BreakerEpisode {
            dependency: self.dependency.clone(),
            opened_at_s: self.opened_at_ms / 1000.0,
            failures_before_open: self.failures_min,
            open_for_s: self.open_for_ms().map(|ms| ms / 1000.0),
            probes: self.probes,
            outcome: match self.outcome {
                Outcome::Closed => "closed",
                Outcome::Reopened => "reopened",
                Outcome::Unknown => "unknown",
            }
            .to_string(),
        }
    }
}

/// Traffic stopped while clients kept sending, but no failed call completed first: the service
/// stalled (e.g. every worker stuck on a hung call), which is not a breaker opening.
#[derive(Debug, Clone, PartialEq)]
pub struct Stall {
    pub from_ms: f64,
    pub to_ms: f64,
    /// Calls still unanswered (never given up) when traffic stopped.
    pub hung_calls: u64,
}

/// Everything observed about one dependency.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub dependency: String,
    /// Raw log in arrival order.
    pub log: Vec<LogEntry>,
    pub windows: Vec<FaultWindow>,
    pub episodes: Vec<Episode>,
    pub stalls: Vec<Stall>,
    /// Smallest gap that counted as "traffic stopped".
    pub gap_min_ms: f64,
    /// Dependency calls per client request before the first fault (1.0 when unknown).
    pub calls_per_request: f64,
    /// Client requests turned away without a call, bounding when openings happened.
    pub refusals: Refusals,
    /// Gaps skipped because log entries were missing there.
    pub skipped_gaps: usize,
    /// The shortest slow-call duration a claim names: such calls may open a breaker too.
    pub slow_call_ms: Option<f64>,
    /// Sequence numbers present in the raw log (health checks included), to tell dropped entries
    /// from filtered ones.
    pub seqs: BTreeSet<u64>,
    /// The breaker claimed on this dependency is a library whose one half-open test call closes it
    /// on success, releasing every call that waited meanwhile (cockatiel: `CircuitBreakerPolicy`
    /// awaits `state.test`, then re-executes the waiters once closed). Calls after that success
    /// are a closed breaker's, however few failures then reopen it (a `SamplingBreaker` resets its
    /// windows on that success, so a handful of calls may reach its minimum volume).
    pub closes_on_first_success: bool,
}

/// Observes every dependency with a log or a fault.
pub fn observe_all(result: &RunResult, claims: &Claims, ctx: &JudgeContext) -> Vec<Observation> {
    let mut names: Vec<String> = result.dependencies.keys().cloned().collect();
    for f in &result.faults {
        if !names
            .iter()
            .any(|n| crate::verdict::matching::same_name(n, &f.dependency))
        {
            names.push(f.dependency.clone());
        }
    }
    names
        .iter()
        .map(|n| observe(result, claims, ctx, n))
        .collect()
}

/// Observes one dependency (scenario name).
pub fn observe(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    dependency: &str,
) -> Observation {
    let raw = evidence::sorted_log(result, dependency);
    let spec = evidence::spec_dependency(claims, ctx, dependency);
    let seqs: BTreeSet<u64> = raw.iter().map(|e| e.seq).collect();
    let log: Vec<LogEntry> = raw
        .into_iter()
        .filter(|e| !evidence::is_health_check(e, spec))
        .collect();
    let windows = evidence::fault_windows(result, dependency);
    let first_fault_ms = windows.first().map_or(f64::INFINITY, |w| w.from_ms);
    let before: Vec<LogEntry> = log
        .iter()
        .filter(|e| e.t_ms < first_fault_ms)
        .cloned()
        .collect();
    let median = evidence::median_gap_ms(if before.len() >= 10 { &before } else { &log });
    // A claimed open time shorter than the floor would hide every opening: follow the claim
    // down (never below 5 gaps between calls, never below 200 ms).
    let floor = claims
        .breakers
        .iter()
        .filter_map(|b| b.recovery_timeout_ms)
        .map(|r| (0.8 * r).max(200.0))
        .fold(MIN_GAP_MS, f64::min);
    let gap_min_ms = median.map_or(floor, |m| (5.0 * m).max(floor));
    let calls_per_request = calls_per_request(result, &before, first_fault_ms);
    // A request missing from a log that dropped entries is no evidence of a refusal.
    let contiguous = match (seqs.first(), seqs.last()) {
        (Some(a), Some(b)) => b - a + 1 == seqs.len() as u64,
        _ => true,
    };
    let truncated = result
        .dependencies
        .iter()
        .any(|(n, d)| crate::verdict::matching::same_name(n, dependency) && d.log_truncated);
    let complete = contiguous && !truncated;
    let refusals = if complete {
        Refusals::read(result, &log, first_fault_ms)
    } else {
        Refusals::default()
    };
    let mut obs = Observation {
        dependency: dependency.to_string(),
        log,
        windows,
        episodes: Vec::new(),
        stalls: Vec::new(),
        gap_min_ms,
        calls_per_request,
        refusals,
        skipped_gaps: 0,
        slow_call_ms: claims
            .breakers
            .iter()
            .filter_map(|b| {
                b.slow_call_ms
                    .filter(|s| *s > 0.0 && b.slow_call_rate.is_some())
            })
            .reduce(f64::min),
        seqs,
        closes_on_first_success: closes_on_first_success(result, claims, ctx, dependency),
    };
    let slack = median.map_or(250.0, |m| (5.0 * m).max(250.0));
    find_episodes(result, &mut obs, slack);
    obs
}

/// Whether a breaker claim naming this dependency (or naming none) is cockatiel's (see
/// `Observation::closes_on_first_success`).
fn closes_on_first_success(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    dependency: &str,
) -> bool {
    claims.breakers.iter().any(|b| {
        let cockatiel = b
            .library
            .as_deref()
            .is_some_and(|l| l.to_ascii_lowercase().contains("cockatiel"));
        let here = b.dependency.as_deref().is_none_or(|d| {
            evidence::scenario_dependency(result, ctx, d)
                .is_some_and(|s| crate::verdict::matching::same_name(&s, dependency))
        });
        cockatiel && here
    })
}

fn calls_per_request(result: &RunResult, before: &[LogEntry], first_fault_ms: f64) -> f64 {
    let (Some(first), Some(last)) = (before.first(), before.last()) else {
        return 1.0;
    };
    let sends = evidence::client_sends(result, first.t_ms, last.t_ms.min(first_fault_ms) + 1.0);
    if sends < 10.0 || before.len() < 10 {
        return 1.0;
    }
    (before.len() as f64 / sends).clamp(0.05, 20.0)
}

/// Completions in the order the service learned them: (end_ms, failed, arrival index).
/// Median gap between the calls of the two seconds before call `i` (how soon the next was due).
fn local_gap_ms(log: &[LogEntry], i: usize) -> Option<f64> {
    let a_i = log[i].t_ms;
    let start = log.partition_point(|e| e.t_ms <= a_i - 2000.0);
    evidence::median_gap_ms(&log[start..=i])
}

/// A call at least `slow_ms` long counts like a failure here when a claim has a slow-call rule
/// (resilience4j's slowCallDurationThreshold): it can open the breaker.
pub(super) fn completions(log: &[LogEntry], slow_ms: Option<f64>) -> Vec<(f64, bool, usize)> {
    let mut out: Vec<(f64, bool, usize)> = log
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let slow = slow_ms.is_some_and(|s| evidence::end_ms(e) - e.t_ms >= s);
            (evidence::end_ms(e), evidence::is_failure(e) || slow, i)
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

fn find_episodes(result: &RunResult, obs: &mut Observation, slack: f64) {
    let ends = completions(&obs.log, obs.slow_call_ms);
    let run_end_ms = result.duration_s * 1000.0;
    let mut since = f64::NEG_INFINITY;
    let mut i = 0;
    while i < obs.log.len() {
        let a_i = obs.log[i].t_ms;
        let next_t = obs.log.get(i + 1).map(|n| n.t_ms);
        let gap_end = next_t.unwrap_or(run_end_ms);
        // Under an unconditional down nothing is logged: its silence is no evidence.
        let unseen = obs
            .windows
            .iter()
            .any(|w| w.invisible && w.from_ms < gap_end && w.to_ms > a_i);
        if unseen || gap_end - a_i <= obs.gap_min_ms || !gap_is_real(result, obs, i, gap_end) {
            i += 1;
            continue;
        }
        let demand = evidence::client_sends(result, a_i, gap_end) * obs.calls_per_request;
        if demand < 3.0 {
            i += 1;
            continue;
        }
        // The opening is a failure the service learned of after the last admitted call and well
        // before traffic resumed; a gap whose first failure lands at its end is a stall.
        let first = (0..ends.len()).find(|&k| ends[k].1 && ends[k].0 > a_i && ends[k].0 < gap_end);
        let open_enough = |k: usize| gap_end - ends[k].0 >= (0.5 * (gap_end - a_i)).min(1000.0);
        let first = first.filter(|&k| open_enough(k)).or_else(|| {
            // A breaker that waits for all its probes reopens when the last one answers, even with
            // a success, if an earlier probe failed.
            probe_decision(&obs.log, &ends, since, a_i).filter(|&k| open_enough(k))
        });
        let Some(first) = first else {
            let hung = obs.log[..=i]
                .iter()
                .filter(|e| evidence::end_ms(e) > a_i && evidence::is_failure(e))
                .count();
            obs.stalls.push(Stall {
                from_ms: a_i,
                to_ms: gap_end,
                hung_calls: hung as u64,
            });
            i += 1;
            continue;
        };
        // Other failures learned before the first refused request (or, without one, before the
        // next call was due) could equally have opened it.
        let horizon = match obs
            .refusals
            .first_after(a_i)
            .filter(|r| *r >= ends[first].0)
        {
            Some(refused) => refused,
            None => ends[first]
                .0
                .max(a_i + local_gap_ms(&obs.log, i).unwrap_or(slack)),
        };
        let last = (first..ends.len())
            .take_while(|&k| ends[k].0 <= horizon)
            .filter(|&k| ends[k].1)
            .last()
            .unwrap_or(first);
        let lo = racing_opener(&ends, first, a_i, since);
        let trigger = Trigger::Threshold;
        let ep = build_episode(obs, &ends, i, since, (lo, first, last), next_t, trigger);
        since = ep.resumed_at_ms.unwrap_or(f64::INFINITY);
        obs.episodes.push(ep);
        i += 1;
    }
    settle_outcomes(result, obs, &ends);
}

/// The earliest failure that may have opened the breaker: `first` (learned after the last admitted
/// call at `a_i`), or a failure right before it answered within `LEARN_SLACK_MS` before `a_i`,
/// which the service may not have read yet when it admitted that call.
fn racing_opener(ends: &[(f64, bool, usize)], first: usize, a_i: f64, since: f64) -> usize {
    let mut lo = first;
    while lo > 0 {
        let (end, failed, _) = ends[lo - 1];
        if !failed || end < since || end < a_i - LEARN_SLACK_MS {
            break;
        }
        lo -= 1;
    }
    lo
}

/// A gap is only evidence when no log entries are missing there and the per-second summary
/// agrees that no calls arrived (the raw log is bounded and may not cover the whole run).
fn gap_is_real(result: &RunResult, obs: &mut Observation, i: usize, gap_end: f64) -> bool {
    let a_i = obs.log[i].t_ms;
    if let Some(next) = obs.log.get(i + 1) {
        let (a, b) = (obs.log[i].seq, next.seq);
        let present = if b > a {
            obs.seqs.range(a + 1..b).count() as u64
        } else {
            0
        };
        if b <= a || present != b - a - 1 {
            obs.skipped_gaps += 1;
            return false;
        }
    }
    let busy_second = result
        .dependencies
        .iter()
        .filter(|(n, _)| crate::verdict::matching::same_name(n, &obs.dependency))
        .flat_map(|(_, d)| d.per_second.iter())
        .any(|s| {
            let lo = s.t_s as f64 * 1000.0;
            s.requests > 0 && lo > a_i && lo + 1000.0 < gap_end
        });
    if busy_second {
        obs.skipped_gaps += 1;
    }
    !busy_second
}

fn build_episode(
    obs: &Observation,
    ends: &[(f64, bool, usize)],
    i: usize,
    since: f64,
    (lo, first, last): (usize, usize, usize),
    resumed_at_ms: Option<f64>,
    trigger: Trigger,
) -> Episode {
    let opened_at_ms = ends[first].0;
    let a_i = obs.log[i].t_ms;
    // Opened by a failure: the run of failures before it. Settled by a probe's success: the
    // failed probes of that half-open period.
    let streak = |k: usize| match ends[k].1 {
        true => consecutive_failures(ends, k, since),
        false => ends[..=k]
            .iter()
            .filter(|(end, failed, _)| *failed && *end >= since)
            .map(|x| x.2)
            .collect(),
    };
    let streak_first = streak(first);
    let streak_lo = streak(lo);
    // The run may also have started later for the service than for the proxy.
    let reset_race = if ends[lo].1 {
        read_before_reset(ends, lo, since)
    } else {
        0
    };
    let failed_requests = distinct_ids(&obs.log, &streak_lo);
    let in_flight_failed_after = ends
        .iter()
        .filter(|(end, failed, idx)| *failed && *end > opened_at_ms && *idx <= i)
        .count() as u64;
    let (mut window_calls, mut window_failures) = (0, 0);
    for (end, failed, _) in ends {
        if *end > opened_at_ms - RATE_WINDOW_MS && *end <= opened_at_ms {
            window_calls += 1;
            window_failures += u64::from(*failed);
        }
    }
    let mut recent_failures_ms: Vec<f64> = ends
        .iter()
        .filter(|(end, failed, _)| *failed && *end <= opened_at_ms && *end >= since)
        .map(|(end, _, _)| *end)
        .collect();
    recent_failures_ms.drain(..recent_failures_ms.len().saturating_sub(64));
    // Failures answered in the last instant before that call may not have been read yet, and
    // those answered right after a success may have been read before it.
    let (mut run, mut earlier_streak, mut success_at) = (0u64, 0u64, f64::NEG_INFINITY);
    for (end, failed, _) in ends[..lo]
        .iter()
        .filter(|(end, _, _)| *end >= since && *end <= a_i)
    {
        if !failed {
            success_at = *end;
        }
        run = if *failed && *end > success_at + LEARN_SLACK_MS {
            run + 1
        } else {
            0
        };
        earlier_streak = earlier_streak.max(run);
    }
    Episode {
        dependency: obs.dependency.clone(),
        trigger,
        earlier_streak,
        recent_failures_ms,
        last_call_ms: a_i,
        opened_at_ms,
        opener_from_ms: ends[lo].0,
        opener_to_ms: ends[last].0.max(opened_at_ms),
        failures_min: streak_lo.len() as u64,
        failures_max: streak(last).len().max(streak_first.len()) as u64,
        admitted_as_failed_ms: (lo < first).then(|| a_i - ends[lo].0),
        failed_as_reset: reset_race as u64,
        failed_requests,
        in_flight_failed_after,
        window_calls,
        window_failures,
        resumed_at_ms,
        probes: 0,
        probes_exact: false,
        probe_requests: None,
        demand_during_probes: 0.0,
        outcome: if resumed_at_ms.is_some() {
            Outcome::Closed
        } else {
            Outcome::Unknown
        },
    }
}

/// The completion that settled a failed half-open period: the last answer of the calls let through
/// since `since` (the pause's end), when one of them failed and it came after `a_i`. More than
/// `MAX_PROBES` calls since the pause are no half-open period: the breaker had closed again, and
/// a later opening is a threshold's (counting every failure since the pause read a 30%-abort
/// opening after a closed recovery as "273 consecutive failures" in `redline demo`).
fn probe_decision(
    log: &[LogEntry],
    ends: &[(f64, bool, usize)],
    since: f64,
    a_i: f64,
) -> Option<usize> {
    if !since.is_finite() {
        return None;
    }
    let probes = |idx: usize| log[idx].t_ms >= since && log[idx].t_ms <= a_i;
    if log
        .iter()
        .filter(|e| e.t_ms >= since && e.t_ms <= a_i)
        .count()
        > MAX_PROBES
    {
        return None;
    }
    let any_failed = ends.iter().any(|(_, failed, idx)| *failed && probes(*idx));
    let last = ends.iter().rposition(|(_, _, idx)| probes(*idx))?;
    (any_failed && ends[last].0 > a_i).then_some(last)
}

/// Arrival indexes of the failures learned up to completion `k` (inclusive), back to the last
/// success or to `since` (the start of the previous half-open period, where counting restarts).
fn consecutive_failures(ends: &[(f64, bool, usize)], k: usize, since: f64) -> Vec<usize> {
    let mut out = Vec::new();
    for &(end, failed, idx) in ends[..=k].iter().rev() {
        if !failed || end < since {
            break;
        }
        out.push(idx);
    }
    out
}

/// How many of the failures in the run ending at completion `k` were answered within
/// `LEARN_SLACK_MS` after the success that ended the previous run: the service may have read that
/// success after them and counted from zero again, so they may not count towards the opening.
fn read_before_reset(ends: &[(f64, bool, usize)], k: usize, since: f64) -> usize {
    let Some(success) = ends[..=k]
        .iter()
        .rev()
        .find(|(end, failed, _)| !failed || *end < since)
        .filter(|(end, failed, _)| !failed && *end >= since)
    else {
        return 0;
    };
    ends[..=k]
        .iter()
        .filter(|(end, failed, _)| {
            *failed && *end >= success.0 && *end <= success.0 + LEARN_SLACK_MS
        })
        .count()
}

fn distinct_ids(log: &[LogEntry], idxs: &[usize]) -> Option<u64> {
    let ids: Option<Vec<&str>> = idxs
        .iter()
        .map(|&i| log[i].correlation_id.as_deref())
        .collect();
    let mut ids = ids?;
    ids.sort_unstable();
    ids.dedup();
    Some(ids.len() as u64)
}

/// After all openings are known: which closed, which reopened, and how many probes each let through.
fn settle_outcomes(result: &RunResult, obs: &mut Observation, ends: &[(f64, bool, usize)]) {
    for e in 0..obs.episodes.len() {
        let Some(resumed) = obs.episodes[e].resumed_at_ms else {
            continue;
        };
        let next_stop = obs.episodes.get(e + 1).map(|n| n.last_call_ms);
        let start = obs.log.partition_point(|x| x.t_ms < resumed);
        let stop = next_stop.map_or(obs.log.len(), |t| obs.log.partition_point(|x| x.t_ms <= t));
        let admitted = &obs.log[start..stop];
        let first_success = ends
            .iter()
            .filter(|(end, failed, idx)| !*failed && *idx >= start && *end >= resumed)
            .map(|(end, _, _)| *end)
            .next();
        // Reopened: traffic stopped again before any success was learned (a breaker that waits
        // for all its probes may reopen on the last one's success when an earlier one failed).
        // Or: a few calls, then a stop after fewer failures than the first opening took, which a
        // closed breaker counting failures would not do; the breaker was still half-open.
        let first_count = obs.episodes[0].failures_min;
        let reopened = match obs.episodes.get(e + 1) {
            Some(n) => {
                let no_success_first = first_success.is_none_or(|s| s >= n.opened_at_ms);
                let too_few = !(obs.closes_on_first_success && first_success.is_some())
                    && admitted.len() <= MAX_PROBES
                    && n.failures_max < first_count;
                (no_success_first || too_few) && admitted.iter().any(evidence::is_failure)
            }
            None => false,
        };
        if reopened {
            obs.episodes[e + 1].trigger = Trigger::Probe;
            let reopen_at = obs.episodes[e + 1].opened_at_ms;
            let ep = &mut obs.episodes[e];
            ep.outcome = Outcome::Reopened;
            ep.probes = admitted.len() as u64;
            ep.probe_requests = distinct_ids(admitted, &(0..admitted.len()).collect::<Vec<_>>());
            ep.probes_exact = admitted
                .iter()
                .enumerate()
                .any(|(j, p)| admitted[..j].iter().any(|q| evidence::end_ms(q) < p.t_ms));
            ep.demand_during_probes =
                evidence::client_sends(result, resumed, reopen_at) * obs.calls_per_request;
        } else {
            let decided = first_success.unwrap_or(f64::INFINITY);
            let ep = &mut obs.episodes[e];
            ep.outcome = Outcome::Closed;
            ep.probes = obs.log[start..]
                .iter()
                .take_while(|x| x.t_ms <= decided)
                .count() as u64;
            ep.demand_during_probes =
                evidence::client_sends(result, resumed, decided.min(resumed + 60_000.0))
                    * obs.calls_per_request;
        }
    }
}
