//! HTTP/2 proxies over the native control API: created with `"protocol": "grpc"` (shown as
//! `http2`), faults checked against what a stream can take, and a grpc abort installed over the
//! API reaching a real grpcio client through the proxy.

use crate::control_support;
use crate::h2_support;

use control_support::api;
use h2_support::{run_client, GrpcServer};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_proxy_made_over_the_api_aborts_grpc_calls() {
    let api = api().await;
    let server = GrpcServer::start();
    let bad = json!({"name": "dep", "upstream": server.addr.to_string(), "protocol": "grpc",
                     "faults": [{"kind": {"type": "truncate", "bytes": 10}}]});
    let r = api.call("POST", "/redline/proxies", Some(bad)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("HTTP/2"), "{}", r.text);

    let body = json!({"name": "dep", "upstream": server.addr.to_string(), "protocol": "grpc",
                      "listen": "127.0.0.1:0"});
    let r = api.call("POST", "/redline/proxies", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["protocol"], "http2");
    let addr: std::net::SocketAddr = r.json()["listen"].as_str().unwrap().parse().unwrap();

    let fault = json!({"name": "unavailable",
                       "kind": {"type": "abort", "status": 200, "grpc_status": 14, "grpc_message": "over the API"},
                       "matcher": {"path_prefix": "/test.Echo/Other"}});
    let r = api
        .call("POST", "/redline/proxies/dep/faults", Some(fault))
        .await;
    assert!(r.status < 300, "{} {}", r.status, r.text);

    let calls = json!([
        {"id": "a", "method": "/test.Echo/Other"},
        {"id": "b", "method": "/test.Echo/Unary"},
    ]);
    let results = tokio::task::spawn_blocking(move || run_client(addr, &calls))
        .await
        .unwrap();
    let by_id = |id: &str| results.iter().find(|r| r.id == id).unwrap().clone();
    assert_eq!(by_id("a").code, "UNAVAILABLE");
    assert_eq!(by_id("a").details, "over the API");
    assert_eq!(by_id("b").code, "OK");
    let log = api
        .call("GET", "/redline/proxies/dep/log?since=0", None)
        .await;
    let entries = log.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries
        .iter()
        .any(|e| e["h2"]["grpc_status"] == 14 && e["correlation_id"] == "a"));
}
