//! The dispatcher: every claim family judged over one run, in a fixed order. It depends on the
//! families and the model; no family depends on it.

use super::model::{JudgeContext, Judgement};
use super::{
    alerts, breaker, error_bodies, error_classes, errors, fallback, grpc_deadline, health,
    idempotency, interface, latency, rate_limit, ready, retries, throughput, timeout, trace,
};
use crate::result::RunResult;
use crate::spec::Claims;

/// Judges every testable claim against the run. Never panics on odd input: what cannot be judged
/// becomes an `inconclusive` verdict or a note, never a silent pass.
pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext) -> Judgement {
    let mut out = Judgement::default();
    latency::judge(result, claims, ctx, &mut out);
    let observed = breaker::observe_all(result, claims, ctx);
    errors::judge(result, claims, ctx, &observed, &mut out);
    for obs in &observed {
        out.episodes
            .extend(obs.episodes.iter().map(breaker::Episode::to_result));
    }
    timeout::judge(result, claims, ctx, &mut out);
    grpc_deadline::judge(result, claims, ctx, &mut out);
    breaker::judge(result, claims, ctx, &observed, &mut out);
    fallback::judge(result, claims, ctx, &observed, &mut out);
    retries::judge(result, claims, ctx, &observed, &mut out);
    rate_limit::judge(result, claims, ctx, &mut out);
    health::judge(result, claims, ctx, &observed, &mut out);
    throughput::judge(result, claims, ctx, &mut out);
    alerts::judge(result, claims, ctx, &observed, &mut out);
    error_classes::judge(result, claims, ctx, &mut out);
    error_bodies::judge(result, claims, ctx, &mut out);
    trace::judge(result, claims, ctx, &mut out);
    idempotency::judge(result, claims, ctx, &mut out);
    interface::judge(result, claims, ctx, &mut out);
    ready::judge(result, claims, ctx, &mut out);
    out
}
