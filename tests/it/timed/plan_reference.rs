//! `redline plan` + `redline run` against the real reference service (processes on 127.0.0.1,
//! the run's own fault proxy in front of the real stub UserService), from a bare base scenario:
//! the true spec's latency, timeout, fallback, retry and breaker claims all pass, none
//! inconclusive, and the error classes the plan's probes provoke pass; a deliberately wrong spec fails on exactly the figures it got wrong; a halved
//! budget says what it dropped; bad input exits 2 saying what is missing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::free_port;

const SPEC: &str = "scenarios/specs/reference-service.md";
const WRONG: &str = "tests/fixtures/plan/reference-wrong.md";

/// Kills the child (ours, by handle) when the test ends, pass or fail.
struct Proc(
    Child,
    #[allow(dead_code)] BufReader<std::process::ChildStdout>,
);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn redline");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("a line");
    let url = line.split_whitespace().last().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (Proc(child, stdout), url)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("redline-plan-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The shipped bare base with the addresses of this test's services.
fn base(dir: &Path, target: &str, proxy_port: u16, upstream: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/reference-base.toml")).unwrap();
    let text = text
        .replace("http://127.0.0.1:8080", target)
        .replace("127.0.0.1:9101", &format!("127.0.0.1:{proxy_port}"))
        .replace("127.0.0.1:8081", upstream.trim_start_matches("http://"))
        .replace("spec = \"specs/reference-service.md\"\n", "");
    let p = dir.join("base.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn redline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run redline")
}

/// Plans `spec` over a fresh reference service, runs it, returns (plan stderr, verdicts id -> status).
fn plan_and_run(name: &str, spec: &str, budget: &str) -> (String, Vec<(String, String)>) {
    // Hundreds of requests per second with percentiles and pauses judged: the library lane (the
    // other planned runs, the breaker-library runs) and then the heavy-load lane, so none of them
    // overlaps it (nothing takes them in the other order).
    let _libraries = crate::breaker_libs_support::one_run_at_a_time().blocking_lock();
    let _heavy = crate::support::lanes::heavy_load();
    let dir = tmp(name);
    let (_dep, dep_url) = spawn(&["serve-dependency", "--port", "0"]);
    let proxy = free_port();
    let proxy_url = format!("http://127.0.0.1:{proxy}");
    let (_svc, svc_url) = spawn(&[
        "serve-reference",
        "--port",
        "0",
        "--dependency-url",
        &proxy_url,
    ]);
    let base = base(&dir, &svc_url, proxy, &dep_url);
    let planned = dir.join("planned.toml");
    let out = redline(&[
        "plan",
        spec,
        "--scenario",
        base.to_str().unwrap(),
        "--budget",
        budget,
        "--out",
        planned.to_str().unwrap(),
    ]);
    let plan_text = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{plan_text}");
    // Round trip: the plan is an ordinary scenario.
    let toml = std::fs::read_to_string(&planned).unwrap();
    let parsed = redline::scenario::parse(&toml, "planned.toml").expect("the plan parses");
    let nominal = parsed.load.duration().as_secs_f64();
    let budget_s = redline::scenario::duration::parse_duration(budget)
        .unwrap()
        .as_secs_f64();
    assert!(
        nominal <= budget_s,
        "{nominal} s planned for a {budget} budget"
    );
    let run = redline(&[
        "run",
        planned.to_str().unwrap(),
        "--spec",
        spec,
        "--quiet",
        "--format",
        "json",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let result = std::fs::read_to_string(dir.join("out/result.json")).expect("result.json");
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
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
    let _ = std::fs::remove_dir_all(&dir);
    (format!("{plan_text}\n{stdout}"), verdicts)
}

/// Verdict families a plan must bring to pass or fail.
fn resilience(id: &str) -> bool {
    ["latency.", "timeout.", "fallback.", "retries.", "breaker."]
        .iter()
        .any(|p| id.starts_with(p))
}

#[test]
fn the_plan_judges_every_latency_and_resilience_claim_of_the_true_spec() {
    let (log, verdicts) = plan_and_run("true", SPEC, "60s");
    let judged: Vec<_> = verdicts.iter().filter(|(id, _)| resilience(id)).collect();
    assert!(judged.len() >= 30, "{judged:?}\n{log}");
    // The plan's promise: every one is decided. Latency is the service's on this machine (other
    // timed tests share the two cores), so a true latency claim may fail under their load; every
    // other resilience claim is the breaker's, the timeout's and the retries' and must pass.
    let undecided: Vec<_> = judged.iter().filter(|(_, s)| s == "inconclusive").collect();
    assert!(undecided.is_empty(), "{undecided:?}\n{log}");
    let not_pass: Vec<_> = judged
        .iter()
        .filter(|(id, s)| s != "pass" && !id.starts_with("latency."))
        .collect();
    assert!(not_pass.is_empty(), "{not_pass:?}\n{log}");
    for id in [
        "breaker.userservice.failure_threshold",
        "breaker.userservice.half_open_requests",
        "retries.userservice.attempts",
        "latency.delete-item.p50",
        // Provoked by the plan's request variations: a body that is not JSON, an id past the
        // base's range, a method no base request sends.
        "error_class.validationerror",
        "error_class.notfounderror",
        "error_class.methodnotallowed",
    ] {
        assert!(
            verdicts.iter().any(|(v, s)| v == id && s == "pass"),
            "{id}\n{log}"
        );
    }
    // The classes no variation of the bare base provokes are named with the reason.
    for class in ["UnknownCaller (401", "PayloadTooLarge (413"] {
        assert!(
            log.contains(&format!("error class {class}")),
            "{class}\n{log}"
        );
    }
}

#[test]
fn a_wrong_spec_fails_on_the_figures_it_got_wrong() {
    let (log, verdicts) = plan_and_run("wrong", WRONG, "60s");
    let status = |id: &str| {
        verdicts
            .iter()
            .filter(|(v, _)| v == id)
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
    };
    for id in [
        "timeout.userservice",
        "breaker.userservice.failure_threshold",
        "latency.get-item.p50",
    ] {
        assert_eq!(status(id), ["fail"], "{id}\n{log}");
    }
    for id in ["fallback.userservice.status", "breaker.userservice.opens"] {
        assert_eq!(status(id), ["pass"], "{id}\n{log}");
    }
}

fn plan_only(spec: &str, base_text: &str, budget: &str) -> std::process::Output {
    let dir = tmp("only");
    let base = dir.join("base.toml");
    std::fs::write(&base, base_text).unwrap();
    let out = redline(&[
        "plan",
        spec,
        "--scenario",
        base.to_str().unwrap(),
        "--budget",
        budget,
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn shipped_base() -> String {
    std::fs::read_to_string(root().join("scenarios/reference-base.toml")).unwrap()
}

#[test]
fn half_the_budget_says_what_it_dropped_and_why() {
    let full = plan_only(SPEC, &shipped_base(), "60s");
    assert_eq!(full.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&full.stderr).contains("dropped"));
    let half = plan_only(SPEC, &shipped_base(), "30s");
    assert_eq!(
        half.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&half.stderr)
    );
    let err = String::from_utf8_lossy(&half.stderr);
    let toml = String::from_utf8_lossy(&half.stdout);
    assert!(err.contains("dropped to fit the budget:"), "{err}");
    assert!(err.contains("P99 of GET item: needs"), "{err}");
    assert!(err.contains("retries to UserService"), "{err}");
    assert!(toml.contains("# Dropped to fit the budget:"), "{toml}");
    let parsed = redline::scenario::parse(&toml, "half.toml").unwrap();
    assert!(parsed.load.duration().as_secs_f64() <= 30.0);
    assert!(!parsed.faults.is_empty(), "the breaker is kept: {toml}");
}

#[test]
fn bad_input_exits_2_saying_what_is_missing() {
    let short = plan_only(SPEC, &shipped_base(), "3s");
    assert_eq!(short.status.code(), Some(2));
    let e = String::from_utf8_lossy(&short.stderr);
    assert!(e.contains("too short for even the baseline"), "{e}");
    let unrelated = shipped_base()
        .replace("operation = \"", "operation = \"Other ")
        .replace("name = \"", "name = \"other-");
    let none = plan_only(SPEC, &unrelated, "60s");
    assert_eq!(none.status.code(), Some(2));
    let e = String::from_utf8_lossy(&none.stderr);
    assert!(
        e.contains("no [[request]] exercises a claimed operation") && e.contains("'GET item'"),
        "{e}"
    );
    let dir = tmp("empty");
    let empty = dir.join("empty.md");
    std::fs::write(&empty, "# Nothing here\n\nJust words.\n").unwrap();
    let out = plan_only(empty.to_str().unwrap(), &shipped_base(), "60s");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no testable claim"));
    let _ = std::fs::remove_dir_all(&dir);
}
