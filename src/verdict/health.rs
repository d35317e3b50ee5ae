//! Health endpoint: degraded or unhealthy while a dependency is failing, healthy before and after.

use super::breaker::Observation;
use super::breaker::{breaker_target, down_throughout};
use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::tolerance::{explain, fmt_ms, fmt_pct, fmt_t};
use crate::result::{HealthSample, RunResult, Verdict};
use crate::spec::claims::Claims;

/// Grace after a fault starts before the endpoint must notice (failures take a timeout to show).
pub const GRACE_MS: f64 = 2000.0;
/// Share of samples during the fault that must report a problem.
const MIN_UNHEALTHY: f64 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Healthy,
    Degraded,
    Unhealthy,
    Unreachable,
}

fn state(s: &HealthSample) -> State {
    let named = s.state.as_deref().map(str::to_ascii_lowercase);
    match named.as_deref() {
        Some("healthy" | "ok" | "up" | "pass" | "green") => State::Healthy,
        Some("degraded" | "warn" | "warning" | "yellow") => State::Degraded,
        Some(_) => State::Unhealthy,
        None => match s.status {
            Some(200..=299) => State::Healthy,
            Some(_) => State::Unhealthy,
            None => State::Unreachable,
        },
    }
}

pub fn judge(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    observed: &[Observation],
    out: &mut Judgement,
) {
    let Some(hc) = &claims.health else { return };
    let source = spec_source(ctx, hc.line);
    for obs in observed.iter().filter(|o| !o.windows.is_empty()) {
        let dep = &obs.dependency;
        let id = format!("health.{}", slug(dep));
        let claim = format!(
            "{} reports degraded or unhealthy while {dep} fails",
            hc.path
        );
        if result.health.is_empty() {
            let detail = format!(
                "The run sampled no health endpoint: set `health_path = \"{}\"` in the scenario.",
                hc.path
            );
            out.verdicts.push(
                Claim::new(
                    format!("{id}.during"),
                    claim,
                    source.clone(),
                    "degraded/unhealthy",
                )
                .inconclusive("no samples", detail),
            );
            continue;
        }
        let recovery = claims
            .breakers
            .iter()
            .find(|b| {
                breaker_target(claims, b, result, ctx, observed)
                    .is_some_and(|o| o.dependency == *dep)
            })
            .and_then(|b| b.recovery_timeout_ms)
            .unwrap_or(0.0);
        let allowance = recovery + ctx.duration_tolerance.margin_ms(recovery) + GRACE_MS;
        out.verdicts.push(during(
            result,
            obs,
            &hc.path,
            format!("{id}.during"),
            claim,
            &source,
        ));
        out.verdicts.push(healthy_otherwise(
            result,
            obs,
            &hc.path,
            allowance,
            format!("{id}.healthy"),
            &source,
        ));
    }
}

/// When the dependency was clearly failing: fault windows where (nearly) every call failed, after
/// the grace, and whenever its breaker was open. A partial fault alone is not "failing": a health
/// check may fairly say healthy between failed calls.
fn failing_periods(result: &RunResult, obs: &Observation) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = obs
        .windows
        .iter()
        .filter(|w| down_throughout(obs, w))
        .map(|w| (w.from_ms + GRACE_MS, w.to_ms))
        .collect();
    let run_end = result.duration_s * 1000.0;
    out.extend(
        obs.episodes
            .iter()
            .map(|e| (e.opened_at_ms + 500.0, e.resumed_at_ms.unwrap_or(run_end))),
    );
    out
}

fn during(
    result: &RunResult,
    obs: &Observation,
    path: &str,
    id: String,
    claim: String,
    source: &str,
) -> Verdict {
    let expected = format!("≥ {} not healthy", fmt_pct(MIN_UNHEALTHY));
    let rule = format!(
        " Samples counted: while the breaker was open, or from {} into a fault failing every call.",
        fmt_ms(GRACE_MS)
    );
    let c = Claim::new(id, claim, source, expected);
    explain(during_inner(result, obs, path, &c), &rule)
}

fn during_inner(result: &RunResult, obs: &Observation, path: &str, c: &Claim) -> Verdict {
    let dep = &obs.dependency;
    let failing = failing_periods(result, obs);
    let samples: Vec<&HealthSample> = result
        .health
        .iter()
        .filter(|s| {
            failing
                .iter()
                .any(|(a, b)| s.t_s * 1000.0 >= *a && s.t_s * 1000.0 < *b)
        })
        .collect();
    if samples.is_empty() {
        let detail = format!("No health sample fell while calls to {dep} were failing: sample more often or fault longer.");
        return c.inconclusive("no samples", detail);
    }
    let bad = samples
        .iter()
        .filter(|s| state(s) != State::Healthy)
        .count();
    let share = bad as f64 / samples.len() as f64;
    let measured = format!("{bad} of {} samples not healthy", samples.len());
    if share >= MIN_UNHEALTHY {
        let detail = format!(
            "{path} reported the failure of {dep} in {} of samples.",
            fmt_pct(share)
        );
        return c.pass(measured, detail);
    }
    let first_ok = samples
        .iter()
        .find(|s| state(s) == State::Healthy)
        .map_or(0.0, |s| s.t_s * 1000.0);
    let detail = format!(
        "{path} said healthy in {} of {} samples while calls to {dep} were failing (e.g. at {}): make its check cover {dep}.",
        samples.len() - bad,
        samples.len(),
        fmt_t(first_ok)
    );
    c.fail(measured, detail)
}

fn healthy_otherwise(
    result: &RunResult,
    obs: &Observation,
    path: &str,
    allowance: f64,
    id: String,
    source: &str,
) -> Verdict {
    let dep = &obs.dependency;
    let claim = format!("{path} reports healthy when {dep} is fine");
    let expected = format!("healthy ≤ {} after", fmt_ms(allowance));
    let c = Claim::new(id, claim, source, expected);
    let first = obs.windows[0].from_ms;
    let before_bad: Vec<&HealthSample> = result
        .health
        .iter()
        .filter(|s| s.t_s * 1000.0 < first && state(s) != State::Healthy)
        .collect();
    let last_end = obs.windows.iter().map(|w| w.to_ms).fold(0.0, f64::max);
    let after: Vec<&HealthSample> = result
        .health
        .iter()
        .filter(|s| s.t_s * 1000.0 >= last_end + allowance)
        .collect();
    // When it turned healthy for good: the first sample after the fault from which every later
    // sample is healthy.
    let since_end: Vec<&HealthSample> = result
        .health
        .iter()
        .filter(|s| s.t_s * 1000.0 >= last_end)
        .collect();
    let recovered = since_end
        .iter()
        .rposition(|s| state(s) != State::Healthy)
        .map_or(since_end.first(), |i| since_end.get(i + 1))
        .map(|s| s.t_s * 1000.0);
    let measured = match (before_bad.len(), recovered) {
        (0, Some(t)) => format!("healthy again {} after", fmt_ms(t - last_end)),
        (0, None) => after.last().map_or("no sample after".into(), |s| {
            format!("{:?} at {}", state(s), fmt_t(s.t_s * 1000.0)).to_lowercase()
        }),
        (n, _) => format!("{n} unhealthy before the fault"),
    };
    if let Some(s) = before_bad.first() {
        let detail = format!(
            "{path} reported {:?} at {}, before any fault on {dep}.",
            state(s),
            fmt_t(s.t_s * 1000.0)
        )
        .to_lowercase();
        return c.fail(measured, capitalize(detail));
    }
    let Some(last) = after.last() else {
        let detail = format!("No health sample came later than {} after the fault on {dep} ended: add a longer recovery phase.", fmt_ms(allowance));
        return c.inconclusive(measured, detail);
    };
    if state(last) != State::Healthy {
        let detail = format!(
            "{path} still reported {:?} at {}, {} after the fault on {dep} ended: it does not recover.",
            state(last),
            fmt_t(last.t_s * 1000.0),
            fmt_ms(last.t_s * 1000.0 - last_end)
        );
        return c.fail(measured, detail);
    }
    let t = recovered.unwrap_or(last.t_s * 1000.0);
    if t > last_end + allowance {
        let detail = format!(
            "{path} turned healthy for good only at {}, {} after the fault on {dep} ended at {}; allowed {}.",
            fmt_t(t),
            fmt_ms(t - last_end),
            fmt_t(last_end),
            fmt_ms(allowance)
        );
        return c.fail(measured, detail);
    }
    c.pass(
        measured,
        format!(
            "{path} was healthy before the fault on {dep} and healthy again from {}, {} after the fault ended at \
             {} (allowed {}).",
            fmt_t(t),
            fmt_ms(t - last_end),
            fmt_t(last_end),
            fmt_ms(allowance)
        ),
    )
}

fn capitalize(s: String) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}
