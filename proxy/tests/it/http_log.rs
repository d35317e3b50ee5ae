//! The dependency-side log through a real proxy: fields, correlation ids, callers giving up
//! (their timeout measured from outside), the bounded summary and the counters.

use crate::http_support;

use http_support::*;
use redline_proxy::http::{HttpProxy, HttpProxyConfig};
use redline_proxy::log::{LogEntry, Outcome};
use std::time::Duration;

async fn wait_entries(proxy: &HttpProxy, n: usize) -> Vec<LogEntry> {
    assert!(
        eventually(|| proxy.log_since(0).len() >= n).await,
        "expected {n} entries: {:?}",
        proxy.log_since(0)
    );
    proxy.log_since(0)
}

#[tokio::test]
async fn entries_record_request_fault_and_upstream() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy
        .add_fault(fault("abort:status=429,path=/limited"))
        .unwrap();
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    let req = hyper::Request::get("/ok?x=1")
        .header("host", "dep")
        .header("x-request-id", "req-1")
        .body(Default::default())
        .unwrap();
    c.send(req).await.unwrap();
    let req = hyper::Request::get("/limited")
        .header("host", "dep")
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .body(Default::default())
        .unwrap();
    c.send(req).await.unwrap();
    let log = wait_entries(&proxy, 2).await;
    let (ok, limited) = (&log[0], &log[1]);
    assert_eq!((ok.seq, limited.seq), (0, 1));
    assert_eq!((ok.method.as_str(), ok.path.as_str()), ("GET", "/ok?x=1"));
    assert_eq!(ok.correlation_id.as_deref(), Some("req-1"));
    assert_eq!(ok.outcome, Outcome::Forwarded);
    assert_eq!((ok.status, ok.upstream_status), (Some(200), Some(200)));
    assert!(ok.upstream_ms.is_some() && ok.gave_up_ms.is_none());
    assert!(ok.total_ms >= ok.upstream_ms.unwrap());
    assert_eq!(limited.fault.as_deref(), Some("abort"));
    assert_eq!(limited.outcome, Outcome::Aborted);
    assert_eq!((limited.status, limited.upstream_status), (Some(429), None));
    assert_eq!(
        limited.correlation_id.as_deref(),
        Some("0af7651916cd43dd8448eb211c80319c")
    );
    assert!(limited.t_ms >= ok.t_ms);
    assert_eq!(proxy.log_since(1).len(), 1);
    proxy.stop().await;
}

/// The headline measurement: a caller with a 200 ms timeout against a hang is logged as giving
/// up about 200 ms after arrival.
#[tokio::test]
async fn caller_timeout_is_measured_from_outside() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy.add_fault(fault("hang")).unwrap();
    for _ in 0..3 {
        let r = tokio::time::timeout(
            Duration::from_millis(200),
            get_once(proxy.listen_addr(), "/"),
        )
        .await;
        assert!(r.is_err());
    }
    let log = wait_entries(&proxy, 3).await;
    for e in &log {
        assert_eq!(e.outcome, Outcome::CallerGaveUp, "{e:?}");
        assert_eq!(e.fault.as_deref(), Some("hang"));
        let g = e.gave_up_ms.expect("gave_up_ms");
        eprintln!("client timeout 200 ms, logged gave_up_ms {g:.1}");
        // The client's clock starts before connecting, ours at the request head: never later
        // than the timeout by more than scheduling noise on a busy machine.
        assert!((150.0..=400.0).contains(&g), "gave up at {g} ms");
    }
    let s = proxy.log_summary();
    assert_eq!(s.gave_up.count, 3);
    assert_eq!(s.by_outcome["caller_gave_up"], 3);
    assert_eq!(s.by_fault_kind["hang"], 3);
    assert_eq!(proxy.stats().caller_gave_up, 3);
    proxy.stop().await;
}

#[tokio::test]
async fn giving_up_during_latency_slow_upstream_and_throttle_is_logged() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let addr = proxy.listen_addr();
    let give_up = |path: &'static str| async move {
        let r = tokio::time::timeout(Duration::from_millis(150), get_once(addr, path)).await;
        assert!(r.is_err(), "{path} answered in time");
    };
    proxy
        .add_fault(fault("latency:delay=2s,path=/slow-fault"))
        .unwrap();
    proxy
        .add_fault(fault("throttle:bytes_per_sec=1000,path=/bytes"))
        .unwrap();
    give_up("/slow-fault").await;
    give_up("/sleep/2000").await;
    give_up("/bytes/5000").await;
    let log = wait_entries(&proxy, 3).await;
    for e in &log {
        assert_eq!(e.outcome, Outcome::CallerGaveUp, "{e:?}");
        let g = e.gave_up_ms.unwrap();
        assert!((100.0..=400.0).contains(&g), "{e:?}");
    }
    // The slow upstream had answered nothing, the throttled one had sent its head.
    let throttled = log.iter().find(|e| e.path == "/bytes/5000").unwrap();
    assert_eq!(throttled.upstream_status, Some(200));
    // Abandoned exchanges left no broken connection in the upstream pool.
    for _ in 0..3 {
        assert_eq!(&get_once(addr, "/").await.unwrap().body[..], b"hello");
    }
    proxy.stop().await;
}

#[tokio::test]
async fn ring_is_bounded_and_summary_counts_everything() {
    let up = Upstream::start().await;
    let mut cfg = HttpProxyConfig::new("dep", "127.0.0.1:0".parse().unwrap(), up.addr.to_string());
    cfg.log_capacity = 5;
    let proxy = HttpProxy::start(cfg).await.unwrap();
    proxy.add_fault(fault("abort:status=500,every=2")).unwrap();
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    for _ in 0..12 {
        c.get("/").await.unwrap();
    }
    assert!(eventually(|| proxy.log_summary().total == 12).await);
    let log = proxy.log_since(0);
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [7, 8, 9, 10, 11]
    );
    let s = proxy.log_summary();
    assert_eq!(s.dropped, 7);
    assert_eq!((s.by_outcome["forwarded"], s.by_outcome["aborted"]), (6, 6));
    let per_second: u64 = s.per_second.iter().map(|c| c.requests).sum();
    let (ok, failed, faulted): (u64, u64, u64) = s.per_second.iter().fold((0, 0, 0), |a, c| {
        (a.0 + c.ok, a.1 + c.failed, a.2 + c.faulted)
    });
    assert_eq!((per_second, ok, failed, faulted), (12, 6, 6, 6));
    let st = proxy.stats();
    assert_eq!(st.requests, 12);
    assert_eq!(st.faults_injected[1], 6);
    assert_eq!(st.faults_total(), 6);
    assert!(st.bytes_in > 12 * 16 && st.bytes_out > 12 * 40, "{st:?}");
    assert_eq!((st.open_connections, st.connections_total), (1, 1));
    drop(c);
    assert!(eventually(|| proxy.stats().open_connections == 0).await);
    let json = serde_json::to_string(&proxy.log_summary()).unwrap();
    assert!(json.contains("\"per_second\""));
    proxy.stop().await;
}

#[tokio::test]
async fn giving_up_on_a_held_post_is_logged() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy.add_fault(fault("hang:method=POST")).unwrap();
    let addr = proxy.listen_addr();
    let post = async move {
        let mut c = Client::connect(addr).await.unwrap();
        let req = hyper::Request::post("/echo")
            .header("host", "dep")
            .body(http_body_util::Full::new(bytes::Bytes::from(vec![
                b'p';
                20_000
            ])))
            .unwrap();
        c.send(req).await
    };
    assert!(tokio::time::timeout(Duration::from_millis(250), post)
        .await
        .is_err());
    let log = wait_entries(&proxy, 1).await;
    assert_eq!(log[0].outcome, Outcome::CallerGaveUp);
    let g = log[0].gave_up_ms.unwrap();
    assert!((200.0..=500.0).contains(&g), "{g}");
    assert_eq!(up.hits(), 0);
    proxy.stop().await;
}

/// Many callers at once on a multi-threaded runtime: every request is logged exactly once and
/// the log, its summary and the counters agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_are_all_accounted_for() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 5).await;
    proxy
        .add_fault(fault("abort:status=503,probability=0.3"))
        .unwrap();
    let addr = proxy.listen_addr();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await.unwrap();
            let mut aborted = 0u64;
            for _ in 0..40 {
                if c.get("/").await.unwrap().status == 503 {
                    aborted += 1;
                }
            }
            aborted
        }));
    }
    let mut aborted = 0;
    for t in tasks {
        aborted += t.await.unwrap();
    }
    assert!(eventually(|| proxy.log_summary().total == 640).await);
    let s = proxy.log_summary();
    assert_eq!(s.by_outcome["aborted"], aborted);
    assert_eq!(s.by_outcome["forwarded"], 640 - aborted);
    let st = proxy.stats();
    assert_eq!((st.requests, st.faults_injected[1]), (640, aborted));
    assert_eq!(up.hits(), 640 - aborted);
    let seqs: Vec<u64> = proxy.log_since(0).iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..640).collect::<Vec<_>>());
    proxy.stop().await;
}
