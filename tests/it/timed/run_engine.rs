//! Engine integration tests against real servers on 127.0.0.1:0: counts, latency, coordinated
//! omission (open vs closed under a stalling target), determinism, TLS.

use crate::common;

use std::time::Duration;

use common::{Behaviour, Server};
use redline::engine::{run_scenario, RunOptions};
use redline::result::RunResult;
use redline::scenario;

/// Tests in this file measure time: run them one at a time so they do not load each other.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Timing checks on a shared 2-core machine: a check passes if one of three runs is within
/// bounds (a systematic error fails all three); every attempt is reported on failure.
fn within_three_attempts(mut check: impl FnMut() -> Result<(), String>) {
    let mut seen = Vec::new();
    for _ in 0..3 {
        match check() {
            Ok(()) => return,
            Err(e) => seen.push(e),
        }
    }
    panic!("all three attempts failed: {seen:?}");
}

fn run(src: &str) -> RunResult {
    let plan = scenario::parse(src, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run_scenario(&plan, RunOptions::default()))
        .unwrap()
}

fn open(rate: u32, secs: u32) -> String {
    format!("model = \"open\"\nstages = [ {{ duration = \"{secs}s\", rate = {rate} }} ]")
}

#[test]
fn request_count_is_rate_times_duration() {
    let _serial = serial();
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let r = run(&common::scenario(&server, &open(500, 4), "/c"));
    let op = &r.operations["get"];
    assert_eq!(r.totals.sent, 2000);
    assert_eq!(op.count, 2000);
    assert_eq!(op.errors, 0, "{:?}", op.error_kinds);
    assert_eq!(op.status.get("200"), Some(&2000));
    let hits = server.hits() as f64;
    assert!((hits - 2000.0).abs() <= 20.0, "server saw {hits}");
    let timeline_sent: u64 = r.timeline.iter().map(|b| b.sent).sum();
    assert_eq!(timeline_sent, 2000);
    assert!(
        r.timeline.len() >= 4 && r.timeline.len() <= 6,
        "{}",
        r.timeline.len()
    );
    assert!(!r.interrupted);
}

#[test]
fn fixed_delay_shows_in_the_median() {
    let _serial = serial();
    let server = common::http(Behaviour::Delay(Duration::from_millis(20)));
    within_three_attempts(|| {
        let r = run(&common::scenario(&server, &open(100, 3), "/d"));
        let (l, s) = (
            r.operations["get"].latency_ms,
            r.operations["get"].service_time_ms,
        );
        eprintln!(
            "fixed 20 ms target: p50 {:.2} ms (service {:.2} ms)",
            l.p50, s.p50
        );
        if (l.p50 - 20.0).abs() <= 2.0 && s.p50 >= 19.0 {
            Ok(())
        } else {
            Err(format!("p50 {} ms, service p50 {} ms", l.p50, s.p50))
        }
    });
}

#[test]
fn open_model_sees_the_stall_and_closed_model_hides_it() {
    let stall = Behaviour::Stall {
        period: Duration::from_secs(5),
        stall: Duration::from_millis(500),
    };
    let _serial = serial();
    let server = common::http(stall);
    within_three_attempts(|| {
        let r = run(&common::scenario(&server, &open(1000, 10), "/s"));
        let open_p99 = r.operations["get"].latency_ms.p99;
        eprintln!("stall target, open model: p99 {open_p99:.1} ms");
        // Analytic: 10% of arrivals wait a uniform 0..500 ms, so the top 1% waits >= 450 ms.
        if (400.0..=530.0).contains(&open_p99) {
            Ok(())
        } else {
            Err(format!("open p99 {open_p99} ms"))
        }
    });

    let server = common::http(stall);
    let closed = "model = \"closed\"\nusers = 10\nduration = \"10s\"\nthink_time = \"10ms\"";
    let r = run(&common::scenario(&server, closed, "/s"));
    let closed_p99 = r.operations["get"].latency_ms.p99;
    eprintln!("stall target, closed model: p99 {closed_p99:.1} ms");
    assert!(
        closed_p99 < 100.0,
        "closed p99 {closed_p99} ms should hide the stall"
    );
    assert!(
        r.operations["get"].latency_ms.max >= 300.0,
        "the stall is still in the max"
    );
}

#[test]
fn same_seed_same_requests() {
    let _serial = serial();
    let path = "/items/{{random_int 1 1000000}}/{{seq}}";
    let paths = |server: &Server, seed: u32| {
        let src = common::scenario(server, &open(200, 1), path)
            .replace("seed = 7", &format!("seed = {seed}"));
        run(&src);
        let mut p: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
        p.sort();
        p
    };
    let a = paths(&common::http(Behaviour::Delay(Duration::ZERO)), 7);
    let b = paths(&common::http(Behaviour::Delay(Duration::ZERO)), 7);
    let c = paths(&common::http(Behaviour::Delay(Duration::ZERO)), 8);
    assert_eq!(a.len(), 200);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn request_ids_are_unique_and_logged() {
    let _serial = serial();
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let r = run(&common::scenario(&server, &open(100, 1), "/id"));
    let mut ids: Vec<String> = server
        .seen()
        .into_iter()
        .filter_map(|s| s.request_id)
        .collect();
    assert_eq!(ids.len(), 100);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100);
    assert_eq!(r.client_log.len(), 100);
    let logged = r.client_log[0].request_id.clone().unwrap();
    assert!(ids.contains(&logged));
}

#[test]
fn unexpected_status_counts_as_error() {
    let _serial = serial();
    let server = common::http(Behaviour::Status(503));
    let r = run(&common::scenario(&server, &open(50, 1), "/e"));
    let op = &r.operations["get"];
    assert_eq!(op.errors, 50);
    assert_eq!(op.error_kinds.get("status_unexpected"), Some(&50));
    assert_eq!(
        r.timeline
            .iter()
            .map(|b| b.status_classes.get("5xx").copied().unwrap_or(0))
            .sum::<u64>(),
        50
    );
}

#[test]
fn refused_connections_are_classified() {
    let _serial = serial();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let src = format!(
        "name = \"x\"\n[target]\nbase_url = \"http://127.0.0.1:{port}\"\nallowed_hosts = [\"127.0.0.1\"]\n[load]\n{}\n[[request]]\nname = \"get\"\npath = \"/\"\n",
        open(20, 1)
    );
    let r = run(&src);
    assert_eq!(r.operations["get"].error_kinds.get("connect"), Some(&20));
}

#[test]
fn https_with_self_signed_certificate() {
    let _serial = serial();
    let server = common::https(Behaviour::Delay(Duration::ZERO));
    let base = format!("https://localhost:{}", server.addr.port());
    let src = common::scenario(&server, &open(50, 1), "/tls")
        .replace(&server.base_url(), &base)
        .replace("[\"127.0.0.1\"]", "[\"localhost\"]");
    let insecure = run(&src.replace("[load]", "insecure_tls = true\n[load]"));
    assert_eq!(
        insecure.operations["get"].status.get("200"),
        Some(&50),
        "{:?}",
        insecure.operations["get"].error_kinds
    );
    let strict = run(&src);
    assert_eq!(strict.operations["get"].error_kinds.get("tls"), Some(&50));
}

#[test]
fn phases_split_statistics() {
    let _serial = serial();
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let load = "model = \"open\"\nstages = [ { duration = \"2s\", rate = 100 } ]\nwarmup = \"1s\"";
    let r = run(&common::scenario(&server, load, "/p"));
    assert_eq!(r.phases.len(), 2);
    assert_eq!(r.phases[0].name, "warmup");
    assert_eq!(r.phases[0].operations["get"].count, 100);
    assert_eq!(r.phases[1].operations["get"].count, 100);
    assert_eq!(r.operations["get"].count, 100, "warmup excluded");
    assert_eq!(r.totals.sent, 200);
}

#[test]
fn servers_that_close_connections_cost_reconnects_not_errors() {
    let _serial = serial();
    let server = common::http(Behaviour::Close);
    let r = run(&common::scenario(&server, &open(200, 1), "/close"));
    let op = &r.operations["get"];
    assert_eq!(op.count, 200);
    assert_eq!(op.errors, 0, "{:?}", op.error_kinds);
}

#[test]
fn live_feed_delivers_every_second_in_order() {
    let _serial = serial();
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let plan =
        scenario::parse(&common::scenario(&server, &open(100, 3), "/live"), "t.toml").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let options = RunOptions {
        live: Some(tx),
        ..RunOptions::default()
    };
    let r = rt.block_on(run_scenario(&plan, options)).unwrap();
    let mut live = Vec::new();
    while let Ok(b) = rx.try_recv() {
        live.push(b);
    }
    assert_eq!(live, r.timeline);
    assert!(live.windows(2).all(|w| w[1].t_s == w[0].t_s + 1));
    assert_eq!(live.iter().map(|b| b.sent).sum::<u64>(), 300);
}

#[test]
fn requests_in_flight_at_the_end_are_awaited() {
    let _serial = serial();
    let server = common::http(Behaviour::Delay(Duration::from_millis(1500)));
    let r = run(&common::scenario(&server, &open(20, 1), "/slow"));
    let op = &r.operations["get"];
    assert_eq!((op.count, op.errors), (20, 0), "{:?}", op.error_kinds);
    assert!(
        r.duration_s >= 2.4,
        "the run lasted until the last answer: {} s",
        r.duration_s
    );
    assert!(op.latency_ms.p50 >= 1490.0, "p50 {}", op.latency_ms.p50);
}

#[test]
fn timeouts_count_from_the_intended_send_time() {
    let _serial = serial();
    let server = common::http(Behaviour::Delay(Duration::from_secs(3)));
    let src = common::scenario(&server, &open(20, 1), "/hang")
        .replace("timeout = \"5s\"", "timeout = \"500ms\"");
    let r = run(&src);
    let op = &r.operations["get"];
    assert_eq!(
        op.error_kinds.get("timeout"),
        Some(&20),
        "{:?}",
        op.error_kinds
    );
    assert!(
        op.latency_ms.max < 1000.0,
        "gave up near 500 ms: max {}",
        op.latency_ms.max
    );
    assert!(
        r.duration_s < 2.5,
        "did not wait for the slow answers: {} s",
        r.duration_s
    );
}

#[test]
fn arrivals_beyond_max_in_flight_are_dropped_and_counted() {
    let _serial = serial();
    let server = common::http(Behaviour::Delay(Duration::from_secs(1)));
    let load = format!("{}\nmax_in_flight = 10", open(100, 1));
    let r = run(&common::scenario(&server, &load, "/busy"));
    assert_eq!(r.totals.sent + r.totals.dropped, 100, "{:?}", r.totals);
    assert!(r.totals.dropped >= 80, "{:?}", r.totals);
    assert_eq!(r.operations["get"].count, r.totals.sent);
    assert_eq!(
        r.timeline.iter().map(|b| b.dropped).sum::<u64>(),
        r.totals.dropped
    );
}
