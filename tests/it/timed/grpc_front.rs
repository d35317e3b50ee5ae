//! A gRPC service judged end to end: redline loads a grpcio front door with unary calls (a
//! `.proto` the test writes), the front door calls its gRPC dependency through the run's HTTP/2
//! fault proxy with a deadline and answers UNAVAILABLE when that call fails; faults hang, then
//! abort, the dependency. The true spec (a latency row naming the method as `GetItem`, the
//! deadline, fallback `UNAVAILABLE`, an error rate) passes; a spec with half the deadline and
//! fallback INTERNAL fails on exactly the timeout and fallback verdicts (and the error rate, whose
//! UNAVAILABLE answers are then no promised fallback).

use crate::grpc_front_support::{free_port, run, Service};
use serde_json::Value;

const DEADLINE_MS: u64 = 800;

fn spec(timeout: &str, fallback: &str) -> String {
    format!(
        "# Catalog front (gRPC)\n\n## Latency\n\n\
         | RPC | P50 | P90 |\n|-----|-----|-----|\n| `GetItem` | 150ms | 400ms |\n\n\
         ## Objectives\n\n- Error rate < 5%\n\n\
         ## Dependencies\n\n\
         | Dependency | Type | Timeout | Fallback |\n|------------|------|---------|----------|\n\
         | InventoryService | gRPC | {timeout} | {fallback} |\n"
    )
}

/// The request is named so that only its method (`shop.v1.Catalog/GetItem`) can match the
/// latency row `GetItem`.
fn scenario(front: u16, proxy: u16, dependency: u16) -> String {
    format!(
        r#"name = "grpc-front"
seed = 5
[target]
base_url = "http://127.0.0.1:{front}"
allowed_hosts = ["127.0.0.1"]
http = "2"
timeout = "2s"
max_connections = 2
streams_per_connection = 100
request_id_header = "x-request-id"
[load]
model = "open"
stages = [ {{ duration = "9s", rate = 50 }} ]
[[request]]
name = "catalog-read"
grpc = {{ method = "shop.v1.Catalog/GetItem", proto = "catalog.proto", message = '{{"id": {{{{random_int 1 100}}}}}}' }}
[[dependency]]
name = "InventoryService"
protocol = "grpc"
listen = "127.0.0.1:{proxy}"
upstream = "127.0.0.1:{dependency}"
[[fault]]
dependency = "InventoryService"
at = "2.5s"
duration = "2.5s"
kind = "hang"
[[fault]]
dependency = "InventoryService"
at = "5.5s"
duration = "2.5s"
kind = "abort"
grpc_status = "UNAVAILABLE"
grpc_message = "injected"
"#
    )
}

/// (id, status, detail) of every verdict.
fn verdicts(result: &Value) -> Vec<(String, String, String)> {
    result["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (s("id"), s("status"), s("detail"))
        })
        .collect()
}

fn status_of<'a>(vs: &'a [(String, String, String)], id: &str) -> &'a str {
    vs.iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, s, _)| s.as_str())
        .unwrap_or_else(|| panic!("no verdict {id}: {vs:#?}"))
}

fn judged(timeout: &str, fallback: &str, tag: &str) -> (i32, Value, String) {
    let proxy = free_port();
    let service = Service::start(proxy, DEADLINE_MS);
    let scenario = scenario(service.front.port, proxy, service.dependency.port);
    let out = run(tag, &scenario, &spec(timeout, fallback));
    drop(service);
    out
}

/// The latency, give-up, deadline and fallback verdicts, in that order.
fn expect(vs: &[(String, String, String)], want: [&str; 5]) {
    let ids = [
        "latency.getitem.p50",
        "latency.getitem.p90",
        "timeout.inventoryservice",
        "timeout.inventoryservice.grpc_deadline",
        "fallback.inventoryservice.status",
    ];
    for (id, want) in ids.into_iter().zip(want) {
        if let Some((_, s, d)) = vs.iter().find(|(i, _, _)| i == id) {
            println!("{id}: {s}: {d}");
        }
        assert_eq!(status_of(vs, id), want, "{id}: {vs:#?}");
    }
}

fn error_rates(vs: &[(String, String, String)]) -> Vec<&(String, String, String)> {
    vs.iter()
        .filter(|(id, _, _)| id.starts_with("errors.global."))
        .collect()
}

#[test]
fn a_grpc_front_door_with_a_deadline_and_an_unavailable_fallback_is_judged() {
    // True claims: the method's latency, an 800 ms deadline, UNAVAILABLE while the dependency
    // is down, and an error rate the fallback answers do not count against.
    let (code, result, said) = judged("800ms", "Return `UNAVAILABLE`", "true");
    let vs = verdicts(&result);
    expect(&vs, ["pass", "pass", "pass", "pass", "pass"]);
    let rates = error_rates(&vs);
    assert!(rates.iter().any(|(_, s, _)| s == "pass"), "{rates:#?}");
    assert!(rates.iter().all(|(_, s, _)| s != "fail"), "{rates:#?}");
    assert_eq!(code, 0, "every claim holds: {vs:#?}\n{said}");
    // The clients were answered in gRPC: UNAVAILABLE (14) during the faults, OK before.
    let log = result["client_log"].as_array().expect("client log");
    let by = |code: u64| log.iter().filter(|e| e["grpc_status"] == code).count();
    assert!(by(14) >= 150 && by(0) >= 100, "{} {}", by(14), by(0));
    assert!(
        log.iter().all(|e| e["status"] == 200),
        "HTTP 200 carries every gRPC answer"
    );

    // Wrong claims: half the deadline, and INTERNAL as the fallback.
    let (code, result, said) = judged("400ms", "Return Status.INTERNAL", "wrong");
    let vs = verdicts(&result);
    expect(&vs, ["pass", "pass", "fail", "fail", "fail"]);
    let rates = error_rates(&vs);
    assert!(rates.iter().any(|(_, s, _)| s == "fail"), "{rates:#?}");
    assert_eq!(code, 1, "{said}");
}
