//! `redline run` chaos runs as a real process against the reference service, its UserService
//! behind the run's fault proxy: faults land on the scheduled second (dependency log and client
//! timeline agree), phases separate baseline from the fault window, bad fault parameters stop
//! everything with file:line, and Ctrl-C leaves no fault behind.

use crate::chaos_common;

use std::net::SocketAddr;
use std::time::Duration;

use chaos_common::{free_port, http, interrupt, redline_run, result, temp_dir, wait, Rig};
use redline::result::PhaseKind;

const ABORT_AT_2S: &str = "[[fault]]\ndependency = \"UserService\"\nat = \"2s\"\nduration = \"2s\"\nkind = \"abort\"\nstatus = 503\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_land_on_the_scheduled_second_and_phases_split() {
    let rig = Rig::start().await;
    let dir = temp_dir("timeline");
    let scenario = rig.scenario("{ duration = \"6s\", rate = 40 }", ABORT_AT_2S);
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let r = result(&dir);

    // The fault as applied: from the schedule, within the bucket of its second.
    assert_eq!(r.faults.len(), 1, "{:?}", r.faults);
    let f = &r.faults[0];
    assert_eq!(
        (f.dependency.as_str(), f.kind.as_str(), f.source.as_str()),
        ("UserService", "abort", "schedule")
    );
    assert!(
        (2.0..3.0).contains(&f.applied_at_s),
        "applied at {}",
        f.applied_at_s
    );
    let removed = f.removed_at_s.expect("removed at its end");
    assert!((4.0..5.0).contains(&removed), "removed at {removed}");
    assert_eq!(f.params["status"], 503);

    // The dependency side: faulted calls only inside the window, first one in second 2.
    let dep = &r.dependencies["UserService"];
    assert!(dep.requests > 0 && !dep.per_second.is_empty());
    assert!(
        dep.faults_injected.get("abort").copied().unwrap_or(0) >= 1,
        "{:?}",
        dep.faults_injected
    );
    let faulted: Vec<f64> = dep
        .log
        .iter()
        .filter(|e| e.fault.is_some())
        .map(|e| e.t_ms)
        .collect();
    assert!(!faulted.is_empty(), "no faulted call in the kept log");
    let first = faulted.iter().cloned().fold(f64::INFINITY, f64::min);
    let last = faulted.iter().cloned().fold(0.0, f64::max);
    assert!(
        (2000.0..3000.0).contains(&first),
        "first faulted call at {first} ms"
    );
    assert!(
        last < removed * 1000.0 + 50.0,
        "faulted call at {last} ms after removal"
    );
    assert!(
        dep.log.iter().any(|e| e.t_ms < 2000.0 && e.fault.is_none()),
        "lead-in before the fault kept"
    );

    // The client side: no error before second 2, errors in second 2.
    let errors = |t: u32| {
        r.timeline
            .iter()
            .find(|b| b.t_s == t)
            .map_or(0, |b| b.errors)
    };
    assert_eq!((errors(0), errors(1)), (0, 0), "errors before the fault");
    assert!(
        errors(2) > 0,
        "no client error in the fault's second: {:?}",
        r.timeline.iter().map(|b| b.errors).collect::<Vec<_>>()
    );

    // Phases: a clean baseline, a failing fault window.
    let phase = |k: PhaseKind| {
        r.phases
            .iter()
            .find(|p| p.kind == k)
            .unwrap_or_else(|| panic!("no {k:?} phase in {:?}", r.phases))
    };
    let base = &phase(PhaseKind::Baseline).operations["get-item"];
    let fault = &phase(PhaseKind::Fault).operations["get-item"];
    assert!(
        base.count >= 70 && base.errors == 0,
        "baseline {} / {}",
        base.count,
        base.errors
    );
    assert!(
        fault.count >= 70 && fault.errors > 0,
        "fault {} / {}",
        fault.count,
        fault.errors
    );
    assert_eq!(phase(PhaseKind::Fault).from_s, 2.0);

    // Health: healthy before, degraded inside the window.
    assert!(r.health.len() >= 8, "{} health samples", r.health.len());
    assert!(
        r.health
            .iter()
            .filter(|h| h.t_s < 1.9)
            .all(|h| h.state.as_deref() == Some("healthy")),
        "{:?}",
        r.health
    );
    assert!(
        r.health
            .iter()
            .any(|h| (2.5..4.0).contains(&h.t_s) && h.state.as_deref() == Some("degraded")),
        "{:?}",
        r.health
    );

    // Every report was written, and the terminal report printed.
    for f in [
        "report.txt",
        "report.md",
        "junit.xml",
        "timeline.csv",
        "report.html",
    ] {
        assert!(dir.join("out").join(f).exists(), "{f} missing");
    }
    assert!(
        stdout.contains("UserService") && stdout.contains("result:"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_fault_params_exit_2_naming_file_and_line_and_start_nothing() {
    let rig = Rig::start().await;
    let dir = temp_dir("badfault");
    let faults = "[[fault]]\ndependency = \"UserService\"\nat = \"1s\"\nduration = \"1s\"\nkind = \"abort\"\nstatus = 999\n\
                  [[fault]]\ndependency = \"UserService\"\nat = \"2s\"\nduration = \"1s\"\nkind = \"latency\"\ndelay = \"soon\"\n";
    let scenario = rig.scenario("{ duration = \"3s\", rate = 10 }", faults);
    let status_line = scenario.lines().position(|l| l == "status = 999").unwrap() + 1;
    let delay_line = scenario
        .lines()
        .position(|l| l == "delay = \"soon\"")
        .unwrap()
        + 1;
    let out = redline_run(&dir, &scenario, &["--quiet"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("scenario.toml:{status_line}:"))
            && stderr.contains("fault[0].status")
            && stderr.contains("999"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("scenario.toml:{delay_line}:"))
            && stderr.contains("fault[1].delay")
            && stderr.contains("soon"),
        "{stderr}"
    );
    assert!(!dir.join("out/result.json").exists());
    assert_eq!(rig.stub.calls(), 0, "the dependency was called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_outside_allowed_hosts_is_refused() {
    let rig = Rig::start().await;
    let dir = temp_dir("hosts");
    let scenario = rig
        .scenario("{ duration = \"1s\", rate = 5 }", "")
        .replace(&rig.stub.addr().to_string(), "localhost:9");
    let out = redline_run(&dir, &scenario, &["--quiet"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("dependency.upstream") && stderr.contains("\"localhost\""),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_load_removes_the_fault_and_writes_a_partial_result() {
    let rig = Rig::start().await;
    let dir = temp_dir("sigint");
    let fault = "[[fault]]\ndependency = \"UserService\"\nat = \"1s\"\nduration = \"15s\"\nkind = \"abort\"\nstatus = 503\n";
    let scenario = rig.scenario("{ duration = \"20s\", rate = 20 }", fault);
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    // Interrupt once the fault is in force (a busy machine may start the process slowly).
    let proxy: SocketAddr = format!("127.0.0.1:{}", rig.proxy_port).parse().unwrap();
    assert!(
        eventually(|| async {
            http(proxy, "GET", "/users/k1", &[], "")
                .await
                .is_some_and(|(s, _)| s == 503)
        })
        .await,
        "the abort fault never showed at the proxy"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    interrupt(&child);
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    let r = result(&dir);
    assert!(r.interrupted);
    assert!(r.duration_s < 10.0, "ran {} s", r.duration_s);
    assert_eq!(r.faults.len(), 1);
    let removed = r.faults[0].removed_at_s.expect("the fault was removed");
    assert!(
        removed < 10.0 && removed > r.faults[0].applied_at_s,
        "{:?}",
        r.faults[0]
    );
    // The proxy is gone, and the dependency itself answers normally.
    assert!(
        tokio::net::TcpStream::connect(proxy).await.is_err(),
        "proxy still listening"
    );
    let direct = http(rig.stub.addr(), "GET", "/users/k1", &[], "").await;
    assert_eq!(direct.map(|(s, _)| s), Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_proxy_gets_the_timeline_and_is_left_clean_after_ctrl_c() {
    use redline_proxy::control::ControlServer;
    use redline_proxy::registry::{ProxyHandle, Registry};
    use std::sync::Arc;

    let rig = Rig::start().await;
    let registry = Arc::new(Registry::new(1, std::time::Instant::now()));
    {
        let _ops = registry.lock_ops().await;
        registry
            .add_http(
                "users",
                &format!("127.0.0.1:{}", rig.proxy_port),
                &rig.stub.addr().to_string(),
                |_| {},
            )
            .await
            .unwrap();
    }
    let control = ControlServer::start(&format!("127.0.0.1:{}", free_port()), registry.clone())
        .await
        .unwrap();
    let dir = temp_dir("attach");
    let fault = "[[fault]]\ndependency = \"UserService\"\nat = \"1s\"\nduration = \"15s\"\nkind = \"abort\"\nstatus = 503\n";
    let attach = format!(
        "control = \"http://{}\"\nproxy = \"users\"\n",
        control.local_addr()
    );
    let scenario = rig
        .scenario("{ duration = \"20s\", rate = 20 }", fault)
        .replace(
            &format!(
                "listen = \"127.0.0.1:{}\"\nupstream = \"{}\"\n",
                rig.proxy_port,
                rig.stub.addr()
            ),
            &attach,
        );
    // A fault left from before the run: the run starts from clean passthrough and does not
    // count it as one of its own.
    let leftover = r#"{"name": "leftover", "kind": {"type": "reset"}}"#;
    let before = http(
        control.local_addr(),
        "POST",
        "/redline/proxies/users/faults",
        &[("x-redline-actor", "earlier")],
        leftover,
    )
    .await;
    assert_eq!(before.map(|(s, _)| s), Some(201));
    let through_proxy: SocketAddr = format!("127.0.0.1:{}", rig.proxy_port).parse().unwrap();
    for _ in 0..3 {
        assert!(
            http(through_proxy, "GET", "/users/early", &[], "")
                .await
                .is_none(),
            "reset before the run"
        );
    }
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    let Some(handle) = registry.get("users") else {
        panic!("proxy gone")
    };
    let ProxyHandle::Http(proxy) = &*handle else {
        panic!("not http")
    };
    let scheduled = || async { proxy.faults().iter().any(|f| f.name == "abort@1s") };
    assert!(
        eventually(scheduled).await,
        "the scheduled fault never reached the attached proxy"
    );
    assert_eq!(
        proxy
            .faults()
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["abort@1s"],
        "the scheduled fault is on the attached proxy"
    );
    // Interrupt only once a call has met the scheduled fault: the fault being installed is not
    // yet a faulted call in the log (interrupting at once raced the next request). The calls
    // reset by the leftover fault before the run do not count.
    let faulted = || async {
        proxy
            .log_since(0)
            .iter()
            .any(|e| e.fault.as_deref() == Some("abort@1s"))
    };
    assert!(
        eventually(faulted).await,
        "no call was faulted on the attached proxy"
    );
    interrupt(&child);
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    assert!(
        proxy.faults().is_empty(),
        "fault left behind: {:?}",
        proxy.faults()
    );
    let through = http(
        format!("127.0.0.1:{}", rig.proxy_port).parse().unwrap(),
        "GET",
        "/users/k1",
        &[],
        "",
    )
    .await;
    assert_eq!(
        through.map(|(s, _)| s),
        Some(200),
        "the proxy passes through cleanly"
    );
    let r = result(&dir);
    assert_eq!(r.faults.len(), 1, "{:?}", r.faults);
    assert_eq!(r.faults[0].source, "schedule");
    assert!(
        (1.0..2.0).contains(&r.faults[0].applied_at_s),
        "{:?}",
        r.faults[0]
    );
    let dep = &r.dependencies["UserService"];
    // What the proxy did before the run is not this run's.
    assert!(
        !dep.faults_injected.contains_key("reset"),
        "{:?}",
        dep.faults_injected
    );
    assert!(
        dep.log.iter().all(|e| e.path != "/users/early"),
        "pre-run calls in the log"
    );
    let first = dep
        .log
        .iter()
        .filter(|e| e.fault.is_some())
        .map(|e| e.t_ms)
        .fold(f64::INFINITY, f64::min);
    assert!(
        (1000.0..2000.0).contains(&first),
        "remote log on the run's clock: first faulted call at {first} ms"
    );
    control.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_dependency_gets_a_latency_toxic_on_the_timeline() {
    let rig = Rig::start().await;
    let dir = temp_dir("tcp");
    let fault = "[[fault]]\ndependency = \"UserService\"\nat = \"2s\"\nduration = \"2s\"\nkind = \"latency\"\ndelay = \"200ms\"\n";
    let scenario = rig
        .scenario("{ duration = \"5s\", rate = 20 }", fault)
        .replace("[[dependency]]\n", "[[dependency]]\nprotocol = \"tcp\"\n");
    let child = redline_run(&dir, &scenario, &["--quiet", "--format", "json"])
        .spawn()
        .unwrap();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let r = result(&dir);
    assert_eq!(r.faults.len(), 1, "{:?}", r.faults);
    let f = &r.faults[0];
    assert_eq!(
        (
            f.kind.as_str(),
            f.params["type"].as_str(),
            f.params["latency"].as_u64()
        ),
        ("latency", Some("latency"), Some(200))
    );
    assert!(
        (2.0..3.0).contains(&f.applied_at_s) && f.removed_at_s.is_some(),
        "{f:?}"
    );
    let dep = &r.dependencies["UserService"];
    assert_eq!(dep.protocol, "tcp");
    assert!(dep.requests >= 1, "no connection counted");
    // Every call to UserService inside the window waits at least the toxic's 200 ms.
    let phase = |name: &str| {
        &r.phases
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no phase {name}"))
            .operations["get-item"]
    };
    let slow = phase("fault:UserService:latency");
    assert!(
        slow.count >= 30 && slow.latency_ms.p50 >= 200.0,
        "fault window p50 {} ms over {}",
        slow.latency_ms.p50,
        slow.count
    );
    assert!(
        phase("baseline").latency_ms.p50 < 150.0,
        "baseline p50 {}",
        phase("baseline").latency_ms.p50
    );
    assert!(
        !dir.join("out/report.html").exists(),
        "--format json writes no other report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenarios_spec_is_judged_and_a_baseline_compared() {
    let rig = Rig::start().await;
    let dir = temp_dir("spec");
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/specs/reference-service.md"
    );
    std::fs::copy(spec, dir.join("svc.md")).unwrap();
    let scenario = format!(
        "spec = \"svc.md\"\n{}",
        rig.scenario("{ duration = \"3s\", rate = 20 }", "")
    );
    let out = redline_run(&dir, &scenario, &["--quiet"]).output().unwrap();
    let r = result(&dir);
    let failed = r
        .verdicts
        .iter()
        .any(|v| v.status == redline::result::VerdictStatus::Fail);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(if failed { 1 } else { 0 }),
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        r.spec.as_deref(),
        Some(dir.join("svc.md").display().to_string().as_str())
    );
    assert!(!r.verdicts.is_empty());
    assert!(
        r.verdicts.iter().any(|v| v
            .source
            .starts_with(&format!("{}:", dir.join("svc.md").display()))),
        "{:?}",
        r.verdicts
    );
    let junit = std::fs::read_to_string(dir.join("out/junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), r.verdicts.len());
    assert!(stdout.contains("Verdicts"), "{stdout}");

    // Again, against the first run as a baseline: the reports carry the comparison.
    std::fs::rename(dir.join("out"), dir.join("first")).unwrap();
    let first = dir.join("first/result.json").display().to_string();
    let out = redline_run(&dir, &scenario, &["--quiet", "--baseline", &first])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(dir.join("out/report.md")).unwrap();
    assert!(md.contains("Against baseline `chaos-test`"), "{md}");

    // A spec that cannot be read stops everything before it starts.
    let out = redline_run(
        &dir,
        &scenario,
        &["--quiet", "--spec", "/nonexistent/spec.md"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read spec /nonexistent/spec.md"));
}

/// Polls `check` every 100 ms for up to 20 s.
async fn eventually<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
