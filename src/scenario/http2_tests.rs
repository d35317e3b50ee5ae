//! Unit tests of the HTTP/2 and gRPC keys: `[target] http`, `streams_per_connection`,
//! `[[request]] grpc` and what it may not be combined with.

use super::*;

fn src(target: &str, request: &str) -> String {
    format!(
        "name = \"h\"\n[target]\nbase_url = \"http://127.0.0.1:8080\"\nallowed_hosts = [\"127.0.0.1\"]\n{target}\n\
         [load]\nstages = [ {{ duration = \"1s\", rate = 1 }} ]\n[[request]]\nname = \"get\"\n{request}\n"
    )
}

fn errors(text: &str) -> Vec<(usize, String, String)> {
    let e = parse(text, "h.toml").unwrap_err();
    e.diagnostics
        .into_iter()
        .map(|d| (d.line, d.key, d.message))
        .collect()
}

const GRPC: &str = "grpc = { method = \"catalog.v1.Items/Get\", proto = \"items.proto\", message = '{\"id\": {{seq}}}' }";

#[test]
fn http_defaults_to_1_1_with_100_streams() {
    let plan = parse(&src("", "path = \"/\""), "h.toml").unwrap();
    assert_eq!(plan.target.http, HttpVersion::Http1);
    assert_eq!(plan.target.streams_per_connection.get(), 100);
    let plan = parse(
        &src(
            "http = \"auto\"\nstreams_per_connection = 8",
            "path = \"/\"",
        ),
        "h.toml",
    )
    .unwrap();
    assert_eq!(plan.target.http, HttpVersion::Auto);
    assert_eq!(plan.target.streams_per_connection.get(), 8);
    assert!(plan.requests[0].grpc.is_none());
}

#[test]
fn bad_http_and_streams_values_name_line_and_expectation() {
    let e = errors(&src(
        "http = \"h2\"\nstreams_per_connection = 0",
        "path = \"/\"",
    ));
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].0, 5);
    assert_eq!(e[0].1, "target.http");
    assert_eq!(e[0].2, "expected \"1.1\", \"2\" or \"auto\", found \"h2\"");
    assert_eq!(e[1].0, 6);
    assert_eq!(e[1].1, "target.streams_per_connection");
}

#[test]
fn a_grpc_request_is_a_post_of_its_message_to_the_method_path() {
    let plan = parse(&src("http = \"2\"", GRPC), "h.toml").unwrap();
    let r = &plan.requests[0];
    let g = r.grpc.as_ref().unwrap();
    assert_eq!(g.method, "catalog.v1.Items/Get");
    assert_eq!(g.proto, std::path::PathBuf::from("items.proto"));
    assert_eq!(g.pos.line, 10);
    assert_eq!(r.method, "POST");
    assert_eq!(r.path.as_static(), Some("/catalog.v1.Items/Get"));
    assert_eq!(r.expect_status, vec![200]);
    assert!(r.body.as_static().is_none(), "the message is a template");
}

#[test]
fn grpc_needs_http2_and_no_path_method_or_body() {
    let e = errors(&src("", GRPC));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].1, "target.http");
    assert!(
        e[0].2.starts_with(
            "expected \"2\" for gRPC (request \"get\" calls catalog.v1.Items/Get), found \"1.1\""
        ),
        "{e:?}"
    );
    let e = errors(&src(
        "http = \"2\"",
        &format!("path = \"/x\"\nbody = \"b\"\n{GRPC}"),
    ));
    let keys: Vec<&str> = e.iter().map(|d| d.1.as_str()).collect();
    assert_eq!(keys, ["request[0].path", "request[0].body"], "{e:?}");
}

#[test]
fn grpc_method_must_be_package_service_slash_method() {
    for bad in [
        "Items.Get",
        "catalog.v1.Items/",
        "/Get",
        "a b/C",
        "catalog.v1.Items/Get.x",
    ] {
        let text = src(
            "http = \"2\"",
            &format!("grpc = {{ method = \"{bad}\", proto = \"p.proto\" }}"),
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{bad}: {e:?}");
        assert_eq!(e[0].1, "request[0].grpc.method");
        assert!(
            e[0].2.contains("expected \"package.Service/Method\""),
            "{e:?}"
        );
    }
    let e = errors(&src(
        "http = \"2\"",
        "grpc = { method = \"a.B/C\", proto = \"\", extra = 1 }",
    ));
    let keys: Vec<&str> = e.iter().map(|d| d.1.as_str()).collect();
    assert!(keys.contains(&"request[0].grpc.proto"), "{e:?}");
    assert!(keys.iter().any(|k| k.contains("extra")), "{e:?}");
}
