//! Dependency timeout honoured: under a latency or hang fault longer than the claimed timeout, the
//! service gives up each call at the timeout (seen by the proxy as `gave_up_ms`), and clients wait
//! no longer than the attempts, timeouts and backoff allow.

use redline_proxy::log::{LogEntry, Outcome};

use super::evidence::{self, FaultWindow};
use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::retries;
use super::tolerance::{explain, fmt_ms, fmt_t};
use crate::result::{PhaseKind, RunResult, Verdict};
use crate::spec::claims::{Claims, Dependency};

fn slow_fault(w: &FaultWindow) -> bool {
    matches!(
        w.kind.as_str(),
        "latency" | "hang" | "throttle" | "slow" | "timeout"
    )
}

/// Calls held by the fault: tagged latency/hang/throttle by the proxy, or hung / given up.
fn held(e: &LogEntry) -> bool {
    matches!(e.fault.as_deref(), Some("latency" | "hang" | "throttle"))
        || matches!(e.outcome, Outcome::Hung | Outcome::CallerGaveUp)
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    for (d, name) in claimed_timeouts(result, claims, ctx) {
        out.verdicts
            .extend(judge_dependency(result, claims, ctx, d, &name));
    }
}

/// The dependencies with a claimed timeout that this run's scenario has, each with its scenario
/// name: what both the give-up verdict and the gRPC deadline verdict judge.
pub(super) fn claimed_timeouts<'a>(
    result: &'a RunResult,
    claims: &'a Claims,
    ctx: &'a JudgeContext,
) -> impl Iterator<Item = (&'a Dependency, String)> + 'a {
    claims
        .dependencies
        .iter()
        .filter(|d| d.timeout_ms.is_some())
        .filter_map(|d| Some((d, evidence::scenario_dependency(result, ctx, &d.name)?)))
}

/// What the proxy saw of the calls held by slow faults, sorted by who ended them.
struct GiveUps {
    /// Give-up times (ms after arrival) of calls the service itself abandoned, sorted.
    by_service: Vec<f64>,
    /// Calls abandoned at the moment the load generator gave up on their request.
    by_client: usize,
    /// Calls held past the timeout and never given up.
    waited: Vec<f64>,
    seen: usize,
}

fn give_ups(
    result: &RunResult,
    d: &Dependency,
    name: &str,
    windows: &[FaultWindow],
    t: f64,
    margin: f64,
) -> GiveUps {
    let log = evidence::sorted_log(result, name);
    let calls: Vec<&LogEntry> = log
        .iter()
        .filter(|e| windows.iter().any(|w| w.contains(e.t_ms)) && held(e))
        .filter(|e| !evidence::is_health_check(e, Some(d)))
        .collect();
    // A call still open when the load generator gave up on its request was abandoned because the
    // client went away (the service noticing it late, or never), not by the service's own timeout.
    let abandoned = evidence::ClientGiveUps::read(result);
    let by_client = |e: &LogEntry| abandoned.abandoned(e);
    let mut by_service: Vec<f64> = calls
        .iter()
        .filter(|e| !by_client(e))
        .filter_map(|e| e.gave_up_ms)
        .collect();
    by_service.sort_by(f64::total_cmp);
    GiveUps {
        by_service,
        by_client: calls.iter().filter(|e| by_client(e)).count(),
        waited: calls
            .iter()
            .filter(|e| e.gave_up_ms.is_none() && e.total_ms > t + margin)
            .map(|e| e.total_ms)
            .collect(),
        seen: calls.len(),
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
    let tol = &ctx.duration_tolerance;
    let margin = tol.margin_ms(t);
    let c = Claim::new(
        format!("timeout.{}", slug(&d.name)),
        format!("Calls to {} are given up after {}", d.name, fmt_ms(t)),
        spec_source(ctx, d.line),
        format!("{} {} per attempt", fmt_ms(t), tol.short(t)),
    );
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
        return vec![c.inconclusive("not exercised", detail)];
    }
    let g = give_ups(result, d, name, &windows, t, margin);
    if g.by_service.len() + g.waited.len() + g.by_client == 0 {
        let detail = format!(
            "No call to {} was held longer than its {} timeout during the fault ({} calls seen): make the delay longer.",
            d.name,
            fmt_ms(t),
            g.seen
        );
        return vec![c.inconclusive("no call held past the timeout", detail)];
    }
    let mut out = vec![explain(
        give_up_verdict(&c, ctx, d, &windows[0], &g, t),
        &tol.rule(t),
    )];
    out.extend(client_bound(result, claims, d, name, &windows, ctx, &c));
    out
}

fn give_up_verdict(
    c: &Claim,
    ctx: &JudgeContext,
    d: &Dependency,
    w: &FaultWindow,
    g: &GiveUps,
    t: f64,
) -> Verdict {
    let margin = ctx.duration_tolerance.margin_ms(t);
    let s = &g.by_service;
    let median = s.get(s.len() / 2).copied();
    let measured = match median {
        _ if !g.waited.is_empty() => format!("{} call(s) never given up", g.waited.len()),
        Some(m) => format!("median {} ({} calls)", fmt_ms(m), s.len()),
        None => "no call given up".to_string(),
    };
    let range = match (s.first(), s.last()) {
        (Some(lo), Some(hi)) => format!(
            " {} call(s) were given up by the service, after {}–{}.",
            s.len(),
            fmt_ms(*lo),
            fmt_ms(*hi)
        ),
        _ => String::new(),
    };
    let abandoned = if g.by_client > 0 {
        format!(
            " {} more were abandoned only when the client gave up.",
            g.by_client
        )
    } else {
        String::new()
    };
    let (dep, claimed) = (&d.name, fmt_ms(t));
    let early = s.iter().filter(|x| **x < t - margin).count();
    let late = s.iter().filter(|x| **x > t + margin).count();
    if !g.waited.is_empty() {
        let longest = g.waited.iter().copied().fold(0.0, f64::max);
        let detail = format!(
            "{} call(s) to {dep} under the {} were never given up by the service (held up to {}): it has no \
             timeout on these calls, the spec claims {claimed}.",
            g.waited.len(),
            w.describe(),
            fmt_ms(longest)
        );
        return c.fail(measured, detail);
    }
    let Some(m) = median else {
        let detail = format!(
            "The service never gave up on {dep} by itself: all {} calls held by the {} were abandoned only when \
             the load generator gave up on the request. It has no timeout on these calls; the spec claims {claimed}.",
            g.by_client,
            w.describe()
        );
        return c.fail(measured, detail);
    };
    let client_timeout = ctx.client_timeout.map(|c| c.as_secs_f64() * 1000.0);
    if late > 0 {
        let detail = match client_timeout.filter(|c| (m - c).abs() <= ctx.duration_tolerance.margin_ms(*c)) {
            Some(own) => format!(
                "The service gave up on {dep} only when the load generator gave up ({}, its own client timeout), \
                 not at the claimed {claimed}: the service has no timeout of its own on these calls.",
                fmt_ms(own)
            ),
            None => format!(
                "{late} of {} calls to {dep} were given up later than the claimed {claimed} (median {}): fix the \
                 timeout or the spec.",
                s.len(),
                fmt_ms(m)
            ),
        };
        return c.fail(measured, format!("{detail}{range}{abandoned}"));
    }
    if early > 0 {
        let detail = format!(
            "{early} of {} calls to {dep} were given up before the claimed {claimed} (median {}): the real timeout \
             is shorter.",
            s.len(),
            fmt_ms(m)
        );
        return c.fail(measured, format!("{detail}{range}{abandoned}"));
    }
    c.pass(
        measured,
        format!(
            "Every call to {dep} held by the {} was given up at {} (median) as claimed.{range}{abandoned}",
            w.describe(),
            fmt_ms(m)
        ),
    )
}

/// Clients must not wait longer than attempts × (timeout + margin) + backoff + 1 s of the service's own work.
fn client_bound(
    result: &RunResult,
    claims: &Claims,
    d: &Dependency,
    name: &str,
    windows: &[FaultWindow],
    ctx: &JudgeContext,
    base: &Claim,
) -> Option<Verdict> {
    let t_ms = d.timeout_ms.unwrap_or_default();
    let attempt_ms = t_ms + ctx.duration_tolerance.margin_ms(t_ms);
    let client_timeout = ctx.client_timeout.map(|c| c.as_secs_f64() * 1000.0);
    let policy = retries::policy_for(claims, &d.name, d.kind.as_deref());
    let attempts = policy.map_or(1, retries::max_attempts) as usize;
    let backoff: f64 = policy.map_or(0.0, |p| {
        (0..attempts - 1)
            .filter_map(|k| retries::expected_wait(p, k))
            .map(|w| w * (1.0 + p.jitter.unwrap_or(0.0)))
            .sum()
    });
    let bound = attempts as f64 * attempt_ms + backoff + 1000.0;
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
            if s.count > 0 && worst.as_ref().is_none_or(|w| s.latency_ms.p99 > w.0) {
                worst = Some((s.latency_ms.p99, format!("{req}|{}", p.name), s.count));
            }
        }
    }
    let (p99, at, n) = worst?;
    let (req, phase) = at.split_once('|').unwrap_or((at.as_str(), ""));
    let (req, at) = (
        req.to_string(),
        format!("{req} in phase '{phase}', {n} requests"),
    );
    let timeouts: u64 = result
        .phases
        .iter()
        .filter(|p| p.kind == PhaseKind::Fault && overlaps(p.from_s, p.to_s))
        .flat_map(|p| p.operations.values())
        .map(|s| s.error_kinds.get("timeout").copied().unwrap_or(0))
        .sum();
    let c = Claim::new(
        format!("{}.client", base.id),
        format!(
            "Clients wait no longer than {}'s timeout allows during its fault",
            d.name
        ),
        base.source.clone(),
        format!("p99 ≤ {}", fmt_ms(bound)),
    );
    let rule = format!(
        " The bound is {attempts} attempt(s) × {} (the timeout plus its tolerance) + backoff + 1 s of the \
         service's own work.",
        fmt_ms(attempt_ms)
    );
    let measured = format!("p99 {} ({req})", fmt_ms(p99));
    let t = fmt_ms(d.timeout_ms.unwrap_or_default());
    if timeouts > 0 {
        // Clients gave up before any answer: the latency seen is the client's own timeout.
        let strict = attempts as f64 * d.timeout_ms.unwrap_or_default() + backoff;
        let own = client_timeout.unwrap_or(p99);
        let detail = format!(
            "{timeouts} request(s) got no answer before the load generator's own {} timeout while {name} was slow; \
             {attempts} attempt(s) of {t} plus backoff should answer within {}.",
            fmt_ms(own),
            fmt_ms(strict)
        );
        let measured = format!("{timeouts} client timeout(s)");
        return Some(explain(
            if own >= strict + 250.0 {
                c.fail(measured, detail)
            } else {
                let detail = format!(
                    "{detail} The client's timeout is too short to tell: raise it above that."
                );
                c.inconclusive(measured, detail)
            },
            &rule,
        ));
    }
    Some(explain(
        if p99 <= bound {
            c.pass(
            measured,
            format!(
                "While {name} was failing, the slowest request kind ({at}) had p99 {}, within the {} bound.",
                fmt_ms(p99),
                fmt_ms(bound)
            ),
        )
        } else {
            let detail = format!(
            "Clients waited {} at p99 ({at}) while {name} was slow from {}, more than its {t} timeout allows ({}).",
            fmt_ms(p99),
            fmt_t(windows[0].from_ms),
            fmt_ms(bound)
        );
            c.fail(measured, detail)
        },
        &rule,
    ))
}
