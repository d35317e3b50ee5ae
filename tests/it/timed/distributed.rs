//! Distributed runs as real processes on 127.0.0.1: N `redline run --segment i/N` processes
//! started together against nginx (or a stalling test server), then `redline merge`. The merge
//! must count exactly the one-process schedule, add histograms bit for bit, keep a stall's
//! percentiles where one process sees them, refuse parts that do not belong, judge verdicts as a
//! single run does, and the shipped Kubernetes manifests must run as written.

use crate::common;
use crate::distributed_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use distributed_support::{
    buckets, decode, free_port, kube, load, merge, redline, run_segments, run_single, scenario,
    schedule_count, start_in, sum, text, Nginx, Scratch, BIN, TWO_REQUESTS,
};
use redline::result::{RunResult, VerdictStatus};
use serde_json::Value;

/// Tests here run several processes at full rate: one at a time, and not beside a capacity search,
/// so they do not load each other (the heavy-load lane).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    crate::support::lanes::heavy_load()
}

fn validate(result: &RunResult, what: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/result.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v = jsonschema::draft202012::new(&schema).unwrap();
    let instance = serde_json::to_value(result).unwrap();
    let errs: Vec<String> = v
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errs.is_empty(), "{what}: {errs:#?}");
}

/// The merged operation (and phase) histograms are the exact sums of the parts', and so are the
/// counts, statuses and each second of the timeline.
fn assert_exact_sums(parts: &[RunResult], merged: &RunResult) {
    for (name, op) in &merged.operations {
        let lat: Vec<&str> = parts
            .iter()
            .map(|p| p.operations[name].histogram.as_str())
            .collect();
        assert_eq!(
            buckets(&decode(&op.histogram)),
            buckets(&sum(&lat)),
            "{name} latency"
        );
        let svc: Vec<&str> = parts
            .iter()
            .map(|p| p.operations[name].service_histogram.as_deref().unwrap())
            .collect();
        assert_eq!(
            buckets(&decode(op.service_histogram.as_deref().unwrap())),
            buckets(&sum(&svc)),
            "{name} service time"
        );
        assert_eq!(
            op.count,
            parts.iter().map(|p| p.operations[name].count).sum::<u64>()
        );
        assert_eq!(
            decode(&op.histogram).len(),
            op.count,
            "{name}: one sample per request"
        );
        for (code, n) in &op.status {
            let parts_n: u64 = parts
                .iter()
                .filter_map(|p| p.operations[name].status.get(code))
                .sum();
            assert_eq!(*n, parts_n, "{name} status {code}");
        }
    }
    for (k, phase) in merged.phases.iter().enumerate() {
        for (name, op) in &phase.operations {
            let lat: Vec<&str> = parts
                .iter()
                .map(|p| p.phases[k].operations[name].histogram.as_str())
                .collect();
            assert_eq!(
                buckets(&decode(&op.histogram)),
                buckets(&sum(&lat)),
                "phase {}",
                phase.name
            );
        }
    }
    for b in &merged.timeline {
        let of = |p: &RunResult| {
            p.timeline
                .iter()
                .find(|x| x.t_s == b.t_s)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(
            b.sent,
            parts.iter().map(|p| of(p).sent).sum::<u64>(),
            "second {}",
            b.t_s
        );
        assert_eq!(
            b.completed,
            parts.iter().map(|p| of(p).completed).sum::<u64>()
        );
        for (name, op) in &b.ops {
            let hs: Vec<String> = parts
                .iter()
                .filter_map(|p| of(p).ops.get(name).and_then(|o| o.histogram.clone()))
                .collect();
            let refs: Vec<&str> = hs.iter().map(String::as_str).collect();
            let h = sum(&refs);
            assert_eq!(op.count, h.len(), "second {} {name}", b.t_s);
            assert_eq!(
                op.p99_ms,
                h.value_at_quantile(0.99) as f64 / 1000.0,
                "second {} {name} p99",
                b.t_s
            );
        }
    }
}

#[test]
fn segments_against_nginx_add_up_to_the_one_process_schedule() {
    let _serial = serial();
    let nginx = Nginx::start();
    let load = "arrival = \"poisson\"\nstages = [ { duration = \"3s\", rate = 600 } ]";
    let src = scenario(&nginx.base_url(), 5, load, TWO_REQUESTS);
    let dir = Scratch::new("counts");
    let file = dir.write("s.toml", &src);
    let expected = schedule_count(&src, 0, 1);
    let (_, single) = run_single(&file, &dir.path("single"), &[]);
    assert_eq!(single.totals.sent + single.totals.dropped, expected);
    for n in [2u32, 4] {
        let parts = run_segments(&file, n, &dir.path(&format!("n{n}")), &[]);
        for (i, p) in parts.iter().enumerate() {
            let seg = p.segment.as_ref().unwrap();
            assert_eq!((seg.index, seg.count), (i as u32, n));
            let share = schedule_count(&src, i as u64, u64::from(n));
            assert_eq!(
                p.totals.sent + p.totals.dropped,
                share,
                "segment {i}/{n}: its share"
            );
            validate(p, "segment result");
        }
        let out = dir.path(&format!("n{n}/merged"));
        let (o, merged) = merge(&[dir.path(&format!("n{n}"))], &out, &["--quiet"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let m = merged.unwrap();
        validate(&m, "merged result");
        let info = m.merged.as_ref().unwrap();
        assert_eq!(info.segments, (0..n).collect::<Vec<_>>());
        assert!(!info.partial && info.missing.is_empty());
        assert_eq!(
            m.totals.sent + m.totals.dropped,
            expected,
            "N = {n}: the whole schedule"
        );
        let count: u64 = m.operations.values().map(|o| o.count).sum();
        eprintln!(
            "N = {n}: schedule {expected}, merged sent {} dropped {} counted {count}; one process sent {} dropped {}",
            m.totals.sent, m.totals.dropped, single.totals.sent, single.totals.dropped
        );
        if m.totals.dropped == 0 && single.totals.dropped == 0 {
            assert_eq!(count, expected);
            for (name, op) in &m.operations {
                assert_eq!(
                    op.count, single.operations[name].count,
                    "N = {n}: {name} as one process"
                );
            }
        }
        assert_exact_sums(&parts, &m);
    }
}

#[test]
fn merged_percentiles_under_a_stalling_target_match_the_analytic_values() {
    let _serial = serial();
    let stall = common::Behaviour::Stall {
        period: Duration::from_secs(5),
        stall: Duration::from_millis(500),
    };
    let server = common::http(stall);
    let load = "stages = [ { duration = \"10s\", rate = 1000 } ]";
    let req = "[[request]]\nname = \"get\"\npath = \"/s\"\n";
    let src = scenario(&server.base_url(), 7, load, req);
    let dir = Scratch::new("stall");
    let file = dir.write("s.toml", &src);
    // Analytic: 10% of arrivals wait a uniform 0..500 ms, so the top 1% waits >= 450 ms and the
    // top 5% >= 250 ms. The merge must land in the bounds the one-process run is held to, each
    // with up to three attempts (a busy 2-core machine delays a run now and then; a systematic
    // error fails all three).
    let within =
        |p95: f64, p99: f64| (200.0..=310.0).contains(&p95) && (400.0..=530.0).contains(&p99);
    let show = |p: &redline::result::Percentiles| {
        format!(
            "p50 {:.1} p95 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} ms",
            p.p50, p.p95, p.p99, p.p999, p.max
        )
    };
    let mut seen = Vec::new();
    let merged_ok = (0..3).any(|attempt| {
        let parts_dir = dir.path(&format!("n4-{attempt}"));
        let parts = run_segments(&file, 4, &parts_dir, &[]);
        let out = dir.path(&format!("merged-{attempt}"));
        let (o, merged) = merge(&[parts_dir], &out, &["--quiet"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let m = merged.unwrap();
        assert_exact_sums(&parts, &m);
        let g = m.operations["get"].latency_ms;
        eprintln!("stall target, 4 segments merged: {}", show(&g));
        seen.push(format!("merged: {}", show(&g)));
        within(g.p95, g.p99)
    });
    let single_ok = (0..3).any(|attempt| {
        let (_, single) = run_single(&file, &dir.path(&format!("single-{attempt}")), &[]);
        let s = single.operations["get"].latency_ms;
        eprintln!("stall target, one process: {}", show(&s));
        seen.push(format!("one process: {}", show(&s)));
        within(s.p95, s.p99)
    });
    assert!(
        merged_ok && single_ok,
        "out of bounds in every attempt: {seen:#?}"
    );
}

#[test]
fn a_missing_foreign_twice_given_or_plain_part_is_refused_with_a_clear_message() {
    let _serial = serial();
    let nginx = Nginx::start();
    let load = "stages = [ { duration = \"1s\", rate = 150 } ]";
    let src = scenario(&nginx.base_url(), 5, load, TWO_REQUESTS);
    let dir = Scratch::new("refuse");
    let file = dir.write("s.toml", &src);
    run_segments(&file, 3, &dir.path("run"), &[]);
    let part = |i: u32| dir.path(&format!("run/seg-{i}/result.json"));

    let (o, merged) = merge(&[part(0), part(2)], &dir.path("partial"), &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "partial merge exits 1: {}",
        text(&o)
    );
    let m = merged.expect("a partial result is written");
    let info = m.merged.as_ref().unwrap();
    assert!(info.partial && info.missing == vec![1] && info.segments == vec![0, 2]);
    assert!(
        text(&o).contains("partial result: segments [1] of 3 missing"),
        "{}",
        text(&o)
    );
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("PARTIAL: segments 1 of 3 missing")),
        "{:?}",
        m.notes
    );

    let other = dir.write("other.toml", &src.replace("seed = 5", "seed = 6"));
    run_segments(&other, 3, &dir.path("other"), &[]);
    let foreign = dir.path("other/seg-1/result.json");
    let (o, merged) = merge(
        &[part(0), foreign.clone(), part(2)],
        &dir.path("foreign"),
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(merged.is_none(), "nothing written for a foreign part");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&foreign.display().to_string())
            && err.contains("scenario_hash")
            && err.contains("another run"),
        "{err}"
    );

    let (o, _) = merge(&[part(0), part(1), part(1)], &dir.path("twice"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("segment 1 of 3 given twice"),
        "{}",
        text(&o)
    );

    let (_, _) = run_single(&file, &dir.path("plain"), &[]);
    let (o, _) = merge(
        &[part(0), dir.path("plain/result.json")],
        &dir.path("plain-merge"),
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a segment result"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_late_segment_says_so_and_counts_what_it_missed() {
    let _serial = serial();
    let nginx = Nginx::start();
    let stages = "stages = [ { duration = \"3s\", rate = 200 } ]";
    let src = scenario(&nginx.base_url(), 5, stages, TWO_REQUESTS);
    let dir = Scratch::new("late");
    let file = dir.write("s.toml", &src);
    let past = distributed_support::rfc3339(SystemTime::now() - Duration::from_millis(1500));
    let o = Command::new(BIN)
        .arg("run")
        .arg(&file)
        .args([
            "--segment",
            "1/2",
            "--start-at",
            &past,
            "--format",
            "json",
            "--out",
        ])
        .arg(dir.path("late"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("late: started"),
        "{}",
        text(&o)
    );
    let r = load(&dir.path("late/result.json"));
    let seg = r.segment.clone().unwrap();
    let late = seg.late_ms.expect("late_ms recorded");
    assert!(late >= 1500.0, "{late}");
    // Arrivals are every 10 ms in this segment (every other one of 200/s): at least 150 missed.
    assert!(seg.missed >= 150, "{seg:?}");
    assert_eq!(r.totals.sent + r.totals.dropped, schedule_count(&src, 1, 2));
    assert!(r.totals.dropped >= seg.missed);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("arrivals due before then were not sent")),
        "{:?}",
        r.notes
    );
    validate(&r, "late segment");
}

#[test]
fn verdicts_on_the_merge_equal_verdicts_on_a_single_process_run() {
    let _serial = serial();
    let nginx = Nginx::start();
    let load = "stages = [ { duration = \"4s\", rate = 500 } ]";
    // 1 in 20 requests hits /fail (500): the error-rate (< 1%) and availability (99.9%) claims
    // fail, the latency claim passes, on one process and on the merge alike.
    let requests = "[[request]]\nname = \"get\"\noperation = \"Get item\"\npath = \"/items/{{random_int 1 1000}}\"\nweight = 19\n\
                    [[request]]\nname = \"fail\"\noperation = \"Fail\"\npath = \"/fail\"\n";
    let src = scenario(&nginx.base_url(), 9, load, requests);
    let dir = Scratch::new("verdicts");
    let file = dir.write("s.toml", &src);
    let spec = dir.write(
        "spec.md",
        "## Backend Spec: Test Service\n\n### Performance\n\nThe service targets 99.9% availability (requests answered without a 5xx).\n\n\
         The error rate stays below 1%.\n\n\
         #### Latency Targets\n\n| Operation | P50 | P95 | P99 | Timeout |\n|---|---|---|---|---|\n| Get item | < 250ms | < 500ms | < 1s | 5s |\n",
    );
    let spec_arg = spec.display().to_string();
    let (o, single) = run_single(&file, &dir.path("single"), &["--spec", &spec_arg]);
    assert_eq!(o.status.code(), Some(1), "a claim fails: {}", text(&o));
    let parts = run_segments(&file, 4, &dir.path("n4"), &["--spec", &spec_arg]);
    assert!(
        parts.iter().all(|p| p.verdicts.is_empty()),
        "segments do not judge"
    );
    assert!(parts[1]
        .notes
        .iter()
        .any(|n| n.contains("judge it on the merged result")));
    let scenario_arg = file.display().to_string();
    let (o, merged) = merge(
        &[dir.path("n4")],
        &dir.path("merged"),
        &["--spec", &spec_arg, "--scenario", &scenario_arg],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "the same claim fails on the merge: {}",
        text(&o)
    );
    let m = merged.unwrap();
    let statuses = |r: &RunResult| -> BTreeMap<String, VerdictStatus> {
        r.verdicts
            .iter()
            .map(|v| (v.id.clone(), v.status))
            .collect()
    };
    let (one, all) = (statuses(&single), statuses(&m));
    eprintln!("one process: {one:?}\nmerged: {all:?}");
    assert_eq!(one, all);
    assert!(
        one.iter()
            .any(|(id, s)| id.starts_with("latency.") && *s == VerdictStatus::Pass),
        "{one:?}"
    );
    let failed = |family: &str| {
        one.iter()
            .any(|(id, s)| id.contains(family) && *s == VerdictStatus::Fail)
    };
    assert!(failed("error") && failed("availability"), "{one:?}");
    assert_eq!(m.spec.as_deref(), Some(spec_arg.as_str()));
}

#[test]
fn only_segment_zero_drives_faults_and_in_process_proxies_are_refused_when_split() {
    let _serial = serial();
    let nginx = Nginx::start();
    let listen = free_port();
    let mut proxy = Command::new(BIN)
        .args([
            "proxy",
            "--listen",
            &format!("127.0.0.1:{listen}"),
            "--upstream",
            &nginx.addr.to_string(),
        ])
        .args(["--control", "127.0.0.1:0", "--name", "users", "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = distributed_support::lines(&mut proxy);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut control = None;
    while control.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            control = line
                .split_once("control API on http://")
                .map(|(_, rest)| rest.split_whitespace().next().unwrap().to_string());
        }
    }
    let control = control.expect("redline proxy printed its control address");
    // The target is the proxy itself: every segment's requests pass the fault segment 0 installs.
    let load = "stages = [ { duration = \"3s\", rate = 200 } ]";
    let req = "[[request]]\nname = \"get\"\npath = \"/items/1\"\nexpect_status = [200]\n\
               [[dependency]]\nname = \"Users\"\ncontrol = \"http://CONTROL\"\nproxy = \"users\"\n\
               [[fault]]\ndependency = \"Users\"\nat = \"1s\"\nduration = \"1s\"\nkind = \"abort\"\nstatus = 503\n"
        .replace("CONTROL", &control);
    let src = scenario(&format!("http://127.0.0.1:{listen}"), 3, load, &req);
    let dir = Scratch::new("faults");
    let file = dir.write("s.toml", &src);
    let parts = run_segments(&file, 2, &dir.path("n2"), &[]);
    let _ = proxy.kill();
    let _ = proxy.wait();
    assert_eq!(
        parts[0].faults.len(),
        1,
        "segment 0 applied the timeline: {:?}",
        parts[0].faults
    );
    assert!(
        parts[0].dependencies.contains_key("Users"),
        "segment 0 read the proxy's log"
    );
    assert!(
        parts[1].faults.is_empty() && parts[1].dependencies.is_empty(),
        "segment 1 left the proxy alone"
    );
    let aborted = |r: &RunResult| r.operations["get"].status.get("503").copied().unwrap_or(0);
    // Each segment sends 100/s: about 100 of its arrivals fall in the fault second.
    assert!(
        aborted(&parts[0]) >= 50 && aborted(&parts[1]) >= 50,
        "{} {}",
        aborted(&parts[0]),
        aborted(&parts[1])
    );
    let (o, merged) = merge(&[dir.path("n2")], &dir.path("merged"), &["--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let m = merged.unwrap();
    assert_eq!(m.faults, parts[0].faults);
    assert_eq!(m.dependencies, parts[0].dependencies);
    assert_eq!(aborted(&m), aborted(&parts[0]) + aborted(&parts[1]));

    let local = src.replace(
        &format!("control = \"http://{control}\"\nproxy = \"users\""),
        "listen = \"127.0.0.1:1\"\nupstream = \"127.0.0.1:2\"",
    );
    let local_file = dir.write("local.toml", &local);
    let o = redline(&[
        "run",
        &local_file.display().to_string(),
        "--segment",
        "0/2",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("in-process fault proxies cannot be split over 2 processes")
            && err.contains("local.toml:"),
        "{err}"
    );
}

#[test]
fn the_kubernetes_manifests_run_as_local_processes() {
    let _serial = serial();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    let read = |name: &str| std::fs::read_to_string(root.join(name)).unwrap();
    let (job, merge_job, kustomization) = (
        read("segments-job.yaml"),
        read("merge-job.yaml"),
        read("kustomization.yaml"),
    );
    assert_eq!(
        kube::field(&job, "completionMode").as_deref(),
        Some("Indexed")
    );
    let n: u32 = kube::field(&job, "completions").unwrap().parse().unwrap();
    assert_eq!(
        kube::field(&job, "parallelism"),
        Some(n.to_string()),
        "completions = parallelism"
    );
    for file in ["scenario.toml", "spec.md"] {
        assert!(
            kustomization.contains(&format!("- {file}")),
            "the ConfigMap holds {file}"
        );
    }
    assert!(job.contains("name: redline-config") && merge_job.contains("name: redline-config"));
    assert!(
        job.contains("claimName: redline-results")
            && merge_job.contains("claimName: redline-results")
    );

    // What Kubernetes would run, here: the README's sed for the placeholders, the ConfigMap
    // mounted at /config (the shipped scenario aimed at nginx on loopback and shortened from
    // 5 minutes to 3 s), the results volume at /results, $(VAR) expanded from the env.
    let nginx = Nginx::start();
    let dir = Scratch::new("kube");
    let scenario = read("scenario.toml")
        .replace(
            "http://checkout.shop.svc.cluster.local:8080",
            &nginx.base_url(),
        )
        .replace("\"checkout.shop.svc.cluster.local\"", "\"127.0.0.1\"")
        .replace("warmup = \"30s\"", "warmup = \"0s\"")
        .replace(
            "{ duration = \"30s\", rate = 20000, ramp = true },",
            "{ duration = \"1s\", rate = 200, ramp = true },",
        )
        .replace(
            "{ duration = \"270s\", rate = 20000 },",
            "{ duration = \"2s\", rate = 400 },",
        );
    assert!(
        scenario.contains(&nginx.base_url()) && scenario.contains("rate = 400"),
        "the shipped scenario changed: update this test"
    );
    dir.write("config/scenario.toml", &scenario);
    dir.write("config/spec.md", &read("spec.md"));
    std::fs::create_dir_all(dir.path("results")).unwrap();
    let (config, results) = (dir.path("config"), dir.path("results"));
    let localize = |arg: String| {
        arg.replace("/config/", &format!("{}/", config.display()))
            .replace("/results/", &format!("{}/", results.display()))
    };
    let start_at = start_in(Duration::from_millis(2500));
    let fill = |yaml: &str| {
        yaml.replace("__START_AT__", &start_at)
            .replace("__RUN_ID__", "run-1")
    };
    let (job, merge_job) = (fill(&job), fill(&merge_job));

    let mut pods = Vec::new();
    for i in 0..n {
        let mut vars = kube::env(&job);
        vars.insert("JOB_COMPLETION_INDEX".into(), i.to_string());
        let args: Vec<String> = kube::args(&job)
            .iter()
            .map(|a| localize(kube::expand(a, &vars)))
            .collect();
        assert!(
            args.iter().all(|a| !a.contains("$(")),
            "every $(VAR) is defined: {args:?}"
        );
        pods.push(
            Command::new(BIN)
                .args(&args)
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    // The merge Job is applied at the same time and waits for the parts.
    let vars = kube::env(&merge_job);
    let merge_args: Vec<String> = kube::args(&merge_job)
        .iter()
        .map(|a| localize(kube::expand(a, &vars)))
        .collect();
    let merging = Command::new(BIN)
        .args(&merge_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for (i, pod) in pods.into_iter().enumerate() {
        let o = pod.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "pod {i}: {}", text(&o));
    }
    let o = merging.wait_with_output().unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "merge job: {}",
        text(&o)
    );
    let m = load(&results.join("run-1/merged/result.json"));
    let info = m.merged.as_ref().unwrap();
    assert_eq!(
        info.segments,
        (0..n).collect::<Vec<_>>(),
        "every pod's part merged"
    );
    assert!(!info.partial);
    assert!(!m.verdicts.is_empty(), "the spec was judged on the merge");
    let expected = schedule_count(&scenario, 0, 1);
    assert_eq!(m.totals.sent + m.totals.dropped, expected);
    for f in ["report.md", "junit.xml", "report.html", "timeline.csv"] {
        assert!(results.join("run-1/merged").join(f).exists(), "{f} written");
    }
}
