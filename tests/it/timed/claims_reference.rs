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

/// After the load the conflict probe reads an item's version, updates it once with it and resends
/// the update (now stale); the limit probes send `per_page=101` on a list and a 65537-byte body on
/// a create. The reference service answers 409 CONFLICT, 400 VALIDATION_FAILED and 413
/// PAYLOAD_TOO_LARGE, as its spec says. A copy of the spec with another conflict code, a max of 50
/// and a 32 KiB cap fails exactly those three verdicts (51 and 32769 bytes are served).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_services_conflicts_and_limits_true_and_wrong_claims() {
    let extra = "[[request]]\nname = \"update\"\nmethod = \"PUT\"\npath = \"/items/{{random_int 1 100}}\"\nweight = 1\n\
headers = { content-type = \"application/json\" }\nbody = '{\"name\": \"r\", \"value\": 1, \"version\": 1}'\nexpect_status = [200, 409]\nstale_version = true\n\
[[request]]\nname = \"list\"\npath = \"/items?page=1&per_page=25\"\nweight = 1\nexpect_status = [200]\nprobe_limits = true\n\
[[request]]\nname = \"create\"\nmethod = \"POST\"\npath = \"/items\"\nweight = 1\nheaders = { content-type = \"application/json\" }\n\
body = '{\"name\": \"n\", \"value\": 1}'\nexpect_status = [201]\nprobe_limits = true\n";
    let r = run("probes-true", &spec(), extra).await;
    for (id, measured) in [
        ("conflict.update", "stale 409 CONFLICT"),
        ("limit.list.per-page", "beyond 400 VALIDATION_FAILED"),
        ("limit.create.body", "beyond 413 PAYLOAD_TOO_LARGE"),
    ] {
        let v = r.verdicts.iter().find(|v| v.id == id).unwrap();
        assert_eq!(verdict(&r, id).0, VerdictStatus::Pass, "{id}");
        assert_eq!(v.measured, measured, "{id}");
    }
    // No stray verdicts: the list gets no body probe, the create no per_page one.
    assert!(!r
        .verdicts
        .iter()
        .any(|v| v.id == "limit.list.body" || v.id == "limit.create.per-page"));
    let wrong = spec()
        .replace(
            "| VersionConflict | 409 | CONFLICT |",
            "| VersionConflict | 409 | STALE_VERSION |",
        )
        .replace("`per_page` is at most 100", "`per_page` is at most 50")
        .replace("request body over\n64 KiB", "request body over\n32 KiB");
    assert_ne!(wrong, spec(), "the edits apply");
    let r = run("probes-wrong", &wrong, extra).await;
    let (status, detail) = verdict(&r, "conflict.update");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(
        detail.contains("its code is CONFLICT, not STALE_VERSION"),
        "{detail}"
    );
    let (status, detail) = verdict(&r, "limit.list.per-page");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(
        detail.contains("per_page=51 (max 50): answered 200"),
        "{detail}"
    );
    let (status, detail) = verdict(&r, "limit.create.body");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(
        detail.contains("32769-byte body (max 32768): answered 201"),
        "{detail}"
    );
}
