//! What "holds" means for a step: the spec's latency claims (per operation and the global budget,
//! timeouts included) and its error-rate and availability objectives, the scenario's `[[slo]]`
//! entries, and the command line's `--p50/--p95/--p99/--max-error-rate`; plus how many samples each
//! needs (the verdicts' own 10/(1-q) and 3/allowed rules), so a step can be long enough to judge.

use std::time::Duration;

use crate::scenario::Plan;
use crate::spec::Claims;
use crate::verdict::matching::same_name;
use crate::verdict::tolerance::{fmt_ms, fmt_pct, min_samples_for_quantile, min_samples_for_rate};
use crate::verdict::{JudgeContext, SloEntry};

/// Criteria given on the command line (used with or without a spec; they win over the spec's
/// global budget and error rate for the same figure).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    pub p50: Option<Duration>,
    pub p95: Option<Duration>,
    pub p99: Option<Duration>,
    /// Highest share of errors, 0..=1.
    pub max_error_rate: Option<f64>,
}

impl Flags {
    fn is_empty(&self) -> bool {
        self == &Flags::default()
    }
}

/// The line number that marks a command-line criterion inside the judge's `[[slo]]` entries;
/// scenario lines start at 1, so it cannot clash.
pub const FLAG_LINE: usize = 0;

/// How many samples of which requests one claim needs before it can be judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    /// "P99 of GET item", "error rate of the service".
    pub what: String,
    /// Request names the claim covers.
    pub requests: Vec<String>,
    pub samples: u64,
}

/// Everything a step is judged on.
#[derive(Debug, Clone)]
pub struct Criteria {
    /// The claims judged per step (latency and error objectives only).
    pub claims: Claims,
    pub ctx: JudgeContext,
    pub needs: Vec<Need>,
    /// One line per criterion, for the result and the report.
    pub described: Vec<String>,
}

/// Builds the criteria; Err when there is nothing to judge.
pub fn criteria(
    plan: &Plan,
    spec: Option<(&Claims, &str)>,
    flags: &Flags,
    scenario_file: &str,
) -> Result<Criteria, String> {
    let mut claims = Claims::default();
    let spec_file = spec.map_or("spec.md", |(_, f)| f);
    if let Some((c, _)) = spec {
        claims.latency = c.latency.clone();
        claims.latency_budget = c.latency_budget.clone();
        claims.error_rate_max = c.error_rate_max;
        claims.error_rate_line = c.error_rate_line;
        claims.availability = c.availability;
        claims.availability_line = c.availability_line;
    }
    let mut ctx = crate::chaos::judge::context(plan, &claims, spec_file, scenario_file);
    // A step has one phase (its judged window): objectives bound to a phase apply to it.
    for s in &mut ctx.slos {
        s.phase = None;
    }
    if !flags.is_empty() {
        ctx.slos.push(SloEntry {
            operation: None,
            phase: None,
            p50: flags.p50,
            p95: flags.p95,
            p99: flags.p99,
            timeout: None,
            error_rate: flags.max_error_rate,
            availability: None,
            line: FLAG_LINE,
        });
    }
    let (needs, described) = needs(plan, &claims, &ctx);
    if needs.is_empty() {
        return Err(
            "nothing to judge a step on: the spec states no latency target, error rate or availability, and no \
             --p50/--p95/--p99/--max-error-rate was given"
                .to_string(),
        );
    }
    Ok(Criteria {
        claims,
        ctx,
        needs,
        described,
    })
}

/// A latency or error objective before it is matched to requests.
struct Objective {
    operation: Option<String>,
    quantiles: Vec<(f64, f64)>,
    allowed: Option<f64>,
    source: String,
}

fn objectives(claims: &Claims, ctx: &JudgeContext) -> Vec<Objective> {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut out = Vec::new();
    let spec_src = |line: usize| format!("{}:{line}", ctx.spec_file);
    for t in &claims.latency {
        let q = [(0.5, t.p50_ms), (0.95, t.p95_ms), (0.99, t.p99_ms)];
        out.push(Objective {
            operation: Some(t.operation.clone()),
            quantiles: q.iter().filter_map(|(q, v)| Some((*q, (*v)?))).collect(),
            allowed: None,
            source: spec_src(t.line),
        });
    }
    if let Some(b) = &claims.latency_budget {
        let q = [(0.5, b.p50_ms), (0.95, b.p95_ms), (0.99, b.p99_ms)];
        out.push(Objective {
            operation: None,
            quantiles: q.iter().filter_map(|(q, v)| Some((*q, (*v)?))).collect(),
            allowed: None,
            source: spec_src(b.line),
        });
    }
    for (allowed, line) in [
        (claims.error_rate_max, claims.error_rate_line),
        (
            claims.availability.map(|a| 1.0 - a),
            claims.availability_line,
        ),
    ] {
        if let Some(allowed) = allowed {
            out.push(Objective {
                operation: None,
                quantiles: Vec::new(),
                allowed: Some(allowed),
                source: spec_src(line.unwrap_or(0)),
            });
        }
    }
    for s in &ctx.slos {
        let q = [(0.5, s.p50), (0.95, s.p95), (0.99, s.p99)];
        let allowed = match (s.error_rate, s.availability.map(|a| 1.0 - a)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        out.push(Objective {
            operation: s.operation.clone(),
            quantiles: q
                .iter()
                .filter_map(|(q, v)| Some((*q, ms((*v)?))))
                .collect(),
            allowed,
            source: if s.line == FLAG_LINE {
                "command line".to_string()
            } else {
                format!("{}:{}", ctx.scenario_file, s.line)
            },
        });
    }
    out
}

fn needs(plan: &Plan, claims: &Claims, ctx: &JudgeContext) -> (Vec<Need>, Vec<String>) {
    let (mut needs, mut described) = (Vec::new(), Vec::new());
    for o in objectives(claims, ctx) {
        let label = o
            .operation
            .clone()
            .unwrap_or_else(|| "all requests".to_string());
        let requests: Vec<String> = plan
            .requests
            .iter()
            .filter(|r| match &o.operation {
                None => true,
                Some(op) => {
                    same_name(op, &r.name)
                        || r.operation.as_deref().is_some_and(|x| same_name(op, x))
                }
            })
            .map(|r| r.name.clone())
            .collect();
        for (q, v) in &o.quantiles {
            let samples = min_samples_for_quantile(*q);
            let p = format!("P{}", (q * 100.0).round());
            described.push(format!(
                "{p} of {label} ≤ {} ({}; {samples} samples per step)",
                fmt_ms(*v),
                o.source
            ));
            needs.push(Need {
                what: format!("{p} of {label}"),
                requests: requests.clone(),
                samples,
            });
        }
        if let Some(allowed) = o.allowed {
            let samples = min_samples_for_rate(allowed).min(1_000_000);
            described.push(format!(
                "errors of {label} ≤ {} ({}; {samples} requests per step)",
                fmt_pct(allowed),
                o.source
            ));
            needs.push(Need {
                what: format!("error rate of {label}"),
                requests: requests.clone(),
                samples,
            });
        }
    }
    (needs, described)
}

/// Seconds a step at `rate` must last for every claim to have its samples (10% spare for the
/// randomness of the arrivals and the request mix); `f64::INFINITY` when a claim covers no request.
pub fn seconds_needed(plan: &Plan, needs: &[Need], rate: f64) -> f64 {
    let total: f64 = plan
        .requests
        .iter()
        .map(|r| f64::from(r.weight.get()))
        .sum();
    let mut worst: f64 = 0.0;
    for n in needs {
        let share: f64 = plan
            .requests
            .iter()
            .filter(|r| n.requests.contains(&r.name))
            .map(|r| f64::from(r.weight.get()))
            .sum::<f64>()
            / total.max(1.0);
        if share <= 0.0 || rate <= 0.0 {
            return f64::INFINITY;
        }
        worst = worst.max(n.samples as f64 * 1.1 / (rate * share));
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let src = "name = \"t\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n\
                   [load]\nstages = [ { duration = \"2s\", rate = 10 } ]\n\
                   [[request]]\nname = \"get\"\noperation = \"GET item\"\npath = \"/\"\nweight = 3\n\
                   [[request]]\nname = \"list\"\npath = \"/l\"\n";
        crate::scenario::parse(src, "t.toml").unwrap()
    }

    #[test]
    fn nothing_to_judge_is_an_error() {
        let err = criteria(&plan(), None, &Flags::default(), "t.toml").unwrap_err();
        assert!(err.contains("--p99"));
    }

    #[test]
    fn needs_follow_the_verdicts_sample_rules_and_the_mix() {
        let spec = crate::spec::parse(
            "## Backend Spec: S\n### Performance\n#### Latency Targets\n\n| Operation | P50 | P95 | P99 | Timeout |\n|---|---|---|---|---|\n| GET item | 10ms | 50ms | 100ms | 1s |\n",
        );
        let flags = Flags {
            max_error_rate: Some(0.01),
            ..Flags::default()
        };
        let c = criteria(&plan(), Some((&spec, "s.md")), &flags, "t.toml").unwrap();
        let p99 = c
            .needs
            .iter()
            .find(|n| n.what == "P99 of GET item")
            .unwrap();
        assert_eq!(
            (p99.samples, p99.requests.clone()),
            (1000, vec!["get".to_string()])
        );
        let errors = c
            .needs
            .iter()
            .find(|n| n.what.starts_with("error"))
            .unwrap();
        assert_eq!(errors.samples, 300);
        assert_eq!(errors.requests.len(), 2);
        // 1000 samples of a request with 3/4 of the mix at 100 req/s: 13.3 s, plus 10%.
        let s = seconds_needed(&plan(), &c.needs, 100.0);
        assert!((s - 1100.0 / 75.0).abs() < 1e-9, "{s}");
        assert!(c.described.iter().any(|d| d.contains("command line")));
    }
}
