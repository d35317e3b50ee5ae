//! `redline plan`: designs the run that can judge every claim of a spec within a time budget,
//! from the claims and the verdicts' own sample and tolerance rules, as an ordinary commented
//! scenario built on the user's base scenario. Pure: text in, text out, no I/O.
//!
//! One file per job: `base` (the user's scenario kept), `baseline` (rate and length),
//! `deps` (what is claimed per dependency), `breaker_phases`, `timeout_phases`, `retry_phases`,
//! `budget` (what is dropped when it does not fit), `assemble` (blocks onto the run's clock),
//! `probes` (request variations that provoke error classes), `render` (the commented TOML),
//! `follow_up` (one adaptive phase after a run).

pub mod assemble;
pub mod base;
pub mod baseline;
pub mod breaker_phases;
pub mod budget;
pub mod deps;
pub mod follow_up;
pub mod probes;
pub mod rate_breaker_phases;
pub mod render;
pub mod retry_phases;
pub mod timeline;
pub mod timeout_phases;

use crate::spec::claims::BreakerKind;
use crate::spec::Claims;
use crate::verdict::matching::same_name;
use crate::verdict::rules::alert_window_s;
use timeline::Block;

/// Seconds at the start of the run excluded from statistics (connections open, caches warm).
pub const WARMUP_S: f64 = 1.0;

/// What `plan` is given.
pub struct Input<'a> {
    pub claims: &'a Claims,
    pub spec_file: &'a str,
    pub base_text: &'a str,
    pub base_file: &'a str,
    pub budget_s: f64,
    /// A follow-up: only the baseline and blocks it names (see `follow_up`).
    pub focus: Option<&'a follow_up::Focus>,
}

/// A planned scenario and what it says about itself.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The scenario file: the base kept, `[load]` and `[[fault]]` written, every part commented.
    pub toml: String,
    /// One line per phase of the run, as the verdicts will name them.
    pub timeline: Vec<String>,
    /// Claims dropped to fit the budget, with what they need.
    pub dropped: Vec<String>,
    /// Claims whose windows exceed the budget ("needs 2 min").
    pub needs_longer: Vec<String>,
    /// Claims the plan cannot provoke, and why.
    pub not_planned: Vec<String>,
    /// Labels of the blocks kept ("breaker on UserService").
    pub blocks: Vec<String>,
    pub total_s: f64,
}

/// Plans the run; Err is every reason nothing can be planned (exit 2).
pub fn plan(input: &Input) -> Result<Planned, Vec<String>> {
    let mut base = base::read(input.base_text, input.base_file).map_err(|e| vec![e])?;
    let claims = input.claims;
    let mut problems = Vec::new();
    let mut not_planned = Vec::new();
    let probed = probes::plan(&base.plan, claims);
    not_planned.extend(probed.not_planned.iter().cloned());
    if !probed.probes.is_empty() && input.focus.is_none() {
        let factor = probes::weight_factor(&base.plan, probed.probes.len());
        let text = probes::apply(&base.text, &base.plan, &probed.probes, factor);
        let replaced = std::mem::take(&mut base.replaced);
        base = base::read(&text, input.base_file)
            .map_err(|e| vec![format!("internal error: the probes do not parse: {e}")])?;
        base.replaced = replaced;
    }
    let covered = |op: &str| {
        base.plan.requests.iter().any(|r| {
            same_name(op, &r.name) || r.operation.as_deref().is_some_and(|o| same_name(op, o))
        })
    };
    let missing: Vec<String> = claims
        .latency
        .iter()
        .filter(|t| !covered(&t.operation))
        .map(|t| format!("'{}' ({}:{})", t.operation, input.spec_file, t.line))
        .collect();
    if !claims.latency.is_empty() && missing.len() == claims.latency.len() {
        problems.push(format!(
            "{}: no [[request]] exercises a claimed operation: expected a request with `operation` = one of {}, \
             found requests {}",
            input.base_file,
            missing.join(", "),
            base.plan.requests.iter().map(|r| format!("'{}'", r.name)).collect::<Vec<_>>().join(", ")
        ));
    } else {
        for m in &missing {
            not_planned.push(format!(
                "latency of {m}: no [[request]] of the base has this `operation`"
            ));
        }
    }
    let mut rates = baseline::baseline(&base.plan, claims, input.spec_file, input.base_file);
    if input.focus.is_some_and(|f| !f.baseline) {
        rates.needs.clear();
    }
    let mut blocks: Vec<Block> = Vec::new();
    for d in &base.plan.dependencies {
        let dc = deps::claims_for(claims, &d.name);
        if let Some(b) = dc.breaker {
            match (b.kind, b.failure_threshold) {
                (None | Some(BreakerKind::Consecutive), Some(n)) => {
                    blocks.push(breaker_phases::consecutive(&dc, b, n, rates.cap))
                }
                (Some(BreakerKind::FailureRate | BreakerKind::FailuresInWindow), _) => {
                    match rate_breaker_phases::rate_breaker(&dc, b, rates.cap) {
                        Some(block) => blocks.push(block),
                        None => not_planned.push(format!(
                            "breaker on {} (line {}): its rule lacks a share, count or open time to plan by",
                            d.name, b.line
                        )),
                    }
                }
                _ => not_planned.push(format!(
                    "breaker on {} (line {}): the spec states no rule to plan by (threshold or rate); its timeout \
                     and retries are planned",
                    d.name, b.line
                )),
            }
            // A consecutive breaker's block hangs calls past the timeout; the others do not.
            let hung = blocks.last().is_some_and(|x| {
                x.label.ends_with(&d.name) && x.faults.iter().any(|f| f.kind == "hang")
            });
            if !hung {
                blocks.extend(timeout_phases::timeout(&dc, rates.cap));
            }
        } else {
            blocks.extend(timeout_phases::timeout(&dc, rates.cap));
        }
        blocks.extend(retry_phases::retries(&dc, rates.cap));
    }
    for dep in &claims.dependencies {
        let named = base
            .plan
            .dependencies
            .iter()
            .any(|d| same_name(&d.name, &dep.name));
        if !named && (dep.timeout_ms.is_some() || claims.breaker_for(&dep.name).is_some()) {
            not_planned.push(format!(
                "{} ({}:{}): the base has no [[dependency]] of that name to put a fault proxy in front of",
                dep.name, input.spec_file, dep.line
            ));
        }
    }
    if let Some(f) = input.focus {
        blocks.retain(|b| f.blocks.contains(&b.label));
    }
    let has_claim = !rates.needs.is_empty() || !blocks.is_empty();
    if !has_claim && problems.is_empty() {
        problems.push(format!(
            "{}: nothing to plan for: no latency, error-rate, throughput, timeout, retry or breaker claim matches \
             a request or [[dependency]] of {}",
            input.spec_file, input.base_file
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let recovery = |bs: &[Block]| assemble::final_recovery_s(claims, bs);
    let mut fit =
        budget::fit(WARMUP_S, &rates, blocks, &recovery, input.budget_s).map_err(|e| vec![e])?;
    let mut needs_longer = Vec::new();
    for a in claims.alerts.iter().filter(|_| input.focus.is_none()) {
        let Some(w) = alert_window_s(a) else { continue };
        let need = w.ceil() + 1.0;
        let spare = input.budget_s - fit.total_s(WARMUP_S, &recovery);
        if need <= fit.baseline_s {
            continue;
        }
        if need - fit.baseline_s <= spare {
            fit.baseline_s = need;
        } else {
            needs_longer.push(format!(
                "alert {} (line {}): needs {} of fault-free run in a row to judge quiet-while-healthy, more than the budget leaves",
                a.name,
                a.line,
                minutes(need)
            ));
        }
    }
    for o in &claims.objectives {
        if let Some(w) = o.window_s.filter(|w| *w > input.budget_s) {
            needs_longer.push(format!(
                "objective of line {} ({}): needs {} (its window)",
                o.line,
                o.window.as_deref().unwrap_or("window"),
                minutes(w)
            ));
        }
    }
    if !claims.rate_limits.is_empty() {
        not_planned.push(
            "rate limits: judged below the limit only (the baseline keeps every key under it); no burst is planned: \
             a burst on one key needs a request sent during one phase only, and a scenario's requests share every \
             stage by weight, so a burst stage would push every key past the limit"
                .to_string(),
        );
    }
    let placed = assemble::place(&rates, &fit, claims);
    let draw = |phases: &[String]| {
        let toml = render::render(
            input,
            &base,
            &rates,
            &fit,
            &placed,
            &needs_longer,
            &not_planned,
            phases,
        );
        crate::scenario::parse(&toml, input.base_file)
            .map(|p| (toml, p))
            .map_err(|e| {
                vec![format!(
                    "internal error: the planned scenario does not parse: {e}"
                )]
            })
    };
    let (_, parsed) = draw(&[])?;
    let timeline = assemble::phase_lines(&parsed, &placed);
    let (toml, _) = draw(&timeline)?;
    Ok(Planned {
        toml,
        timeline,
        dropped: fit.dropped.clone(),
        needs_longer,
        not_planned,
        blocks: fit.blocks.iter().map(|b| b.label.clone()).collect(),
        total_s: placed.total_s,
    })
}

/// "2 min", "1.5 min", "45 s".
pub fn minutes(s: f64) -> String {
    if s >= 60.0 {
        format!("{} min", breaker_phases::fmt2(s / 60.0))
    } else {
        budget::secs(s)
    }
}
