//! The answer claims of the reference spec (error bodies, error codes, Retry-After, the request-id
//! echo, trace propagation) judged by a real `redline run --spec` against the reference service,
//! its UserService behind the run's fault proxy with an abort window: the true spec passes them,
//! a spec with a wrong field and a wrong error code fails exactly those.

use crate::chaos_common;

use std::time::Duration;

use chaos_common::{redline_run, result, temp_dir, wait, Rig};
use redline::result::{RunResult, VerdictStatus};

const FAULT: &str = "[[fault]]\ndependency = \"UserService\"\nat = \"1s\"\nduration = \"2s\"\nkind = \"abort\"\nstatus = 503\n\
[[request]]\nname = \"missing\"\noperation = \"get_item\"\npath = \"/items/{{seq}}999999\"\nweight = 1\nexpect_status = [404]\n";

fn spec() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/specs/reference-service.md"
    ))
    .unwrap()
}

async fn run(name: &str, spec: &str, extra: &str) -> RunResult {
    let rig = Rig::start().await;
    let dir = temp_dir(name);
    std::fs::write(dir.join("svc.md"), spec).unwrap();
    let scenario = format!(
        "spec = \"svc.md\"\n{}",
        rig.scenario("{ duration = \"4s\", rate = 40 }", extra)
    );
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(60)))
            .await
            .unwrap();
    assert!(matches!(code, Some(0 | 1)), "{stdout}\n{stderr}");
    result(&dir)
}

fn verdict(r: &RunResult, id: &str) -> (VerdictStatus, String) {
    let v = r.verdicts.iter().find(|v| v.id == id).unwrap_or_else(|| {
        panic!(
            "no {id}: {:#?}",
            r.verdicts.iter().map(|v| &v.id).collect::<Vec<_>>()
        )
    });
    eprintln!("{id}: {:?} | {} | {}", v.status, v.measured, v.detail);
    (v.status, v.detail.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_spec_answer_claims_pass_and_wrong_ones_fail() {
    let r = run("claims-true", &spec(), FAULT).await;
    let kept: usize = r.body_samples.iter().map(|s| s.samples.len()).sum();
    eprintln!(
        "body samples: {} keys, {kept} bodies, {} bytes of JSON",
        r.body_samples.len(),
        serde_json::to_string(&r.body_samples).unwrap().len()
    );
    for id in [
        "error_body.404",
        "error_body.503",
        "error_body.request_id",
        "error_body.retry_after.503",
        "error_class.notfounderror",
        "trace.userservice",
    ] {
        assert_eq!(verdict(&r, id).0, VerdictStatus::Pass, "{id}");
    }
    let (_, detail) = verdict(&r, "error_class.notfounderror");
    assert!(
        detail.contains("carry the code RESOURCE_NOT_FOUND"),
        "{detail}"
    );
    let (_, detail) = verdict(&r, "trace.userservice");
    assert!(detail.contains("in fault windows"), "{detail}");

    // Wrong claims: a field the service does not send, and another code for 404.
    let wrong = spec()
        .replace(
            "\"error_code\", \"message\"",
            "\"error_code\", \"error_detail\"",
        )
        .replace(
            "| NotFoundError | 404 | RESOURCE_NOT_FOUND |",
            "| NotFoundError | 404 | ITEM_MISSING |",
        );
    assert_ne!(wrong, spec(), "the edits apply");
    let r = run("claims-wrong", &wrong, FAULT).await;
    let (status, detail) = verdict(&r, "error_body.404");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(detail.contains("no error_detail"), "{detail}");
    assert_eq!(verdict(&r, "error_body.503").0, VerdictStatus::Fail);
    let (status, detail) = verdict(&r, "error_class.notfounderror");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(detail.contains("RESOURCE_NOT_FOUND"), "{detail}");
    assert_eq!(verdict(&r, "error_body.request_id").0, VerdictStatus::Pass);
}

/// A light latency fault only (an abort would leave the breaker open for the probe after the
/// load): the dependency log keeps the calls around fault windows, the probe's among them.
/// The reference service keeps the first answer to an `Idempotency-Key`: the probe's concurrent
/// and later replays get it, and UserService is called for the first send only (tied through the
/// proxy log's trace ids). A header the service does not read makes a new item per send and a
/// UserService call per replay: the deliberately wrong claim fails on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_services_idempotency_keys_true_and_wrong_claims() {
    let create = |idem: &str| {
        format!("[[request]]\nname = \"create\"\nmethod = \"POST\"\npath = \"/items\"\nweight = 1\nheaders = {{ content-type = \"application/json\" }}\nbody = '{{\"name\": \"n{{{{seq}}}}\", \"value\": 1}}'\nexpect_status = [201]\nidempotency = {idem}\n")
    };
    let slow = "[[fault]]\ndependency = \"UserService\"\nat = \"1s\"\nduration = \"1s\"\nkind = \"latency\"\ndelay = \"20ms\"\n";
    let r = run(
        "idem-true",
        &spec(),
        &format!("{slow}{}", create("{ replay = 2 }")),
    )
    .await;
    let (status, detail) = verdict(&r, "idempotency.create");
    assert_eq!(status, VerdictStatus::Pass, "{detail}");
    assert!(
        detail.contains("UserService 1; the replays made none"),
        "{detail}"
    );

    let wrong = create("{ header = \"X-Other-Key\", replay = 2 }");
    let r = run("idem-wrong", &spec(), &format!("{slow}{wrong}")).await;
    let (status, detail) = verdict(&r, "idempotency.create");
    assert_eq!(status, VerdictStatus::Fail, "{detail}");
    assert!(
        detail.contains("UserService saw 2 call(s) from replays"),
        "{detail}"
    );
    assert!(detail.contains("another body"), "{detail}");
}
