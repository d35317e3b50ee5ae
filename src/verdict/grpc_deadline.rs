//! A gRPC dependency's declared timeout as the deadline its caller sends: every call an HTTP/2
//! proxy logged carries the caller's `grpc-timeout`, so the deadline the service declared is
//! compared with the one it propagates (the give-up time itself is `timeout.rs`'s verdict).

use redline_proxy::log::LogEntry;

use super::evidence;
use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::tolerance::{explain, fmt_ms};
use crate::result::{RunResult, Verdict};
use crate::spec::claims::{Claims, Dependency};

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    for (d, name) in super::timeout::claimed_timeouts(result, claims, ctx) {
        let log = evidence::sorted_log(result, &name);
        let streams: Vec<&LogEntry> = log
            .iter()
            .filter(|e| e.h2.is_some())
            .filter(|e| !evidence::is_health_check(e, Some(d)))
            .collect();
        if !streams.is_empty() {
            out.verdicts.push(judge_dependency(ctx, d, &streams));
        }
    }
}

fn judge_dependency(ctx: &JudgeContext, d: &Dependency, streams: &[&LogEntry]) -> Verdict {
    let t = d.timeout_ms.unwrap_or_default();
    let tol = &ctx.duration_tolerance;
    let margin = tol.margin_ms(t);
    let c = Claim::new(
        format!("timeout.{}.grpc_deadline", slug(&d.name)),
        format!("Calls to {} carry a {} gRPC deadline", d.name, fmt_ms(t)),
        spec_source(ctx, d.line),
        format!("grpc-timeout {} {}", fmt_ms(t), tol.short(t)),
    );
    let mut sent: Vec<f64> = streams
        .iter()
        .filter_map(|e| e.h2.as_ref().and_then(|h| h.grpc_timeout_ms))
        .collect();
    sent.sort_by(f64::total_cmp);
    let without = streams.len() - sent.len();
    let dep = &d.name;
    let claimed = fmt_ms(t);
    let verdict = if sent.is_empty() {
        c.fail(
            format!("no deadline on {} calls", streams.len()),
            format!(
                "None of the {} gRPC calls to {dep} carried a grpc-timeout: the service sends no deadline, \
                 so {dep} cannot know the claimed {claimed}.",
                streams.len()
            ),
        )
    } else {
        let median = sent[sent.len() / 2];
        let off = sent.iter().filter(|s| (**s - t).abs() > margin).count();
        let measured = format!("median {} ({} calls)", fmt_ms(median), sent.len());
        let range = format!(
            " Sent: {}–{}{}.",
            fmt_ms(sent[0]),
            fmt_ms(sent[sent.len() - 1]),
            if without > 0 {
                format!("; {without} call(s) carried none")
            } else {
                String::new()
            }
        );
        if off > 0 || without > 0 {
            c.fail(
                measured,
                format!(
                    "{} of {} calls to {dep} carried a grpc-timeout other than the claimed {claimed}.{range}",
                    off + without,
                    streams.len()
                ),
            )
        } else {
            c.pass(
                measured,
                format!(
                    "Every call to {dep} carried a grpc-timeout of {claimed} as claimed.{range}"
                ),
            )
        }
    };
    explain(verdict, &tol.rule(t))
}
