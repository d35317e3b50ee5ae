//! Tests of the conflict and limit verdicts on hand-made probe results: pass, fail on status or
//! code, capped limits counted, and what stays inconclusive.

use super::*;
use crate::result::{ProbeAnswer, VerdictStatus};

const SPEC: &str = "# S\n\n| Error Type | HTTP Status | Error Code |\n|---|---|---|\n| VersionConflict | 409 | CONFLICT |\n\nIf the item has moved on, the answer is 409.\n\n`per_page` is at most 100: a larger one is rejected with 400.\n\n`limit` is at most 50; a larger one is capped.\n";

fn answer(kind: &str, status: Option<u16>, body: &str) -> ProbeAnswer {
    ProbeAnswer {
        kind: kind.into(),
        status,
        body: Some(body.into()),
        ..ProbeAnswer::default()
    }
}

fn conflict_probe(stale: ProbeAnswer) -> ConflictProbe {
    ConflictProbe {
        request: "update".into(),
        field: "version".into(),
        path: "/items/1".into(),
        version: Some(serde_json::json!(3)),
        stopped: None,
        answers: vec![
            answer("read", Some(200), "{}"),
            answer("current", Some(200), "{}"),
            stale,
        ],
    }
}

fn limit_probe(name: &str, status: Option<u16>, body: &str, items: Option<usize>) -> LimitProbe {
    LimitProbe {
        request: "list".into(),
        name: name.into(),
        max: 100,
        sent: format!("{name}=101"),
        answer: answer("beyond", status, body),
        items,
    }
}

fn verdicts(result: &RunResult, spec: &str) -> Vec<Verdict> {
    let mut out = Judgement::default();
    judge(
        result,
        &crate::spec::parse(spec),
        &JudgeContext::default(),
        &mut out,
    );
    out.verdicts
}

#[test]
fn a_stale_update_passes_on_status_and_code_and_fails_on_either() {
    let run = |stale: ProbeAnswer| {
        let r = RunResult {
            conflicts: vec![conflict_probe(stale)],
            ..RunResult::default()
        };
        verdicts(&r, SPEC).remove(0)
    };
    let v = run(answer("stale", Some(409), r#"{"error_code": "CONFLICT"}"#));
    assert_eq!(
        (v.status, v.measured.as_str()),
        (VerdictStatus::Pass, "stale 409 CONFLICT")
    );
    assert_eq!(v.id, "conflict.update");
    let v = run(answer("stale", Some(409), r#"{"code": "OTHER"}"#));
    assert_eq!(v.status, VerdictStatus::Fail);
    assert!(
        v.detail.contains("its code is OTHER, not CONFLICT"),
        "{}",
        v.detail
    );
    let v = run(answer("stale", Some(200), "{}"));
    assert_eq!(
        (v.status, v.measured.as_str()),
        (VerdictStatus::Fail, "stale 200 (accepted)")
    );
    let v = run(answer("stale", None, ""));
    assert_eq!(v.status, VerdictStatus::Inconclusive);
    let mut stopped = conflict_probe(answer("stale", Some(409), "{}"));
    stopped.stopped = Some("the GET answer has no \"version\" field".into());
    stopped.answers.truncate(1);
    let r = RunResult {
        conflicts: vec![stopped],
        ..RunResult::default()
    };
    let v = verdicts(&r, SPEC).remove(0);
    assert_eq!(v.status, VerdictStatus::Inconclusive);
    assert!(v.detail.contains("nothing stale was sent"), "{}", v.detail);
    // No conflict promise in the spec: nothing to judge against.
    let r = RunResult {
        conflicts: vec![conflict_probe(answer("stale", Some(409), "{}"))],
        ..RunResult::default()
    };
    assert_eq!(
        verdicts(&r, "# S\n").remove(0).status,
        VerdictStatus::Inconclusive
    );
}

#[test]
fn limits_rejected_and_capped() {
    let r = RunResult {
        limits: vec![
            limit_probe(
                "per_page",
                Some(400),
                r#"{"error_code": "VALIDATION_FAILED"}"#,
                None,
            ),
            limit_probe("limit", Some(200), "{}", Some(50)),
        ],
        ..RunResult::default()
    };
    let v = verdicts(&r, SPEC);
    assert_eq!(v[0].id, "limit.list.per-page");
    assert_eq!(
        (v[0].status, v[0].measured.as_str()),
        (VerdictStatus::Pass, "beyond 400")
    );
    assert_eq!(
        (v[1].status, v[1].measured.as_str()),
        (VerdictStatus::Pass, "51 asked, 50 served")
    );
    let r = RunResult {
        limits: vec![
            limit_probe("per_page", Some(200), "{}", Some(101)),
            limit_probe("limit", Some(200), "{}", Some(51)),
            limit_probe("limit", Some(422), "{}", None),
            limit_probe("limit", Some(200), "{}", None),
            limit_probe("size", Some(200), "{}", None),
        ],
        ..RunResult::default()
    };
    let v = verdicts(&r, SPEC);
    let status: Vec<VerdictStatus> = v.iter().map(|v| v.status).collect();
    use VerdictStatus::{Fail, Inconclusive};
    assert_eq!(status, [Fail, Fail, Fail, Inconclusive, Inconclusive]);
    assert!(v[0].detail.contains("answered 200"), "{}", v[0].detail);
    assert!(
        v[2].detail.contains("capped, not refused"),
        "{}",
        v[2].detail
    );
    assert!(v.iter().all(|v| v.measured.chars().count() <= 32));
}
