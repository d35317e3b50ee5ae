//! Assembly of the simulated chaos run into result.json's parts: per-operation and per-phase
//! statistics, the per-second timeline, the dependency side, samples and verdicts.

use std::collections::BTreeMap;

use redline::result::*;
use redline_proxy::log::{LogEntry, Outcome};

use super::chaos::{encode, new_histogram, percentiles, record, Req, DURATION_S, FAULT, WARMUP_S};

pub fn operations(reqs: &[Req], from_s: f64, to_s: f64) -> BTreeMap<String, OperationStats> {
    let mut out: BTreeMap<String, (OperationStats, hdrhistogram::Histogram<u64>)> = BTreeMap::new();
    for r in reqs
        .iter()
        .filter(|r| r.t_ms >= from_s * 1000.0 && r.t_ms < to_s * 1000.0)
    {
        let (stats, h) = out.entry(r.name.to_string()).or_insert_with(|| {
            let operation = match r.name {
                "get-user" => "GET /users/{id}",
                _ => "GET /orders",
            };
            (
                OperationStats {
                    operation: Some(operation.into()),
                    ..OperationStats::default()
                },
                new_histogram(),
            )
        });
        stats.count += 1;
        *stats.status.entry(r.status.to_string()).or_default() += 1;
        if r.status != 200 {
            stats.errors += 1;
            *stats
                .error_kinds
                .entry("status_unexpected".into())
                .or_default() += 1;
        }
        record(h, r.latency_ms);
    }
    out.into_iter()
        .map(|(name, (mut stats, h))| {
            stats.latency_ms = percentiles(&h);
            // The generator keeps up, so service time is the latency less a little queueing.
            stats.service_time_ms = percentiles(&h);
            stats.histogram = encode(&h);
            (name, stats)
        })
        .collect()
}

pub fn timeline(reqs: &[Req]) -> Vec<TimelineBucket> {
    let last = reqs
        .iter()
        .map(|r| r.t_ms + r.latency_ms)
        .fold(0.0, f64::max);
    let buckets = (last / 1000.0).floor() as u32 + 1;
    (0..buckets)
        .map(|t| {
            let (lo, hi) = (f64::from(t) * 1000.0, f64::from(t + 1) * 1000.0);
            let settled: Vec<&Req> = reqs
                .iter()
                .filter(|r| (lo..hi).contains(&(r.t_ms + r.latency_ms)))
                .collect();
            let mut b = TimelineBucket {
                t_s: t,
                sent: reqs.iter().filter(|r| (lo..hi).contains(&r.t_ms)).count() as u64,
                completed: settled.len() as u64,
                in_flight: reqs
                    .iter()
                    .filter(|r| r.t_ms < hi && r.t_ms + r.latency_ms >= hi)
                    .count() as u64,
                ..TimelineBucket::default()
            };
            let mut per_op: BTreeMap<String, (OpSecond, hdrhistogram::Histogram<u64>)> =
                BTreeMap::new();
            for r in settled {
                let class = format!("{}xx", r.status / 100);
                *b.status_classes.entry(class).or_default() += 1;
                let (s, h) = per_op
                    .entry(r.name.into())
                    .or_insert_with(|| (OpSecond::default(), new_histogram()));
                s.count += 1;
                if r.status != 200 {
                    b.errors += 1;
                    s.errors += 1;
                    *b.error_kinds.entry("status_unexpected".into()).or_default() += 1;
                }
                record(h, r.latency_ms);
            }
            for (name, (mut s, h)) in per_op {
                let p = percentiles(&h);
                (s.p50_ms, s.p95_ms, s.p99_ms) = (p.p50, p.p95, p.p99);
                b.ops.insert(name, s);
            }
            b
        })
        .collect()
}

pub fn phases(reqs: &[Req]) -> Vec<PhaseStats> {
    let spans = [
        ("warmup", PhaseKind::Warmup, 0.0, WARMUP_S),
        ("baseline", PhaseKind::Baseline, WARMUP_S, FAULT.0),
        ("latency UserService", PhaseKind::Fault, FAULT.0, FAULT.1),
        ("recovery", PhaseKind::Recovery, FAULT.1, DURATION_S),
    ];
    spans
        .into_iter()
        .map(|(name, kind, from_s, to_s)| PhaseStats {
            name: name.into(),
            kind,
            from_s,
            to_s,
            operations: operations(reqs, from_s, to_s),
        })
        .collect()
}

pub fn dependency(reqs: &[Req]) -> DependencyReport {
    let calls: Vec<(&Req, super::chaos::DepCall)> = reqs
        .iter()
        .filter_map(|r| r.dep_call.map(|c| (r, c)))
        .collect();
    let mut per_second = Vec::new();
    for t in 0..DURATION_S as u32 {
        let (lo, hi) = (f64::from(t) * 1000.0, f64::from(t + 1) * 1000.0);
        let here: Vec<_> = calls
            .iter()
            .filter(|(_, c)| (lo..hi).contains(&c.t_ms))
            .collect();
        let failed = here.iter().filter(|(_, c)| c.failed).count() as u64;
        per_second.push(DependencySecond {
            t_s: t,
            requests: here.len() as u64,
            ok: here.len() as u64 - failed,
            failed,
            faulted: failed,
            gave_up: failed,
        });
    }
    let failed: Vec<_> = calls.iter().filter(|(_, c)| c.failed).collect();
    let mut gave_up = super::chaos::new_histogram();
    for _ in &failed {
        super::chaos::record(&mut gave_up, 250.0);
    }
    let log = failed
        .iter()
        .enumerate()
        .map(|(i, (r, c))| LogEntry {
            seq: i as u64,
            t_ms: (c.t_ms * 10.0).round() / 10.0,
            method: "GET".into(),
            path: "/users/4711".into(),
            correlation_id: Some(format!("req-{}", (r.t_ms * 150.0 / 1000.0).round())),
            trace_id: None,
            fault: Some("latency".into()),
            outcome: Outcome::CallerGaveUp,
            status: None,
            upstream_status: None,
            upstream_ms: None,
            gave_up_ms: Some(250.0),
            total_ms: 250.0,
            h2: None,
        })
        .collect();
    DependencyReport {
        listen: "127.0.0.1:41234".into(),
        upstream: "127.0.0.1:41233".into(),
        protocol: "http".into(),
        requests: calls.len() as u64,
        per_second,
        outcomes: BTreeMap::from([
            ("forwarded".to_string(), (calls.len() - failed.len()) as u64),
            ("caller_gave_up".to_string(), failed.len() as u64),
        ]),
        faults_injected: BTreeMap::from([("latency".to_string(), failed.len() as u64)]),
        gave_up_ms: Some(percentiles(&gave_up)),
        log,
        log_truncated: false,
        connections: None,
        connection_cap: None,
    }
}

pub fn client_log(reqs: &[Req]) -> Vec<ClientLogEntry> {
    reqs.iter()
        .filter(|r| r.name == "get-user" && (14_500.0..16_500.0).contains(&r.t_ms))
        .map(|r| ClientLogEntry {
            t_ms: (r.t_ms * 1000.0).round() / 1000.0,
            request: r.name.into(),
            request_id: Some(format!("req-{}", (r.t_ms * 150.0 / 1000.0).round())),
            trace_id: None,
            status: Some(r.status),
            error: (r.status != 200).then(|| "status_unexpected".into()),
            latency_ms: (r.latency_ms * 1000.0).round() / 1000.0,
            retry_after: false,
            grpc_status: None,
        })
        .collect()
}

pub fn health(episodes: &[BreakerEpisode]) -> Vec<HealthSample> {
    (0..DURATION_S as u32)
        .map(|t| {
            let t = f64::from(t);
            let open = episodes.iter().any(|e| {
                t >= e.opened_at_s && t < e.opened_at_s + e.open_for_s.unwrap_or(DURATION_S)
            });
            HealthSample {
                t_s: t,
                status: Some(if open { 503 } else { 200 }),
                state: Some(if open { "degraded" } else { "healthy" }.into()),
            }
        })
        .collect()
}

fn verdict(
    id: &str,
    claim: &str,
    line: u32,
    expected: &str,
    measured: String,
    status: VerdictStatus,
    detail: &str,
) -> Verdict {
    Verdict {
        id: id.into(),
        claim: claim.into(),
        source: format!("specs/userservice.md:{line}"),
        expected: expected.into(),
        measured,
        status,
        detail: detail.into(),
        numbers: None,
    }
}

fn latency(
    result: &RunResult,
    op: &str,
    spec_op: &str,
    pct: &str,
    q: f64,
    target: f64,
    line: u32,
) -> Verdict {
    let baseline = result
        .phases
        .iter()
        .find(|p| p.kind == PhaseKind::Baseline)
        .expect("baseline phase");
    let stats = &baseline.operations[op];
    let h = redline::report::histogram::decode(&stats.histogram).expect("histogram");
    let needed = (10.0 / (1.0 - q)).ceil() as u64;
    let measured = h.value_at_quantile(q) as f64 / 1000.0;
    let (status, detail) = if stats.count < needed {
        (
            VerdictStatus::Inconclusive,
            format!("{} baseline samples; judging {pct} needs at least {needed} (10/(1-q)): run the baseline longer", stats.count),
        )
    } else if measured <= target {
        (
            VerdictStatus::Pass,
            format!(
                "{pct} of {} baseline requests is within the target",
                stats.count
            ),
        )
    } else {
        (
            VerdictStatus::Fail,
            format!("{pct} is {measured:.1} ms, {:.0}% over the {target:.0} ms target; profile the slow tail of {spec_op}", 100.0 * (measured / target - 1.0)),
        )
    };
    Verdict {
        id: format!("latency.{op}.{}", pct.to_lowercase().replace('.', "")),
        claim: format!("{spec_op} {pct} ≤ {target:.0} ms"),
        source: format!("specs/userservice.md:{line}"),
        expected: format!("≤ {target:.0} ms"),
        measured: format!("{measured:.1} ms"),
        status,
        detail,
        numbers: Some(VerdictNumbers {
            target_ms: Some(target),
            measured_ms: Some(measured),
            samples: Some(stats.count),
        }),
    }
}

pub fn verdicts(result: &RunResult) -> Vec<Verdict> {
    let mut v = vec![
        latency(result, "get-user", "GET /users/{id}", "P50", 0.5, 20.0, 14),
        latency(result, "get-user", "GET /users/{id}", "P95", 0.95, 40.0, 14),
        latency(result, "get-user", "GET /users/{id}", "P99", 0.99, 60.0, 14),
        latency(result, "list-orders", "GET /orders", "P50", 0.5, 40.0, 15),
        latency(result, "list-orders", "GET /orders", "P99", 0.99, 100.0, 15),
        latency(
            result,
            "list-orders",
            "GET /orders",
            "P99.9",
            0.999,
            250.0,
            15,
        ),
    ];
    v.extend(resilience(result));
    v
}

fn resilience(result: &RunResult) -> Vec<Verdict> {
    use VerdictStatus::*;
    let first = result
        .breaker_episodes
        .first()
        .expect("the simulated breaker opens");
    let mut v = Vec::new();
    v.push(verdict(
        "timeout.userservice",
        "UserService calls time out after 250 ms",
        31,
        "250 ms ± 250 ms",
        format!(
            "250 ms (P50 of {} calls given up)",
            result.dependencies["UserService"].faults_injected["latency"]
        ),
        Pass,
        "The service gave up on every slow UserService call at 250 ms, as claimed.",
    ));
    v.push(verdict(
        "breaker.userservice.failure_threshold",
        "Breaker on UserService opens after 5 consecutive failures",
        38,
        "5 failures",
        format!("{} failures", first.failures_before_open),
        Pass,
        "Traffic to UserService stopped after 5 failed calls while clients kept calling.",
    ));
    v.push(verdict(
        "breaker.userservice.recovery_timeout",
        "Breaker stays open 30 s before probing",
        39,
        "30 s ± 3 s",
        format!("{:.1} s", first.open_for_s.unwrap_or(0.0)),
        Fail,
        "Traffic to UserService resumed after 5.0 s, not 30 s: the breaker's wait in the open state is configured shorter than the spec says.",
    ));
    v.push(verdict(
        "breaker.userservice.half_open_probes",
        "3 probe calls in half-open",
        40,
        "3 probes",
        "1 probe per reopening".into(),
        Inconclusive,
        "Each probe failed while the fault was on, so the breaker reopened after 1 call; the claim of 3 cannot be told from a design that permits 1. Re-run with a fault shorter than the recovery timeout.",
    ));
    v.push(verdict(
        "fallback.userservice",
        "While the breaker is open, GET /users/{id} answers 503 fast",
        44,
        "503 in ≤ 50 ms",
        "503, P99 3.9 ms".into(),
        Pass,
        "Every request during the open windows got 503 well under the dependency timeout.",
    ));
    v.push(verdict(
        "errors.baseline",
        "Error rate ≤ 0.1% outside fault windows",
        52,
        "≤ 0.1%",
        "0%".into(),
        Pass,
        "No request failed in the baseline phase.",
    ));
    v
}

/// The spec promises 503 while UserService is down: the fault window and every breaker-open
/// interval, as the error-rate verdicts would record them.
pub fn fallback_windows(result: &RunResult) -> Vec<FallbackWindow> {
    let window = |from_ms: f64, to_ms: f64| FallbackWindow {
        dependency: "UserService".into(),
        status: Some(503),
        grpc_status: None,
        from_ms,
        to_ms,
    };
    let mut out = vec![window(
        super::chaos::FAULT.0 * 1000.0,
        super::chaos::FAULT.1 * 1000.0,
    )];
    for e in &result.breaker_episodes {
        let to_s = e
            .open_for_s
            .map_or(result.duration_s, |d| e.opened_at_s + d);
        out.push(window(e.opened_at_s * 1000.0, to_s * 1000.0));
    }
    out
}
