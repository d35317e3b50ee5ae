//! Dependency timeout honoured: under a latency or hang fault longer than the claimed timeout, the
//! service gives up each call at the timeout (seen by the proxy as `gave_up_ms`), and clients wait
//! no longer than the attempts, timeouts and backoff allow.

use redline_proxy::log::{LogEntry, Outcome};

use super::evidence::{self, FaultWindow};
use super::matching::slug;
use super::retries;
use super::tolerance::{fmt_ms, fmt_t};
use super::{spec_source, verdict, JudgeContext, Judgement};
use crate::result::{PhaseKind, RunResult, Verdict, VerdictStatus::*};
use crate::spec::claims::{Claims, Dependency};

fn slow_fault(w: &FaultWindow) -> bool {
    matches!(w.kind.as_str(), "latency" | "hang" | "slow" | "timeout")
}

/// Calls held by the fault: tagged latency/hang by the proxy, or hung / given up.
fn held(e: &LogEntry) -> bool {
    matches!(e.fault.as_deref(), Some("latency" | "hang"))
        || matches!(e.outcome, Outcome::Hung | Outcome::CallerGaveUp)
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    for d in claims
        .dependencies
        .iter()
        .filter(|d| d.timeout_ms.is_some())
    {
        let Some(name) = evidence::scenario_dependency(result, ctx, &d.name) else {
            continue;
        };
        out.verdicts
            .extend(judge_dependency(result, claims, ctx, d, &name));
    }
}

fn judge_dependency(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    d: &Dependency,
    name: &str,
) -> Vec<Verdict> {
    let t = d.timeout_ms.unwrap_or_default();
    let source = spec_source(ctx, d.line);
    let id = format!("timeout.{}", slug(&d.name));
    let claim = format!("Calls to {} are given up after {}", d.name, fmt_ms(t));
    let tol = &ctx.duration_tolerance;
    let margin = tol.margin_ms(t);
    let expected = format!("each attempt given up at {} {}", fmt_ms(t), tol.describe(t));
    let windows: Vec<FaultWindow> = evidence::fault_windows(result, name)
        .into_iter()
        .filter(slow_fault)
        .collect();
    if windows.is_empty() {
        let detail = format!(
            "The run put no latency or hang fault on {} longer than its {} timeout, so the timeout was never tested.",
            d.name,
            fmt_ms(t)
        );
        return vec![verdict(
            id,
            claim,
            source,
            expected,
            "not exercised",
            Inconclusive,
            detail,
        )];
    }
    let log = evidence::sorted_log(result, name);
    let calls: Vec<&LogEntry> = log
        .iter()
        .filter(|e| windows.iter().any(|w| w.contains(e.t_ms)) && held(e))
        .collect();
    let mut gave_up: Vec<f64> = calls.iter().filter_map(|e| e.gave_up_ms).collect();
    let waited: Vec<&&LogEntry> = calls
        .iter()
        .filter(|e| e.gave_up_ms.is_none() && e.total_ms > t + margin)
        .collect();
    let early = gave_up.iter().filter(|g| **g < t - margin).count();
    let late = gave_up.iter().filter(|g| **g > t + margin).count();
    let informative = gave_up.len() + waited.len();
    if informative == 0 {
        let detail = format!(
            "No call to {} was held longer than its {} timeout during the fault ({} calls seen): make the delay longer.",
            d.name,
            fmt_ms(t),
            calls.len()
        );
        return vec![verdict(
            id,
            claim,
            source,
            expected,
            "no call held past the timeout",
            Inconclusive,
            detail,
        )];
    }
    let median = evidence::quantile(&mut gave_up, 0.5);
    let mut measured = match median {
        Some(m) => format!(
            "{} call(s) given up after {} (median, range {}–{})",
            gave_up.len(),
            fmt_ms(m),
            fmt_ms(gave_up[0]),
            fmt_ms(gave_up[gave_up.len() - 1])
        ),
        None => "no call given up".to_string(),
    };
    if !waited.is_empty() {
        measured.push_str(&format!("; {} never given up", waited.len()));
    }
    let client_timeout = ctx.client_timeout.map(|c| c.as_secs_f64() * 1000.0);
    let (status, detail) = if !waited.is_empty() {
        let longest = waited.iter().map(|e| e.total_ms).fold(0.0, f64::max);
        (Fail, format!(
            "{} call(s) to {} under the {} were never given up by the service (held up to {}): it has no timeout on \
             these calls, the spec claims {}.",
            waited.len(),
            d.name,
            windows[0].describe(),
            fmt_ms(longest),
            fmt_ms(t)
        ))
    } else if late > 0 {
        let m = median.unwrap_or_default();
        let own = client_timeout.filter(|c| (m - c).abs() <= tol.margin_ms(*c));
        match own {
            Some(c) => (Fail, format!(
                "The service gave up on {} only when the load generator gave up ({}, its own client timeout), not \
                 at the claimed {}: the service has no timeout of its own on these calls.",
                d.name,
                fmt_ms(c),
                fmt_ms(t)
            )),
            None => (Fail, format!(
                "{late} of {} calls to {} were given up later than the claimed {} (median {}): fix the timeout or the spec.",
                gave_up.len(),
                d.name,
                fmt_ms(t),
                fmt_ms(m)
            )),
        }
    } else if early > 0 {
        (Fail, format!(
            "{early} of {} calls to {} were given up before the claimed {} (median {}): the real timeout is shorter.",
            gave_up.len(),
            d.name,
            fmt_ms(t),
            fmt_ms(median.unwrap_or_default())
        ))
    } else {
        (
            Pass,
            format!(
                "Every call to {} held by the fault was given up at {} as claimed.",
                d.name,
                fmt_ms(median.unwrap_or_default())
            ),
        )
    };
    let mut out = vec![verdict(
        id.clone(),
        claim,
        source.clone(),
        expected,
        measured,
        status,
        detail,
    )];
    out.extend(client_bound(
        result, claims, d, name, &windows, t, margin, id, source,
    ));
    out
}

/// Clients must not wait longer than attempts × (timeout + margin) + backoff + 1 s of the service's own work.
#[allow(clippy::too_many_arguments)]
fn client_bound(
    result: &RunResult,
    claims: &Claims,
    d: &Dependency,
    name: &str,
    windows: &[FaultWindow],
    t: f64,
    margin: f64,
    id: String,
    source: String,
) -> Option<Verdict> {
    let policy = retries::policy_for(claims, &d.name, d.kind.as_deref());
    let attempts = policy.map_or(1, retries::max_attempts) as usize;
    let backoff: f64 = policy.map_or(0.0, |p| {
        (0..attempts - 1)
            .filter_map(|k| retries::expected_wait(p, k))
            .map(|w| w * (1.0 + p.jitter.unwrap_or(0.0)))
            .sum()
    });
    let bound = attempts as f64 * (t + margin) + backoff + 1000.0;
    let overlaps = |from_s: f64, to_s: f64| {
        windows
            .iter()
            .any(|w| from_s * 1000.0 < w.to_ms && to_s * 1000.0 > w.from_ms)
    };
    let mut worst: Option<(f64, String, u64)> = None;
    for p in result
        .phases
        .iter()
        .filter(|p| p.kind == PhaseKind::Fault && overlaps(p.from_s, p.to_s))
    {
        for (req, s) in &p.operations {
            if s.count > 0 && worst.as_ref().map_or(true, |w| s.latency_ms.p99 > w.0) {
                worst = Some((
                    s.latency_ms.p99,
                    format!("{req} in phase '{}'", p.name),
                    s.count,
                ));
            }
        }
    }
    let (p99, at, n) = worst?;
    let claim = format!(
        "Clients wait no longer than {}'s timeout allows during its fault",
        d.name
    );
    let expected = format!(
        "p99 ≤ {} ({attempts} attempt(s) × {} + backoff + 1 s)",
        fmt_ms(bound),
        fmt_ms(t + margin)
    );
    let measured = format!("p99 {} ({at}, {n} requests)", fmt_ms(p99));
    let (status, detail) = if p99 <= bound {
        (
            Pass,
            format!(
                "Client latency stayed bounded by the {} timeout while {name} was slow.",
                fmt_ms(t)
            ),
        )
    } else {
        (Fail, format!(
            "Clients waited {} at p99 ({at}) while {name} was slow from {}, more than its {} timeout allows ({}).",
            fmt_ms(p99),
            fmt_t(windows[0].from_ms),
            fmt_ms(t),
            fmt_ms(bound)
        ))
    };
    Some(verdict(
        format!("{id}.client"),
        claim,
        source,
        expected,
        measured,
        status,
        detail,
    ))
}
