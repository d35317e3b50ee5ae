//! Latency claims: every stated percentile (P50, P90, P95, P99, P99.9, ...) per operation and for the whole service in the baseline phase(s),
//! and the per-operation timeout across every phase. Scenario `[[slo]]` entries override or add.

use std::collections::BTreeSet;

use hdrhistogram::Histogram;

use super::histogram;
use super::matching::{grpc_aliases, same_name, slug, RequestNames};
use super::model::{scenario_source, spec_source, Claim, JudgeContext, Judgement};
use super::tolerance::{explain, fmt_ms, min_samples_for_quantile};
use crate::result::{OperationStats, PhaseKind, RunResult, VerdictStatus::*};
use crate::spec::claims::Claims;

/// One latency claim with where each value came from.
#[derive(Debug, Clone, Default)]
struct Target {
    /// None: the whole service (global budget).
    operation: Option<String>,
    /// Judge in this phase instead of the baseline.
    phase: Option<String>,
    /// (quantile, claimed ms, source) for P50/P95/P99.
    quantiles: Vec<(f64, f64, String)>,
    timeout: Option<(f64, String)>,
    /// Source of the row, for "no request exercises it".
    source: String,
}

impl Target {
    fn set_quantile(&mut self, q: f64, ms: f64, source: String) {
        self.quantiles.retain(|(x, _, _)| *x != q);
        self.quantiles.push((q, ms, source));
        self.quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn targets(claims: &Claims, ctx: &JudgeContext) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    for t in &claims.latency {
        let src = spec_source(ctx, t.line);
        let mut target = Target {
            operation: Some(t.operation.clone()),
            source: src.clone(),
            ..Target::default()
        };
        for (p, v) in t.stated_percentiles() {
            target.set_quantile(p / 100.0, v, src.clone());
        }
        target.timeout = t.timeout_ms.map(|v| (v, src.clone()));
        out.push(target);
    }
    if let Some(b) = &claims.latency_budget {
        let src = spec_source(ctx, b.line);
        let mut target = Target {
            source: src.clone(),
            ..Target::default()
        };
        for (p, v) in b.stated_percentiles() {
            target.set_quantile(p / 100.0, v, src.clone());
        }
        out.push(target);
    }
    for slo in &ctx.slos {
        let src = scenario_source(ctx, slo.line);
        let has_latency =
            slo.p50.is_some() || slo.p95.is_some() || slo.p99.is_some() || slo.timeout.is_some();
        if !has_latency {
            continue;
        }
        let existing = out.iter_mut().find(|t| {
            slo.phase.is_none()
                && match (&t.operation, &slo.operation) {
                    (Some(a), Some(b)) => same_name(a, b),
                    (None, None) => true,
                    _ => false,
                }
        });
        let target = match existing {
            Some(t) => t,
            None => {
                out.push(Target {
                    operation: slo.operation.clone(),
                    phase: slo.phase.clone(),
                    source: src.clone(),
                    ..Target::default()
                });
                out.last_mut().expect("just pushed")
            }
        };
        for (q, v) in [(0.5, slo.p50), (0.95, slo.p95), (0.99, slo.p99)] {
            if let Some(v) = v {
                target.set_quantile(q, ms(v), src.clone());
            }
        }
        if let Some(t) = slo.timeout {
            target.timeout = Some((ms(t), src.clone()));
        }
    }
    out
}

/// Every request name in the run, with the operation it exercises and, for a gRPC request
/// without an `operation`, its method's names.
fn request_names(result: &RunResult, ctx: &JudgeContext) -> Vec<RequestNames> {
    let mut names: BTreeSet<String> = result.operations.keys().cloned().collect();
    for p in &result.phases {
        names.extend(p.operations.keys().cloned());
    }
    names
        .into_iter()
        .map(|name| {
            let info = ctx.requests.get(&name);
            let stated = info.and_then(|r| r.operation.clone()).or_else(|| {
                result
                    .operations
                    .get(&name)
                    .and_then(|s| s.operation.clone())
                    .or_else(|| {
                        result
                            .phases
                            .iter()
                            .find_map(|p| p.operations.get(&name)?.operation.clone())
                    })
            });
            let grpc = grpc_aliases(&ctx.requests, &name, stated.as_deref());
            RequestNames {
                operation: stated.unwrap_or_else(|| name.clone()),
                name,
                grpc,
            }
        })
        .collect()
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    let names = request_names(result, ctx);
    let targets = targets(claims, ctx);
    for r in &names {
        let known = targets
            .iter()
            .any(|t| t.operation.as_deref().is_some_and(|o| r.named(o)));
        let (name, op) = (&r.name, &r.operation);
        // A request only ever answered with error statuses probes an error class, not latency.
        let probe = result.operations.get(name).is_some_and(|s| {
            !s.status.is_empty()
                && s.status
                    .keys()
                    .all(|c| c.parse::<u16>().is_ok_and(|c| c >= 400))
        });
        if !known && !probe && !claims.latency.is_empty() {
            out.notes.push(format!("request '{name}' exercises operation '{op}', which matches no latency row of the spec"));
        }
    }
    for t in &targets {
        let reqs: Vec<&str> = names
            .iter()
            .filter(|r| t.operation.as_deref().is_none_or(|o| r.named(o)))
            .map(|r| r.name.as_str())
            .collect();
        let label = t
            .operation
            .clone()
            .unwrap_or_else(|| "all operations".to_string());
        // A target bound to a phase gets its own ids beside the baseline's.
        let base = format!(
            "latency.{}{}",
            t.operation.as_deref().map_or("global".to_string(), slug),
            t.phase
                .as_deref()
                .map(|p| format!(".{}", slug(p)))
                .unwrap_or_default()
        );
        if reqs.is_empty() {
            out.notes.push(format!(
                "spec operation '{label}' is exercised by no [[request]] of the scenario"
            ));
            let detail = format!(
                "No [[request]] exercises '{label}': set `operation = \"{label}\"` on the request that calls it \
                 (names match ignoring case, spaces and punctuation; a gRPC request also by its method: \
                 `catalog.v1.Items/Get`, `Items/Get` or `Get`)."
            );
            out.verdicts.push(
                Claim::new(
                    base,
                    format!("Latency of {label}"),
                    t.source.clone(),
                    "a matching request",
                )
                .inconclusive("none", detail),
            );
            continue;
        }
        judge_quantiles(result, t, &reqs, &label, &base, out);
        if let Some((timeout, src)) = &t.timeout {
            let v = judge_timeout(result, ctx, &reqs, &label, *timeout, src, &base);
            out.verdicts
                .push(explain(v, &ctx.duration_tolerance.rule(*timeout)));
        }
    }
}

/// The phases a quantile is judged in: the named one, else every baseline phase; None when none fits.
fn phase_stats<'a>(
    result: &'a RunResult,
    phase: Option<&str>,
) -> Option<(
    String,
    Vec<&'a std::collections::BTreeMap<String, OperationStats>>,
)> {
    if let Some(p) = phase {
        let found: Vec<_> = result
            .phases
            .iter()
            .filter(|x| same_name(&x.name, p))
            .map(|x| &x.operations)
            .collect();
        return (!found.is_empty()).then(|| (format!("phase '{p}'"), found));
    }
    let base: Vec<_> = result
        .phases
        .iter()
        .filter(|x| x.kind == PhaseKind::Baseline)
        .map(|x| &x.operations)
        .collect();
    if !base.is_empty() {
        return Some(("baseline".to_string(), base));
    }
    // Without faults the whole run (warmup excluded) is a baseline.
    if result.faults.is_empty() {
        return Some((
            "whole run (no faults)".to_string(),
            vec![&result.operations],
        ));
    }
    None
}

fn judge_quantiles(
    result: &RunResult,
    t: &Target,
    reqs: &[&str],
    label: &str,
    base: &str,
    out: &mut Judgement,
) {
    if t.quantiles.is_empty() {
        return;
    }
    let stats = phase_stats(result, t.phase.as_deref());
    let merged: Result<Option<Histogram<u64>>, String> = match &stats {
        Some((_, maps)) => histogram::merge(maps.iter().flat_map(|m| {
            reqs.iter()
                .filter_map(|r| m.get(*r))
                .map(|s| s.histogram.as_str())
        })),
        None => Ok(None),
    };
    for (q, claimed, src) in &t.quantiles {
        let pname = percentile_name(*q);
        // "p99", "p999" (P99.9), "p9999": the form the report reads back (`report::model`).
        let id = format!("{base}.{}", pname.to_lowercase().replace('.', ""));
        let claim = format!("{pname} latency of {label} is at most {}", fmt_ms(*claimed));
        let expected = format!("≤ {}", fmt_ms(*claimed));
        let min = min_samples_for_quantile(*q);
        let (phase_label, hist) = match (&stats, &merged) {
            (None, _) => {
                let detail = match &t.phase {
                    Some(p) => format!("The run has no phase named '{p}'."),
                    None => "The run has no baseline phase (faults were injected and no phase is marked baseline): \
                             add a baseline phase before the first fault."
                        .to_string(),
                };
                out.verdicts.push(
                    Claim::new(id, claim, src.clone(), expected).inconclusive("no phase", detail),
                );
                continue;
            }
            (_, Err(e)) => {
                out.verdicts
                    .push(Claim::new(id, claim, src.clone(), expected).inconclusive(
                        "unreadable",
                        format!("The result's latency histogram could not be read: {e}."),
                    ));
                continue;
            }
            (Some((pl, _)), Ok(h)) => (pl, h),
        };
        let n = hist.as_ref().map_or(0, |h| h.len());
        if n < min {
            let detail = format!(
                "{pname} is judged on at least {min} samples (10/(1-q)); the {phase_label} had {n} for {label}: run it longer or faster."
            );
            let v = Claim::new(id, claim, src.clone(), expected)
                .inconclusive(format!("{n} samples"), detail);
            out.verdicts.push(with_numbers(v, *claimed, None, n));
            continue;
        }
        let h = hist.as_ref().expect("n > 0 means a histogram");
        let value = histogram::quantile_ms(h, *q);
        let measured = format!("{} ({n} requests)", fmt_ms(value));
        let (status, detail) = if value <= *claimed {
            (
                Pass,
                format!(
                    "{pname} of {label} was {} over {n} requests in the {phase_label}, within {}.",
                    fmt_ms(value),
                    fmt_ms(*claimed)
                ),
            )
        } else {
            (Fail, format!(
                "{pname} of {label} was {} over {n} requests in the {phase_label}, over the claimed {} by {}: make it faster or correct the spec.",
                fmt_ms(value),
                fmt_ms(*claimed),
                fmt_ms(value - claimed)
            ))
        };
        let v = Claim::new(id, claim, src.clone(), expected).judged(status, measured, detail);
        out.verdicts.push(with_numbers(v, *claimed, Some(value), n));
    }
}

/// "P50", "P99.9", "P99.99" for quantile `q`.
fn percentile_name(q: f64) -> String {
    let s = format!("{:.4}", q * 100.0);
    format!("P{}", s.trim_end_matches('0').trim_end_matches('.'))
}

/// Adds the figures behind the text, so charts never parse `expected` and `measured`.
fn with_numbers(
    mut v: crate::result::Verdict,
    target_ms: f64,
    measured_ms: Option<f64>,
    samples: u64,
) -> crate::result::Verdict {
    v.numbers = Some(crate::result::VerdictNumbers {
        target_ms: Some(target_ms),
        measured_ms,
        samples: Some(samples),
    });
    v
}

/// The operation's timeout: no request of it took longer, in any phase.
fn judge_timeout(
    result: &RunResult,
    ctx: &JudgeContext,
    reqs: &[&str],
    label: &str,
    timeout: f64,
    src: &str,
    base: &str,
) -> crate::result::Verdict {
    let id = format!("{base}.timeout");
    let claim = format!(
        "{label} answers or fails within its timeout of {}",
        fmt_ms(timeout)
    );
    let margin = ctx.duration_tolerance.margin_ms(timeout);
    let expected = format!(
        "max ≤ {} {}",
        fmt_ms(timeout),
        ctx.duration_tolerance.short(timeout)
    );
    let c = Claim::new(id, claim, src, expected);
    let mut worst: Option<(f64, String)> = None;
    let (mut n, mut client_timeouts) = (0u64, 0u64);
    let phases: Vec<(String, &std::collections::BTreeMap<String, OperationStats>)> =
        if result.phases.is_empty() {
            vec![("run".to_string(), &result.operations)]
        } else {
            // Warmup is excluded here as it is from `operations`: cold starts are not the claim.
            result
                .phases
                .iter()
                .filter(|p| p.kind != PhaseKind::Warmup)
                .map(|p| (p.name.clone(), &p.operations))
                .collect()
        };
    for (pname, ops) in phases {
        for s in reqs.iter().filter_map(|r| ops.get(*r)) {
            n += s.count;
            client_timeouts += s.error_kinds.get("timeout").copied().unwrap_or(0);
            if s.count > 0 && worst.as_ref().is_none_or(|(w, _)| s.latency_ms.max > *w) {
                worst = Some((s.latency_ms.max, pname.clone()));
            }
        }
    }
    let Some((max, phase)) = worst else {
        return c.inconclusive("0 requests", format!("No request of {label} was measured."));
    };
    let measured = format!("max {} ({n} requests)", fmt_ms(max));
    let client_cut = ctx
        .client_timeout
        .map(ms)
        .filter(|c| *c <= timeout + margin);
    if client_timeouts > 0 {
        if let Some(cut) = client_cut {
            let detail = format!(
                "{client_timeouts} request(s) of {label} hit the load generator's own timeout of {} before the claimed {}: \
                 raise the scenario's client timeout above the operation's timeout.",
                fmt_ms(cut),
                fmt_ms(timeout)
            );
            return c.inconclusive(measured, detail);
        }
    }
    if max <= timeout + margin {
        let detail = format!(
            "The slowest of {n} requests of {label} (outside warmup) took {} in phase '{phase}', within the {} timeout.",
            fmt_ms(max),
            fmt_ms(timeout)
        );
        with_numbers(c.pass(measured, detail), timeout, Some(max), n)
    } else {
        let detail = format!(
            "A request of {label} took {} in phase '{phase}', past its {} timeout: the service does not enforce the timeout.",
            fmt_ms(max),
            fmt_ms(timeout)
        );
        with_numbers(c.fail(measured, detail), timeout, Some(max), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::OperationStats;
    use crate::spec::claims::LatencyTarget;

    #[test]
    fn an_error_probe_is_no_operation_without_a_latency_row() {
        let stats = |codes: &[(&str, u64)]| OperationStats {
            status: codes.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            ..OperationStats::default()
        };
        let result = RunResult {
            operations: [
                ("probe-404-get".to_string(), stats(&[("404", 3)])),
                ("export".to_string(), stats(&[("200", 5), ("404", 1)])),
            ]
            .into(),
            ..RunResult::default()
        };
        let claims = Claims {
            latency: vec![LatencyTarget {
                operation: "GET item".into(),
                p99_ms: Some(100.0),
                line: 3,
                ..LatencyTarget::default()
            }],
            ..Claims::default()
        };
        let mut out = Judgement::default();
        judge(&result, &claims, &JudgeContext::default(), &mut out);
        let unmatched: Vec<&String> = out
            .notes
            .iter()
            .filter(|n| n.contains("matches no latency row"))
            .collect();
        assert_eq!(unmatched.len(), 1, "{:?}", out.notes);
        assert!(unmatched[0].contains("'export'"), "{:?}", out.notes);
    }

    #[test]
    fn a_grpc_request_exercises_the_row_that_names_its_method() {
        let result = RunResult {
            operations: [("get-item".to_string(), OperationStats::default())].into(),
            ..RunResult::default()
        };
        let mut ctx = JudgeContext::default();
        ctx.requests.insert(
            "get-item".into(),
            crate::verdict::RequestInfo {
                grpc_method: Some("catalog.v1.Items/GetItem".into()),
                ..Default::default()
            },
        );
        let row = |op: &str| LatencyTarget {
            operation: op.into(),
            p50_ms: Some(100.0),
            line: 3,
            ..LatencyTarget::default()
        };
        for op in ["GetItem", "/catalog.v1.Items/GetItem", "Items/GetItem"] {
            let claims = Claims {
                latency: vec![row(op)],
                ..Claims::default()
            };
            let mut out = Judgement::default();
            judge(&result, &claims, &ctx, &mut out);
            assert!(out.notes.is_empty(), "{op}: {:?}", out.notes);
            assert!(out.verdicts.iter().all(|v| v.measured != "none"), "{op}");
        }
        let claims = Claims {
            latency: vec![row("ListItems")],
            ..Claims::default()
        };
        let mut out = Judgement::default();
        judge(&result, &claims, &ctx, &mut out);
        assert_eq!(out.notes.len(), 2, "{:?}", out.notes);
    }
}
