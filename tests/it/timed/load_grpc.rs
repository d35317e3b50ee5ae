//! gRPC unary calls from the load engine to a real grpcio server (Python, generic handlers)
//! on loopback: messages written as JSON and encoded from the `.proto` at load, metadata from
//! `headers`, `grpc-timeout` from the timeout, statuses counted by name, deadlines as timeouts,
//! many calls in flight on one connection, and bad gRPC keys refused with file:line.

use crate::load_h2_support;

use load_h2_support::{redline_run, redline_run_with, GrpcServer, TempDir, ITEMS_PROTO};

fn scenario(port: u16, timeout: &str, conns: u32, rate: u32, requests: &str) -> String {
    format!(
        "name = \"grpc\"\n[target]\nbase_url = \"http://127.0.0.1:{port}\"\nallowed_hosts = [\"127.0.0.1\"]\n\
         timeout = \"{timeout}\"\nhttp = \"2\"\nmax_connections = {conns}\nstreams_per_connection = 100\n\
         [load]\nstages = [ {{ duration = \"1s\", rate = {rate} }} ]\n{requests}"
    )
}

/// The proto beside the scenario, as a user would keep it (resolved against its folder).
fn with_proto(dir: &TempDir) {
    std::fs::create_dir_all(dir.0.join("protos")).unwrap();
    std::fs::copy(ITEMS_PROTO, dir.0.join("protos/items.proto")).unwrap();
}

const GET: &str = "[[request]]\nname = \"get\"\nheaders = { x-tenant = \"acme\" }\n\
    grpc = { method = \"catalog.v1.Items/Get\", proto = \"protos/items.proto\", message = '{\"id\": {{seq}}, \"name\": \"n{{seq}}\"}' }\n";

#[test]
fn unary_calls_carry_the_message_metadata_and_deadline_and_count_statuses() {
    let dir = TempDir::new("load-grpc-get");
    with_proto(&dir);
    let server = GrpcServer::start(2000);
    let (code, result, said) = redline_run(&dir.0, &scenario(server.port, "2s", 1, 200, GET));
    server.stop();
    assert_eq!(code, 0, "{said}");
    let op = &result["operations"]["get"];
    // The server answers INVALID_ARGUMENT to a wrong message or a missing or too long
    // deadline, PERMISSION_DENIED without the metadata, UNAVAILABLE for every 5th id.
    assert_eq!(op["count"], 200, "{op}");
    assert_eq!(op["status"]["200"], 200, "{op}");
    assert_eq!(op["grpc_status"]["OK"], 160, "{op}");
    assert_eq!(op["grpc_status"]["UNAVAILABLE"], 40, "{op}");
    assert_eq!(op["grpc_status"].as_object().unwrap().len(), 2, "{op}");
    assert_eq!(op["errors"], 40);
    assert_eq!(op["error_kinds"]["grpc_status"], 40, "{op}");
    assert_eq!(
        op["first_errors"][0]["message"], "grpc-status 14 UNAVAILABLE",
        "{op}"
    );
    let log = result["client_log"].as_array().unwrap();
    assert_eq!(log.len(), 200);
    assert!(log
        .iter()
        .all(|e| e["grpc_status"] == 0 || e["grpc_status"] == 14));
}

/// A spec's error rate counts a gRPC answer by its grpc-status (HTTP says 200 to every call):
/// 20% UNAVAILABLE fails "below 1%" and passes "below 30%".
#[test]
fn a_spec_error_rate_counts_grpc_failures() {
    let dir = TempDir::new("load-grpc-spec");
    with_proto(&dir);
    let server = GrpcServer::start(2000);
    let mut outcomes = Vec::new();
    for limit in ["1%", "30%"] {
        let spec = dir.0.join("spec.md");
        std::fs::write(
            &spec,
            format!("# Catalog\n\n## Errors\n\nThe error rate stays below {limit}.\n"),
        )
        .unwrap();
        let spec = spec.display().to_string();
        let text = scenario(server.port, "2s", 1, 200, GET);
        let (code, result, said) = redline_run_with(&dir.0, &text, &["--spec", &spec]);
        let errors: Vec<String> = result["verdicts"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .filter(|v| v["id"].as_str().is_some_and(|id| id.starts_with("errors")))
            .map(|v| format!("{} {}", v["id"], v["status"]))
            .collect();
        assert!(!errors.is_empty(), "no errors verdict: {said}");
        outcomes.push((code, errors));
    }
    server.stop();
    assert!(
        outcomes[0].1.iter().any(|v| v.ends_with("\"fail\"")),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[0].0, 1, "{outcomes:?}");
    assert!(
        outcomes[1].1.iter().all(|v| v.ends_with("\"pass\"")),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1].0, 0, "{outcomes:?}");
}

#[test]
fn a_call_past_its_deadline_is_a_timeout() {
    let dir = TempDir::new("load-grpc-slow");
    with_proto(&dir);
    let server = GrpcServer::start(2000);
    let slow = "[[request]]\nname = \"slow\"\n\
        grpc = { method = \"catalog.v1.Items/Slow\", proto = \"protos/items.proto\", message = '{\"id\": 1}' }\n";
    let (code, result, said) = redline_run(&dir.0, &scenario(server.port, "300ms", 1, 20, slow));
    server.stop();
    // The client's deadline and the server's (from grpc-timeout) end together: a call is either
    // given up by the client (exit 1 when all are) or answered DEADLINE_EXCEEDED (status 200,
    // exit 0); both are timeouts.
    assert!(code == 0 || code == 1, "{said}");
    let op = &result["operations"]["slow"];
    assert_eq!(op["count"], 20, "{op}");
    assert_eq!(op["error_kinds"]["timeout"], 20, "{op}");
    let log = result["client_log"].as_array().unwrap();
    assert!(
        log.iter()
            .all(|e| e["error"] == "timeout" && (e["status"].is_null() || e["grpc_status"] == 4)),
        "{log:?}"
    );
    // Ended at the deadline (300 ms after the intended send), not by the server's 2 s answer.
    let max = op["latency_ms"]["max"].as_f64().unwrap();
    assert!((299.0..1900.0).contains(&max), "{op}");
}

#[test]
fn many_calls_in_flight_share_one_connection() {
    let dir = TempDir::new("load-grpc-hold");
    with_proto(&dir);
    let server = GrpcServer::start(5000);
    let hold = "[[request]]\nname = \"hold\"\n\
        grpc = { method = \"catalog.v1.Items/Hold\", proto = \"protos/items.proto\" }\n";
    let (code, result, said) = redline_run(&dir.0, &scenario(server.port, "5s", 1, 100, hold));
    let stats = server.stop();
    assert_eq!(code, 0, "{said}");
    assert_eq!(result["operations"]["hold"]["grpc_status"]["OK"], 100);
    // "hold peers P max_concurrent M calls N"
    let words: Vec<&str> = stats.split_whitespace().collect();
    let num = |key: &str| -> u64 {
        let i = words.iter().position(|w| *w == key).expect(&stats);
        words[i + 1].parse().unwrap()
    };
    assert_eq!(num("calls"), 100, "{stats}");
    assert_eq!(num("peers"), 1, "one connection: {stats}");
    // 100 calls/s each held 300 ms: about 30 at once, all on that connection.
    assert!(num("max_concurrent") >= 10, "{stats}");
}

#[test]
fn grpc_mistakes_are_refused_before_the_run_with_their_line() {
    let dir = TempDir::new("load-grpc-bad");
    with_proto(&dir);
    let unknown = GET.replace("Items/Get", "Items/Put");
    let (code, _, said) = redline_run(&dir.0, &scenario(9, "1s", 1, 1, &unknown));
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("scenario.toml:14:"), "{said}");
    assert!(
        said.contains(
            "expected a method \"Put\" in service catalog.v1.Items, found Get, Slow, Hold, Watch"
        ),
        "{said}"
    );
    let streaming = GET.replace("Items/Get", "Items/Watch");
    let (code, _, said) = redline_run(&dir.0, &scenario(9, "1s", 1, 1, &streaming));
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("expected a unary method"), "{said}");
    let bad_message = GET.replace("\\\"name\\\"", "\\\"nom\\\"");
    let bad_message = bad_message.replace("\"name\"", "\"nom\"");
    let (code, _, said) = redline_run(&dir.0, &scenario(9, "1s", 1, 1, &bad_message));
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("get.grpc.message")
            && said.contains("catalog.v1.GetRequest")
            && said.contains("nom"),
        "{said}"
    );
    let missing = GET.replace("protos/items.proto", "protos/none.proto");
    let (code, _, said) = redline_run(&dir.0, &scenario(9, "1s", 1, 1, &missing));
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("none.proto"), "{said}");
    let h1 = scenario(9, "1s", 1, 1, GET).replace("http = \"2\"", "http = \"1.1\"");
    let (code, _, said) = redline_run(&dir.0, &h1);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("scenario.toml:6") && said.contains("expected \"2\" for gRPC"),
        "{said}"
    );
}
