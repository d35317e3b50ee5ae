//! Idempotency keys ("accept an `Idempotency-Key` and replay the stored response"): every replay
//! of a probe's key (one sent concurrently with the first, the others after it) got the first
//! answer's status and the same body (digest), and the sends together made no more dependency
//! calls than one of them (the proxy log's calls are tied to each send by its own trace id or
//! request id; the first and the concurrent send race, so either may be the one served). One
//! verdict per probed `[[request]]`.

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
        // The first send and the one concurrent with it race: whichever the service served first
        // made the calls, so the side effect is repeated only by calls beyond one send's.
        let counts: Vec<usize> = p.answers.iter().map(count).collect();
        let first = counts.first().copied().unwrap_or(0);
        let served = counts.iter().copied().max().unwrap_or(0);
        let again = counts.iter().sum::<usize>() - served;
        if served > 0 {
            firsts.push(format!("{name} {served}"));
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
            " Dependency calls of the send served first: {}; the replays made none.",
            firsts.join(", ")
        )
    };
    (calls, repeated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::DependencyReport;

    fn answer(kind: &str, trace: &str) -> ProbeAnswer {
        ProbeAnswer {
            kind: kind.into(),
            status: Some(201),
            trace_id: trace.into(),
            ..ProbeAnswer::default()
        }
    }

    /// A UserService log with one call per trace id in `calls`.
    fn run(calls: &[&str]) -> RunResult {
        let log = calls
            .iter()
            .enumerate()
            .map(|(i, t)| {
                serde_json::from_value(serde_json::json!({
                    "seq": i, "t_ms": 1.0, "method": "GET", "path": "/users/k",
                    "correlation_id": null, "fault": null, "outcome": "forwarded", "status": 200,
                    "upstream_status": 200, "upstream_ms": 1.0, "gave_up_ms": null,
                    "total_ms": 1.0, "trace_id": t
                }))
                .unwrap()
            })
            .collect();
        let dep = DependencyReport {
            log,
            ..DependencyReport::default()
        };
        RunResult {
            dependencies: [("UserService".to_string(), dep)].into(),
            ..RunResult::default()
        }
    }

    fn probe() -> IdempotencyProbe {
        IdempotencyProbe {
            request: "create".into(),
            header: "Idempotency-Key".into(),
            key: "k".into(),
            answers: vec![
                answer("first", "a"),
                answer("concurrent", "b"),
                answer("after", "c"),
            ],
        }
    }

    #[test]
    fn the_concurrent_send_may_be_the_one_served() {
        // The concurrent send reached the service first: one send's calls, no repeat.
        let (calls, repeated) = dependency_calls(&run(&["b"]), &probe());
        assert!(repeated.is_empty(), "{repeated:?}");
        assert!(
            calls.contains("UserService 1; the replays made none"),
            "{calls}"
        );
        // Every send called it: the side effect happened twice more.
        let (_, repeated) = dependency_calls(&run(&["a", "b", "c"]), &probe());
        assert_eq!(
            repeated,
            ["UserService saw 2 call(s) from replays (first send: 1)"]
        );
    }
}
