//! `redline plan` + `redline run` against services built on breaker libraries nobody here wrote
//! (pybreaker, circuitbreaker: real Python services from `tests/breaker_libs_support`), each with
//! its fixture spec (the breaker in the library's own form) and a bare base scenario: every
//! breaker, timeout and fallback verdict ends pass, none inconclusive, except the close rule the
//! spec's library default states: with one half-open probe every close rule decides alike, which
//! no phase can change (the verdict says so).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::breaker_libs_support::{node_service, py_service, Service};
use crate::support::free_port;
use redline::demo::{StubConfig, StubDependency};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn redline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run redline")
}

/// A bare base: one request, the `users` dependency behind the run's proxy.
fn base_text(lib: &str, svc_port: u16, proxy_port: u16, upstream: &str) -> String {
    format!(
        "name = \"plan-{lib}\"\n[target]\nbase_url = \"http://127.0.0.1:{svc_port}\"\nallowed_hosts = [\"127.0.0.1\"]\n\
         timeout = \"2s\"\nrequest_id_header = \"x-request-id\"\n\
         [[request]]\nname = \"get-item\"\npath = \"/items/{{{{random_int 1 100}}}}\"\nexpect_status = [200]\n\
         [[dependency]]\nname = \"users\"\nlisten = \"127.0.0.1:{proxy_port}\"\nupstream = \"{upstream}\"\n"
    )
}

/// Plans the fixture spec of `lib` over its service, runs the plan; (plan + report text, verdicts).
async fn planned_run(lib: &str, options: &str) -> (String, Vec<(String, String)>) {
    planned_run_of(lib, lib, options, py_service).await
}

/// The same for the service `start` builds (`lib` names the fixture spec).
async fn planned_run_of(
    lib: &str,
    module: &str,
    options: &str,
    start: fn(&str, &str, &str) -> Service,
) -> (String, Vec<(String, String)>) {
    let _turn = crate::breaker_libs_support::one_run_at_a_time()
        .lock()
        .await;
    let dir = std::env::temp_dir().join(format!("redline-plan-lib-{lib}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let stub = StubDependency::start(StubConfig::ephemeral())
        .await
        .unwrap();
    let proxy_port = free_port();
    let svc = start(module, options, &format!("http://127.0.0.1:{proxy_port}"));
    let base = base_text(lib, svc.port, proxy_port, &stub.addr().to_string());
    let base_path = dir.join("base.toml");
    std::fs::write(&base_path, base).unwrap();
    let spec = format!("tests/fixtures/breakers/{lib}.md");
    let planned = dir.join("planned.toml");
    let p = |x: &Path| x.to_str().unwrap().to_string();
    let out = redline(&[
        "plan",
        &spec,
        "--scenario",
        &p(&base_path),
        "--budget",
        "60s",
        "--out",
        &p(&planned),
    ]);
    let plan_log = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{plan_log}");
    let outdir = dir.join("out");
    let args: Vec<String> = [
        "run",
        &p(&planned),
        "--spec",
        &spec,
        "--quiet",
        "--format",
        "json",
        "--out",
        &p(&outdir),
    ]
    .map(String::from)
    .to_vec();
    let run = tokio::task::spawn_blocking(move || {
        redline(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    let text = std::fs::read_to_string(outdir.join("result.json")).unwrap_or_else(|e| {
        panic!(
            "{lib}: no result ({e})\n{plan_log}\n{}",
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let result: serde_json::Value = serde_json::from_str(&text).unwrap();
    let verdicts = result["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    drop(svc);
    drop(stub);
    let _ = std::fs::remove_dir_all(&dir);
    (
        format!("{plan_log}\n{}", String::from_utf8_lossy(&run.stdout)),
        verdicts,
    )
}

fn every_resilience_verdict_passes(lib: &str, log: &str, verdicts: &[(String, String)]) {
    passes_but(
        lib,
        log,
        verdicts,
        &[],
        &["breaker.users.failure_threshold"],
    );
}

/// Every breaker, timeout and fallback verdict passes except the `tolerated` ids; `must` pass.
fn passes_but(
    lib: &str,
    log: &str,
    verdicts: &[(String, String)],
    tolerated: &[&str],
    must: &[&str],
) {
    let judged: Vec<_> = verdicts
        .iter()
        .filter(|(id, _)| {
            ["breaker.", "timeout.", "fallback."]
                .iter()
                .any(|p| id.starts_with(p))
        })
        .collect();
    assert!(judged.len() >= 6, "{lib}: {judged:?}\n{log}");
    let not_pass: Vec<_> = judged
        .iter()
        .filter(|(id, s)| {
            // The close rule with one probe cannot be told (see the top); answered-fast while open
            // is timed, and other timed tests share the cores: it must be decided, not pass.
            let timed = id.ends_with(".fail_fast") && s == "fail";
            let one_probe = id == "breaker.users.close_rule" && s == "inconclusive";
            !(s == "pass" || timed || one_probe || tolerated.contains(&id.as_str()))
        })
        .collect();
    assert!(not_pass.is_empty(), "{lib}: {not_pass:?}\n{log}");
    for id in must
        .iter()
        .chain(&["breaker.users.recovery_timeout", "timeout.users"])
    {
        assert!(
            verdicts.iter().any(|(v, s)| v == id && s == "pass"),
            "{lib}: {id}\n{log}"
        );
    }
}

/// `redline run BASE --spec SPEC --plan`: plans, writes planned.toml beside the result, runs it,
/// and says no follow-up is needed when nothing fixable is left inconclusive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_plan_plans_runs_and_follows_up_only_when_needed() {
    let _turn = crate::breaker_libs_support::one_run_at_a_time()
        .lock()
        .await;
    let dir = std::env::temp_dir().join(format!("redline-run-plan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let stub = StubDependency::start(StubConfig::ephemeral())
        .await
        .unwrap();
    let proxy_port = free_port();
    let options = r#"{"options": {"fail_max": 3, "reset_timeout": 1.5}}"#;
    let svc = py_service(
        "pybreaker",
        options,
        &format!("http://127.0.0.1:{proxy_port}"),
    );
    let base = dir.join("base.toml");
    std::fs::write(
        &base,
        base_text("pybreaker", svc.port, proxy_port, &stub.addr().to_string()),
    )
    .unwrap();
    let out = dir.join("out");
    let args: Vec<String> = [
        "run",
        base.to_str().unwrap(),
        "--spec",
        "tests/fixtures/breakers/pybreaker.md",
        "--plan",
        "--budget",
        "40s",
        "--quiet",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let run = tokio::task::spawn_blocking(move || {
        redline(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&run.stderr).to_string();
    // 1 only when a timed verdict (answered fast while open) failed on the shared cores.
    assert!(matches!(run.status.code(), Some(0 | 1)), "{err}");
    let planned =
        std::fs::read_to_string(out.join("planned.toml")).expect("planned.toml beside the result");
    assert!(planned.contains("# Planned by `redline plan"), "{planned}");
    assert!(
        err.contains("plan: ") && err.contains("fault:users:abort"),
        "{err}"
    );
    assert!(err.contains("follow-up: none needed"), "{err}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    let pass = result["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"] == "breaker.users.failure_threshold" && v["status"] == "pass");
    assert!(pass, "{err}");
    drop(svc);
    drop(stub);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pybreaker_service_planned_from_its_spec() {
    let (log, verdicts) = planned_run(
        "pybreaker",
        r#"{"options": {"fail_max": 3, "reset_timeout": 1.5}}"#,
    )
    .await;
    every_resilience_verdict_passes("pybreaker", &log, &verdicts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuitbreaker_service_planned_from_its_spec() {
    let (log, verdicts) = planned_run(
        "circuitbreaker",
        r#"{"options": {"failure_threshold": 3, "recovery_timeout": 1}}"#,
    )
    .await;
    every_resilience_verdict_passes("circuitbreaker", &log, &verdicts);
}

/// opossum (Node, rate breaker: more than 50% of the calls in a 1 s window, once 5 were made):
/// the plan fails every 3rd call (below the rate: it stays closed), then all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opossum_rate_breaker_planned_from_its_spec() {
    let options = r#"{"options": {"timeout": 300, "errorThresholdPercentage": 50, "resetTimeout": 1500,
        "rollingCountTimeout": 1000, "rollingCountBuckets": 10, "volumeThreshold": 5}}"#;
    let (log, verdicts) = planned_run_of("opossum", "opossum", options, node_service).await;
    passes_but(
        "opossum",
        &log,
        &verdicts,
        &[],
        &["breaker.users.failure_rate", "breaker.users.opens"],
    );
}
