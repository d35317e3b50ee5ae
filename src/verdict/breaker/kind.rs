//! Which breaker design the evidence supports (`observed_kind`), for a spec that does not say, and
//! what run would separate the designs it cannot tell apart.

use super::episodes::{Observation, Trigger};
use super::opened::summarize;
use crate::verdict::tolerance::{fmt_pct, fmt_t};

/// The design the openings support and why, or None when nothing opened from closed.
pub fn observed_kind(obs: &Observation) -> Option<(&'static str, String)> {
    let eps: Vec<_> = obs
        .episodes
        .iter()
        .filter(|e| e.trigger == Trigger::Threshold)
        .collect();
    let first = eps.first()?;
    // A consecutive-failure breaker opens on the same count every time, and never lets a run as
    // long as that count pass without opening.
    let longer_run_passed = eps
        .iter()
        .find(|e| e.earlier_streak >= e.failures_min.max(1));
    let lo = eps.iter().map(|e| e.failures_min).max().unwrap_or(0);
    let hi = eps.iter().map(|e| e.failures_max).min().unwrap_or(0);
    let counts_differ = lo > hi;
    if longer_run_passed.is_some() || counts_differ {
        let why = match longer_run_passed {
            Some(e) => format!(
                "before the opening at {}, {} calls failed in a row and calls still went through, at least as many \
                 as the {} that opened it",
                fmt_t(e.opened_at_ms),
                e.earlier_streak,
                e.failures_min
            ),
            None => format!(
                "the openings came after different numbers of consecutive failures ({})",
                eps.iter()
                    .map(|e| format!("{} at {}", e.failures_min, fmt_t(e.opened_at_ms)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let why = format!(
            "{why}: a consecutive-failure breaker would not do that. A failure rate and a count within a window \
             both fit; a phase with the same failures per second at another call rate separates them (a rate \
             breaker's rate changes with the volume, a count does not)"
        );
        return Some(("failure_rate or failures_in_window", why));
    }
    // A partial phase that failed often, never many in a row, and stayed closed: only a
    // consecutive-failure breaker (or a rate threshold above that phase's rate) does that.
    let closed_partial = obs
        .windows
        .iter()
        .filter(|w| !w.invisible)
        .filter(|w| {
            !obs.episodes.iter().any(|e| {
                e.opened_at_ms <= w.to_ms + 1000.0
                    && e.resumed_at_ms.unwrap_or(f64::INFINITY) >= w.from_ms
            })
        })
        .map(|w| (w, summarize(obs, w)))
        .find(|(_, s)| {
            s.failures as u64 >= first.failures_max
                && (s.longest_failure_run as u64) < first.failures_min
        });
    match closed_partial {
        Some((w, s)) => Some((
            "consecutive (or a failure rate above that phase's)",
            format!(
                "every opening followed an unbroken run of failures, and in the fault at {}–{} {} of {} calls failed \
                 (never {} in a row) without an opening: a windowed count of {} would have opened there, and a rate \
                 breaker only fits with a threshold above {}",
                fmt_t(w.from_ms),
                fmt_t(w.to_ms),
                s.failures,
                s.calls,
                first.failures_min,
                first.failures_max,
                fmt_pct(s.failures as f64 / s.calls.max(1) as f64)
            ),
        )),
        None => Some((
            "consecutive (or any kind)",
            "every opening followed an unbroken run of failures (an outage), which opens a consecutive, a rate and a \
             windowed-count breaker alike: add a partial-failure phase (for example every 2nd call failing) to \
             separate them: a consecutive breaker stays closed through it, a rate breaker at or below its rate opens"
                .to_string(),
        )),
    }
}
