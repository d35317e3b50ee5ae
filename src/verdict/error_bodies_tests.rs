//! Tests of the error-body verdicts on hand-made body samples.

use super::*;
use crate::result::VerdictStatus::{self, *};

const SPEC: &str = "# S\n\n## Errors\n\n```python\n@dataclass\nclass ErrorResponse:\n    error_code: str  # code\n    message: str\n    request_id: str  # Correlation ID for tracing\n    timestamp: datetime\n    retry_after: int | None  # for 429, 503\n```\n";

fn sample(json: Value, request_id: &str, retry_after: bool) -> BodySample {
    BodySample {
        kind: "first".into(),
        t_ms: 1500.0,
        request_id: Some(request_id.into()),
        trace_id: None,
        retry_after,
        content_type: Some("application/json".into()),
        bytes: 100,
        truncated: false,
        json: Some(json),
        text: None,
    }
}

fn good(id: &str, retry: Option<u64>) -> Value {
    serde_json::json!({"error_code": "SERVICE_UNAVAILABLE", "message": "m", "request_id": id,
        "timestamp": "2026-12-03T10:00:00Z", "retry_after": retry})
}

fn run(status: u16, samples: Vec<BodySample>) -> Vec<(String, VerdictStatus, String)> {
    let result = RunResult {
        body_samples: vec![BodySampleSet {
            request: "get".into(),
            phase: Some("fault-1".into()),
            status,
            seen: 50,
            samples,
        }],
        ..RunResult::default()
    };
    let claims = crate::spec::parse(SPEC);
    let mut out = Judgement::default();
    judge(&result, &claims, &JudgeContext::default(), &mut out);
    out.verdicts
        .into_iter()
        .map(|v| (v.id, v.status, v.detail))
        .collect()
}

fn status_of(v: &[(String, VerdictStatus, String)], id: &str) -> VerdictStatus {
    v.iter()
        .find(|(i, _, _)| i == id)
        .unwrap_or_else(|| panic!("no {id} in {v:?}"))
        .1
}

#[test]
fn conforming_bodies_pass() {
    let v = run(
        503,
        vec![
            sample(good("a-1", Some(2)), "a-1", false),
            sample(good("a-2", None), "a-2", true),
        ],
    );
    assert_eq!(status_of(&v, "error_body.503"), Pass, "{v:?}");
    assert_eq!(status_of(&v, "error_body.request_id"), Pass);
    assert_eq!(status_of(&v, "error_body.retry_after.503"), Pass);
    assert_eq!(status_of(&v, "error_body.retry_after.429"), Inconclusive);
}

#[test]
fn missing_fields_wrong_types_wrong_echo_and_no_retry_fail() {
    let mut wrong = good("zzz", None);
    wrong["timestamp"] = serde_json::json!(12);
    wrong.as_object_mut().unwrap().remove("message");
    let v = run(503, vec![sample(wrong, "a-1", false)]);
    let (_, st, detail) = v.iter().find(|(i, _, _)| i == "error_body.503").unwrap();
    assert_eq!(*st, Fail);
    assert!(
        detail.contains("no message") && detail.contains("timestamp is a number, not datetime"),
        "{detail}"
    );
    assert!(detail.contains("phase fault-1"), "{detail}");
    assert_eq!(status_of(&v, "error_body.request_id"), Fail);
    assert_eq!(status_of(&v, "error_body.retry_after.503"), Fail);
    let mut text = sample(Value::Null, "a-1", false);
    text.json = None;
    text.text = Some("<html>".into());
    text.content_type = Some("text/html".into());
    let v = run(500, vec![text]);
    let (_, st, detail) = v.iter().find(|(i, _, _)| i == "error_body.500").unwrap();
    assert_eq!(*st, Fail);
    assert!(detail.contains("not JSON (text/html)"), "{detail}");
}

#[test]
fn no_error_answers_is_inconclusive() {
    let v = run(200, vec![sample(good("a", None), "a", false)]);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].1, Inconclusive);
}

#[test]
fn codes_of_bodies() {
    assert_eq!(code_of(&serde_json::json!({"error_code": "X"})), Some("X"));
    assert_eq!(code_of(&serde_json::json!({"code": "Y"})), Some("Y"));
    assert_eq!(
        code_of(&serde_json::json!({"error": {"code": "Z"}})),
        Some("Z")
    );
    assert_eq!(
        code_of(&serde_json::json!({"error": "W", "message": "m"})),
        Some("W")
    );
    assert_eq!(code_of(&serde_json::json!({"code": 5})), None);
}
