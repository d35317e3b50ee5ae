//! `redline demo` as a user runs it: the real binary, a shortened copy of the embedded demo scenario,
//! and the result.json it writes, read back into `RunResult`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redline::result::{RunResult, VerdictStatus};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-demo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The embedded demo scenario on a 19 s schedule, without its last (partial) fault: 1 s warmup,
/// baseline to 4 s, UserService failing (abort 503) 4-5 s, hanging 5-10 s, recovery to 19 s (the
/// breaker closes near 14.4 s).
fn short_scenario(dir: &Path) -> PathBuf {
    let full = redline::demo::run::SCENARIO;
    let partial = full.find("at = \"35s\"").expect("the partial fault");
    let cut = full[..partial].rfind("[[fault]]").unwrap();
    let mut text = full[..cut].to_string();
    for (from, to) in [
        (
            "duration = \"48s\", rate = 250",
            "duration = \"19s\", rate = 100",
        ),
        ("warmup = \"2s\"", "warmup = \"1s\""),
        (
            "at = \"17s\"\nduration = \"3s\"",
            "at = \"4s\"\nduration = \"1s\"",
        ),
        (
            "at = \"20s\"\nduration = \"9s\"",
            "at = \"5s\"\nduration = \"5s\"",
        ),
    ] {
        assert!(
            text.contains(from),
            "the demo scenario no longer has {from:?}"
        );
        text = text.replace(from, to);
    }
    let path = dir.join("demo-short.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn demo(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("demo")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redline demo")
}

/// Waits for the child (bounded), killing it if it does not exit.
fn wait(mut child: Child, limit: Duration) -> (Option<i32>, String, String) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "redline demo did not exit within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn read_result(dir: &Path) -> RunResult {
    let text = std::fs::read_to_string(dir.join("result.json")).expect("result.json");
    serde_json::from_str(&text).expect("result.json is a RunResult")
}

#[test]
fn the_demo_shows_the_breaker_timeout_and_fallback_of_the_reference_service() {
    let dir = temp_dir("short");
    let scenario = short_scenario(&dir);
    let out = dir.join("out");
    let child = demo(&[
        "--quiet",
        "--scenario",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let (code, stdout, stderr) = wait(child, Duration::from_secs(120));
    let r = read_result(&out);
    let ctx = format!("exit {code:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");

    assert!(!r.interrupted, "{ctx}");
    assert_eq!(
        r.spec.as_deref(),
        Some("scenarios/specs/reference-service.md")
    );
    let kinds: Vec<&str> = r.faults.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["abort", "hang"], "{ctx}");
    for (f, at) in r.faults.iter().zip([4.0, 5.0]) {
        assert!((f.applied_at_s - at).abs() < 0.5, "{f:?}");
        assert!(f.removed_at_s.is_some(), "every fault removed: {f:?}");
    }

    let dep = &r.dependencies["UserService"];
    assert!(
        !dep.log.is_empty(),
        "the raw dependency log is in the result"
    );
    assert!(dep.outcomes.get("aborted").copied().unwrap_or(0) >= 5);
    assert!(dep.outcomes.get("caller_gave_up").copied().unwrap_or(0) >= 1);
    let gave_up = dep.gave_up_ms.expect("give-up times under the hang");
    assert!(
        (250.0..700.0).contains(&gave_up.p50),
        "given up at the 300 ms call timeout: {gave_up:?}"
    );

    let first = r.breaker_episodes.first().expect("a breaker episode");
    assert_eq!(first.dependency, "UserService");
    // The count is exactly 5, unless a call got through in the instant the 4th failure was
    // answered (before the service can have read it): then the verdict reports the range 4-5,
    // the episode its lower end, and the threshold verdict is inconclusive (checked below).
    let threshold = r
        .verdicts
        .iter()
        .find(|v| v.id == "breaker.userservice.failure_threshold")
        .unwrap_or_else(|| panic!("no threshold verdict; {ctx}"));
    let raced = threshold.status == VerdictStatus::Inconclusive
        && (threshold
            .detail
            .contains("either may have opened the breaker")
            || threshold.detail.contains("may have read that success last"));
    let counts: &[u64] = if raced { &[4, 5] } else { &[5] };
    assert!(
        counts.contains(&first.failures_before_open),
        "{threshold:?} {:?}",
        r.breaker_episodes
    );
    let open = first.open_for_s.expect("traffic resumed");
    assert!((4.9..6.5).contains(&open), "{:?}", r.breaker_episodes);
    assert_eq!(first.probes, 2, "{:?}", r.breaker_episodes);
    assert_eq!(r.breaker_episodes.last().unwrap().outcome, "closed");

    for id in [
        "breaker.userservice.opens",
        "breaker.userservice.failure_threshold",
        "breaker.userservice.recovery_timeout",
        "breaker.userservice.half_open_requests",
        "timeout.userservice",
        "fallback.userservice.status",
        "fallback.userservice.fail_fast",
    ] {
        let v = r
            .verdicts
            .iter()
            .find(|v| v.id == id)
            .unwrap_or_else(|| panic!("no verdict {id}; {ctx}"));
        if !(raced && id == "breaker.userservice.failure_threshold") {
            assert_eq!(v.status, VerdictStatus::Pass, "{v:?}");
        }
        assert!(v
            .source
            .starts_with("scenarios/specs/reference-service.md:"));
    }
    // /ready is sampled beside /health (the scenario names it) and judged from those samples:
    // the reference service stays ready through the UserService outage.
    let ready = r.ready.as_ref().expect("readiness samples");
    assert_eq!(ready.path, "/ready");
    assert!(ready.samples.len() >= 30, "{:?}", ready.samples);
    let v = r
        .verdicts
        .iter()
        .find(|v| v.id == "ready")
        .unwrap_or_else(|| panic!("no ready verdict; {ctx}"));
    assert_eq!(v.status, VerdictStatus::Pass, "{v:?}");
    assert!(v.detail.contains("During the fault phases"), "{}", v.detail);
    let failed = r.verdicts.iter().any(|v| v.status == VerdictStatus::Fail);
    assert_eq!(code, Some(if failed { 1 } else { 0 }), "{ctx}");

    assert!(
        stdout.contains("breaker on UserService: opened at"),
        "{ctx}"
    );
    assert!(stdout.contains("result: "), "{ctx}");
    for f in [
        "report.txt",
        "report.md",
        "junit.xml",
        "timeline.csv",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_scenario_that_does_not_fit_the_demo_exits_2_before_anything_runs() {
    let dir = temp_dir("bad");
    let text = redline::demo::run::SCENARIO
        .split("[[dependency]]")
        .next()
        .unwrap();
    let file = dir.join("no-dependency.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let started = Instant::now();
    let child = demo(&[
        "--scenario",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let (code, _, stderr) = wait(child, Duration::from_secs(30));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no-dependency.toml") && stderr.contains("UserService"),
        "{stderr}"
    );
    assert!(!out.join("result.json").exists(), "nothing ran");
    assert!(started.elapsed() < Duration::from_secs(10));

    let child = demo(&["--format", "pdf", "--out", out.to_str().unwrap()]);
    let (code, _, stderr) = wait(child, Duration::from_secs(30));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("pdf"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_or_sigterm_stops_the_demo_writes_a_partial_result_and_exits_130_or_143() {
    for (signal, code_wanted, name) in [
        (libc::SIGINT, 130, "SIGINT"),
        (libc::SIGTERM, 143, "SIGTERM"),
    ] {
        let dir = temp_dir(&format!("interrupt-{name}"));
        let out = dir.join("out");
        let child = demo(&["--quiet", "--out", out.to_str().unwrap()]);
        std::thread::sleep(Duration::from_secs(4));
        // SAFETY: kill(2) with the pid of a child we spawned and a standard signal number.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let (code, stdout, stderr) = wait(child, Duration::from_secs(30));
        assert_eq!(
            code,
            Some(code_wanted),
            "stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        let r = read_result(&out);
        assert!(r.interrupted);
        assert_eq!(r.interrupted_by.as_deref(), Some(name));
        assert!(r.duration_s < 20.0, "stopped early: {} s", r.duration_s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
