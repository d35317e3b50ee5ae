//! The HTTP/2 proxy between a real grpcio client and a real grpcio server (PyPI, installed by
//! `.ci/install-test-deps`): each fault applied to its own stream while the other streams on the
//! same connection flow, and the dependency log's per-stream entries (correlation id from
//! metadata, the caller's `grpc-timeout`, the `grpc-status` sent, when and how it cancelled).

use crate::h2_support;

use h2_support::*;
use redline_proxy::fault::{Abort, FaultKind, FaultSpec, Hang, Latency, Matcher, Reset};
use redline_proxy::log::{Cancel, LogEntry, Outcome};
use serde_json::json;
use std::time::Duration;

fn on_case(case: &str, kind: FaultKind) -> FaultSpec {
    FaultSpec::new(kind).named(case).with_matcher(Matcher {
        header: Some("x-case".into()),
        header_value: Some(case.into()),
        ..Matcher::default()
    })
}

fn entry<'a>(log: &'a [LogEntry], id: &str) -> &'a LogEntry {
    log.iter()
        .find(|e| e.correlation_id.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no log entry for {id}: {log:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_hits_its_own_stream_while_the_others_flow() {
    let server = GrpcServer::start();
    let proxy = h2_proxy(server.addr).await;
    proxy
        .add_fault(on_case(
            "abort",
            FaultKind::Abort(Abort::grpc(14, Some("injected 100%"))),
        ))
        .unwrap();
    proxy
        .add_fault(on_case("reset", FaultKind::Reset(Reset {})))
        .unwrap();
    proxy
        .add_fault(on_case(
            "slow",
            FaultKind::Latency(Latency::fixed(Duration::from_millis(300))),
        ))
        .unwrap();
    proxy
        .add_fault(on_case("hang", FaultKind::Hang(Hang::default())))
        .unwrap();
    // Matching on `:path`, i.e. the gRPC method.
    proxy
        .add_fault(
            FaultSpec::new(FaultKind::Abort(Abort::grpc(7, None)))
                .named("other-method")
                .with_matcher(Matcher {
                    path_prefix: Some("/test.Echo/Other".into()),
                    ..Matcher::default()
                }),
        )
        .unwrap();
    let addr = proxy.listen_addr();
    let mut calls = vec![
        json!({"id": "abort", "method": "/test.Echo/Unary", "case": "abort"}),
        json!({"id": "reset", "method": "/test.Echo/Unary", "case": "reset"}),
        json!({"id": "slow", "method": "/test.Echo/Unary", "case": "slow"}),
        json!({"id": "hang", "method": "/test.Echo/Unary", "case": "hang", "deadline_s": 0.6}),
        json!({"id": "other", "method": "/test.Echo/Other"}),
        // Slow at the server itself: still open when the hang gives up, and unharmed.
        json!({"id": "server-slow", "method": "/test.Echo/Unary", "delay_ms": 800}),
    ];
    for i in 0..8 {
        calls.push(json!({"id": format!("ok-{i}"), "method": "/test.Echo/Unary"}));
    }
    let results =
        tokio::task::spawn_blocking(move || run_client(addr, &serde_json::Value::Array(calls)))
            .await
            .unwrap();
    let code = |id: &str| {
        results
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no result for {id}: {results:?}"))
    };
    assert_eq!(code("abort").code, "UNAVAILABLE");
    assert_eq!(
        code("abort").details,
        "injected 100%",
        "grpc-message decoded"
    );
    assert_eq!(code("reset").code, "INTERNAL", "RST_STREAM(INTERNAL_ERROR)");
    assert_eq!(code("slow").code, "OK");
    assert!(code("slow").ms >= 300.0, "{:?}", code("slow"));
    assert_eq!(code("hang").code, "DEADLINE_EXCEEDED");
    assert_eq!(code("other").code, "PERMISSION_DENIED");
    assert_eq!(code("server-slow").code, "OK");
    assert_eq!(code("server-slow").reply, "echo:server-slow");
    for i in 0..8 {
        let r = code(&format!("ok-{i}"));
        assert_eq!(
            (r.code.as_str(), r.reply.as_str()),
            ("OK", &*format!("echo:ok-{i}"))
        );
    }
    // All of it on one caller connection.
    assert_eq!(proxy.stats().connections_total, 1, "{:?}", proxy.stats());

    // The cancelled stream's entry is written once hyper drops it (and the grace has passed).
    let mut log = Vec::new();
    for _ in 0..100 {
        log = proxy.log_since(0);
        if log.len() == 14 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(log.len(), 14, "one entry per stream: {log:#?}");
    let hang = entry(&log, "hang");
    assert_eq!(hang.outcome, Outcome::CallerGaveUp);
    assert_eq!(hang.fault.as_deref(), Some("hang"));
    let h2 = hang.h2.as_ref().unwrap();
    assert_eq!(h2.cancelled, Some(Cancel::Stream), "{hang:?}");
    let sent = h2.grpc_timeout_ms.expect("grpcio sends grpc-timeout");
    assert!(
        (400.0..=700.0).contains(&sent),
        "grpc-timeout {sent} ms for a 0.6 s deadline"
    );
    let gave_up = hang.gave_up_ms.unwrap();
    assert!(
        gave_up >= 500.0,
        "gave up after {gave_up} ms, deadline 600 ms"
    );
    assert_eq!(
        entry(&log, "abort").h2.as_ref().unwrap().grpc_status,
        Some(14)
    );
    assert_eq!(entry(&log, "abort").outcome, Outcome::Aborted);
    assert_eq!(entry(&log, "reset").outcome, Outcome::Reset);
    assert_eq!(entry(&log, "other").fault.as_deref(), Some("other-method"));
    assert_eq!(entry(&log, "other").path, "/test.Echo/Other");
    for id in ["slow", "server-slow", "ok-0", "ok-7"] {
        let e = entry(&log, id);
        assert_eq!(e.outcome, Outcome::Forwarded, "{e:?}");
        assert_eq!(e.h2.as_ref().unwrap().grpc_status, Some(0), "{e:?}");
        assert_eq!(e.gave_up_ms, None);
        assert_eq!(e.upstream_status, Some(200));
    }
    assert!(entry(&log, "server-slow").total_ms >= 800.0);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_closes_its_connection_is_logged_as_a_connection_cancel() {
    let server = GrpcServer::start();
    let proxy = h2_proxy(server.addr).await;
    proxy
        .add_fault(on_case("hang", FaultKind::Hang(Hang::default())))
        .unwrap();
    let addr = proxy.listen_addr();
    tokio::task::spawn_blocking(move || abandon(addr, 300))
        .await
        .unwrap();
    let mut log = Vec::new();
    for _ in 0..100 {
        log = proxy.log_since(0);
        if !log.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let e = entry(&log, "abandoned");
    assert_eq!(e.outcome, Outcome::CallerGaveUp);
    assert_eq!(
        e.h2.as_ref().unwrap().cancelled,
        Some(Cancel::Connection),
        "{e:?}"
    );
    assert_eq!(
        e.h2.as_ref().unwrap().grpc_timeout_ms,
        None,
        "no deadline was set"
    );
    assert!(e.gave_up_ms.unwrap() >= 200.0, "{e:?}");
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_specific_faults_are_refused_on_the_wrong_proxy() {
    let server = GrpcServer::start();
    let h2 = h2_proxy(server.addr).await;
    let err = h2
        .add_fault(FaultSpec::parse_cli("truncate:bytes=10").unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("HTTP/2"), "{err}");
    let spec = FaultSpec::parse_cli("abort:grpc_status=UNAVAILABLE,grpc_message=down").unwrap();
    h2.add_fault(spec.clone()).unwrap();
    let mut cfg = redline_proxy::http::HttpProxyConfig::new(
        "h1",
        "127.0.0.1:0".parse().unwrap(),
        server.addr.to_string(),
    );
    cfg.http2 = false;
    let h1 = redline_proxy::http::HttpProxy::start(cfg).await.unwrap();
    let err = h1.add_fault(spec).unwrap_err();
    assert!(err.to_string().contains("grpc_status"), "{err}");
    h1.stop().await;
    h2.stop().await;
}
