//! Error classes (error type -> HTTP status): judged only where the run produced the situation.
//! A class whose status the client saw, and which is the only class with that status, passes; a
//! class naming a dependency is judged on the answers given while that dependency was faulted.
//! A class with an error code is also judged on the sampled bodies of answers with its status
//! (`code_check`): a body with another code fails it; without sampled bodies the code is unchecked.

use std::collections::BTreeMap;

use super::evidence;
use super::matching::{mentions, slug};
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use crate::result::{PhaseKind, RunResult, Verdict};
use crate::spec::claims::{Claims, ErrorClass};

/// Error statuses (>= 400) answered, with the requests that got each.
type Tally = BTreeMap<u16, (u64, Vec<String>)>;

fn add(t: &mut Tally, status: u16, n: u64, request: &str) {
    if status < 400 || n == 0 {
        return;
    }
    let e = t.entry(status).or_default();
    e.0 += n;
    if !e.1.iter().any(|r| r == request) {
        e.1.push(request.to_string());
    }
}

/// Every error status answered outside warmup.
fn run_tally(result: &RunResult) -> Tally {
    let mut t = Tally::new();
    for (name, s) in &result.operations {
        for (code, n) in &s.status {
            if let Ok(code) = code.parse() {
                add(&mut t, code, *n, name);
            }
        }
    }
    t
}

/// Error statuses answered while `dependency` (scenario name) was faulted: exact from the client
/// log where it holds requests, else from the statistics of the fault phases.
fn fault_tally(result: &RunResult, dependency: &str) -> (Tally, Vec<evidence::FaultWindow>) {
    let windows = evidence::fault_windows(result, dependency);
    let mut t = Tally::new();
    let inside = |t_ms: f64| windows.iter().any(|w| w.contains(t_ms));
    if !result.client_log.is_empty() {
        for c in result.client_log.iter().filter(|c| inside(c.t_ms)) {
            if let Some(s) = c.status {
                add(&mut t, s, 1, &c.request);
            }
        }
        return (t, windows);
    }
    let phases = result.phases.iter().filter(|p| {
        p.kind == PhaseKind::Fault
            && windows
                .iter()
                .any(|w| p.from_s * 1000.0 < w.to_ms && p.to_s * 1000.0 > w.from_ms)
    });
    for p in phases {
        for (name, s) in &p.operations {
            for (code, n) in &s.status {
                if let Ok(code) = code.parse() {
                    add(&mut t, code, *n, name);
                }
            }
        }
    }
    (t, windows)
}

fn describe(t: &Tally) -> String {
    if t.is_empty() {
        return "no error status".to_string();
    }
    t.iter()
        .map(|(s, (n, _))| format!("{s} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What request would make the service answer with `status`.
fn hint(status: u16) -> &'static str {
    match status {
        400 => "a request with invalid input (a malformed body or a field out of range)",
        401 => "a request without valid credentials",
        403 => "a request for something the caller may not access",
        404 => "a request for an id that does not exist",
        405 => "a method the endpoint does not serve",
        409 => {
            "a request that conflicts with the current state (an update carrying a stale version)"
        }
        413 => "a body larger than the service accepts",
        415 => "a body of an unsupported content type",
        422 => "a well-formed request with invalid values",
        429 => "more requests from one client key than its rate limit allows",
        500..=599 => "a fault on the dependency whose failure this class describes",
        _ => "a request that provokes it",
    }
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    if claims.error_classes.is_empty() {
        return;
    }
    let tally = run_tally(result);
    for class in &claims.error_classes {
        out.verdicts.push(one(result, claims, ctx, class, &tally));
    }
    let unlisted: Vec<String> = tally
        .iter()
        .filter(|(s, _)| {
            !claims.error_classes.iter().any(|c| c.status == Some(**s))
                && !claims
                    .dependencies
                    .iter()
                    .any(|d| d.fallback_status == Some(**s))
        })
        .map(|(s, (n, reqs))| format!("{s} ×{n} ({})", reqs.join(", ")))
        .collect();
    if !unlisted.is_empty() {
        out.notes.push(format!(
            "the service answered {}: no error class of the spec names that status",
            unlisted.join("; ")
        ));
    }
}

fn one(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    class: &ErrorClass,
    tally: &Tally,
) -> Verdict {
    let code = class
        .code
        .as_deref()
        .map_or(String::new(), |c| format!(" {c}"));
    let status_text = class.status.map_or("?".to_string(), |s| s.to_string());
    let c = Claim::new(
        format!("error_class.{}", slug(&class.error_type)),
        format!("{} is answered with {status_text}{code}", class.error_type),
        spec_source(ctx, class.line),
        format!("answered {status_text}"),
    );
    let Some(status) = class.status else {
        return c.inconclusive(
            "no status claimed",
            "The spec gives no HTTP status for this error, so there is nothing to compare an answer with.",
        );
    };
    let inside_faults: Vec<evidence::FaultWindow> = claims
        .dependencies
        .iter()
        .find(|d| mentions(&class.error_type, &d.name))
        .and_then(|d| evidence::scenario_dependency(result, ctx, &d.name))
        .map(|n| evidence::fault_windows(result, &n))
        .unwrap_or_default();
    let code = class
        .code
        .as_deref()
        .map(|code| code_check(result, status, code, &inside_faults));
    let unchecked = match &code {
        Some(CodeCheck::Unchecked(t)) | Some(CodeCheck::Carried(t)) => t.clone(),
        _ => String::new(),
    };
    let shared_status = claims
        .error_classes
        .iter()
        .any(|o| o.status == Some(status) && o.error_type != class.error_type);
    if let Some(CodeCheck::Wrong { measured, detail }) = code {
        if !shared_status {
            return c.fail(measured, detail);
        }
    }
    let sharing: Vec<&str> = claims
        .error_classes
        .iter()
        .filter(|o| o.status == Some(status) && o.error_type != class.error_type)
        .map(|o| o.error_type.as_str())
        .collect();
    let shared = |n: u64, when: &str| {
        format!(
            "{n} answer(s) with {status} {when}, but the spec maps {status} to {} and {} alike, so the run cannot \
             tell which class they were.",
            class.error_type,
            sharing.join(", ")
        )
    };
    let dependency = claims
        .dependencies
        .iter()
        .find(|d| mentions(&class.error_type, &d.name));
    if let Some(dep) = dependency {
        let Some(scenario_dep) = evidence::scenario_dependency(result, ctx, &dep.name)
            .filter(|n| !evidence::fault_windows(result, n).is_empty())
        else {
            let detail = format!(
                "This class is about {}, and the run injected no fault into it: add a [[fault]] on {} that \
                 produces this failure.",
                dep.name, dep.name
            );
            return c.inconclusive("no fault on it", detail);
        };
        let (t, windows) = fault_tally(result, &scenario_dep);
        let during = windows
            .iter()
            .map(evidence::FaultWindow::describe)
            .collect::<Vec<_>>()
            .join(", ");
        return match t.get(&status) {
            Some((n, _)) if sharing.is_empty() => c.pass(
                format!("{n} × {status} in faults"),
                format!(
                    "{n} answer(s) with {status} while {} was faulted ({during}); the spec maps {status} only to {}.{unchecked}",
                    dep.name, class.error_type
                ),
            ),
            Some((n, _)) => c.inconclusive(
                format!("{n} × {status} in faults"),
                shared(*n, &format!("while {} was faulted", dep.name)),
            ),
            None => c.inconclusive(
                format!("no {status} in faults"),
                format!(
                    "While {} was faulted ({during}) the service answered {}; none with {status}, so this failure \
                     was not produced: a fault on {} that brings it about would judge it.",
                    dep.name,
                    describe(&t),
                    dep.name
                ),
            ),
        };
    }
    match tally.get(&status) {
        Some((n, reqs)) if sharing.is_empty() => c.pass(
            format!("{n} × {status}"),
            format!(
                "{n} answer(s) with {status} (requests {}); the spec maps {status} only to {}.{unchecked}",
                reqs.join(", "),
                class.error_type
            ),
        ),
        Some((n, _)) => c.inconclusive(format!("{n} × {status}"), shared(*n, "in the run")),
        None => c.inconclusive(
            format!("no {status} answered"),
            format!(
                "No request was answered {status}, so the run never produced this error. To exercise it a run \
                 needs {}, with `expect_status = [{status}]` on that request.",
                hint(status)
            ),
        ),
    }
}

/// What the sampled bodies of `status` answers say about a class's code.
enum CodeCheck {
    /// No body of such an answer was sampled: the sentence saying so.
    Unchecked(String),
    /// Every sampled body carried the code: the sentence saying so.
    Carried(String),
    Wrong {
        measured: String,
        detail: String,
    },
}

/// The code of every sampled body of a `status` answer (inside `windows` when there are any).
fn code_check(
    result: &RunResult,
    status: u16,
    code: &str,
    windows: &[evidence::FaultWindow],
) -> CodeCheck {
    let bodies: Vec<(&str, Option<&str>)> = result
        .body_samples
        .iter()
        .filter(|s| s.status == status)
        .flat_map(|s| s.samples.iter().map(move |b| (s.request.as_str(), b)))
        .filter(|(_, b)| windows.is_empty() || windows.iter().any(|w| w.contains(b.t_ms)))
        .map(|(r, b)| (r, b.json.as_ref().and_then(super::error_bodies::code_of)))
        .collect();
    if bodies.is_empty() {
        let why = if result.body_samples.is_empty() {
            "no response bodies were kept"
        } else {
            "no body of such an answer was sampled"
        };
        return CodeCheck::Unchecked(format!(" Its error code {code} is not checked: {why}."));
    }
    let wrong: Vec<String> = bodies
        .iter()
        .filter(|(_, c)| *c != Some(code))
        .map(|(r, c)| format!("{r}: {}", c.unwrap_or("no code")))
        .collect();
    let n = bodies.len();
    if wrong.is_empty() {
        return CodeCheck::Carried(format!(
            " All {n} sampled {status} bodies carry the code {code}."
        ));
    }
    let mut shown: Vec<String> = wrong.iter().take(3).cloned().collect();
    if wrong.len() > 3 {
        shown.push("...".into());
    }
    CodeCheck::Wrong {
        measured: format!("{}/{n} bodies carry the code", n - wrong.len()),
        detail: format!(
            "The status is {status} as claimed, but {} of {n} sampled {status} bodies carry another code than {code} ({}).",
            wrong.len(),
            shown.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{AppliedFault, ClientLogEntry, OperationStats, VerdictStatus::*};
    use crate::spec::claims::Dependency;

    fn class(error_type: &str, status: Option<u16>) -> ErrorClass {
        ErrorClass {
            error_type: error_type.into(),
            status,
            code: Some("CODE".into()),
            retryable: None,
            line: 30,
        }
    }

    fn claims(classes: Vec<ErrorClass>) -> Claims {
        Claims {
            error_classes: classes,
            dependencies: vec![Dependency {
                name: "Billing".into(),
                kind: None,
                timeout_ms: None,
                fallback: None,
                fallback_status: None,
                fallback_grpc_status: None,
                critical: false,
                health_check: None,
                line: 5,
            }],
            ..Claims::default()
        }
    }

    /// A run whose request "get" got `statuses` outside faults, and whose client log holds
    /// `during` (t_ms, status) answers; Billing aborted 10–20 s when `fault`.
    fn run(statuses: &[(u16, u64)], during: &[(f64, u16)], fault: bool) -> RunResult {
        let mut stats = OperationStats::default();
        for (s, n) in statuses {
            stats.status.insert(s.to_string(), *n);
        }
        RunResult {
            duration_s: 30.0,
            operations: [("get".to_string(), stats)].into(),
            faults: fault
                .then(|| AppliedFault {
                    dependency: "Billing".into(),
                    kind: "abort".into(),
                    params: serde_json::json!({}),
                    applied_at_s: 10.0,
                    removed_at_s: Some(20.0),
                    source: "schedule".into(),
                })
                .into_iter()
                .collect(),
            client_log: during
                .iter()
                .map(|(t_ms, s)| ClientLogEntry {
                    t_ms: *t_ms,
                    request: "get".into(),
                    request_id: None,
                    trace_id: None,
                    status: Some(*s),
                    error: None,
                    latency_ms: 1.0,
                    retry_after: false,
                    grpc_status: None,
                })
                .collect(),
            ..RunResult::default()
        }
    }

    fn verdicts(r: &RunResult, c: &Claims) -> Judgement {
        let mut out = Judgement::default();
        judge(r, c, &JudgeContext::default(), &mut out);
        out
    }

    #[test]
    fn a_status_seen_and_owned_by_one_class_passes() {
        let c = claims(vec![
            class("NotFound", Some(404)),
            class("Invalid", Some(400)),
        ]);
        let j = verdicts(&run(&[(200, 90), (404, 7)], &[], false), &c);
        assert_eq!(j.verdicts[0].status, Pass, "{:?}", j.verdicts[0]);
        assert_eq!(j.verdicts[0].measured, "7 × 404");
        assert!(
            j.verdicts[0].detail.contains("not checked"),
            "{}",
            j.verdicts[0].detail
        );
        assert_eq!(j.verdicts[1].status, Inconclusive);
        assert!(
            j.verdicts[1].detail.contains("invalid input"),
            "{}",
            j.verdicts[1].detail
        );
        assert!(j.notes.is_empty(), "{:?}", j.notes);
    }

    #[test]
    fn the_code_is_checked_on_sampled_bodies() {
        let c = claims(vec![class("NotFound", Some(404))]);
        let mut r = run(&[(200, 90), (404, 7)], &[], false);
        let body = |code: &str| crate::result::BodySample {
            kind: "first".into(),
            t_ms: 10.0,
            request_id: None,
            trace_id: None,
            retry_after: false,
            content_type: Some("application/json".into()),
            bytes: 20,
            truncated: false,
            json: Some(serde_json::json!({ "error_code": code })),
            text: None,
        };
        r.body_samples = vec![crate::result::BodySampleSet {
            request: "get".into(),
            phase: None,
            status: 404,
            seen: 7,
            samples: vec![body("CODE"), body("CODE")],
        }];
        let j = verdicts(&r, &c);
        assert_eq!(j.verdicts[0].status, Pass);
        assert!(j.verdicts[0]
            .detail
            .contains("All 2 sampled 404 bodies carry the code CODE"));
        r.body_samples[0].samples[1] = body("NOT_FOUND");
        let j = verdicts(&r, &c);
        assert_eq!(j.verdicts[0].status, Fail, "{:?}", j.verdicts[0]);
        assert_eq!(j.verdicts[0].measured, "1/2 bodies carry the code");
        assert!(j.verdicts[0].detail.contains("get: NOT_FOUND"));
    }

    #[test]
    fn a_status_two_classes_share_cannot_be_told_apart() {
        let c = claims(vec![
            class("Invalid", Some(400)),
            class("BadJson", Some(400)),
        ]);
        let j = verdicts(&run(&[(400, 3)], &[], false), &c);
        assert!(
            j.verdicts.iter().all(|v| v.status == Inconclusive),
            "{:?}",
            j.verdicts
        );
        assert!(
            j.verdicts[0].detail.contains("cannot tell"),
            "{}",
            j.verdicts[0].detail
        );
    }

    #[test]
    fn dependency_classes_are_judged_on_the_answers_during_its_faults() {
        let c = claims(vec![
            class("BillingUnavailable", Some(503)),
            class("BillingRejected", Some(502)),
        ]);
        // 503 answered inside the fault window (10–20 s); a 502 only before it does not count.
        let r = run(
            &[(200, 50), (503, 2)],
            &[(5_000.0, 502), (12_000.0, 503), (15_000.0, 503)],
            true,
        );
        let j = verdicts(&r, &c);
        assert_eq!(j.verdicts[0].status, Pass, "{:?}", j.verdicts[0]);
        assert_eq!(j.verdicts[0].measured, "2 × 503 in faults");
        assert_eq!(j.verdicts[1].status, Inconclusive, "{:?}", j.verdicts[1]);
        assert!(
            j.verdicts[1].detail.contains("503 ×2; none with 502"),
            "{}",
            j.verdicts[1].detail
        );
        // Without a fault on Billing nothing can be said.
        let j = verdicts(&run(&[(503, 2)], &[], false), &c);
        assert!(
            j.verdicts[0].detail.contains("injected no fault"),
            "{}",
            j.verdicts[0].detail
        );
    }

    #[test]
    fn unlisted_error_statuses_become_a_note_and_no_status_is_inconclusive() {
        let c = claims(vec![class("Whatever", None)]);
        let j = verdicts(&run(&[(500, 4)], &[], false), &c);
        assert_eq!(j.verdicts[0].status, Inconclusive);
        assert_eq!(j.notes.len(), 1);
        assert!(j.notes[0].contains("500 ×4 (get)"), "{:?}", j.notes);
        // No claims, no verdicts.
        assert!(verdicts(&run(&[(500, 4)], &[], false), &Claims::default())
            .verdicts
            .is_empty());
    }
}
