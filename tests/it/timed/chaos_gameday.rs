//! Game day: `redline run --hold` keeps load, proxy and control API up after the timeline; a
//! fault added and removed by hand over the control API (HTTP, and `redline fault`) lands in
//! result.faults with its actor,
//! and Ctrl-C then ends the hold as a normal (not interrupted) run.

use crate::chaos_common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chaos_common::{free_port, http, interrupt, redline_run, result, temp_dir, wait, Rig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_added_live_over_the_api_is_recorded_with_its_actor() {
    let rig = Rig::start().await;
    let dir = temp_dir("gameday");
    let control: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let scenario = rig.scenario("{ duration = \"2s\", rate = 30 }", "");
    let child = redline_run(
        &dir,
        &scenario,
        &[
            "--hold",
            "--hold-max",
            "40s",
            "--control",
            &control.to_string(),
        ],
    )
    .spawn()
    .unwrap();
    let started = Instant::now();

    // Wait for the control API, then until the 2 s timeline is over.
    let mut up = false;
    while started.elapsed() < Duration::from_secs(15) {
        if http(control, "GET", "/redline/proxies", &[], "")
            .await
            .is_some_and(|(s, _)| s == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "control API never answered");
    tokio::time::sleep(Duration::from_millis(2600)).await;

    let fault = r#"{"name": "by-hand", "kind": {"type": "abort", "status": 503}}"#;
    let actor = [
        ("x-redline-actor", "gameday-test"),
        ("content-type", "application/json"),
    ];
    let added = http(
        control,
        "POST",
        "/redline/proxies/UserService/faults",
        &actor,
        fault,
    )
    .await;
    assert_eq!(added.as_ref().map(|(s, _)| *s), Some(201), "{added:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let removed = http(
        control,
        "DELETE",
        "/redline/proxies/UserService/faults/by-hand",
        &actor,
        "",
    )
    .await;
    assert_eq!(removed.map(|(s, _)| s), Some(204));
    // The same by the command line a person uses on a game day.
    let control_url = format!("http://{control}");
    let fault_cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_redline"))
            .args([
                "fault",
                "--control",
                &control_url,
                "--proxy",
                "UserService",
                "--actor",
                "ops",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    fault_cli(&["add", "latency:delay=40ms,name=slow"]);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    fault_cli(&["rm", "slow"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    interrupt(&child);
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(
        code,
        Some(0),
        "a hold ended by Ctrl-C after the timeline is a normal end\n{stdout}\n{stderr}"
    );
    assert!(stderr.contains("holding"), "{stderr}");

    let r = result(&dir);
    assert!(!r.interrupted, "{:?}", r.notes);
    assert!(r.duration_s > 4.0, "held only {} s", r.duration_s);
    assert!(r.notes.iter().any(|n| n.contains("held")), "{:?}", r.notes);
    assert!(
        r.phases.iter().any(|p| p.name == "hold"),
        "{:?}",
        r.phases.iter().map(|p| &p.name).collect::<Vec<_>>()
    );
    let f = r
        .faults
        .iter()
        .find(|f| f.source == "api gameday-test")
        .unwrap_or_else(|| panic!("{:?}", r.faults));
    assert_eq!(
        (f.dependency.as_str(), f.kind.as_str()),
        ("UserService", "abort")
    );
    assert_eq!(f.params["name"], "by-hand");
    assert!(f.applied_at_s > 2.0, "{f:?}");
    let held = f.removed_at_s.expect("removal recorded") - f.applied_at_s;
    assert!((1.0..3.0).contains(&held), "{f:?}");
    let slow = r
        .faults
        .iter()
        .find(|f| f.source == "api ops")
        .unwrap_or_else(|| panic!("{:?}", r.faults));
    assert_eq!(
        (slow.kind.as_str(), slow.params["delay_ms"].as_f64()),
        ("latency", Some(40.0))
    );
    assert!(
        slow.applied_at_s > f.removed_at_s.unwrap() && slow.removed_at_s.is_some(),
        "{slow:?}"
    );
    let dep = &r.dependencies["UserService"];
    assert!(
        dep.faults_injected.get("abort").copied().unwrap_or(0) > 0,
        "{:?}",
        dep.faults_injected
    );
    // Load went on through the hold.
    let late = r
        .timeline
        .iter()
        .filter(|b| b.t_s >= 3)
        .map(|b| b.sent)
        .sum::<u64>();
    assert!(late > 30, "only {late} requests after the timeline");
}
