//! Rate-limit verdicts from client logs of a modelled fixed-window limiter, per key.

use std::collections::BTreeMap;

use redline::result::{ClientLogEntry, RunResult, VerdictStatus};
use redline::spec::claims::RateLimit;
use redline::spec::Claims;
use redline::verdict::{judge, JudgeContext, Judgement, RequestInfo};

fn find<'a>(j: &'a Judgement, id: &str) -> &'a redline::result::Verdict {
    j.verdicts
        .iter()
        .find(|v| v.id == id)
        .unwrap_or_else(|| panic!("no verdict {id}; have {:#?}", j.verdicts))
}

/// A client sending `rate` per second for `seconds` to a fixed-window limiter of `limit` per
/// `window_s` (None: no limiter); `retry_after` says whether its 429s carry the header.
fn traffic(
    request: &str,
    rate: f64,
    seconds: f64,
    limit: Option<(u64, f64)>,
    retry_after: bool,
) -> Vec<ClientLogEntry> {
    let mut window: BTreeMap<u64, u64> = BTreeMap::new();
    (0..(rate * seconds) as u64)
        .map(|i| {
            let t_ms = i as f64 * 1000.0 / rate;
            let limited = limit.is_some_and(|(n, w)| {
                let used = window.entry((t_ms / (w * 1000.0)) as u64).or_default();
                *used += 1;
                *used > n
            });
            ClientLogEntry {
                t_ms,
                request: request.into(),
                request_id: Some(format!("{request}-{i}")),
                trace_id: None,
                status: Some(if limited { 429 } else { 200 }),
                error: None,
                latency_ms: 2.0,
                retry_after: limited && retry_after,
                grpc_status: None,
            }
        })
        .collect()
}

fn run(log: Vec<ClientLogEntry>) -> RunResult {
    RunResult {
        duration_s: 30.0,
        client_log: log,
        ..RunResult::default()
    }
}

fn limit(name: &str, requests: u64, per_s: f64) -> Claims {
    Claims {
        rate_limits: vec![RateLimit {
            name: name.into(),
            requests,
            per_s,
            per_key: Some("api key".into()),
            line: 200,
        }],
        ..Claims::default()
    }
}

#[test]
fn beyond_the_rate_429_with_retry_after_passes() {
    let j = judge(
        &run(traffic("search", 10.0, 30.0, Some((100, 60.0)), true)),
        &limit("default", 100, 60.0),
        &JudgeContext::default(),
    );
    let v = find(&j, "rate_limit.default");
    assert_eq!(v.status, VerdictStatus::Pass, "{v:?}");
}

#[test]
fn beyond_the_rate_without_429_fails() {
    let j = judge(
        &run(traffic("search", 10.0, 30.0, None, false)),
        &limit("default", 100, 60.0),
        &JudgeContext::default(),
    );
    let v = find(&j, "rate_limit.default");
    assert_eq!(v.status, VerdictStatus::Fail);
    assert!(
        v.detail.contains("none got 429: the limit is not enforced"),
        "{}",
        v.detail
    );
}

/// A Poisson-like peak above the limit but within a token bucket's burst (demo: 114 in one second
/// against 100/s) is no evidence that the limit is missing.
#[test]
fn above_the_rate_within_a_burst_allowance_without_429_is_inconclusive() {
    let j = judge(
        &run(traffic("search", 150.0, 5.0, None, false)),
        &limit("default", 100, 1.0),
        &JudgeContext::default(),
    );
    let v = find(&j, "rate_limit.default");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");
    assert!(v.detail.contains("burst allowance"), "{}", v.detail);
}

#[test]
fn a_429_without_retry_after_fails() {
    let j = judge(
        &run(traffic("search", 10.0, 30.0, Some((100, 60.0)), false)),
        &limit("default", 100, 60.0),
        &JudgeContext::default(),
    );
    let v = find(&j, "rate_limit.default");
    assert_eq!(v.status, VerdictStatus::Fail);
    assert!(v.detail.contains("carried no Retry-After"), "{}", v.detail);
}

#[test]
fn below_the_rate_no_429_passes_and_any_429_fails() {
    let j = judge(
        &run(traffic("search", 1.0, 30.0, Some((100, 60.0)), true)),
        &limit("default", 100, 60.0),
        &JudgeContext::default(),
    );
    assert_eq!(find(&j, "rate_limit.default").status, VerdictStatus::Pass);
    // A limiter stricter than claimed: 10 per minute where 100 are promised.
    let j = judge(
        &run(traffic("search", 1.0, 30.0, Some((10, 60.0)), true)),
        &limit("default", 100, 60.0),
        &JudgeContext::default(),
    );
    let v = find(&j, "rate_limit.default");
    assert_eq!(v.status, VerdictStatus::Fail);
    assert!(
        v.detail.contains("stricter than the spec says"),
        "{}",
        v.detail
    );
}

#[test]
fn near_the_rate_is_inconclusive() {
    let j = judge(
        &run(traffic("search", 1.0, 30.0, None, false)),
        &limit("default", 30, 60.0),
        &JudgeContext::default(),
    );
    assert_eq!(
        find(&j, "rate_limit.default").status,
        VerdictStatus::Inconclusive
    );
}

#[test]
fn limits_are_judged_per_key_and_per_tier() {
    let mut log = traffic("heavy", 10.0, 30.0, Some((100, 60.0)), true);
    log.extend(traffic("light", 1.0, 30.0, Some((100, 60.0)), true));
    let mut ctx = JudgeContext::default();
    ctx.requests.insert(
        "heavy".into(),
        RequestInfo {
            rate_key: Some("key-a".into()),
            ..RequestInfo::default()
        },
    );
    ctx.requests.insert(
        "light".into(),
        RequestInfo {
            rate_key: Some("key-b".into()),
            ..RequestInfo::default()
        },
    );
    let j = judge(&run(log.clone()), &limit("default", 100, 60.0), &ctx);
    assert_eq!(
        find(&j, "rate_limit.default.key-a").status,
        VerdictStatus::Pass
    );
    assert_eq!(
        find(&j, "rate_limit.default.key-b").status,
        VerdictStatus::Pass
    );

    // A tier no request is assigned to is not exercised.
    let j = judge(&run(log), &limit("export", 5, 3600.0), &ctx);
    let v = find(&j, "rate_limit.export");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");
}

#[test]
fn the_specs_only_api_wide_limit_covers_every_request_but_cannot_fail_them() {
    // `@rate_limit(...) def items_api` is the spec's only limit: taken to cover every request.
    // Below it with no 429 passes; above it with no 429 is inconclusive, not fail, since no line
    // of the spec ties these requests to it.
    let mut ctx = JudgeContext::default();
    ctx.requests.insert(
        "heavy".into(),
        RequestInfo {
            rate_key: Some("key-a".into()),
            ..RequestInfo::default()
        },
    );
    let below = traffic("heavy", 10.0, 20.0, None, true);
    let j = judge(&run(below), &limit("items_api", 100, 1.0), &ctx);
    let v = find(&j, "rate_limit.items-api");
    assert_eq!(v.status, VerdictStatus::Pass, "{v:?}");
    assert!(v.detail.contains("only rate limit"), "{}", v.detail);

    let above = traffic("heavy", 50.0, 20.0, None, true);
    let j = judge(&run(above), &limit("items_api", 10, 1.0), &ctx);
    let v = find(&j, "rate_limit.items-api");
    assert_eq!(v.status, VerdictStatus::Inconclusive, "{v:?}");

    // An endpoint-like name ("export") is not assumed to cover everything.
    let j = judge(
        &run(traffic("heavy", 50.0, 20.0, None, true)),
        &limit("export", 10, 1.0),
        &ctx,
    );
    assert_eq!(
        find(&j, "rate_limit.export").measured,
        "not exercised",
        "{:?}",
        j.verdicts
    );
}
