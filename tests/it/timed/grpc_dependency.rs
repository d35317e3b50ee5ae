//! A service that calls its dependency over gRPC with a deadline and a fallback, judged by the
//! existing timeout and fallback verdicts (and the gRPC deadline one) through `redline run
//! --spec`: a Python HTTP/1.1 front door calling a grpcio dependency through the run's HTTP/2
//! fault proxy (`protocol = "grpc"`), which hangs its calls, then aborts them with UNAVAILABLE.
//! The true spec passes; a spec declaring the wrong deadline fails on exactly those verdicts.

use crate::grpc_dependency_support;

use grpc_dependency_support::*;
use serde_json::Value;

const DEADLINE_MS: u64 = 300;

fn spec(timeout: &str) -> String {
    format!(
        "# Catalog front\n\n### Dependencies\n\n\
         | Dependency | Type | Purpose | Timeout | Fallback |\n\
         |------------|------|---------|---------|----------|\n\
         | CatalogService | gRPC | Item lookup (`catalog.v1.Items/Get`) | {timeout} | Return 503 |\n"
    )
}

fn scenario(front: u16, proxy: u16, dependency: u16) -> String {
    format!(
        r#"name = "grpc-dependency"
seed = 3
[target]
base_url = "http://127.0.0.1:{front}"
allowed_hosts = ["127.0.0.1"]
timeout = "2s"
request_id_header = "x-request-id"
max_connections = 32
[load]
model = "open"
stages = [ {{ duration = "9s", rate = 40 }} ]
[[request]]
name = "get-item"
path = "/items/{{{{random_int 1 100}}}}"
expect_status = [200, 503]
[[dependency]]
name = "CatalogService"
protocol = "grpc"
listen = "127.0.0.1:{proxy}"
upstream = "127.0.0.1:{dependency}"
[[fault]]
dependency = "CatalogService"
at = "2s"
duration = "2.5s"
kind = "hang"
[[fault]]
dependency = "CatalogService"
at = "5.5s"
duration = "2.5s"
kind = "abort"
grpc_status = "UNAVAILABLE"
grpc_message = "injected"
"#
    )
}

fn verdicts(result: &Value) -> Vec<(String, String, String)> {
    result["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap_or_default().to_string(),
                v["status"].as_str().unwrap_or_default().to_string(),
                v["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn status_of<'a>(vs: &'a [(String, String, String)], id: &str) -> &'a str {
    vs.iter()
        .find(|(i, _, _)| i == id)
        .map(|(_, s, _)| s.as_str())
        .unwrap_or_else(|| panic!("no verdict {id}: {vs:#?}"))
}

fn run(timeout_claim: &str, tag: &str) -> (i32, Value, String) {
    let dir = std::env::temp_dir().join(format!("redline-grpc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let dependency = Py::start(&["dependency"]);
    let proxy = free_port();
    let front = Py::start(&[
        "front",
        &format!("127.0.0.1:{proxy}"),
        &DEADLINE_MS.to_string(),
    ]);
    let out = redline_run(
        &dir,
        &scenario(front.port, proxy, dependency.port),
        &spec(timeout_claim),
    );
    drop(front);
    drop(dependency);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// The give-up, deadline and fallback verdicts of CatalogService, in that order.
fn expect(vs: &[(String, String, String)], want: [&str; 3]) {
    let ids = [
        "timeout.catalogservice",
        "timeout.catalogservice.grpc_deadline",
        "fallback.catalogservice.status",
    ];
    for (id, want) in ids.into_iter().zip(want) {
        assert_eq!(status_of(vs, id), want, "{id}: {vs:#?}");
    }
}

#[test]
fn a_grpc_deadline_and_fallback_are_judged_from_outside() {
    // True claims: a 300 ms deadline, 503 while the dependency is unavailable.
    let (code, result, said) = run("300ms", "true");
    let vs = verdicts(&result);
    expect(&vs, ["pass", "pass", "pass"]);
    assert_eq!(code, 0, "every claim holds: {vs:#?}\n{said}");
    // What the proxy logged: the deadline the service sent and its give-ups, from outside.
    let deps = &result["dependencies"];
    let log = deps["CatalogService"]["log"]
        .as_array()
        .or_else(|| deps.as_array().and_then(|a| a[0]["log"].as_array()))
        .unwrap_or_else(|| panic!("no dependency log: {deps:#}"));
    let cancelled: Vec<&Value> = log
        .iter()
        .filter(|e| e["h2"]["cancelled"] == "stream")
        .collect();
    assert!(
        cancelled.len() >= 20,
        "calls cancelled under the hang: {}",
        cancelled.len()
    );
    for e in &cancelled {
        let sent = e["h2"]["grpc_timeout_ms"].as_f64().unwrap();
        assert!((250.0..=350.0).contains(&sent), "{e}");
        assert!(e["gave_up_ms"].as_f64().unwrap() >= 250.0, "{e}");
    }
    assert!(log.iter().any(|e| e["h2"]["grpc_status"] == 14));

    // A wrong claim: the spec declares 1 s, the service uses 300 ms.
    let (code, result, _) = run("1s", "wrong");
    let vs = verdicts(&result);
    expect(&vs, ["fail", "fail", "pass"]);
    assert_eq!(code, 1);
}
