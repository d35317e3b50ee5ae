//! The engine's HTTP/1.1 client against raw servers: body framing (chunked with extensions and
//! trailers, long Content-Length bodies split across reads, close-delimited, no-body statuses,
//! interim 1xx) and request encoding (method, headers, body) as a real server parses it.

use crate::common;

use std::time::Duration;

use common::Behaviour;
use redline::engine::{run_scenario, RunOptions};
use redline::result::RunResult;

fn run(src: &str) -> RunResult {
    let plan = redline::scenario::parse(src, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run_scenario(&plan, RunOptions::default()))
        .unwrap()
}

const LOAD: &str = "model = \"closed\"\nusers = 2\nduration = \"1s\"\nthink_time = \"20ms\"";

/// Runs ~80 requests against a raw server and checks that all got `status` without errors.
fn all_ok(response: &str, pieces: usize, close: bool, status: &str) {
    let server = common::raw(response.as_bytes().to_vec(), pieces, close);
    let r = run(&common::scenario(&server, LOAD, "/raw")
        .replace("request_id_header = \"x-request-id\"\n", ""));
    let op = &r.operations["get"];
    assert!(op.count >= 20, "only {} requests", op.count);
    assert_eq!(op.errors, 0, "{response:?}: {:?}", op.error_kinds);
    assert_eq!(op.status.get(status), Some(&op.count), "{:?}", op.status);
    assert_eq!(
        server.hits(),
        op.count,
        "one server-side request per answer"
    );
}

#[test]
fn chunked_bodies_with_extensions_and_trailers() {
    let body = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: yes\r\n\r\n";
    all_ok(body, 7, false, "200");
}

#[test]
fn long_bodies_split_across_reads() {
    let payload = "x".repeat(100_000);
    let body = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{payload}",
        payload.len()
    );
    all_ok(&body, 5, false, "200");
}

#[test]
fn close_delimited_bodies() {
    all_ok(
        "HTTP/1.1 200 OK\r\n\r\nuntil the connection closes",
        2,
        true,
        "200",
    );
}

#[test]
fn no_body_statuses_and_interim_responses() {
    all_ok("HTTP/1.1 204 No Content\r\n\r\n", 1, false, "204");
    all_ok(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        3,
        false,
        "200",
    );
}

#[test]
fn garbage_is_a_protocol_error_not_a_hang() {
    let server = common::raw(b"SMTP ready\r\n\r\n".to_vec(), 1, false);
    let r = run(&common::scenario(&server, LOAD, "/raw"));
    let op = &r.operations["get"];
    assert!(
        op.count > 0 && op.errors == op.count,
        "{:?}",
        op.error_kinds
    );
    assert_eq!(op.error_kinds.get("protocol"), Some(&op.count));
}

#[test]
fn post_bodies_and_headers_arrive_intact() {
    let server = common::http(Behaviour::Delay(Duration::ZERO));
    let src = common::scenario(&server, "stages = [ { duration = \"1s\", rate = 30 } ]", "/items/{{seq}}")
        .replace("name = \"get\"", "name = \"get\"\nmethod = \"POST\"\nbody = '{\"n\": {{seq}}, \"c\": \"{{choice red blue}}\"}'");
    let r = run(&src);
    assert_eq!(
        r.operations["get"].errors, 0,
        "{:?}",
        r.operations["get"].error_kinds
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 30);
    for s in seen {
        assert_eq!(s.method, "POST");
        let n: u64 = s.path.trim_start_matches("/items/").parse().unwrap();
        assert!(
            s.body.starts_with(&format!("{{\"n\": {n}, \"c\": \"")),
            "{}",
            s.body
        );
        assert!(s.request_id.is_some());
    }
}
