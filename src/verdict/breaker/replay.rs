//! Replays a rate or windowed-count rule over the closed periods of a run and compares it with the
//! openings seen: where the rule was met but calls went on (late or missed), where the breaker
//! opened without the rule met (early), the openings it explains, and the fault windows in which
//! it rightly stayed closed.

use super::episodes::{completions, Episode, Observation, Outcome, Trigger};
use super::rule::{Calls, Reading, Rule, Says, Window, WINDOW_LONG};

/// Calls admitted this long after the service learned of the tripping failure may have been
/// admitted before it had read it (the proxy times the answer; the service reads it a moment later).
pub const LATE_SLACK_MS: f64 = 5.0;
/// A breaker that opened at the rule's moment may still have let this many racing calls through.
pub const RACING_CALLS: u64 = 1;

/// A stretch during which the breaker was closed.
#[derive(Debug, Clone, PartialEq)]
struct Period {
    /// When it closed (first successful probe known), or -inf at the start of the run.
    from_ms: f64,
    /// The last call admitted before it opened again (+inf: it never did).
    until_ms: f64,
    /// The threshold episode that ended it.
    opening: Option<usize>,
}

/// The rule was met at `reading.at_ms` but `calls_after` more calls went through.
#[derive(Debug, Clone, PartialEq)]
pub struct Late {
    pub reading: Reading,
    pub calls_after: u64,
    /// When the breaker did open (None: not before it closed for good or the run ended).
    pub opened_at_ms: Option<f64>,
}

/// An opening the rule does not allow: the reading at the opening.
#[derive(Debug, Clone, PartialEq)]
pub struct Early {
    pub episode: usize,
    pub reading: Reading,
}

/// An opening the rule explains; `exact` when every variant of the window agrees.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub episode: usize,
    pub reading: Reading,
    pub exact: bool,
}

/// A fault window in which the breaker stayed closed, with the highest reading in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quiet {
    pub from_ms: f64,
    pub to_ms: f64,
    pub peak: Option<Reading>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replay {
    pub late: Vec<Late>,
    pub early: Vec<Early>,
    pub fits: Vec<Fit>,
    pub quiet: Vec<Quiet>,
}

/// Replays `rule` over the observation.
pub fn replay(rule: &Rule, obs: &Observation) -> Replay {
    let ends = completions(&obs.log, obs.slow_call_ms);
    let calls = Calls {
        ends: &ends,
        log: &obs.log,
    };
    let mut out = Replay::default();
    for p in periods(obs, &ends) {
        let opener_from = p
            .opening
            .map_or(f64::INFINITY, |i| obs.episodes[i].opener_from_ms);
        if let Some(late) = first_late(rule, obs, &calls, &p, opener_from) {
            out.late.push(late);
        }
        if let Some(i) = p.opening {
            judge_opening(rule, &calls, &p, i, &obs.episodes[i], &mut out);
        }
    }
    out.quiet = quiet_windows(rule, obs, &calls);
    out
}

/// The closed stretches: from the start (or a close) to the next opening from closed.
fn periods(obs: &Observation, ends: &[(f64, bool, usize)]) -> Vec<Period> {
    let mut out = Vec::new();
    let (mut from, mut closed) = (f64::NEG_INFINITY, true);
    for (i, e) in obs.episodes.iter().enumerate() {
        if e.trigger == Trigger::Threshold && closed {
            out.push(Period {
                from_ms: from,
                until_ms: e.last_call_ms,
                opening: Some(i),
            });
        }
        closed = false;
        match (e.outcome, close_ms(obs, ends, e)) {
            (Outcome::Closed, Some(t)) => (from, closed) = (t, true),
            (Outcome::Reopened, _) => {}
            _ => break,
        }
    }
    if closed {
        out.push(Period {
            from_ms: from,
            until_ms: f64::INFINITY,
            opening: None,
        });
    }
    out
}

/// When the service learned of the first successful probe after the pause.
fn close_ms(obs: &Observation, ends: &[(f64, bool, usize)], e: &Episode) -> Option<f64> {
    let resumed = e.resumed_at_ms?;
    ends.iter()
        .filter(|(_, failed, idx)| !failed && obs.log[*idx].t_ms >= resumed)
        .map(|(end, _, _)| *end)
        .next()
}

/// The first failure in the period at which the rule must have opened the breaker, when more
/// calls went through after it than a racing call or two.
fn first_late(
    rule: &Rule,
    obs: &Observation,
    calls: &Calls,
    p: &Period,
    opener_from: f64,
) -> Option<Late> {
    for (k, &(end, failed, idx)) in calls.ends.iter().enumerate() {
        if !failed || end < p.from_ms || obs.log[idx].t_ms < p.from_ms || end >= opener_from {
            continue;
        }
        if end > p.until_ms {
            break;
        }
        // Right after a close a time window still holds what the library counted while open
        // (opossum counts refused calls as fired): hold it to the rule once a whole window has passed.
        if let Window::Time(w) = rule.window() {
            if p.from_ms.is_finite() && end - w * (1.0 + WINDOW_LONG) < p.from_ms {
                continue;
            }
        }
        if calls.says(rule, k, p.from_ms) != Says::Must {
            continue;
        }
        let calls_after = obs
            .log
            .iter()
            .filter(|e| e.t_ms > end + LATE_SLACK_MS + rule.lag_ms() && e.t_ms <= p.until_ms)
            .count() as u64;
        if calls_after > RACING_CALLS {
            return Some(Late {
                reading: calls.reading(rule, k, p.from_ms),
                calls_after,
                opened_at_ms: p.opening.map(|i| obs.episodes[i].opened_at_ms),
            });
        }
        // Met in time: the opening that follows is judged on its own.
        return None;
    }
    None
}

/// Whether one of the failures that may have opened episode `i` met the rule.
fn judge_opening(rule: &Rule, calls: &Calls, p: &Period, i: usize, e: &Episode, out: &mut Replay) {
    let candidates: Vec<usize> = (0..calls.ends.len())
        .filter(|&k| {
            let (end, failed, _) = calls.ends[k];
            failed && end >= e.opener_from_ms && end <= e.opener_to_ms
        })
        .collect();
    let says: Vec<(usize, Says)> = candidates
        .iter()
        .map(|&k| (k, calls.says(rule, k, p.from_ms)))
        .collect();
    let exact = says.iter().find(|(_, s)| *s == Says::Must);
    let maybe = says.iter().find(|(_, s)| *s == Says::May);
    match (exact, maybe, candidates.first()) {
        (Some(&(k, _)), _, _) | (None, Some(&(k, _)), _) => out.fits.push(Fit {
            episode: i,
            reading: calls
                .tripping(rule, k, p.from_ms)
                .unwrap_or_else(|| calls.reading(rule, k, p.from_ms)),
            exact: exact.is_some(),
        }),
        (None, None, Some(&k)) => out.early.push(Early {
            episode: i,
            reading: calls.reading(rule, k, p.from_ms),
        }),
        (None, None, None) => {}
    }
}

/// Fault windows with no opening from closed, and the highest reading in each (by rate for a
/// rate rule, by count for a windowed count).
fn quiet_windows(rule: &Rule, obs: &Observation, calls: &Calls) -> Vec<Quiet> {
    let mut out = Vec::new();
    for w in obs.windows.iter().filter(|w| !w.invisible) {
        // Quiet only if the breaker was closed throughout: no opening in it, none open across it.
        let open_in = obs.episodes.iter().any(|e| {
            e.opened_at_ms <= w.to_ms + 1000.0
                && e.resumed_at_ms.unwrap_or(f64::INFINITY) >= w.from_ms
        });
        if open_in {
            continue;
        }
        let peak = (0..calls.ends.len())
            .filter(|&k| {
                let (end, failed, idx) = calls.ends[k];
                failed && w.contains(obs.log[idx].t_ms) && end <= w.to_ms + 1000.0
            })
            .map(|k| calls.reading(rule, k, f64::NEG_INFINITY))
            .max_by(|a, b| match rule {
                Rule::Rate { .. } => a.rate().total_cmp(&b.rate()),
                Rule::Count { .. } => a.failures.cmp(&b.failures),
            });
        out.push(Quiet {
            from_ms: w.from_ms,
            to_ms: w.to_ms,
            peak,
        });
    }
    out
}
