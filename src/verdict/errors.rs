//! Error-rate and availability objectives, judged per phase. Errors are transport failures and 5xx
//! answers; in a fault window the spec's own fallback status for the failing dependency is the
//! promised behaviour and is not counted against the objective (the detail says so).

use super::evidence;
use super::matching::{same_name, slug};
use super::tolerance::{fmt_pct, min_samples_for_rate, poisson_tail};
use super::{scenario_source, spec_source, verdict, JudgeContext, Judgement};
use crate::result::{OperationStats, PhaseKind, RunResult, VerdictStatus::*};
use crate::spec::claims::Claims;

#[derive(Debug, Clone)]
struct Objective {
    /// Allowed error fraction.
    allowed: f64,
    availability: bool,
    operation: Option<String>,
    phase: Option<String>,
    source: String,
}

fn objectives(claims: &Claims, ctx: &JudgeContext) -> Vec<Objective> {
    let mut out = Vec::new();
    if let Some(max) = claims.error_rate_max {
        let source = spec_source(ctx, claims.error_rate_line.unwrap_or(0));
        out.push(Objective {
            allowed: max,
            availability: false,
            operation: None,
            phase: None,
            source,
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
            });
        }
    }
    out
}

/// Errors as this module counts them: failures other than an unexpected status, plus 5xx answers.
fn errors_of(s: &OperationStats, excused: Option<u16>) -> (u64, u64) {
    let transport: u64 = s
        .error_kinds
        .iter()
        .filter(|(k, _)| !k.contains("status"))
        .map(|(_, v)| v)
        .sum();
    let (mut server, mut fallback) = (0, 0);
    for (code, n) in &s.status {
        let Ok(code) = code.parse::<u16>() else {
            continue;
        };
        if Some(code) == excused {
            fallback += n;
        } else if code >= 500 {
            server += n;
        }
    }
    (transport + server, fallback)
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    let objectives = objectives(claims, ctx);
    if objectives.is_empty() {
        return;
    }
    let phases: Vec<(
        String,
        PhaseKind,
        f64,
        f64,
        &std::collections::BTreeMap<String, OperationStats>,
    )> = if result.phases.is_empty() {
        vec![(
            "run".into(),
            PhaseKind::Custom,
            0.0,
            result.duration_s,
            &result.operations,
        )]
    } else {
        result
            .phases
            .iter()
            .map(|p| (p.name.clone(), p.kind, p.from_s, p.to_s, &p.operations))
            .collect()
    };
    for o in &objectives {
        for (name, kind, from_s, to_s, ops) in &phases {
            let wanted = match &o.phase {
                Some(p) => same_name(p, name),
                None => *kind != PhaseKind::Warmup,
            };
            if !wanted {
                continue;
            }
            let excused = if *kind == PhaseKind::Fault && o.phase.is_none() {
                fallback_status(result, claims, ctx, *from_s, *to_s)
            } else {
                None
            };
            judge_phase(ctx, o, name, ops, excused, out);
        }
    }
}

/// The claimed fallback status of a dependency faulted during [from_s, to_s), if it names one.
fn fallback_status(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    from_s: f64,
    to_s: f64,
) -> Option<u16> {
    result
        .faults
        .iter()
        .filter(|f| f.applied_at_s < to_s && f.removed_at_s.map_or(true, |r| r > from_s))
        .find_map(|f| evidence::spec_dependency(claims, ctx, &f.dependency)?.fallback_status)
}

fn judge_phase(
    ctx: &JudgeContext,
    o: &Objective,
    phase: &str,
    ops: &std::collections::BTreeMap<String, OperationStats>,
    excused: Option<u16>,
    out: &mut Judgement,
) {
    let (mut n, mut errors, mut fallback) = (0u64, 0u64, 0u64);
    for (name, s) in ops {
        let op = ctx
            .requests
            .get(name)
            .and_then(|r| r.operation.clone())
            .or(s.operation.clone());
        if let Some(want) = &o.operation {
            if !(same_name(want, name) || op.as_deref().is_some_and(|x| same_name(want, x))) {
                continue;
            }
        }
        n += s.count;
        let (e, f) = errors_of(s, excused);
        errors += e;
        fallback += f;
    }
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
    let rate = errors as f64 / n as f64;
    let (claim, expected, measured) = if o.availability {
        (
            format!(
                "Availability of {label} is at least {}",
                fmt_pct(1.0 - o.allowed)
            ),
            format!("≥ {}", fmt_pct(1.0 - o.allowed)),
            format!(
                "{} ({errors} errors in {n} requests, phase '{phase}')",
                fmt_pct(1.0 - rate)
            ),
        )
    } else {
        (
            format!("Error rate of {label} is at most {}", fmt_pct(o.allowed)),
            format!("≤ {}", fmt_pct(o.allowed)),
            format!(
                "{} ({errors} errors in {n} requests, phase '{phase}')",
                fmt_pct(rate)
            ),
        )
    };
    let excuse = match excused {
        Some(code) if fallback > 0 => format!(
            " {fallback} answer(s) with the spec's fallback status {code} for the failing dependency are not counted."
        ),
        _ => String::new(),
    };
    let min = min_samples_for_rate(o.allowed);
    let improbable = poisson_tail(o.allowed * n as f64, errors) < 0.05;
    let (status, detail) = if rate > o.allowed && (improbable || n >= min) {
        (Fail, format!(
            "{what} objective missed in phase '{phase}': {errors} of {n} requests failed ({}), allowed {}.{excuse} \
             Errors are transport failures and 5xx answers.",
            fmt_pct(rate),
            fmt_pct(o.allowed)
        ))
    } else if rate > o.allowed {
        (Inconclusive, format!(
            "{errors} of {n} requests failed in phase '{phase}' ({}), above the allowed {} but not enough requests to \
             tell (needs {min}, 3/allowed, or a clearer excess).{excuse}",
            fmt_pct(rate),
            fmt_pct(o.allowed)
        ))
    } else if n < min {
        (Inconclusive, format!(
            "{errors} of {n} requests failed in phase '{phase}'; a rate of {} is only believed on at least {min} \
             requests (3/allowed, the rule of three): run longer or faster.{excuse}",
            fmt_pct(o.allowed)
        ))
    } else {
        (
            Pass,
            format!(
                "{errors} of {n} requests failed in phase '{phase}' ({}).{excuse}",
                fmt_pct(rate)
            ),
        )
    };
    out.verdicts.push(verdict(
        id,
        claim,
        o.source.clone(),
        expected,
        measured,
        status,
        detail,
    ));
}
