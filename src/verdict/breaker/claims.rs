//! Circuit-breaker claims (failure threshold, recovery timeout, half-open probes, resuming after
//! the fault): which dependency each guards, whether it opened, then one verdict per setting.

use super::episodes::{Observation, Trigger};
use super::kind::observed_kind;
use super::opened::{in_window, not_opened_in, observable, opened, Opened};
use super::replay::replay;
use super::rule::Rule;
use super::rule_verdict;
use crate::result::{RunResult, VerdictStatus::*};
use crate::spec::claims::{Breaker, BreakerKind, Claims};
use crate::verdict::evidence::{self, FaultWindow};
use crate::verdict::matching::{mentions, same_name, slug};
use crate::verdict::model::{spec_source, Claim, JudgeContext, Judgement};
use crate::verdict::tolerance::{fmt_ms, fmt_t};

/// Finds the observation of the dependency a breaker claim guards.
pub fn breaker_target<'a>(
    claims: &Claims,
    b: &Breaker,
    result: &RunResult,
    ctx: &JudgeContext,
    observed: &'a [Observation],
) -> Option<&'a Observation> {
    let by_name = |name: &str| {
        let scenario = evidence::scenario_dependency(result, ctx, name)?;
        observed
            .iter()
            .find(|o| same_name(&o.dependency, &scenario))
    };
    if let Some(dep) = &b.dependency {
        return by_name(dep);
    }
    if let Some(name) = &b.name {
        let hit = claims
            .dependencies
            .iter()
            .find(|d| mentions(name, &d.name))
            .and_then(|d| by_name(&d.name));
        if hit.is_some() {
            return hit;
        }
        if let Some(o) = observed.iter().find(|o| mentions(name, &o.dependency)) {
            return Some(o);
        }
    }
    let faulted: Vec<&Observation> = observed.iter().filter(|o| !o.windows.is_empty()).collect();
    match (faulted.len(), observed.len()) {
        (1, _) => Some(faulted[0]),
        (_, 1) => Some(&observed[0]),
        _ => None,
    }
}

pub fn judge(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    observed: &[Observation],
    out: &mut Judgement,
) {
    if claims.breakers.is_empty() {
        for o in observed.iter().filter(|o| !o.episodes.is_empty()) {
            out.notes.push(format!(
                "traffic to {} paused {} time(s) like a circuit breaker (see breaker_episodes), but the spec claims \
                 no breaker: add its settings to the spec to have them judged",
                o.dependency,
                o.episodes.len()
            ));
        }
    }
    for b in &claims.breakers {
        let source = spec_source(ctx, b.line);
        let Some(obs) = breaker_target(claims, b, result, ctx, observed) else {
            let label = b
                .name
                .clone()
                .or(b.dependency.clone())
                .unwrap_or_else(|| "breaker".into());
            out.verdicts.push(Claim::new(format!("breaker.{}", slug(&label)), format!("Circuit breaker {label}"), source, describe_claim(b)).inconclusive("no matching dependency in this run", "The spec does not say which dependency this breaker guards and the run has several (or none): \
                 name the dependency in the spec, or put one [[dependency]] with that name in the scenario."));
            continue;
        };
        let spec_dep = evidence::spec_dependency(claims, ctx, &obs.dependency);
        let name = spec_dep.map_or(obs.dependency.as_str(), |d| d.name.as_str());
        let attempts = crate::verdict::retries::policy_for(
            claims,
            name,
            spec_dep.and_then(|d| d.kind.as_deref()),
        )
        .map(crate::verdict::retries::max_attempts);
        judge_one(result, ctx, b, obs, attempts, &source, out);
    }
}

fn describe_claim(b: &Breaker) -> String {
    let mut parts = Vec::new();
    match Rule::of(b) {
        Some(rule) => parts.push(format!("opens when {}", rule.describe())),
        None => {
            if let Some(n) = b.failure_threshold {
                parts.push(format!("opens after {n} consecutive failures"));
            }
        }
    }
    if let Some(r) = b.recovery_timeout_ms {
        parts.push(format!("stays open {}", fmt_ms(r)));
    }
    if let Some(k) = b.half_open_requests {
        parts.push(format!("lets {k} half-open probe(s) through"));
    }
    if parts.is_empty() {
        "opens under failure".to_string()
    } else {
        parts.join(", ")
    }
}

fn judge_one(
    result: &RunResult,
    ctx: &JudgeContext,
    b: &Breaker,
    obs: &Observation,
    attempts: Option<u32>,
    source: &str,
    out: &mut Judgement,
) {
    let dep = obs.dependency.clone();
    let id = |field: &str| format!("breaker.{}.{field}", slug(&dep));
    let opens = Claim::new(
        id("opens"),
        format!("A circuit breaker guards {dep}"),
        source,
        "calls stop under failure".to_string(),
    );
    let eps = match opened(result, b, obs) {
        Opened::Yes(eps) => {
            let at = fmt_t(eps[0].opened_at_ms);
            let reopens = obs
                .episodes
                .iter()
                .filter(|e| e.trigger == Trigger::Probe)
                .count();
            let mut measured = match eps.len() {
                1 => format!("opened {at}"),
                n => format!("opened {n}×, first at {at}"),
            };
            let reopened = match reopens {
                0 => String::new(),
                r => {
                    measured.push_str(&format!(", reopened {r}×"));
                    format!(
                        " It reopened {r} time(s) after failed half-open probes (see the breaker episodes)."
                    )
                }
            };
            // Opening in one fault window does not excuse another where calls went on failing.
            let missed: Vec<&FaultWindow> = obs
                .windows
                .iter()
                .filter(|w| !w.invisible && !eps.iter().any(|e| in_window(w, e.opened_at_ms)))
                .filter(|w| !obs.episodes.iter().any(|e| in_window(w, e.opened_at_ms)))
                .collect();
            match not_opened_in(result, b, obs, &missed) {
                Opened::No {
                    status: Fail,
                    measured: m,
                    detail,
                } => {
                    out.verdicts
                        .push(opens.fail(format!("{measured}; {m} in another window"), detail));
                }
                _ => {
                    let detail = format!(
                        "Traffic to {dep} stopped at {at} after failures while clients kept sending.{reopened}"
                    );
                    out.verdicts.push(opens.pass(measured, detail));
                }
            }
            eps
        }
        Opened::No {
            status,
            measured,
            detail,
        } => {
            out.verdicts
                .push(opens.judged(status, measured.clone(), detail.clone()));
            // A rate or windowed-count rule is judged on the closed periods too: staying closed
            // below it is evidence for it, calls going on above it is evidence against.
            let rule = Rule::of(b).filter(|_| observable(obs));
            if let Some(rule) = &rule {
                let replay = replay(rule, obs);
                out.verdicts.push(rule_verdict::verdict(
                    &dep,
                    rule,
                    &replay,
                    source,
                    id(rule_field(rule)),
                ));
            }
            // Every other breaker claim depends on an opening: same status, same reason.
            for (field, what) in claimed_fields(b)
                .into_iter()
                .filter(|(f, _)| rule.is_none() || *f != "failure_threshold")
            {
                let c = Claim::new(id(field), what, source, expected_of(b, field));
                out.verdicts
                    .push(c.judged(status, measured.clone(), detail.clone()));
            }
            return;
        }
    };
    if let Some((kind, why)) = observed_kind(obs) {
        let claimed = b
            .kind
            .map(|k| format!(" (the spec claims {})", kind_name(k)))
            .unwrap_or_default();
        out.notes.push(format!(
            "breaker on {dep}: observed_kind = {kind}{claimed}: {why}."
        ));
    }
    let rule = Rule::of(b);
    if let Some(rule) = &rule {
        let replay = replay(rule, obs);
        out.verdicts.push(rule_verdict::verdict(
            &dep,
            rule,
            &replay,
            source,
            id(rule_field(rule)),
        ));
    }
    let consecutive = matches!(b.kind, None | Some(BreakerKind::Consecutive));
    if let Some(n) = b.failure_threshold.filter(|_| consecutive) {
        out.verdicts.push(super::consecutive::threshold(
            &dep,
            n,
            &eps,
            source,
            id("failure_threshold"),
        ));
    }
    if let Some(r) = b.recovery_timeout_ms {
        out.verdicts.push(super::verdicts::recovery(
            result,
            ctx,
            obs,
            (r, b),
            source,
            id("recovery_timeout"),
        ));
    }
    if let Some(k) = b.half_open_requests {
        out.verdicts.push(super::verdicts::probes(
            obs,
            k,
            attempts,
            source,
            id("half_open_requests"),
        ));
    }
    if let Some(rule) = b.close_rule {
        out.verdicts.push(super::close_rule::verdict(
            obs,
            rule,
            b.failure_rate,
            source,
            id("close_rule"),
        ));
    }
    out.verdicts.push(super::verdicts::resumes(
        result,
        ctx,
        obs,
        b.recovery_timeout_ms,
        source,
        id("resumes"),
    ));
}

fn claimed_fields(b: &Breaker) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    if let Some(n) = b.failure_threshold {
        v.push((
            "failure_threshold",
            format!("The breaker opens after {n} consecutive failed calls"),
        ));
    }
    if let Some(r) = b.recovery_timeout_ms {
        v.push((
            "recovery_timeout",
            format!("The breaker stays open {} before probing", fmt_ms(r)),
        ));
    }
    if let Some(k) = b.half_open_requests {
        v.push((
            "half_open_requests",
            format!("The breaker lets {k} probe(s) through when half-open"),
        ));
    }
    if b.close_rule.is_some() {
        v.push((
            "close_rule",
            "The breaker closes from half-open by its claimed rule".to_string(),
        ));
    }
    v
}

fn expected_of(b: &Breaker, field: &str) -> String {
    match field {
        "failure_threshold" => format!(
            "{} consecutive failed calls",
            b.failure_threshold.unwrap_or(0)
        ),
        "recovery_timeout" => fmt_ms(b.recovery_timeout_ms.unwrap_or(0.0)),
        "close_rule" => format!("{:?}", b.close_rule),
        _ => format!("{} probe(s)", b.half_open_requests.unwrap_or(0)),
    }
}

/// The verdict id's last part for a rule.
fn rule_field(rule: &Rule) -> &'static str {
    match rule {
        Rule::Rate { .. } => "failure_rate",
        Rule::Count { .. } => "failures_in_window",
    }
}

fn kind_name(k: BreakerKind) -> &'static str {
    match k {
        BreakerKind::Consecutive => "consecutive",
        BreakerKind::FailureRate => "failure_rate",
        BreakerKind::FailuresInWindow => "failures_in_window",
    }
}
