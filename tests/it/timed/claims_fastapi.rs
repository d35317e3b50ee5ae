//! Answer claims judged against a service nobody here wrote: a FastAPI app (PyPI, pinned in
//! .ci/install-test-deps) with its own error handler, run by uvicorn on 127.0.0.1, loaded by a real
//! `redline run --spec`. The true spec (a TypeScript interface, its 404 code, Retry-After on 503,
//! the request-id echo) passes; deliberately wrong claims (a field it never sends, another code,
//! Retry-After on 404, and "every error" while FastAPI's own 422 has another shape) fail.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::chaos_common::{redline_run, result, temp_dir, wait};
use crate::support::python;
use redline::result::{RunResult, VerdictStatus};

/// Kills the app (ours, by handle) when the test ends.
struct App(Child, u16);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_app() -> App {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/claims_fastapi_support/app.py"
    );
    let mut child = Command::new(python())
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 with fastapi and uvicorn (.ci/install-test-deps)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .strip_prefix("port ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("the app did not start (is fastapi installed?): {line:?}"));
    App(child, port)
}

const SPEC: &str = r#"# Backend Spec: Orders

## Error Handling

| Error Type | HTTP Status | Error Code | Retry |
|------------|-------------|------------|-------|
| NotFound | 404 | NOT_FOUND | No |

POST /orders accepts an `Idempotency-Key` header and replays the stored response.

Every error answer carries an `ErrorResponse`:

```typescript
interface ErrorResponse {
  error_code: string;
  message: string;
  request_id: string;   // Correlation ID: the caller's x-request-id, echoed
  timestamp: Date;
  retry_after: number | null;  // seconds, for 503
}
```
"#;

fn scenario(port: u16, extra: &str) -> String {
    format!(
        "name = \"fastapi\"\nspec = \"svc.md\"\n[target]\nbase_url = \"http://127.0.0.1:{port}\"\nallowed_hosts = [\"127.0.0.1\"]\nrequest_id_header = \"x-request-id\"\n\
         [load]\nstages = [ {{ duration = \"2s\", rate = 30 }} ]\n\
         [[request]]\nname = \"get\"\npath = \"/items/{{{{random_int 1 100}}}}\"\nweight = 3\n\
         [[request]]\nname = \"missing\"\npath = \"/items/{{{{random_int 101 999}}}}\"\nexpect_status = [404]\n\
         [[request]]\nname = \"busy\"\npath = \"/busy\"\nexpect_status = [503]\n{extra}"
    )
}

async fn run(name: &str, spec: &str, extra: &str) -> RunResult {
    let app = start_app();
    let dir = temp_dir(name);
    std::fs::write(dir.join("svc.md"), spec).unwrap();
    let child = redline_run(&dir, &scenario(app.1, extra), &["--quiet"])
        .spawn()
        .unwrap();
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
            "no {id}: {:?}",
            r.verdicts.iter().map(|v| &v.id).collect::<Vec<_>>()
        )
    });
    eprintln!("{id}: {:?} | {} | {}", v.status, v.measured, v.detail);
    (v.status, v.detail.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fastapi_apps_error_bodies_true_and_wrong_claims() {
    let r = run("fastapi-true", SPEC, "").await;
    for id in [
        "error_body.404",
        "error_body.503",
        "error_body.request_id",
        "error_body.retry_after.503",
        "error_class.notfound",
    ] {
        assert_eq!(verdict(&r, id).0, VerdictStatus::Pass, "{id}");
    }

    let wrong = SPEC
        .replace(
            "  message: string;",
            "  message: string;\n  details: object;",
        )
        .replace("| 404 | NOT_FOUND |", "| 404 | RESOURCE_NOT_FOUND |")
        .replace("// seconds, for 503", "// seconds, for 404 and 503");
    // FastAPI's own validation answer (422 {"detail": [...]}) is an error answer too.
    let invalid = "[[request]]\nname = \"invalid\"\npath = \"/items/abc\"\nexpect_status = [422]\n";
    let r = run("fastapi-wrong", &wrong, invalid).await;
    let (status, detail) = verdict(&r, "error_body.404");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(detail.contains("no details"), "{detail}");
    let (status, detail) = verdict(&r, "error_body.422");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(detail.contains("no error_code"), "{detail}");
    let (status, detail) = verdict(&r, "error_class.notfound");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(detail.contains("NOT_FOUND"), "{detail}");
    assert_eq!(
        verdict(&r, "error_body.retry_after.404").0,
        VerdictStatus::Fail
    );
    assert_eq!(
        verdict(&r, "error_body.retry_after.503").0,
        VerdictStatus::Pass
    );
}

/// The app's middleware replays the stored answer of a repeated `Idempotency-Key` (a concurrent
/// replay waits for the first): true. The same probe with a header the app does not read gets a
/// new order per send (another body): the deliberately wrong claim fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fastapi_apps_idempotency_keys_true_and_wrong_claims() {
    let order = |idem: &str| {
        format!("[[request]]\nname = \"order\"\nmethod = \"POST\"\npath = \"/orders\"\nweight = 1\nexpect_status = [201]\nidempotency = {idem}\n")
    };
    let r = run("fastapi-idem", SPEC, &order("{ replay = 2 }")).await;
    let (status, detail) = verdict(&r, "idempotency.order");
    assert_eq!(status, VerdictStatus::Pass, "{detail}");
    assert_eq!(r.idempotency[0].answers.len(), 3);
    assert_eq!(r.idempotency[0].answers[1].kind, "concurrent");

    let wrong = order("{ header = \"X-Idem-Key\", replay = 2 }");
    let r = run("fastapi-idem-wrong", SPEC, &wrong).await;
    let (status, detail) = verdict(&r, "idempotency.order");
    assert_eq!(status, VerdictStatus::Fail, "{detail}");
    assert!(detail.contains("another body"), "{detail}");
}

const THINGS_SPEC: &str = r#"# Backend Spec: Things

## Error Handling

| Error Type | HTTP Status | Error Code | Retry |
|------------|-------------|------------|-------|
| NotFound | 404 | NOT_FOUND | No |
| StaleRev | 409 | VERSION_CONFLICT | No |

## Interface

PUT /things/{id} carries the `rev` it read: an update naming a stale rev is answered 409.

`limit` is at most 100; a larger one is capped at 100.
"#;

/// The app's versioned things and capped listing, probed after the load: the conflict probe reads
/// `rev` with a GET, updates once with it and resends (409 VERSION_CONFLICT), the limit probe asks
/// `limit=101` and gets 100 things. The true spec passes both; a spec naming another code and a
/// cap of 50 (the app serves 51) fails both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fastapi_apps_version_conflicts_and_limit_cap_true_and_wrong_claims() {
    let extra = "[[request]]\nname = \"rename\"\nmethod = \"PUT\"\npath = \"/things/{{random_int 1 150}}\"\n\
headers = { content-type = \"application/json\" }\nbody = '{\"name\": \"r\", \"rev\": 1}'\nexpect_status = [200, 409]\n\
stale_version = { field = \"rev\" }\n\
[[request]]\nname = \"things\"\npath = \"/things?limit=10\"\nprobe_limits = true\n";
    let r = run("fastapi-probes", THINGS_SPEC, extra).await;
    let (status, detail) = verdict(&r, "conflict.rename");
    assert_eq!(status, VerdictStatus::Pass, "{detail}");
    assert!(detail.contains("409 VERSION_CONFLICT"), "{detail}");
    assert_eq!(
        r.conflicts[0].answers[1].status,
        Some(200),
        "the current rev is accepted"
    );
    let (status, detail) = verdict(&r, "limit.things.limit");
    assert_eq!(status, VerdictStatus::Pass, "{detail}");
    assert_eq!(r.limits[0].items, Some(100));

    let wrong = THINGS_SPEC
        .replace("| 409 | VERSION_CONFLICT |", "| 409 | CONFLICT |")
        .replace(
            "at most 100; a larger one is capped at 100",
            "at most 50; a larger one is capped at 50",
        );
    assert_ne!(wrong, THINGS_SPEC, "the edits apply");
    let r = run("fastapi-probes-wrong", &wrong, extra).await;
    let (status, detail) = verdict(&r, "conflict.rename");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(
        detail.contains("its code is VERSION_CONFLICT, not CONFLICT"),
        "{detail}"
    );
    let (status, detail) = verdict(&r, "limit.things.limit");
    assert_eq!(status, VerdictStatus::Fail);
    assert!(detail.contains("with 51 items"), "{detail}");
}
