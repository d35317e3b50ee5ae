//! The consecutive-failure rule (pybreaker, gobreaker's default, Polly v7 basic): each opening from
//! a closed state came after `n` consecutive failed calls.

use super::episodes::{Episode, LEARN_SLACK_MS};
use super::opened::{interleaved, window_rate};
use crate::result::Verdict;
use crate::verdict::model::Claim;
use crate::verdict::tolerance::{fmt_ms, fmt_t};

pub(super) fn count(e: &Episode) -> String {
    if e.failures_min == e.failures_max {
        e.failures_min.to_string()
    } else {
        format!("{}–{}", e.failures_min, e.failures_max)
    }
}

/// Failure threshold: each opening from a closed state came after `n` consecutive failed calls.
pub fn threshold(dep: &str, n: u32, eps: &[&Episode], source: &str, id: String) -> Verdict {
    let n64 = u64::from(n);
    // Short for the table: the counts per opening; when each opened is in the detail.
    let counts: Vec<String> = eps.iter().map(|e| count(e)).collect();
    let measured = match counts.as_slice() {
        [one] => format!("{one} failures, then open"),
        many => format!("{} failures, then open", many.join(", ")),
    };
    let openings = eps
        .iter()
        .map(|e| format!("{} at {}", count(e), fmt_t(e.opened_at_ms)))
        .collect::<Vec<_>>()
        .join(", ");
    let claim = format!("The breaker on {dep} opens after {n} consecutive failed calls");
    let expected = format!("{n} consecutive failed calls");
    let v = Claim::new(id, claim, source, expected);
    // A success read after the first failures of the run may have reset the count after them.
    let least = |e: &Episode| e.failures_min.saturating_sub(e.failed_as_reset);
    let bad = eps
        .iter()
        .enumerate()
        .find(|(_, e)| !(least(e) <= n64 && n64 <= e.failures_max) || e.earlier_streak >= n64);
    let Some((which, e)) = bad else {
        // Every opening fits; it is proven only if one shows exactly n, not a range around it.
        let exact = |e: &&&Episode| e.failures_min == n64 && e.failures_max == n64;
        let Some(e) = eps.iter().find(exact) else {
            let e = eps
                .iter()
                .find(|e| e.admitted_as_failed_ms.is_some() || e.failed_as_reset > 0)
                .unwrap_or(&eps[0]);
            let detail = match e.admitted_as_failed_ms {
                None if e.failed_as_reset > 0 => format!(
                    "Traffic to {dep} stopped after {} failed calls, but the first {} of them failed within {} after \
                     a success, so the service may have read that success last and counted only the later ones: {n} \
                     fits that. Another opening (or a run at a lower rate) can pin it down.",
                    count(e),
                    e.failed_as_reset,
                    fmt_ms(LEARN_SLACK_MS)
                ),
                Some(ms) => format!(
                    "{n} lies within the {} failed calls seen before traffic to {dep} stopped: the last call got \
                     through {} after an earlier one had failed, before the service can have read that failure, so \
                     either may have opened the breaker. Another opening (or a run at a lower rate) can pin it down.",
                    count(e),
                    if ms < 0.1 {
                        "less than 0.1 ms".to_string()
                    } else {
                        fmt_ms(ms)
                    }
                ),
                None => format!(
                    "{n} lies within the {} failed calls seen before traffic to {dep} stopped: several calls had \
                     failed in the instant it stopped, so the exact count cannot be told. Run at a lower rate or \
                     with a fault that fails fast (abort) to pin it down.",
                    count(e)
                ),
            };
            return v.inconclusive(
                measured,
                format!("{detail} Failed calls before each opening: {openings}."),
            );
        };
        let mut detail = format!(
            "Traffic to {dep} stopped right after {n} consecutive failed calls, as claimed (failed calls before \
             each opening: {openings})."
        );
        if e.in_flight_failed_after > 0 {
            detail.push_str(&format!(
                " {} more call(s) already in flight failed after it opened and are not counted.",
                e.in_flight_failed_after
            ));
        }
        return v.pass(measured, detail);
    };
    let c = count(e);
    let at = if eps.len() > 1 {
        format!(" (opening {} of {})", which + 1, eps.len())
    } else {
        String::new()
    };
    let mut detail = if e.failures_min > n64 && !interleaved(e) {
        too_late(dep, n, &at, &c, e)
    } else if e.earlier_streak >= n64 {
        format!(
            "Earlier{at}, {} calls to {dep} failed in a row and calls still went through; traffic stopped only \
             later, after {c} failed call(s) in a row ({}). A breaker that opens after {n} consecutive failures \
             would have opened then: it counts failures another way (a rate or a time window).",
            e.earlier_streak,
            window_rate(e)
        )
    } else if interleaved(e) {
        format!(
            "The breaker on {dep} opened{at} after {c} consecutive failed call(s) with successes in between: {}{}. \
             It counts a failure rate or failures within a time window, not {n} consecutive failures; state that \
             design in the spec or change the breaker.",
            window_rate(e),
            e.failure_span_ms(n as usize)
                .map(|s| format!("; its last {n} failures came within {}", fmt_ms(s)))
                .unwrap_or_default()
        )
    } else {
        format!("The breaker on {dep} opened{at} after only {c} consecutive failed call(s), fewer than the {n} claimed.")
    };
    match e.failed_requests {
        Some(r) if r == n64 && e.failures_min > r => detail.push_str(&format!(
            " Those {c} calls came from {r} requests: the breaker counts requests after their retries, not calls; \
             say so in the spec or move the breaker inside the retry loop."
        )),
        Some(r) if r < e.failures_min => {
            detail.push_str(&format!(" (Those calls came from {r} requests; retries multiply calls.)"))
        }
        _ => {}
    }
    if e.in_flight_failed_after > 0 {
        detail.push_str(&format!(
            " {} call(s) already in flight failed after it opened and are not counted.",
            e.in_flight_failed_after
        ));
    }
    detail.push_str(&format!(" Failed calls before each opening: {openings}."));
    v.fail(measured, detail)
}

/// "5 consecutive failed calls did not open it; it took 150 ..." with a hint at the design.
fn too_late(dep: &str, n: u32, at: &str, c: &str, e: &Episode) -> String {
    // A failure-rate breaker opens at a sizeable failed share with successes still in its window;
    // a count breaker set higher than claimed opens at a small share after a clean baseline.
    let share = e.window_failures as f64 / e.window_calls.max(1) as f64;
    let design = if e.window_calls > e.window_failures && share >= 0.2 {
        "Earlier successes still counted against the failures: this looks like a failure-rate breaker over a \
         window (or one with a minimum volume), not consecutive failures."
    } else {
        "Either the threshold is higher than claimed or the breaker needs a minimum volume of calls."
    };
    format!(
        "{n} consecutive failed calls did not open the breaker on {dep}; traffic stopped{at} only after {c} ({}). {design}",
        window_rate(e)
    )
}
