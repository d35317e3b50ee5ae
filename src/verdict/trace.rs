//! Trace propagation ("propagate trace context to downstream services"): every call the proxy
//! logged on a dependency carries the W3C trace id of the client request it was made for, per
//! dependency, fault windows included. A call is tied to its client request by the correlation
//! id (the forwarded `x-request-id`), else by the trace id alone (one the engine sent).

use std::collections::{BTreeMap, BTreeSet};

use super::evidence;
use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use crate::result::RunResult;
use crate::spec::claims::Claims;

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    let Some(line) = claims.trace_propagation_line else {
        return;
    };
    // The after-load probes' sends carry their own trace ids (and request ids): theirs too.
    let probes = result
        .idempotency
        .iter()
        .flat_map(|p| &p.answers)
        .chain(result.conflicts.iter().flat_map(|p| &p.answers))
        .chain(result.limits.iter().map(|p| &p.answer));
    let by_request: BTreeMap<&str, &str> = result
        .client_log
        .iter()
        .filter_map(|c| Some((c.request_id.as_deref()?, c.trace_id.as_deref()?)))
        .chain(
            probes
                .clone()
                .filter_map(|a| Some((a.request_id.as_deref()?, a.trace_id.as_str()))),
        )
        .collect();
    let traces: BTreeSet<&str> = result
        .client_log
        .iter()
        .filter_map(|c| c.trace_id.as_deref())
        .chain(probes.map(|a| a.trace_id.as_str()))
        .collect();
    let source = spec_source(ctx, line);
    if !result.client_log.iter().any(|c| c.trace_id.is_some()) {
        let c = Claim::new(
            "trace.propagation",
            "trace context is propagated to downstream services",
            source,
            "the request's trace id per call",
        );
        let why = if result.client_log.is_empty() {
            "The run kept no client log, so calls cannot be tied to the requests that caused them."
        } else {
            "The engine sent no traceparent: set [target] traceparent = true (it is on by default when `redline run --spec` reads this promise)."
        };
        out.verdicts.push(c.inconclusive("no trace sent", why));
        return;
    }
    for (name, report) in &result.dependencies {
        let spec_dep = evidence::spec_dependency(claims, ctx, name);
        let windows = evidence::fault_windows(result, name);
        let calls: Vec<_> = report
            .log
            .iter()
            .filter(|e| !evidence::is_health_check(e, spec_dep))
            .collect();
        let c = Claim::new(
            format!("trace.{}", slug(name)),
            format!("calls to {name} carry the caller's trace context"),
            source.clone(),
            "the request's trace id per call",
        );
        if calls.is_empty() {
            out.verdicts.push(c.inconclusive(
                "no call logged",
                format!("No call to {name} was logged, so propagation to it was not seen."),
            ));
            continue;
        }
        let (mut ok, mut in_faults, mut bad) = (0usize, 0usize, Vec::new());
        let mut unknown = 0usize;
        for e in &calls {
            let want = e
                .correlation_id
                .as_deref()
                .and_then(|id| by_request.get(id).copied());
            let at = format!("call at {:.1} s", e.t_ms / 1000.0);
            match (e.trace_id.as_deref(), want) {
                (None, _) => bad.push(format!("{at} without traceparent")),
                (Some(t), Some(w)) if t == w => ok += 1,
                (Some(t), Some(w)) => {
                    bad.push(format!("{at} with trace {t}, its request sent {w}"))
                }
                (Some(t), None) if traces.contains(t) => ok += 1,
                (Some(_), None) if result.client_log_truncated => {
                    unknown += 1;
                    continue;
                }
                (Some(t), None) => bad.push(format!("{at} with trace {t}, which no request sent")),
            }
            if windows.iter().any(|w| w.contains(e.t_ms)) {
                in_faults += 1;
            }
        }
        let judged = ok + bad.len();
        let faults = if windows.is_empty() {
            String::new()
        } else {
            format!(" ({in_faults} of them in fault windows)")
        };
        let skipped = if unknown > 0 {
            format!(
                " {unknown} call(s) not judged: their requests are outside the bounded client log."
            )
        } else {
            String::new()
        };
        let measured = format!("{ok}/{judged} calls carry it");
        if judged == 0 {
            out.verdicts.push(c.inconclusive(
                measured,
                format!("No call could be tied to a client request.{skipped}"),
            ));
        } else if bad.is_empty() {
            out.verdicts.push(c.pass(
                measured,
                format!("All {judged} calls to {name}{faults} carry the trace id of the client request they were made for.{skipped}"),
            ));
        } else {
            let shown: Vec<&str> = bad.iter().take(3).map(String::as_str).collect();
            out.verdicts.push(c.fail(
                measured,
                format!(
                    "{} of {judged} calls to {name}{faults} do not carry their request's trace id: {}{}.{skipped}",
                    bad.len(),
                    shown.join("; "),
                    if bad.len() > 3 { "; ..." } else { "" }
                ),
            ));
        }
    }
}

/// The ids of verdicts, for tests.
#[cfg(test)]
pub(crate) fn ids(v: &[crate::result::Verdict]) -> Vec<&str> {
    v.iter().map(|v| v.id.as_str()).collect()
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
