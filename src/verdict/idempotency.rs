//! Idempotency keys ("accept an `Idempotency-Key` and replay the stored response"): every replay
//! of a probe's key (one sent concurrently with the first, the others after it) got the first
//! answer's status and the same body (digest). One verdict per probed `[[request]]`.

use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use crate::result::{ProbeAnswer, RunResult};
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
        let measured = format!("{same}/{} replays same", replays.len());
        let status = first.status.unwrap_or_default();
        if differ.is_empty() {
            out.verdicts.push(c.pass(
                measured,
                format!(
                    "Key {} sent {} times (one concurrent with the first): every answer was {status} with the same {}-byte body.",
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
