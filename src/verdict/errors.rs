//! Error-rate and availability objectives, judged per phase (and over the whole run for the phases
//! too short alone: `objective_rows`). Errors are transport failures and 5xx answers
//! (`error_split`); in a fault window the spec's own fallback status for the failing dependency is
//! the promised behaviour and is not counted against the objective (the detail says so).

use super::breaker::Observation;
use super::evidence;
use super::matching::{grpc_aliases, normalize, same_name, slug};
use super::model::{scenario_source, spec_source, Claim, JudgeContext, Judgement};
use super::objective_rows::{self, PhaseCounts};
use super::tolerance::{fmt_pct, min_samples_for_rate, poisson_tail};

pub(crate) use super::error_split::{
    logged_answers, phase_views, split_phase, Answer, PhaseSplit, Promised, Split,
};
use crate::result::{FallbackWindow, PhaseKind, RunResult, VerdictStatus::*};
use crate::spec::claims::{Claims, ObjectiveKind};

#[derive(Debug, Clone)]
struct Objective {
    /// Allowed error fraction.
    allowed: f64,
    availability: bool,
    operation: Option<String>,
    phase: Option<String>,
    source: String,
    /// The window the spec states it over ("monthly"), said in the detail: a run judges phases.
    window: Option<String>,
}

fn objectives(claims: &Claims, ctx: &JudgeContext) -> Vec<Objective> {
    let mut out = Vec::new();
    // The window a global objective was written for, from the objective read on the same line.
    let window_of = |kind: ObjectiveKind, line: Option<usize>| {
        claims
            .objectives
            .iter()
            .find(|o| o.kind == kind && o.operation.is_none() && Some(o.line) == line)
            .and_then(|o| o.window.clone())
    };
    if let Some(max) = claims.error_rate_max {
        let source = spec_source(ctx, claims.error_rate_line.unwrap_or(0));
        out.push(Objective {
            allowed: max,
            availability: false,
            operation: None,
            phase: None,
            source,
            window: window_of(ObjectiveKind::ErrorBudget, claims.error_rate_line),
        });
    }
    if let Some(a) = claims.availability {
        let source = spec_source(ctx, claims.availability_line.unwrap_or(0));
        out.push(Objective {
            allowed: 1.0 - a,
            availability: true,
            operation: None,
            phase: None,
            source,
            window: window_of(ObjectiveKind::Availability, claims.availability_line),
        });
    }
    for o in claims.objectives.iter().filter(|o| o.operation.is_some()) {
        out.push(Objective {
            allowed: o.max_error_rate,
            availability: o.kind == ObjectiveKind::Availability,
            operation: o.operation.clone(),
            phase: None,
            source: spec_source(ctx, o.line),
            window: o.window.clone(),
        });
    }
    for slo in &ctx.slos {
        for (value, availability) in [
            (slo.error_rate, false),
            (slo.availability.map(|a| 1.0 - a), true),
        ] {
            let Some(allowed) = value else { continue };
            let source = scenario_source(ctx, slo.line);
            let same = |o: &Objective| {
                o.availability == availability
                    && o.phase == slo.phase
                    && match (&o.operation, &slo.operation) {
                        (None, None) => true,
                        (Some(a), Some(b)) => same_name(a, b),
                        _ => false,
                    }
            };
            out.retain(|o| !same(o));
            out.push(Objective {
                allowed,
                availability,
                operation: slo.operation.clone(),
                phase: slo.phase.clone(),
                source,
                window: None,
            });
        }
    }
    out
}

pub fn judge(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    observed: &[Observation],
    out: &mut Judgement,
) {
    let windows = fallback_windows(result, claims, ctx, observed);
    out.fallback_windows = windows.clone();
    let objectives = objectives(claims, ctx);
    if objectives.is_empty() {
        return;
    }
    let phases = phase_views(result);
    for o in &objectives {
        let before = out.verdicts.len();
        let mut judged: Vec<(String, Counts)> = Vec::new();
        for (name, kind, from_s, to_s, ops) in &phases {
            // A scenario objective for this very phase replaces the general one there.
            let overridden = |x: &Objective| {
                x.availability == o.availability
                    && x.operation.as_deref().map(normalize)
                        == o.operation.as_deref().map(normalize)
                    && x.phase.as_deref().is_some_and(|p| same_name(p, name))
            };
            let wanted = match &o.phase {
                Some(p) => same_name(p, name),
                None => *kind != PhaseKind::Warmup && !objectives.iter().any(overridden),
            };
            if !wanted {
                continue;
            }
            // A phase the scenario names is judged as measured; otherwise the promised fallback
            // while a dependency is down (fault window or breaker open) is not an error.
            let excusing: &[FallbackWindow] = if o.phase.is_none() { &windows } else { &[] };
            let split = split_phase(result, *from_s, *to_s, ops, excusing);
            judged.push((name.clone(), counts(result, ctx, o, &split)));
        }
        let plain: Vec<(String, PhaseCounts)> = judged
            .iter()
            .map(|(name, c)| (name.clone(), c.plain()))
            .collect();
        let min = min_samples_for_rate(o.allowed);
        for row in objective_rows::arrange(&plain, min, o.allowed, o.phase.is_some()) {
            let parts: Vec<&Counts> = row.counts_of.iter().map(|&i| &judged[i].1).collect();
            judge_phase(o, &row.phase, Counts::sum(&parts), &row.note, out);
        }
        if let Some(w) = &o.window {
            for v in &mut out.verdicts[before..] {
                v.detail.push_str(&format!(
                    " The spec's window for this objective: {w}; a run judges it per phase, so a pass is evidence for that window, not proof of it."
                ));
            }
        }
        if out.verdicts.len() == before && o.phase.is_none() {
            if let Some(op) = &o.operation {
                no_request(o, op, out);
            }
        }
    }
}

/// An operation's objective that no request of the run exercised: inconclusive, saying how to map it.
fn no_request(o: &Objective, op: &str, out: &mut Judgement) {
    let (what, id) = if o.availability {
        ("Availability", format!("availability.{}", slug(op)))
    } else {
        ("Error rate", format!("errors.{}", slug(op)))
    };
    let expected = if o.availability {
        format!("≥ {}", fmt_pct(1.0 - o.allowed))
    } else {
        format!("≤ {}", fmt_pct(o.allowed))
    };
    let detail = format!(
        "No [[request]] exercises '{op}': set `operation = \"{op}\"` on the request that calls it \
         (names match ignoring case, spaces, punctuation and a plural s)."
    );
    let claim = format!("{what} objective of {op}");
    out.verdicts
        .push(Claim::new(id, claim, o.source.clone(), expected).inconclusive("none", detail));
}

/// While a dependency with a fallback status is down (fault window, or its breaker open), that
/// status is the promised answer.
fn fallback_windows(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    observed: &[Observation],
) -> Vec<FallbackWindow> {
    let run_end = result.duration_s * 1000.0;
    let mut out = Vec::new();
    for obs in observed {
        let Some(d) = evidence::spec_dependency(claims, ctx, &obs.dependency) else {
            continue;
        };
        let (status, grpc_status) = (d.fallback_status, d.fallback_grpc_status);
        if status.is_none() && grpc_status.is_none() {
            continue;
        }
        let window = |from_ms: f64, to_ms: f64| FallbackWindow {
            dependency: obs.dependency.clone(),
            status,
            grpc_status,
            from_ms,
            to_ms,
        };
        for w in &obs.windows {
            out.push(window(w.from_ms, w.to_ms));
        }
        for e in &obs.episodes {
            out.push(window(e.opened_at_ms, e.resumed_at_ms.unwrap_or(run_end)));
        }
    }
    out
}

/// Requests, errors, excused fallbacks, and how the excusal was decided.
#[derive(Debug, Clone, Copy)]
struct Counts {
    n: u64,
    errors: u64,
    fallback: Option<(Promised, u64, &'static str)>,
}

impl Counts {
    fn plain(&self) -> PhaseCounts {
        PhaseCounts {
            n: self.n,
            errors: self.errors,
            fallback: self.fallback.map_or(0, |(_, k, _)| k),
        }
    }

    /// Several phases' counts as one (the pooled row); the first excusal names the status.
    fn sum(parts: &[&Counts]) -> Counts {
        let mut out = Counts {
            n: 0,
            errors: 0,
            fallback: None,
        };
        for c in parts {
            out.n += c.n;
            out.errors += c.errors;
            if let Some((status, k, how)) = c.fallback {
                match &mut out.fallback {
                    Some((_, total, _)) => *total += k,
                    None => out.fallback = Some((status, k, how)),
                }
            }
        }
        out
    }
}

fn wanted_request(ctx: &JudgeContext, o: &Objective, name: &str, op: Option<&str>) -> bool {
    let op = ctx
        .requests
        .get(name)
        .and_then(|r| r.operation.as_deref())
        .or(op);
    let grpc = grpc_aliases(&ctx.requests, name, op);
    match &o.operation {
        None => true,
        Some(want) => {
            let names = |w: &str| {
                same_name(w, name)
                    || op.is_some_and(|x| same_name(w, x))
                    || grpc.iter().any(|g| same_name(w, g))
            };
            // "99.95% of checkouts succeed": the spec counts checkouts, the scenario names "checkout".
            names(want) || singular(want).is_some_and(|w| names(&w))
        }
    }
}

/// "checkouts" -> "checkout", "searches" -> "search"; None when not a plural.
fn singular(w: &str) -> Option<String> {
    let w = w.trim();
    ["ches", "shes", "sses", "xes"]
        .iter()
        .find(|e| w.ends_with(*e))
        .map(|_| w[..w.len() - 2].to_string())
        .or_else(|| w.strip_suffix('s').map(str::to_string))
}

/// The objective's share of a phase: the requests it covers, summed.
fn counts(result: &RunResult, ctx: &JudgeContext, o: &Objective, split: &PhaseSplit) -> Counts {
    let mut total = Split::default();
    for (name, s) in &split.per_request {
        let op = result
            .operations
            .get(name)
            .and_then(|s| s.operation.as_deref());
        if wanted_request(ctx, o, name, op) {
            total.add(*s);
        }
    }
    Counts {
        n: total.requests,
        errors: total.errors,
        fallback: split
            .excused
            .map(|(status, how)| (status, total.fallback, how)),
    }
}

/// "3 errors in 599", "1 error in 1": the counts behind a phase's rate. The fallback answers left
/// out of `n` are named in the detail (the measured column is kept narrow).
fn share(errors: u64, n: u64) -> String {
    let e = if errors == 1 { "error" } else { "errors" };
    format!("{errors} {e} in {n}")
}

/// One row: a phase, or the whole run's phases pooled (`note` says which, and what was left out).
fn judge_phase(o: &Objective, phase: &str, counts: Counts, note: &str, out: &mut Judgement) {
    let Counts {
        n,
        errors,
        fallback,
    } = counts;
    if n == 0 {
        return;
    }
    let scope = o.operation.as_deref().map_or("global".to_string(), slug);
    let (what, id) = if o.availability {
        (
            "Availability",
            format!("availability.{scope}.{}", slug(phase)),
        )
    } else {
        ("Error rate", format!("errors.{scope}.{}", slug(phase)))
    };
    let label = o.operation.clone().unwrap_or_else(|| "the service".into());
    // The excused fallback answers are neither errors nor successes: they are the fallback
    // verdict's evidence, so the rate is over the other requests only.
    let excused = fallback.as_ref().map_or(0, |(_, k, _)| *k);
    let n = n - excused.min(n);
    let rate = if n == 0 {
        0.0
    } else {
        errors as f64 / n as f64
    };
    let (claim, expected, measured) = if o.availability {
        (
            format!(
                "Availability of {label} is at least {} in phase '{phase}'",
                fmt_pct(1.0 - o.allowed)
            ),
            format!("≥ {}", fmt_pct(1.0 - o.allowed)),
            format!("{} ({})", fmt_pct(1.0 - rate), share(errors, n)),
        )
    } else {
        (
            format!(
                "Error rate of {label} is at most {} in phase '{phase}'",
                fmt_pct(o.allowed)
            ),
            format!("≤ {}", fmt_pct(o.allowed)),
            format!("{} ({})", fmt_pct(rate), share(errors, n)),
        )
    };
    let excuse = match fallback {
        Some((code, k, how)) if k > 0 => format!(
            " {k} answer(s) with the spec's fallback status {code} are left out of the rate ({how}); the fallback \
             verdict judges them."
        ),
        _ => String::new(),
    };
    let excuse = format!("{excuse}{note}");
    if n == 0 {
        let detail = format!(
            "Every request of phase '{phase}' was answered with the fallback while the dependency was down, so the \
             phase says nothing about the {}.{excuse}",
            what.to_lowercase()
        );
        let c = Claim::new(id, claim, o.source.clone(), expected);
        out.verdicts
            .push(c.inconclusive(format!("all {excused} were the fallback"), detail));
        return;
    }
    // With the fallback answers left out, say so where the count is given.
    let other = if excused > 0 { "non-fallback " } else { "" };
    let min = min_samples_for_rate(o.allowed);
    // A clear excess fails before `min` requests, but never on one or two errors: after the
    // fallback answers are left out a phase may hold a single other request.
    let improbable = errors >= 3 && poisson_tail(o.allowed * n as f64, errors) < 0.05;
    let (status, detail) = if rate > o.allowed && (improbable || n >= min) {
        (Fail, format!(
            "{what} objective missed in phase '{phase}': {errors} of {n} {other}requests failed ({}), allowed {}.{excuse} \
             Errors are transport failures and 5xx answers.",
            fmt_pct(rate),
            fmt_pct(o.allowed)
        ))
    } else if rate > o.allowed {
        (Inconclusive, format!(
            "{errors} of {n} {other}requests failed in phase '{phase}' ({}), above the allowed {} but not enough requests to \
             tell (needs {min}, 3/allowed, or a clearer excess).{excuse}",
            fmt_pct(rate),
            fmt_pct(o.allowed)
        ))
    } else if n < min {
        (Inconclusive, format!(
            "{errors} of {n} {other}requests failed in phase '{phase}'; a rate of {} is only believed on at least {min} \
             requests (3/allowed, the rule of three): run longer or faster.{excuse}",
            fmt_pct(o.allowed)
        ))
    } else {
        (
            Pass,
            format!(
                "{errors} of {n} {other}requests failed in phase '{phase}' ({}).{excuse}",
                fmt_pct(rate)
            ),
        )
    };
    out.verdicts
        .push(Claim::new(id, claim, o.source.clone(), expected).judged(status, measured, detail));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::OperationStats;
    use crate::spec::claims::Objective as SpecObjective;

    #[test]
    fn an_operations_objective_covers_the_grpc_request_of_that_method() {
        let result = RunResult {
            duration_s: 10.0,
            operations: [(
                "catalog-read".to_string(),
                OperationStats {
                    count: 100,
                    status: [("200".to_string(), 100)].into(),
                    ..OperationStats::default()
                },
            )]
            .into(),
            ..RunResult::default()
        };
        let claims = Claims {
            objectives: vec![SpecObjective {
                kind: ObjectiveKind::ErrorBudget,
                operation: Some("GetItem".into()),
                max_error_rate: 0.05,
                window: None,
                window_s: None,
                line: 4,
            }],
            ..Claims::default()
        };
        let mut ctx = JudgeContext::default();
        ctx.requests.insert(
            "catalog-read".into(),
            crate::verdict::RequestInfo {
                grpc_method: Some("shop.v1.Catalog/GetItem".into()),
                ..Default::default()
            },
        );
        let mut out = Judgement::default();
        judge(&result, &claims, &ctx, &[], &mut out);
        let v: Vec<_> = out.verdicts.iter().map(|v| (&v.id, v.status)).collect();
        assert!(
            v.iter()
                .any(|(id, s)| id.starts_with("errors.getitem") && *s == Pass),
            "{v:?}"
        );
    }
}
