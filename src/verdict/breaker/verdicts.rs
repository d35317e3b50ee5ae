//! One verdict per breaker setting every kind shares: recovery timeout (grown per reopening, or
//! linearly per Envoy ejection), half-open probes, resuming.

use super::episodes::{Episode, Observation, Outcome, Trigger};
use crate::result::{RunResult, Verdict};
use crate::spec::claims::{Breaker, RecoveryGrowth};
use crate::verdict::evidence;
use crate::verdict::model::{Claim, JudgeContext};
use crate::verdict::tolerance::{explain, fmt_ms, fmt_pct, fmt_t};

/// Expected time between dependency calls while the breaker was open, from client demand.
fn interarrival_ms(result: &RunResult, obs: &Observation, from_ms: f64, to_ms: f64) -> f64 {
    let calls = evidence::client_sends(result, from_ms, to_ms) * obs.calls_per_request;
    if calls <= 0.0 {
        return 1000.0;
    }
    ((to_ms - from_ms) / calls).min(1000.0)
}

/// The claimed open time of each episode: the first, grown by the multiplier for each reopening
/// after a failed probe (resilience4j's exponential wait, cockatiel's backoff), up to the cap; or,
/// growing linearly (Envoy), `r` × the ejection count, capped at the larger of the cap and `r`.
fn claimed_open_ms(b: &Breaker, r: f64, reopenings: i32) -> f64 {
    let cap = b.recovery_max_ms.filter(|c| c.is_finite() && *c > 0.0);
    if b.recovery_growth == Some(RecoveryGrowth::Linear) {
        let grown = r * f64::from(reopenings + 1);
        return cap.map_or(grown, |c| grown.min(c.max(r)));
    }
    let m = b
        .recovery_multiplier
        .filter(|m| m.is_finite() && *m > 0.0)
        .unwrap_or(1.0);
    let grown = r * m.powi(reopenings);
    cap.map_or(grown, |cap| grown.min(cap))
}

/// The growth step of each episode: reopenings after failed probes in a row (reset by an opening
/// from a closed state), or for linear growth Envoy's ejection count: one more per ejection, one
/// less for each sweep that found the host back in service (without a claimed sweep, reopenings).
fn growth_steps(b: &Breaker, episodes: &[Episode]) -> Vec<i32> {
    let sweep = b
        .ejection_sweep_ms
        .filter(|s| s.is_finite() && *s > 0.0)
        .filter(|_| b.recovery_growth == Some(RecoveryGrowth::Linear));
    let mut steps: Vec<i32> = Vec::with_capacity(episodes.len());
    let mut back_at: Option<f64> = None;
    for e in episodes {
        let before = steps.last().copied();
        let step = match (sweep, before, back_at) {
            // The count before this ejection was `prev + 1`, less the sweeps that found it back.
            (Some(s), Some(prev), Some(back)) => {
                let healthy = ((e.opened_at_ms - back) / s).floor().max(0.0) as i32;
                (prev + 1 - healthy).max(0)
            }
            (Some(_), _, _) => 0,
            (None, Some(prev), _) if e.trigger == Trigger::Probe => prev + 1,
            (None, _, _) => 0,
        };
        steps.push(step);
        back_at = e.resumed_at_ms;
    }
    steps
}

/// "1 s" or "1 s, ×2 per reopening up to 8 s" or "500 ms × the ejection count".
fn describe_open(b: &Breaker, r: f64) -> String {
    if b.recovery_growth == Some(RecoveryGrowth::Linear) {
        return format!(
            "{} × the number of times opened{}",
            fmt_ms(r),
            b.recovery_max_ms
                .map(|c| format!(" up to {}", fmt_ms(c)))
                .unwrap_or_default()
        );
    }
    match b
        .recovery_multiplier
        .filter(|m| m.is_finite() && *m > 0.0 && (*m - 1.0).abs() > 1e-9)
    {
        Some(m) => format!(
            "{}, ×{m} per reopening{}",
            fmt_ms(r),
            b.recovery_max_ms
                .map(|c| format!(" up to {}", fmt_ms(c)))
                .unwrap_or_default()
        ),
        None => fmt_ms(r),
    }
}

/// Recovery timeout: time from opening to the first call let through again, per episode (the
/// claimed growth and jitter applied).
pub fn recovery(
    result: &RunResult,
    ctx: &JudgeContext,
    obs: &Observation,
    (r, b): (f64, &Breaker),
    source: &str,
    id: String,
) -> Verdict {
    let dep = &obs.dependency;
    let claimed = describe_open(b, r);
    let claim = format!("The breaker on {dep} stays open {claimed} before probing");
    let tol = &ctx.duration_tolerance;
    let jitter = b
        .recovery_jitter
        .filter(|j| j.is_finite())
        .unwrap_or(0.0)
        .clamp(0.0, 1.0);
    let expected = format!("{claimed} {} (+1 request gap)", tol.short(r));
    let mut rule = format!(
        "{} The time open may also run up to one gap between requests over, waiting for the next caller.",
        tol.rule(r)
    );
    if jitter > 0.0 {
        rule.push_str(&format!(
            " The claimed jitter (±{}) widens it.",
            fmt_pct(jitter)
        ));
    }
    let c = Claim::new(id, claim, source, expected);
    // (episode, time open, request gap, claimed open time)
    let mut timed: Vec<(&Episode, f64, f64, f64)> = Vec::new();
    for (e, step) in obs.episodes.iter().zip(growth_steps(b, &obs.episodes)) {
        let (Some(open), Some(resumed)) = (e.open_for_ms(), e.resumed_at_ms) else {
            continue;
        };
        let gap = interarrival_ms(result, obs, e.opened_at_ms, resumed);
        timed.push((e, open, gap, claimed_open_ms(b, r, step)));
    }
    if timed.is_empty() {
        let detail = format!(
            "Traffic to {dep} never resumed before the run ended, so the time open could not be measured: \
             run longer after the breaker opens."
        );
        return explain(c.inconclusive("never resumed", detail), &rule);
    }
    let measured = format!(
        "open {}",
        timed
            .iter()
            .map(|(_, o, _, _)| fmt_ms(*o))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // nginx reads its clock in whole seconds: a peer is skipped while `now - checked <= fail_timeout`.
    let coarse = if b.library.as_deref().is_some_and(|l| l.contains("nginx")) {
        rule.push_str(" nginx counts the open time in whole seconds: it may run up to 1 s over.");
        1000.0
    } else {
        0.0
    };
    // Envoy returns an ejected host at the first sweep after its ejection time.
    let sweep = b
        .ejection_sweep_ms
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(0.0);
    if sweep > 0.0 {
        rule.push_str(&format!(
            " Ejections are lifted at sweeps every {}: it may run up to that over.",
            fmt_ms(sweep)
        ));
    }
    let coarse = coarse + sweep;
    let margin = |want: f64| tol.margin_ms(want) + jitter * want;
    let bad = timed.iter().find(|(_, open, slack, want)| {
        *open < want - margin(*want) || *open > want + margin(*want) + slack + coarse
    });
    match bad {
        None => {
            let detail = if timed.iter().any(|t| (t.3 - r).abs() > 1e-9) {
                let each: Vec<String> = timed
                    .iter()
                    .map(|(e, o, _, w)| {
                        format!(
                            "{} at {} (claimed {})",
                            fmt_ms(*o),
                            fmt_t(e.opened_at_ms),
                            fmt_ms(*w)
                        )
                    })
                    .collect();
                format!(
                    "Each time it opened, traffic to {dep} resumed after the claimed open time, grown per reopening: {}.",
                    each.join(", ")
                )
            } else {
                format!(
                    "Each time it opened, traffic to {dep} resumed after the claimed {} (within {}).",
                    fmt_ms(r),
                    fmt_ms(margin(r))
                )
            };
            explain(c.pass(measured, detail), &rule)
        }
        Some((e, open, _, want)) => {
            let how = if open > want { "longer" } else { "shorter" };
            let grown = if (want - r).abs() > 1e-9 {
                format!(" (the claimed {claimed}, grown for this reopening)")
            } else {
                String::new()
            };
            let detail = format!(
                "The breaker on {dep} opened at {} and let the next call through after {}, {how} than the claimed {}{grown} \
                 ({}): fix recovery_timeout in the spec or the breaker's configuration.",
                fmt_t(e.opened_at_ms),
                fmt_ms(*open),
                fmt_ms(*want),
                tol.describe(*want)
            );
            explain(c.fail(measured, detail), &rule)
        }
    }
}

/// True when the probes seen match `k`: as calls, or as requests that each made every attempt of
/// the retry policy (a breaker around the retry loop admits requests, not calls).
fn allows(e: &Episode, k: u64, attempts: Option<u32>) -> bool {
    let as_requests = match (e.probe_requests, attempts) {
        (Some(r), Some(m)) if m > 1 => r == k && e.probes == r * u64::from(m),
        _ => false,
    };
    e.probes == k || (as_requests && e.outcome == Outcome::Reopened)
}

/// Half-open probes: calls let through after the pause before the breaker decided.
pub fn probes(
    obs: &Observation,
    k: u32,
    attempts: Option<u32>,
    source: &str,
    id: String,
) -> Verdict {
    let dep = &obs.dependency;
    let k64 = u64::from(k);
    let claim = format!("The breaker on {dep} lets {k} probe(s) through when half-open");
    let expected = format!("{k} probe(s)");
    let c = Claim::new(id, claim, source, expected);
    let decided: Vec<&Episode> = obs
        .episodes
        .iter()
        .filter(|e| e.outcome != Outcome::Unknown)
        .collect();
    let measured = if decided.is_empty() {
        "no probe seen".to_string()
    } else {
        let parts: Vec<String> = decided
            .iter()
            .map(|e| {
                let then = if e.outcome == Outcome::Reopened {
                    "reopened"
                } else {
                    "closed"
                };
                match e.probe_requests.filter(|r| *r != e.probes) {
                    Some(r) => format!("{} ({r} requests) then {then}", e.probes),
                    None => format!("{} then {then}", e.probes),
                }
            })
            .collect();
        format!("probes: {}", parts.join(", "))
    };
    // The table shows the counts; the outcomes go to the detail.
    let outcomes = if decided.is_empty() {
        String::new()
    } else {
        format!(
            " Probes per half-open episode: {}.",
            measured.trim_start_matches("probes: ")
        )
    };
    let measured = if decided.is_empty() {
        measured
    } else {
        let counts: Vec<String> = decided.iter().map(|e| e.probes.to_string()).collect();
        let n = counts.len();
        if counts.iter().all(|c| *c == counts[0]) && n > 1 {
            format!("{} probe(s) each time ({n}×)", counts[0])
        } else {
            format!("{} probe(s)", counts.join(", "))
        }
    };
    let exact = decided
        .iter()
        .find(|e| e.outcome == Outcome::Reopened && e.probes_exact && !allows(e, k64, attempts));
    if let Some(e) = exact {
        let detail = format!(
            "After the pause at {}, the breaker kept letting probes through to {dep} after one had already failed, \
             and reopened once {} had answered: it allows {}, the spec claims {k}.",
            fmt_t(e.opened_at_ms),
            e.probes,
            match e.probe_requests.filter(|r| *r != e.probes) {
                Some(r) => format!("{r} half-open request(s) with their retries ({} calls)", e.probes),
                None => format!("{} half-open probe(s)", e.probes),
            }
        );
        return c.fail(measured, format!("{detail}{outcomes}"));
    }
    let over = decided
        .iter()
        .find(|e| e.probes > k64 && !allows(e, k64, attempts));
    let under = decided
        .iter()
        .find(|e| e.probes < k64 && e.demand_during_probes >= e.probes as f64 + 2.0);
    if let Some(e) = over {
        let detail = format!(
            "After the pause at {}, {} calls reached {dep} before the breaker {}; the spec allows {k} half-open \
             probe(s). Limit the half-open calls or fix half_open_requests in the spec.",
            fmt_t(e.opened_at_ms),
            e.probes,
            if e.outcome == Outcome::Reopened { "reopened" } else { "had its first success" }
        );
        return c.fail(measured, format!("{detail}{outcomes}"));
    }
    if let Some(e) = under {
        let detail = format!(
            "After the pause at {}, the breaker let only {} call(s) through to {dep} while clients sent about {:.0} \
             requests before it decided; the spec claims {k} probe(s). Fix half_open_requests in the spec or the breaker.",
            fmt_t(e.opened_at_ms),
            e.probes,
            e.demand_during_probes
        );
        return c.fail(measured, format!("{detail}{outcomes}"));
    }
    // Seeing K probes proves K only if the breaker could have let more through and did not: it
    // waited for all of them, or clients kept asking while they were undecided.
    let proven = |e: &&&Episode| e.probes_exact || e.demand_during_probes >= e.probes as f64 + 2.0;
    if decided
        .iter()
        .filter(proven)
        .any(|e| allows(e, k64, attempts))
    {
        let detail = format!("When half-open, the breaker on {dep} let {k} probe(s) through before deciding, as claimed.");
        return c.pass(measured, format!("{detail}{outcomes}"));
    }
    let detail = format!(
        "Every probe to {dep} was answered before more requests arrived, so the number of probes allowed never \
         showed (a breaker that reopens on the first failed probe looks the same whatever it allows): use a hang \
         or latency fault that outlasts the recovery timeout so probes overlap."
    );
    c.inconclusive(measured, format!("{detail}{outcomes}"))
}

/// Traffic resumed once each fault ended (successful calls within the recovery allowance).
pub fn resumes(
    result: &RunResult,
    ctx: &JudgeContext,
    obs: &Observation,
    recovery_ms: Option<f64>,
    source: &str,
    id: String,
) -> Verdict {
    let dep = &obs.dependency;
    let claim = format!("Calls to {dep} resume once it recovers");
    // Judged against the breaker's own time open (the recovery verdict judges that against the claim),
    // so a wrong recovery claim is not failed twice.
    let longest_open = obs
        .episodes
        .iter()
        .filter_map(Episode::open_for_ms)
        .fold(0.0, f64::max);
    let allowed = recovery_ms.map(|r| {
        let r = r.max(longest_open);
        r + ctx.duration_tolerance.margin_ms(r) + 1000.0
    });
    let expected = match allowed {
        Some(a) => format!("a success within {}", fmt_ms(a)),
        None => "a success after the fault".to_string(),
    };
    let c = Claim::new(id, claim, source, expected);
    let run_end = result.duration_s * 1000.0;
    // (fault end, delay to the first successful call) for each fault window that could be judged.
    let mut resumed: Vec<(f64, f64)> = Vec::new();
    // Windows followed by another fault too soon for calls to be expected back in between (for
    // example an abort fault followed at once by a hang): only the later window says anything.
    let mut followed: Vec<String> = Vec::new();
    for (i, w) in obs.windows.iter().enumerate() {
        if w.to_ms >= run_end - 1.0 {
            let detail = format!(
                "The fault on {dep} was still active when the run ended: add a recovery phase."
            );
            return c.inconclusive("fault active until the end", detail);
        }
        let next_fault = obs.windows[i + 1..]
            .iter()
            .map(|x| x.from_ms)
            .find(|&f| f >= w.to_ms)
            .unwrap_or(run_end);
        // A later window that began inside this one ends after it: judge that one instead.
        if obs.windows[i + 1..]
            .iter()
            .any(|x| x.from_ms < w.to_ms && x.to_ms > w.to_ms)
        {
            continue;
        }
        let first_ok = obs
            .log
            .iter()
            .find(|e| e.t_ms >= w.to_ms && e.t_ms < next_fault && !evidence::is_failure(e))
            .map(|e| e.t_ms);
        if let Some(t) = first_ok {
            resumed.push((w.to_ms, t - w.to_ms));
            continue;
        }
        let gap = next_fault - w.to_ms;
        if next_fault < run_end && gap < allowed.unwrap_or(1000.0) {
            let when = if gap < 1.0 {
                "at once".to_string()
            } else {
                format!("{} later", fmt_ms(gap))
            };
            followed.push(format!(
                "the {} was followed {when} by the next fault",
                w.describe()
            ));
            continue;
        }
        let demand = evidence::client_sends(result, w.to_ms, next_fault);
        if demand * obs.calls_per_request < 3.0 {
            let detail = format!(
                "Clients sent about {demand:.0} request(s) between the end of the fault on {dep} at {} and {}: too \
                 few to see calls resume.",
                fmt_t(w.to_ms),
                fmt_t(next_fault)
            );
            return c.inconclusive("no demand after the fault", detail);
        }
        let detail = format!(
            "No call to {dep} succeeded between the end of the fault at {} and {} while clients kept sending \
             (about {:.0} requests): the breaker stayed open or the service stopped calling {dep}.",
            fmt_t(w.to_ms),
            fmt_t(next_fault),
            demand
        );
        return c.fail("never resumed", detail);
    }
    let skipped = if followed.is_empty() {
        String::new()
    } else {
        format!(" Not judged on its own: {}.", followed.join("; "))
    };
    let Some(&(_, worst)) = resumed.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        let detail = format!(
            "Every fault on {dep} was followed by another before calls could resume, and none ended before the \
             run did.{skipped}"
        );
        return c.inconclusive("no fault ended in the open", detail);
    };
    let each: Vec<String> = resumed
        .iter()
        .map(|(end, d)| format!("{} after the fault ending at {}", fmt_ms(*d), fmt_t(*end)))
        .collect();
    let measured = if resumed.len() == 1 {
        format!("resumed after {}", fmt_ms(worst))
    } else {
        format!(
            "resumed within {} ({} faults)",
            fmt_ms(worst),
            resumed.len()
        )
    };
    if let Some(a) = allowed.filter(|a| worst > *a) {
        let detail = format!(
            "Successful calls to {dep} came back only {}; with the breaker's recovery time they should within {}.{skipped}",
            each.join(", "),
            fmt_ms(a)
        );
        return c.fail(measured, detail);
    }
    let detail = format!(
        "Successful calls to {dep} resumed {}.{skipped}",
        each.join(", ")
    );
    c.pass(measured, detail)
}
