//! `redline run` as a real process: result.json, exit codes, bad input, Ctrl-C.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Behaviour;
use redline::result::RunResult;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn redline(dir: &Path, scenario: &str, extra: &[&str]) -> Command {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline"));
    cmd.arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .args(extra);
    cmd
}

fn result(dir: &Path) -> RunResult {
    let text = std::fs::read_to_string(dir.join("out/result.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

const SHORT: &str = "model = \"open\"\nstages = [ { duration = \"1s\", rate = 50 } ]";

#[test]
fn writes_result_and_summary() {
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let dir = temp_dir("ok");
    let out = redline(&dir, &common::scenario(&server, SHORT, "/x"), &["--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("P99") && stdout.contains("get"), "{stdout}");
    let r = result(&dir);
    assert_eq!(r.operations["get"].count, 50);
    assert_eq!(r.schema_version, redline::result::SCHEMA_VERSION);
    assert!(r.started_at.ends_with('Z'));
    assert!(!dir.join("out/result.json.tmp").exists());
}

#[test]
fn error_rate_above_the_limit_exits_1() {
    let server = common::http(Behaviour::Status(500));
    let dir = temp_dir("fail");
    let status = redline(
        &dir,
        &common::scenario(&server, SHORT, "/x"),
        &["--max-error-rate", "0.1"],
    )
    .output()
    .unwrap();
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stdout).contains("above --max-error-rate"));
    assert_eq!(result(&dir).operations["get"].errors, 50);
    let status = redline(&dir, &common::scenario(&server, SHORT, "/x"), &[])
        .output()
        .unwrap()
        .status;
    assert_eq!(
        status.code(),
        Some(0),
        "no limit given: the run itself succeeded"
    );
}

#[test]
fn bad_scenario_lists_every_problem_and_sends_nothing() {
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let bad = common::scenario(
        &server,
        "model = \"open\"\nstages = [ { duration = \"1s\", rate = \"lots\" } ]\nwarmpu = \"1s\"",
        "items",
    )
    .replace("timeout = \"5s\"", "timeout = \"5 seconds\"");
    let dir = temp_dir("bad");
    let out = redline(&dir, &bad, &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in [
        "scenario.toml:7:11: `target.timeout`",
        "`load.stages[0].rate`",
        "did you mean `warmup`",
        "`request[0].path`",
        "has 4 problems",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.hits(), 0);
    assert!(!dir.join("out/result.json").exists());
}

#[test]
fn a_spec_with_no_testable_claim_exits_2_unless_allowed() {
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let dir = temp_dir("empty-spec");
    let spec = dir.join("SPEC.md");
    std::fs::write(&spec, "# Release notes\n\nNothing promised here.\n").unwrap();
    let spec_arg = spec.display().to_string();
    let scenario = common::scenario(&server, SHORT, "/x");
    let out = redline(&dir, &scenario, &["--spec", &spec_arg])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let expected = format!(
        "{spec_arg}: no testable claim found; `redline spec {spec_arg}` shows what was read"
    );
    assert!(stderr.contains(&expected), "{stderr}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.hits(), 0);
    assert!(!dir.join("out/result.json").exists());
    let out = redline(
        &dir,
        &scenario,
        &["--spec", &spec_arg, "--allow-empty-spec", "--quiet"],
    )
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(result(&dir).operations["get"].count, 50);
}

#[test]
fn host_not_allowed_is_refused_before_sending() {
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let src = common::scenario(&server, SHORT, "/x").replace(
        "allowed_hosts = [\"127.0.0.1\"]",
        "allowed_hosts = [\"localhost\"]",
    );
    let dir = temp_dir("host");
    let out = redline(&dir, &src, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in allowed_hosts"));
    assert_eq!(server.hits(), 0);
}

#[test]
fn ctrl_c_writes_a_partial_result_and_exits_130() {
    let server = common::http(Behaviour::Delay(Duration::from_millis(5)));
    let long = "model = \"open\"\nstages = [ { duration = \"60s\", rate = 100 } ]";
    let dir = temp_dir("sigint");
    let mut child = redline(&dir, &common::scenario(&server, long, "/x"), &["--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while server.hits() < 100 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on the pid of a child we spawned and have not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stopped promptly"
    );
    let r = result(&dir);
    assert!(r.interrupted);
    assert!(
        r.operations["get"].count >= 100 && r.duration_s < 30.0,
        "{} requests in {} s",
        r.operations["get"].count,
        r.duration_s
    );
    assert!(!r.notes.is_empty());
}
