//! Rate limits: sending clearly beyond a key's stated rate yields 429 with Retry-After; clearly below
//! it, no 429. Judged per key from the client log (send times, statuses, Retry-After).

use std::collections::BTreeMap;

use super::matching::{same_name, slug};
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::tolerance::fmt_ms;
use crate::result::{ClientLogEntry, RunResult, Verdict, VerdictStatus};
use crate::spec::claims::{Claims, RateLimit};

/// Below 90% of the limit no 429 may appear; above 110% they must. In between is too close to call.
pub const BELOW: f64 = 0.9;
pub const ABOVE: f64 = 1.1;
/// Most a limiter may let through in one window and still keep its claim (a bucket holding one
/// window's worth of tokens, refilled during the window); the same bound judges `let_through`.
pub const BURST_ALLOWANCE: f64 = 2.0;

/// Names under which a limit covers every request not given another one.
fn is_default_tier(name: &str) -> bool {
    let n = super::matching::normalize(name);
    [
        "", "default", "global", "all", "api", "user", "peruser", "ip", "perip", "apikey",
        "perkey", "client",
    ]
    .contains(&n.as_str())
}

/// Request names a limit applies to: assigned by the scenario, named by endpoint, or "default" for
/// the rest. The spec's only limit covers the rest too, whatever its name (`def items_api`): the
/// flag says coverage was so assumed.
fn requests_for(
    limit: &RateLimit,
    all: &[RateLimit],
    result: &RunResult,
    ctx: &JudgeContext,
) -> (Vec<String>, bool) {
    let mut names: Vec<String> = result.operations.keys().cloned().collect();
    names.extend(result.client_log.iter().map(|c| c.request.clone()));
    names.sort();
    names.dedup();
    let op_of = |n: &str| {
        ctx.requests
            .get(n)
            .and_then(|r| r.operation.clone())
            .or_else(|| result.operations.get(n)?.operation.clone())
    };
    let explicit = |n: &str| ctx.requests.get(n).and_then(|r| r.rate_limit.clone());
    let by_endpoint = |l: &RateLimit, n: &str| {
        same_name(&l.name, n) || op_of(n).is_some_and(|o| same_name(&l.name, &o))
    };
    // "items_api", "public_api", "service": a name for the whole API, not one endpoint ("export").
    let n = super::matching::normalize(&limit.name);
    let api_wide = n.ends_with("api") || n.ends_with("service");
    let sole = all.len() == 1 && !is_default_tier(&limit.name) && api_wide;
    let mut assumed = false;
    let names = names
        .into_iter()
        .filter(|n| match explicit(n) {
            Some(tier) => same_name(&tier, &limit.name),
            None if by_endpoint(limit, n) => true,
            None if sole => {
                assumed = true;
                true
            }
            None => {
                let is_default = is_default_tier(&limit.name);
                is_default
                    && !all
                        .iter()
                        .any(|l| !std::ptr::eq(l, limit) && by_endpoint(l, n))
            }
        })
        .collect();
    (names, assumed)
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    for limit in &claims.rate_limits {
        let source = spec_source(ctx, limit.line);
        let claim = format!(
            "Rate limit '{}': {} requests per {}",
            limit.name,
            limit.requests,
            fmt_ms(limit.per_s * 1000.0)
        );
        let (names, assumed) = requests_for(limit, &claims.rate_limits, result, ctx);
        let id = format!("rate_limit.{}", slug(&limit.name));
        let expected = "429 with Retry-After beyond the rate, none below it".to_string();
        if names.is_empty() {
            let detail = format!(
                "No request of the scenario is subject to '{}': no request's name or `operation` matches it.",
                limit.name
            );
            out.verdicts.push(
                Claim::new(id, claim, source, expected).inconclusive("not exercised", detail),
            );
            continue;
        }
        if result.client_log.is_empty() || result.client_log_truncated {
            let detail = "Rate limits are judged from the full client log, which this result does not hold (empty or truncated).";
            out.verdicts.push(
                Claim::new(id, claim, source, expected).inconclusive("no client log", detail),
            );
            continue;
        }
        let mut by_key: BTreeMap<String, Vec<&ClientLogEntry>> = BTreeMap::new();
        for c in result
            .client_log
            .iter()
            .filter(|c| names.contains(&c.request))
        {
            let key = ctx
                .requests
                .get(&c.request)
                .and_then(|r| r.rate_key.clone())
                .unwrap_or_else(|| "shared".into());
            by_key.entry(key).or_default().push(c);
        }
        let keyed = by_key.len() > 1;
        for (key, mut entries) in by_key {
            entries.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
            let id = if keyed {
                format!("{id}.{}", slug(&key))
            } else {
                id.clone()
            };
            let claim = if keyed {
                format!("{claim} (key '{key}')")
            } else {
                claim.clone()
            };
            let v = judge_key(limit, &key, &entries, id, claim, &source);
            out.verdicts.push(hedge(v, assumed, &limit.name));
        }
    }
}

/// A limit taken to cover requests no line of the spec ties it to cannot fail them (they may not
/// be under it): what would fail is inconclusive; what passes holds either way (no 429 below the
/// rate, or 429 with Retry-After above it).
fn hedge(v: Verdict, assumed: bool, name: &str) -> Verdict {
    let note = format!(
        " ('{name}' is the spec's only rate limit, so it was taken to cover every request of the scenario.)"
    );
    if !assumed {
        return v;
    }
    Verdict {
        status: if v.status == VerdictStatus::Fail {
            VerdictStatus::Inconclusive
        } else {
            v.status
        },
        detail: format!("{}{note}", v.detail),
        ..v
    }
}

/// Most entries (by send time) in any window of `w_ms` (all of them if the run is shorter).
fn busiest(times: &[f64], w_ms: f64) -> usize {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= w_ms {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

/// One key's traffic against one limit.
struct KeyTraffic {
    sent: Vec<f64>,
    admitted: Vec<f64>,
    /// Most requests sent in any window of the limit's length.
    peak: usize,
    limited: usize,
    no_retry_after: usize,
}

fn judge_key(
    limit: &RateLimit,
    key: &str,
    entries: &[&ClientLogEntry],
    id: String,
    claim: String,
    source: &str,
) -> Verdict {
    let w_ms = limit.per_s * 1000.0;
    let sent: Vec<f64> = entries.iter().map(|c| c.t_ms).collect();
    let t = KeyTraffic {
        peak: busiest(&sent, w_ms),
        admitted: entries
            .iter()
            .filter(|c| c.status != Some(429))
            .map(|c| c.t_ms)
            .collect(),
        limited: entries.iter().filter(|c| c.status == Some(429)).count(),
        no_retry_after: entries
            .iter()
            .filter(|c| c.status == Some(429) && !c.retry_after)
            .count(),
        sent,
    };
    let c = Claim::new(
        id,
        claim,
        source,
        format!("{} per {}", limit.requests, fmt_ms(w_ms)),
    );
    let measured = format!("peak {}/{}, {} got 429", t.peak, fmt_ms(w_ms), t.limited);
    let who = format!("key '{key}' of '{}'", limit.name);
    let (n, peak, per) = (limit.requests as f64, t.peak, fmt_ms(w_ms));
    if (peak as f64) <= BELOW * n {
        if t.limited == 0 {
            return c.pass(
                measured,
                format!(
                    "No 429 for {who} while it sent at most {peak} per {per} ({} requests in all), below the limit.",
                    t.sent.len()
                ),
            );
        }
        let detail = format!(
            "{} request(s) for {who} got 429 although at most {peak} were sent in any {per}, below the limit of {}: \
             the limiter is stricter than the spec says.",
            t.limited,
            limit.requests
        );
        return c.fail(measured, detail);
    }
    if (peak as f64) < ABOVE * n {
        let detail = format!(
            "{who} sent {peak} in its busiest {per}, within 10% of the limit of {}: send clearly above or below it \
             to judge.",
            limit.requests
        );
        return c.inconclusive(measured, detail);
    }
    // A token bucket whose burst equals the limit admits up to twice the limit in one window
    // without a 429, so only traffic beyond that shows an unenforced limit.
    if t.limited == 0 && peak as f64 <= BURST_ALLOWANCE * n + 1.0 {
        let detail = format!(
            "{who} sent {peak} in its busiest {per}, above the limit of {} but within what a limiter \
             with a burst allowance of one window may admit (up to {:.0}), and none got 429: send more \
             than that in one window to judge.",
            limit.requests,
            BURST_ALLOWANCE * n + 1.0
        );
        return c.inconclusive(measured, detail);
    }
    match above_limit(limit, &t, &who) {
        Some(detail) => c.fail(measured, detail),
        None => c.pass(
            measured,
            format!(
                "Beyond the limit, {who} got 429 with Retry-After ({} times).",
                t.limited
            ),
        ),
    }
}

/// Sent clearly beyond the limit: what is wrong with the answers, if anything.
fn above_limit(limit: &RateLimit, t: &KeyTraffic, who: &str) -> Option<String> {
    let (n, w_ms) = (limit.requests as f64, limit.per_s * 1000.0);
    if t.limited == 0 {
        return Some(format!(
            "{who} sent {} requests in {} (limit {}) and none got 429: the limit is not enforced.",
            t.peak,
            fmt_ms(w_ms),
            limit.requests
        ));
    }
    if t.no_retry_after > 0 {
        return Some(format!(
            "{} of the {} 429 answers for {who} carried no Retry-After header.",
            t.no_retry_after, t.limited
        ));
    }
    let let_through = busiest(&t.admitted, w_ms);
    if let_through as f64 > BURST_ALLOWANCE * n + 1.0 {
        return Some(format!(
            "The limiter let {let_through} requests of {who} through in one {} window, over twice the limit of {}.",
            fmt_ms(w_ms),
            limit.requests
        ));
    }
    let span = t.sent[t.sent.len() - 1] - t.sent[0];
    let fair_share = (n * span / w_ms).min(t.sent.len() as f64);
    (fair_share >= 10.0 && (t.admitted.len() as f64) < BELOW * fair_share).then(|| {
        format!(
            "Only {} requests of {who} were let through in {}, where the limit allows about {:.0}: the limiter is \
             stricter than claimed.",
            t.admitted.len(),
            fmt_ms(span),
            fair_share
        )
    })
}

#[cfg(test)]
mod tests {
    use super::busiest;

    #[test]
    fn busiest_window_counts() {
        let t: Vec<f64> = (0..10).map(|i| i as f64 * 100.0).collect();
        assert_eq!(busiest(&t, 1000.0), 10);
        assert_eq!(busiest(&t, 250.0), 3);
        assert_eq!(busiest(&[], 1000.0), 0);
    }
}
