//! Whether a breaker opened in each fault window, read from the episodes: an opening, or why not
//! (no fault, an invisible fault, a stall, calls that went on failing, too few failures).

use super::episodes::{Episode, Observation, Trigger, RATE_WINDOW_MS};
use crate::result::{RunResult, VerdictStatus::*};
use crate::spec::claims::Breaker;
use crate::verdict::evidence::{self, FaultWindow};
use crate::verdict::tolerance::{fmt_ms, fmt_pct, fmt_t};

/// Per fault window: how the dependency's traffic looked.
pub struct WindowSummary {
    pub calls: usize,
    pub failures: usize,
    pub longest_failure_run: usize,
    /// Longest run of failures the service must have learned in a row: failures answered within
    /// `LEARN_SLACK_MS` of a neighbouring success are left out, since the service may have read
    /// that success between them (at 200 calls/s with retries, answers 0.1 ms apart are common).
    pub certain_failure_run: usize,
    pub longest_gap_ms: f64,
}

/// Share of a window's calls that must fail for the dependency to count as down throughout it.
pub const DOWN_SHARE: f64 = 0.9;

/// True when the dependency was down through the window: (nearly) every call failed, or an
/// unconditional down hid them all. A partial fault leaves it available.
pub fn down_throughout(obs: &Observation, w: &FaultWindow) -> bool {
    let s = summarize(obs, w);
    w.invisible || (s.calls > 0 && s.failures as f64 >= DOWN_SHARE * s.calls as f64)
}

pub fn summarize(obs: &Observation, w: &FaultWindow) -> WindowSummary {
    let inside: Vec<_> = obs.log.iter().filter(|e| w.contains(e.t_ms)).collect();
    let mut ends: Vec<(f64, bool)> = inside
        .iter()
        .map(|e| (evidence::end_ms(e), evidence::is_failure(e)))
        .collect();
    ends.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut run, mut longest) = (0, 0);
    for (_, failed) in &ends {
        run = if *failed { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let certain = certain_run(&ends);
    let mut times: Vec<f64> = vec![w.from_ms];
    times.extend(inside.iter().map(|e| e.t_ms));
    times.push(w.to_ms);
    let longest_gap_ms = times.windows(2).map(|p| p[1] - p[0]).fold(0.0, f64::max);
    WindowSummary {
        calls: inside.len(),
        failures: ends.iter().filter(|(_, f)| *f).count(),
        longest_failure_run: longest,
        certain_failure_run: certain,
        longest_gap_ms,
    }
}

/// The longest run of failures (by answer time, sorted) with no success answered within
/// `LEARN_SLACK_MS` of any of them: between the successes around a run, only the failures clear of
/// both are certainly learned after the one and before the other.
fn certain_run(ends: &[(f64, bool)]) -> usize {
    let slack = super::episodes::LEARN_SLACK_MS;
    let mut longest = 0;
    let mut i = 0;
    while i < ends.len() {
        if !ends[i].1 {
            i += 1;
            continue;
        }
        let start = i;
        while i < ends.len() && ends[i].1 {
            i += 1;
        }
        let before = start
            .checked_sub(1)
            .map_or(f64::NEG_INFINITY, |b| ends[b].0);
        let after = ends.get(i).map_or(f64::INFINITY, |a| a.0);
        let clear = ends[start..i]
            .iter()
            .filter(|(t, _)| *t > before + slack && *t < after - slack)
            .count();
        longest = longest.max(clear);
    }
    longest
}

/// Whether the breaker opened in a fault window: Ok(episodes) or the verdict that says why not.
pub(super) enum Opened<'a> {
    Yes(Vec<&'a Episode>),
    No {
        status: crate::result::VerdictStatus,
        measured: String,
        detail: String,
    },
}

fn no(
    status: crate::result::VerdictStatus,
    measured: impl Into<String>,
    detail: String,
) -> Opened<'static> {
    Opened::No {
        status,
        measured: measured.into(),
        detail,
    }
}

pub(super) fn opened<'a>(result: &RunResult, b: &Breaker, obs: &'a Observation) -> Opened<'a> {
    if let Some(why) = unobservable(obs) {
        return why;
    }
    let eps: Vec<&Episode> = obs
        .episodes
        .iter()
        .filter(|e| e.trigger == Trigger::Threshold)
        .filter(|e| {
            obs.windows
                .iter()
                .any(|w| !w.invisible && in_window(w, e.opened_at_ms))
        })
        .collect();
    if eps.is_empty() {
        never_opened(result, b, obs)
    } else {
        Opened::Yes(eps)
    }
}

/// True when a breaker on this dependency can be seen in this run at all.
pub(super) fn observable(obs: &Observation) -> bool {
    unobservable(obs).is_none()
}

/// Why a breaker on this dependency cannot be seen in this run, if it cannot.
fn unobservable(obs: &Observation) -> Option<Opened<'static>> {
    let dep = &obs.dependency;
    if obs.windows.is_empty() {
        let detail = format!(
            "The run injected no fault into {dep}, so the breaker was never exercised: add a [[fault]] \
             (e.g. kind = \"abort\") longer than the recovery timeout."
        );
        return Some(no(Inconclusive, "no fault window", detail));
    }
    if obs.windows.iter().all(|w| w.invisible) {
        let detail = format!(
            "Every fault on {dep} was an unconditional down: the proxy closes its listener, the kernel refuses the \
             service's connections and no call reaches the dependency log, so a breaker cannot be seen from \
             outside. Use kind = \"abort\" (status 503) or \"reset\" to exercise it."
        );
        return Some(no(Inconclusive, "calls not logged under down", detail));
    }
    if obs.log.is_empty() {
        let detail = format!(
            "There is no dependency log for {dep} (a TCP dependency, or the proxy log is missing), \
             so its calls cannot be followed."
        );
        return Some(no(Inconclusive, "no dependency log", detail));
    }
    None
}

/// No opening in any fault window: a stall, calls that went on failing, or too few failures.
fn never_opened(result: &RunResult, b: &Breaker, obs: &Observation) -> Opened<'static> {
    let windows: Vec<&FaultWindow> = obs.windows.iter().filter(|w| !w.invisible).collect();
    not_opened_in(result, b, obs, &windows)
}

/// Fault windows in which no breaker opened: a stall, calls that went on failing, or too few
/// failures to expect an opening.
pub(super) fn not_opened_in(
    result: &RunResult,
    b: &Breaker,
    obs: &Observation,
    windows: &[&FaultWindow],
) -> Opened<'static> {
    let dep = &obs.dependency;
    let need = b.failure_threshold.map_or(5, |n| n as usize);
    let mut seen = Vec::new();
    for &w in windows {
        if let Some(stall) = obs.stalls.iter().find(|s| w.contains(s.from_ms)) {
            if let Some(slow) = slow_before(obs, stall.from_ms).filter(|_| stall.hung_calls == 0) {
                let detail = format!(
                    "Traffic to {dep} stopped at {} although no call had failed or was left hanging; the calls just \
                     before took {} or more. A breaker that counts slow calls (resilience4j's \
                     slowCallDurationThreshold and slowCallRateThreshold) opens like this: claim its slow-call \
                     rule (slow_call_ms, slow_call_rate), or find why the service stopped calling.",
                    fmt_t(stall.from_ms),
                    fmt_ms(slow)
                );
                return no(
                    Fail,
                    format!("stopped at {} on slow calls", fmt_t(stall.from_ms)),
                    detail,
                );
            }
            let detail = format!(
                "Traffic to {dep} stopped at {} without any failed call being given up first ({} call(s) were left \
                 hanging): the service stalled on the dependency instead of a breaker opening. Give its calls a \
                 timeout so failures are counted and the breaker can open.",
                fmt_t(stall.from_ms),
                stall.hung_calls
            );
            return no(Fail, format!("stalled at {}", fmt_t(stall.from_ms)), detail);
        }
        seen.push((
            w,
            summarize(obs, w),
            evidence::client_sends(result, w.from_ms, w.to_ms),
        ));
    }
    // A rate or windowed-count claim says itself whether calls that went on failing should have
    // opened it (its replay); a partial phase below its rule is evidence for it, not against.
    let by_rule = super::rule::Rule::of(b).is_some();
    if let Some((w, s, _)) = seen
        .iter()
        .find(|(_, s, demand)| !by_rule && s.certain_failure_run >= need && *demand >= 3.0)
    {
        let gave_up = evidence::ClientGiveUps::read(result);
        let abandoned = obs
            .log
            .iter()
            .filter(|e| w.contains(e.t_ms) && gave_up.abandoned(e))
            .count();
        let why = if abandoned * 2 >= s.failures {
            format!(
                " {abandoned} of the failed calls were only abandoned when clients gave up: the service has no \
                 timeout on them, so its breaker never saw a failure. Give the calls a timeout."
            )
        } else {
            " No breaker opened; add one (or fix its failure classification).".to_string()
        };
        let detail = format!(
            "Calls to {dep} continued through the whole fault window ({}–{}): {} calls, {} failed, {} of them in a \
             row (no success answered within {} of them), and the longest pause was {}.{why}",
            fmt_t(w.from_ms),
            fmt_t(w.to_ms),
            s.calls,
            s.failures,
            s.certain_failure_run,
            fmt_ms(super::episodes::LEARN_SLACK_MS),
            fmt_ms(s.longest_gap_ms)
        );
        return no(
            Fail,
            format!("never opened; {} of {} calls failed", s.failures, s.calls),
            detail,
        );
    }
    if by_rule {
        let failed: usize = seen.iter().map(|(_, s, _)| s.failures).sum();
        let detail = format!(
            "Calls to {dep} went on through the fault window(s) with {failed} failed call(s) and no breaker opened; \
             whether the claimed rule should have opened it there is judged by the rule's own verdict."
        );
        return no(Inconclusive, "stayed closed", detail);
    }
    let best = seen
        .iter()
        .map(|(_, s, _)| s.longest_failure_run)
        .max()
        .unwrap_or(0);
    let detail = format!(
        "The fault produced at most {best} failed call(s) in a row to {dep}, fewer than the {need} that should open \
         the breaker (or clients sent too little during it): make the fault fail every call, or send more traffic."
    );
    no(Inconclusive, format!("longest failure run {best}"), detail)
}

/// An opening belongs to a window if it happened in it (or as its last failures completed).
pub(super) fn in_window(w: &FaultWindow, t_ms: f64) -> bool {
    t_ms >= w.from_ms && t_ms <= w.to_ms + 1000.0
}

/// "5 of the 120 calls in the 10 s before opening failed (4.2%)".
pub fn window_rate(e: &Episode) -> String {
    format!(
        "{} of the {} calls answered in the {} before it opened failed ({})",
        e.window_failures,
        e.window_calls,
        fmt_ms(RATE_WINDOW_MS),
        fmt_pct(e.window_failures as f64 / e.window_calls.max(1) as f64)
    )
}

/// True when successes were interleaved with the failures before an opening.
pub fn interleaved(e: &Episode) -> bool {
    e.window_failures > e.failures_max && e.window_calls > e.window_failures
}

/// The shortest duration among the last 10 calls answered before `t_ms`, when all succeeded and
/// took at least 100 ms (and twice the median call before the faults): slow, not failing.
fn slow_before(obs: &Observation, t_ms: f64) -> Option<f64> {
    let before: Vec<&redline_proxy::log::LogEntry> = obs
        .log
        .iter()
        .filter(|e| evidence::end_ms(e) <= t_ms + 1.0)
        .collect();
    let last = &before[before.len().saturating_sub(10)..];
    if last.len() < 3 || last.iter().any(|e| evidence::is_failure(e)) {
        return None;
    }
    let first_fault = obs.windows.first().map_or(f64::INFINITY, |w| w.from_ms);
    let mut usual: Vec<f64> = obs
        .log
        .iter()
        .filter(|e| e.t_ms < first_fault)
        .map(|e| evidence::end_ms(e) - e.t_ms)
        .collect();
    let median = evidence::quantile(&mut usual, 0.5).unwrap_or(0.0);
    let shortest = last
        .iter()
        .map(|e| evidence::end_ms(e) - e.t_ms)
        .fold(f64::INFINITY, f64::min);
    (shortest >= 100.0 && shortest >= 2.0 * median).then_some(shortest)
}

#[cfg(test)]
mod tests {
    use super::certain_run;

    #[test]
    fn failures_answered_next_to_a_success_are_not_certainly_in_a_row() {
        // From a planned `redline demo` (20% aborts at 200 req/s with retries): five failures in a
        // row by answer time: the first 1.9 ms after a success, the last 0.06 ms before one.
        let ends = [
            (47961.88, false),
            (47965.71, false),
            (47967.63, true),
            (47973.85, true),
            (47977.77, true),
            (47985.19, true),
            (47985.45, true),
            (47985.51, false),
            (47990.75, false),
        ];
        assert_eq!(certain_run(&ends), 2);
        // Well clear of both successes, all five are certain.
        let clear: Vec<(f64, bool)> = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
            .iter()
            .enumerate()
            .map(|(i, t)| (*t, (1..=5).contains(&i)))
            .collect();
        assert_eq!(certain_run(&clear), 5);
        assert_eq!(certain_run(&[(1.0, true), (2.0, true)]), 2);
        assert_eq!(certain_run(&[]), 0);
    }
}
