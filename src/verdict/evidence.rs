//! Readings of a `RunResult` shared by several claim families: fault windows, which dependency calls
//! failed and when the service learned it, client demand over an interval, and name resolution.

use redline_proxy::log::{LogEntry, Outcome};

use super::matching::same_name;
use super::model::JudgeContext;
use crate::result::{ClientLogEntry, RunResult};
use crate::spec::claims::{Claims, Dependency};

/// One applied fault on the run clock, in ms.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    pub kind: String,
    pub from_ms: f64,
    /// When the fault was removed, or the end of the run if it never was.
    pub to_ms: f64,
    /// Delay of a latency fault, when the applied parameters say.
    pub delay_ms: Option<f64>,
    /// An unconditional `down` closes the proxy's listener: the kernel refuses the service's
    /// connections and nothing reaches the dependency log, so calls cannot be followed.
    pub invisible: bool,
}

impl FaultWindow {
    pub fn contains(&self, t_ms: f64) -> bool {
        t_ms >= self.from_ms && t_ms < self.to_ms
    }

    /// "abort 20.0–35.0 s".
    pub fn describe(&self) -> String {
        format!(
            "{} fault {:.1}–{:.1} s",
            self.kind,
            self.from_ms / 1000.0,
            self.to_ms / 1000.0
        )
    }
}

/// Fault windows applied to `dependency` (scenario name), in time order.
pub fn fault_windows(result: &RunResult, dependency: &str) -> Vec<FaultWindow> {
    let run_end_ms = result.duration_s * 1000.0;
    let mut out: Vec<FaultWindow> = result
        .faults
        .iter()
        .filter(|f| same_name(&f.dependency, dependency))
        .map(|f| {
            let kind = f.kind.to_ascii_lowercase();
            FaultWindow {
                invisible: kind == "down" && unconditional(&f.params),
                kind,
                from_ms: f.applied_at_s * 1000.0,
                to_ms: f.removed_at_s.map_or(run_end_ms, |s| s * 1000.0),
                delay_ms: param_ms(&f.params, &["delay_ms", "delay", "latency", "latency_ms"])
                    .or_else(|| param_ms(f.params.get("kind")?, &["delay_ms", "delay", "mean"])),
            }
        })
        .collect();
    out.sort_by(|a, b| a.from_ms.total_cmp(&b.from_ms));
    out
}

/// True when a fault applies to every request: probability 1 (or unset), no matcher, no limit.
fn unconditional(params: &serde_json::Value) -> bool {
    let probability = params
        .get("probability")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(1.0);
    probability >= 1.0
        && ["match", "matcher", "limit"]
            .iter()
            .all(|k| empty_json(params.get(*k)))
}

/// Absent, null, false, 0, "" or containers of only such values.
fn empty_json(v: Option<&serde_json::Value>) -> bool {
    match v {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => true,
        Some(serde_json::Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(serde_json::Value::String(s)) => s.is_empty(),
        Some(serde_json::Value::Array(a)) => a.iter().all(|v| empty_json(Some(v))),
        Some(serde_json::Value::Object(o)) => o.values().all(|v| empty_json(Some(v))),
        Some(_) => false,
    }
}

/// Reads a duration parameter leniently: a number is ms, a string is "4s" / "250ms" / "1.5 s".
fn param_ms(params: &serde_json::Value, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| match params.get(*k)? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => parse_duration_ms(s),
        serde_json::Value::Object(o) => o.get("mean").and_then(|m| match m {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => parse_duration_ms(s),
            _ => None,
        }),
        _ => None,
    })
}

fn parse_duration_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let value: f64 = s[..split].parse().ok()?;
    let factor = match s[split..].trim() {
        "" | "ms" => 1.0,
        "us" | "µs" => 0.001,
        "s" => 1000.0,
        "m" | "min" => 60_000.0,
        _ => return None,
    };
    Some(value * factor)
}

/// A client's gRPC answer (HTTP 200) by its `grpc-status` code: a server-side failure
/// (UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED ...) is an error as a 5xx is.
pub fn grpc_code_failed(code: u8) -> bool {
    redline_proxy::http::h2::grpc::is_server_failure(u32::from(code))
}

/// A gRPC status code by its name ("UNAVAILABLE"), or "gRPC status N" past the known ones.
pub fn grpc_name(code: u8) -> String {
    redline_proxy::http::h2::grpc::STATUS_NAMES
        .get(usize::from(code))
        .map_or_else(|| format!("gRPC status {code}"), |n| n.to_string())
}

/// Whether a client's answer (`status`, and `grpc_status` for a gRPC call) is a fallback that
/// names the HTTP status `http` and/or the gRPC status `grpc`: a gRPC answer matches by its gRPC
/// status; an HTTP status matches the answer's own, but a gRPC call's HTTP 200 is no fallback
/// 200 when its gRPC status says it failed. The fallback verdict and the error-rate split both
/// use this rule.
pub fn is_fallback_answer(
    http: Option<u16>,
    grpc: Option<u8>,
    status: Option<u16>,
    grpc_status: Option<u8>,
) -> bool {
    let Some(x) = status else {
        return false;
    };
    grpc.is_some_and(|g| grpc_status == Some(g))
        || http.is_some_and(|h| h == x && (h >= 400 || grpc_status.is_none_or(|g| g == 0)))
}

/// `operations.*.grpc_status` counts by name: the server-side failures other than
/// DEADLINE_EXCEEDED, which the engine already counts as a `timeout`.
pub fn grpc_answer_failed(name: &str) -> bool {
    redline_proxy::http::h2::grpc::parse_status(name)
        .is_some_and(|code| code != 4 && redline_proxy::http::h2::grpc::is_server_failure(code))
}

/// True when the call failed as the service saw it: an injected fault, an upstream 5xx or error,
/// or the service itself giving up. A gRPC answer (HTTP 200) failed when its `grpc-status` is a
/// server-side one (`redline_proxy::http::h2::grpc::is_server_failure`).
pub fn is_failure(e: &LogEntry) -> bool {
    let grpc = e.h2.as_ref().and_then(|h| h.grpc_status);
    if let (Some(code), Outcome::Forwarded | Outcome::Aborted) = (grpc, e.outcome) {
        return redline_proxy::http::h2::grpc::is_server_failure(code);
    }
    match e.outcome {
        Outcome::Forwarded => e.status.or(e.upstream_status).is_some_and(|s| s >= 500),
        Outcome::Aborted => e.status.is_none_or(|s| s >= 500),
        Outcome::Reset
        | Outcome::Hung
        | Outcome::Truncated
        | Outcome::CallerGaveUp
        | Outcome::UpstreamError
        | Outcome::Refused
        | Outcome::BadRequest => true,
    }
}

/// When the service learned the call's outcome: it gave up, or the answer completed.
pub fn end_ms(e: &LogEntry) -> f64 {
    e.t_ms + e.gave_up_ms.unwrap_or(e.total_ms)
}

/// Paths of health checks against a dependency: they bypass breakers and would hide a pause.
const HEALTH_PATHS: [&str; 8] = [
    "/health", "/healthz", "/ping", "/ready", "/readyz", "/live", "/livez", "/status",
];

/// True when a call is a health check of the dependency (the spec's `Health Check` path when it
/// names one, else a conventional health path) rather than work on behalf of a client.
pub fn is_health_check(e: &LogEntry, spec: Option<&Dependency>) -> bool {
    let path = e.path.split('?').next().unwrap_or("");
    match spec
        .and_then(|d| d.health_check.as_deref())
        .filter(|h| h.starts_with('/'))
    {
        Some(h) => path == h.split_whitespace().next().unwrap_or(h),
        None => HEALTH_PATHS.contains(&path),
    }
}

/// The dependency's raw log in arrival order.
pub fn sorted_log(result: &RunResult, dependency: &str) -> Vec<LogEntry> {
    let mut log: Vec<LogEntry> = result
        .dependencies
        .iter()
        .filter(|(name, _)| same_name(name, dependency))
        .flat_map(|(_, d)| d.log.iter().cloned())
        .collect();
    log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms).then(a.seq.cmp(&b.seq)));
    log
}

/// When each client request that timed out was given up, to tell calls the client abandoned
/// from calls the service gave up on.
pub struct ClientGiveUps<'a> {
    ends: std::collections::HashMap<&'a str, f64>,
}

impl<'a> ClientGiveUps<'a> {
    pub fn read(result: &'a RunResult) -> ClientGiveUps<'a> {
        let ends = result
            .client_log
            .iter()
            .filter(|c| c.error.as_deref().is_some_and(|e| e.contains("timeout")))
            .filter_map(|c| Some((c.request_id.as_deref()?, c.t_ms + c.latency_ms)))
            .collect();
        ClientGiveUps { ends }
    }

    /// True when the call was still open when the load generator gave up on its request: it was
    /// abandoned because the client went away (the service noticing late, or never), not by the
    /// service's own timeout.
    pub fn abandoned(&self, e: &LogEntry) -> bool {
        match (e.correlation_id.as_deref(), e.gave_up_ms) {
            (Some(id), Some(g)) => self
                .ends
                .get(id)
                .is_some_and(|end| e.t_ms + g >= end - 100.0),
            _ => false,
        }
    }
}

/// Client requests sent in [from_ms, to_ms): exact from the client log when it covers the interval,
/// otherwise estimated from the per-second timeline (pro rata of each overlapping second).
pub fn client_sends(result: &RunResult, from_ms: f64, to_ms: f64) -> f64 {
    if to_ms <= from_ms {
        return 0.0;
    }
    if client_log_covers(result, from_ms, to_ms) {
        return result
            .client_log
            .iter()
            .filter(|c| c.t_ms >= from_ms && c.t_ms < to_ms)
            .count() as f64;
    }
    result
        .timeline
        .iter()
        .map(|b| {
            let (lo, hi) = (b.t_s as f64 * 1000.0, b.t_s as f64 * 1000.0 + 1000.0);
            let overlap = (hi.min(to_ms) - lo.max(from_ms)).max(0.0) / 1000.0;
            b.sent as f64 * overlap
        })
        .sum()
}

/// True when the client log holds every request of the interval (not truncated, spans it).
pub fn client_log_covers(result: &RunResult, from_ms: f64, to_ms: f64) -> bool {
    if result.client_log.is_empty() || result.client_log_truncated {
        return false;
    }
    let first = result
        .client_log
        .iter()
        .map(|c| c.t_ms)
        .fold(f64::INFINITY, f64::min);
    let last = result
        .client_log
        .iter()
        .map(|c| c.t_ms)
        .fold(f64::NEG_INFINITY, f64::max);
    first <= from_ms + 1000.0 && last >= to_ms - 1000.0
}

/// Client requests in [from_ms, to_ms), from the client log.
pub fn client_entries(result: &RunResult, from_ms: f64, to_ms: f64) -> Vec<&ClientLogEntry> {
    result
        .client_log
        .iter()
        .filter(|c| c.t_ms >= from_ms && c.t_ms < to_ms)
        .collect()
}

/// The spec's row for a scenario dependency (by the context's alias, else by name).
pub fn spec_dependency<'a>(
    claims: &'a Claims,
    ctx: &JudgeContext,
    scenario_name: &str,
) -> Option<&'a Dependency> {
    let wanted = ctx
        .dependency_names
        .get(scenario_name)
        .map_or(scenario_name, String::as_str);
    claims
        .dependencies
        .iter()
        .find(|d| same_name(&d.name, wanted))
}

/// The scenario dependency a spec dependency name refers to.
pub fn scenario_dependency(
    result: &RunResult,
    ctx: &JudgeContext,
    spec_name: &str,
) -> Option<String> {
    let mut names: Vec<&String> = result.dependencies.keys().collect();
    for f in &result.faults {
        if !names.contains(&&f.dependency) {
            names.push(&f.dependency);
        }
    }
    names
        .into_iter()
        .find(|n| {
            let alias = ctx
                .dependency_names
                .get(n.as_str())
                .map_or(n.as_str(), String::as_str);
            same_name(alias, spec_name) || same_name(n, spec_name)
        })
        .cloned()
}

/// Median of positive gaps between consecutive arrivals (ms); None with fewer than two calls.
pub fn median_gap_ms(log: &[LogEntry]) -> Option<f64> {
    let mut gaps: Vec<f64> = log
        .windows(2)
        .map(|w| w[1].t_ms - w[0].t_ms)
        .filter(|g| *g > 0.0)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_by(f64::total_cmp);
    Some(gaps[gaps.len() / 2])
}

/// Value at quantile `q` of a list (sorted in place).
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let idx = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1;
    Some(values[idx])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grpc_call(outcome: Outcome, grpc_status: Option<u32>) -> LogEntry {
        LogEntry {
            seq: 0,
            t_ms: 0.0,
            method: "POST".into(),
            path: "/catalog.v1.Items/Get".into(),
            correlation_id: None,
            trace_id: None,
            fault: None,
            outcome,
            status: Some(200),
            upstream_status: Some(200),
            upstream_ms: None,
            gave_up_ms: None,
            total_ms: 1.0,
            h2: Some(redline_proxy::log::H2Stream {
                grpc_status,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_clients_grpc_answer_fails_by_a_server_side_status() {
        assert!(grpc_code_failed(14) && grpc_code_failed(4) && grpc_code_failed(13));
        assert!(!grpc_code_failed(0) && !grpc_code_failed(5) && !grpc_code_failed(3));
        assert!(grpc_answer_failed("UNAVAILABLE") && grpc_answer_failed("INTERNAL"));
        // Counted as `timeout` by the engine already; NOT_FOUND is the client's (a 4xx).
        assert!(!grpc_answer_failed("DEADLINE_EXCEEDED") && !grpc_answer_failed("NOT_FOUND"));
        assert!(!grpc_answer_failed("OK"));
    }

    #[test]
    fn a_grpc_call_fails_by_its_grpc_status_not_its_http_200() {
        assert!(!is_failure(&grpc_call(Outcome::Forwarded, Some(0))));
        assert!(is_failure(&grpc_call(Outcome::Forwarded, Some(14))));
        assert!(is_failure(&grpc_call(Outcome::Aborted, Some(4))));
        assert!(is_failure(&grpc_call(Outcome::Forwarded, Some(13))));
        // The caller's own errors are not the dependency failing (like a 4xx).
        assert!(!is_failure(&grpc_call(Outcome::Forwarded, Some(5))));
        assert!(!is_failure(&grpc_call(Outcome::Aborted, Some(3))));
        // No status yet (a stream the caller cancelled) is judged by its outcome.
        assert!(is_failure(&grpc_call(Outcome::CallerGaveUp, None)));
        assert!(!is_failure(&grpc_call(Outcome::Forwarded, None)));
    }

    #[test]
    fn durations_in_fault_params() {
        let p = serde_json::json!({"delay": "4s"});
        assert_eq!(param_ms(&p, &["delay"]), Some(4000.0));
        let p = serde_json::json!({"delay_ms": 250});
        assert_eq!(param_ms(&p, &["delay_ms"]), Some(250.0));
        let p = serde_json::json!({"delay": {"kind": "normal", "mean": "200ms"}});
        assert_eq!(param_ms(&p, &["delay"]), Some(200.0));
        assert_eq!(parse_duration_ms("1.5 s"), Some(1500.0));
        assert_eq!(parse_duration_ms("soon"), None);
    }

    #[test]
    fn only_an_unconditional_down_is_invisible() {
        assert!(unconditional(&serde_json::json!({})));
        assert!(unconditional(
            &serde_json::json!({"probability": 1.0, "matcher": {"method": null}, "limit": {}})
        ));
        assert!(!unconditional(&serde_json::json!({"probability": 0.5})));
        assert!(!unconditional(
            &serde_json::json!({"match": {"path_prefix": "/users"}})
        ));
        assert!(!unconditional(&serde_json::json!({"limit": {"count": 3}})));
    }

    #[test]
    fn quantile_of_a_list() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&mut v, 0.5), Some(3.0));
        assert_eq!(quantile(&mut v, 1.0), Some(5.0));
        assert_eq!(quantile(&mut [], 0.5), None);
    }
}
