//! Tests of the trace-propagation verdict on hand-made client and dependency logs.

use super::*;
use crate::result::{ClientLogEntry, DependencyReport, Verdict, VerdictStatus};
use redline_proxy::log::{LogEntry, Outcome};

fn client(id: &str, trace: &str) -> ClientLogEntry {
    ClientLogEntry {
        t_ms: 10.0,
        request: "get".into(),
        request_id: Some(id.into()),
        trace_id: Some(trace.into()),
        status: Some(200),
        error: None,
        latency_ms: 1.0,
        retry_after: false,
        grpc_status: None,
    }
}

fn call(id: &str, trace: Option<&str>) -> LogEntry {
    let mut e = LogEntry::arrived(
        std::time::Instant::now(),
        std::time::Instant::now(),
        "GET".into(),
        "/users/1".into(),
        Some(id.into()),
    );
    e.outcome = Outcome::Forwarded;
    e.trace_id = trace.map(str::to_string);
    e
}

fn judge_with(calls: Vec<LogEntry>) -> Vec<Verdict> {
    let mut result = RunResult {
        client_log: vec![client("r1", "aa"), client("r2", "bb")],
        ..RunResult::default()
    };
    let report: DependencyReport = serde_json::from_value(serde_json::json!({
        "listen": "127.0.0.1:1", "upstream": "127.0.0.1:2", "protocol": "http", "requests": 0,
        "per_second": [], "outcomes": {}, "faults_injected": {}, "gave_up_ms": null, "log": [], "log_truncated": false
    }))
    .unwrap();
    result.dependencies.insert(
        "UserService".into(),
        DependencyReport {
            log: calls,
            ..report
        },
    );
    let claims = Claims {
        trace_propagation_line: Some(7),
        ..Claims::default()
    };
    let mut out = Judgement::default();
    judge(&result, &claims, &JudgeContext::default(), &mut out);
    out.verdicts
}

#[test]
fn calls_with_their_requests_trace_pass() {
    let v = judge_with(vec![call("r1", Some("aa")), call("r2", Some("bb"))]);
    assert_eq!(ids(&v), ["trace.userservice"]);
    assert_eq!(v[0].status, VerdictStatus::Pass, "{v:?}");
    assert_eq!(v[0].measured, "2/2 calls carry it");
}

#[test]
fn a_missing_or_other_trace_fails() {
    let v = judge_with(vec![call("r1", Some("aa")), call("r2", None)]);
    assert_eq!(v[0].status, VerdictStatus::Fail);
    assert!(
        v[0].detail.contains("without traceparent"),
        "{}",
        v[0].detail
    );
    let v = judge_with(vec![call("r1", Some("bb"))]);
    assert_eq!(v[0].status, VerdictStatus::Fail);
    assert!(
        v[0].detail.contains("its request sent aa"),
        "{}",
        v[0].detail
    );
}
