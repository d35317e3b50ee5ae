//! Idempotency keys ("accept an `Idempotency-Key` and replay the stored response"): every replay
//! of a probe's key (one sent concurrently with the first, the others after it) got the first
//! answer's status and the same body (digest), and no replay made a dependency call (the proxy
//! log's calls are tied to each send by its own trace id or request id). One verdict per probed
//! `[[request]]`.

use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use crate::result::{IdempotencyProbe, ProbeAnswer, RunResult};
use crate::spec::claims::Claims;

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    for p in &result.idempotency {
        let source = claims
            .idempotency_line
            .map_or_else(|| ctx.scenario_file.clone(), |l| spec_source(ctx, l));
        let c = Claim::new(
            format!("idempotency.{}", slug(&p.request)),
            format!("a replayed {} gets the stored answer", p.header),
            source,
            "same status and body",
        );
        let show = |a: &ProbeAnswer| match (a.status, &a.error) {
            (Some(s), _) => format!("{} {s}", a.kind),
            (None, e) => format!("{} failed ({})", a.kind, e.as_deref().unwrap_or("?")),
        };
        let Some(first) = p.answers.first().filter(|a| a.status.is_some()) else {
            let shown = p.answers.first().map(show).unwrap_or_default();
            out.verdicts.push(c.inconclusive(
                "no first answer",
                format!("The first send got no answer: {shown}."),
            ));
            continue;
        };
        if first.status.is_some_and(|s| s >= 500) {
            out.verdicts.push(c.inconclusive(
                format!("first answer {}", first.status.unwrap_or_default()),
                format!("The first send got {}: a server error is no stored answer to replay (was a dependency down after the load?).", show(first)),
            ));
            continue;
        }
        if claims.idempotency_line.is_none() {
            out.verdicts.push(c.inconclusive(
                "no promise in the spec",
                "The scenario marks this request, but the spec promises no Idempotency-Key.",
            ));
            continue;
        }
        let replays = &p.answers[1..];
        let differ: Vec<String> = replays
            .iter()
            .filter(|a| a.status != first.status || a.body_digest != first.body_digest)
            .map(|a| match a.status {
                Some(s) if Some(s) != first.status => show(a),
                Some(_) => format!("{} with another body ({} bytes)", show(a), a.body_bytes),
                None => show(a),
            })
            .collect();
        let same = replays.len() - differ.len();
        let (calls, repeated) = dependency_calls(result, p);
        let measured = format!("{same}/{} replays same", replays.len());
        let status = first.status.unwrap_or_default();
        if !repeated.is_empty() {
            out.verdicts.push(c.fail(
                format!("{same}/{} same, deps called again", replays.len()),
                format!(
                    "Key {}: the side effect happened again: {}.{}",
                    p.key,
                    repeated.join("; "),
                    if differ.is_empty() {
                        String::new()
                    } else {
                        format!(" Replays that differ: {}.", differ.join("; "))
                    }
                ),
            ));
        } else if differ.is_empty() {
            out.verdicts.push(c.pass(
                measured,
                format!(
                    "Key {} sent {} times (one concurrent with the first): every answer was {status} with the same {}-byte body.{calls}",
                    p.key,
                    p.answers.len(),
                    first.body_bytes
                ),
            ));
        } else {
            out.verdicts.push(c.fail(
                measured,
                format!(
                    "Key {}: the first answer was {status} ({} bytes); replays that differ: {}.",
                    p.key,
                    first.body_bytes,
                    differ.join("; ")
                ),
            ));
        }
    }
}

/// What the dependencies saw of the probe: a sentence on the first send's calls, and one entry per
/// dependency a replay called again.
fn dependency_calls(result: &RunResult, p: &IdempotencyProbe) -> (String, Vec<String>) {
    let tied = |a: &ProbeAnswer, e: &redline_proxy::log::LogEntry| {
        e.trace_id.as_deref() == Some(a.trace_id.as_str())
            || e.correlation_id
                .as_deref()
                .is_some_and(|c| c == a.trace_id || a.request_id.as_deref() == Some(c))
    };
    let (mut firsts, mut repeated) = (Vec::new(), Vec::new());
    for (name, report) in &result.dependencies {
        let count = |a: &ProbeAnswer| report.log.iter().filter(|e| tied(a, e)).count();
        let first = p.answers.first().map_or(0, count);
        let again: usize = p.answers.iter().skip(1).map(count).sum();
        if first > 0 {
            firsts.push(format!("{name} {first}"));
        }
        if again > 0 {
            repeated.push(format!(
                "{name} saw {again} call(s) from replays (first send: {first})"
            ));
        }
    }
    let calls = if result.dependencies.is_empty() {
        String::new()
    } else if firsts.is_empty() {
        " No dependency call was tied to the key (the dependency log keeps calls around fault windows only).".to_string()
    } else {
        format!(
            " Dependency calls of the first send: {}; the replays made none.",
            firsts.join(", ")
        )
    };
    (calls, repeated)
}
