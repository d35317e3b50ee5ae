//! Validation of `[[request]]` entries: name, weight, method, path, body and header templates,
//! expected statuses.

use std::num::NonZeroU32;

use super::error::Diagnostics;
use super::load::header_list;
use super::tree::{int_in, Kind, Node, TableReader};
use super::{GrpcCall, Pos, RequestSpec, Template};

const REQUEST: &[&str] = &[
    "name",
    "operation",
    "weight",
    "method",
    "path",
    "headers",
    "body",
    "expect_status",
    "grpc",
    "idempotency",
    "stale_version",
    "probe_limits",
];
const GRPC: &[&str] = &["method", "proto", "message"];

pub(super) fn requests(top: &TableReader, d: &mut Diagnostics) -> Option<Vec<RequestSpec>> {
    let Some(node) = top.get("request") else {
        d.push(
            0,
            "request",
            "missing `[[request]]`; expected at least one request",
        );
        return None;
    };
    let Kind::Array(items) = &node.kind else {
        d.push(
            node.span.start,
            "request",
            format!(
                "expected `[[request]]` tables, found {}",
                node.kind.type_name()
            ),
        );
        return None;
    };
    let mut out: Vec<RequestSpec> = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match request(item, &format!("request[{i}]"), d) {
            Some(r) => {
                if out.iter().any(|o| o.name == r.name) {
                    d.push(
                        item.span.start,
                        &format!("request[{i}].name"),
                        format!("expected a unique name, found {:?} twice", r.name),
                    );
                    ok = false;
                }
                out.push(r);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn request(item: &Node, path: &str, d: &mut Diagnostics) -> Option<RequestSpec> {
    let r = TableReader::new(item, path, REQUEST, d)?;
    let name = r.req_string("name", d);
    let operation = r.string("operation", d);
    let weight = r.int("weight", 1, 1_000_000, d).map_or(1, |w| w as u32);
    let method = r.string("method", d).unwrap_or_else(|| "GET".into());
    if hyper::Method::from_bytes(method.as_bytes()).is_err() {
        let at = r.get("method").map_or(item.span.start, |n| n.span.start);
        d.push(
            at,
            &r.key("method"),
            format!("expected an HTTP method such as \"GET\", found {method:?}"),
        );
    }
    if let Some(g) = r.get("grpc") {
        return grpc_request(&r, g, name, operation, weight, d);
    }
    let path_t = r.req_string("path", d).and_then(|p| {
        let at = r.get("path").map_or(item.span.start, |n| n.span.start);
        let literal_ok = Template::parse_with_env(&p, d.env).map_or(true, |t| !t.literals().any(|l| l.bytes().any(|b| b <= b' ' || b == 0x7f)));
        if !p.starts_with('/') || !literal_ok {
            d.push(
                at,
                &r.key("path"),
                format!("expected a path starting with \"/\" without spaces or control characters, found {p:?}"),
            );
            return None;
        }
        Template::parse_with_env(&p, d.env)
            .map_err(|why| d.push(at, &r.key("path"), format!("invalid template: {why}")))
            .ok()
    });
    let (headers, header_templates) = header_list(&r, "headers", d);
    let body = match r.string("body", d) {
        Some(b) => {
            let at = r.get("body").map_or(item.span.start, |n| n.span.start);
            Template::parse_with_env(&b, d.env)
                .map_err(|why| d.push(at, &r.key("body"), format!("invalid template: {why}")))
                .ok()
        }
        None => Template::parse("").ok(),
    };
    let expect_status = match r.get("expect_status") {
        None => Some(Vec::new()),
        Some(Node {
            kind: Kind::Array(items),
            ..
        }) => {
            let key = r.key("expect_status");
            let codes: Vec<Option<i64>> =
                items.iter().map(|n| int_in(n, &key, 100, 599, d)).collect();
            codes.into_iter().map(|c| c.map(|c| c as u16)).collect()
        }
        Some(other) => {
            d.push(
                other.span.start,
                &r.key("expect_status"),
                format!(
                    "expected an array of status codes, found {}",
                    other.kind.type_name()
                ),
            );
            None
        }
    };
    let idempotency = match r.get("idempotency") {
        None => None,
        Some(n) => Some(super::idempotency::idempotency(&r, n, d)?),
    };
    let stale_version = match r.get("stale_version") {
        None => None,
        Some(n) => super::probes::stale_version(&r, n, d)?,
    };
    let probe_limits = r.bool("probe_limits", d);
    if r.get("probe_limits").is_some() && probe_limits.is_none() {
        return None;
    }
    Some(RequestSpec {
        idempotency,
        stale_version,
        probe_limits: probe_limits.unwrap_or(false),
        name: name?,
        operation,
        weight: NonZeroU32::new(weight)?,
        method: method.to_ascii_uppercase(),
        path: path_t?,
        headers,
        header_templates,
        body: body?,
        expect_status: expect_status?,
        grpc: None,
    })
}

/// A `grpc = { method, proto, message }` request: POST `/method` with the message template as
/// its body (JSON, encoded per request from the `.proto`). `path`, `method` and `body` would
/// contradict it; `expect_status` too (the HTTP status of a gRPC answer is 200).
fn grpc_request(
    r: &TableReader,
    node: &Node,
    name: Option<String>,
    operation: Option<String>,
    weight: u32,
    d: &mut Diagnostics,
) -> Option<RequestSpec> {
    for key in ["path", "method", "body", "expect_status"] {
        if let Some(n) = r.get(key) {
            d.push(
                n.span.start,
                &r.key(key),
                format!(
                    "expected no `{key}` in a request with `grpc` (the call sets it), found one"
                ),
            );
        }
    }
    let g = TableReader::new(node, &r.key("grpc"), GRPC, d)?;
    let method = g.req_string("method", d).and_then(|m| {
        let ok = m.split_once('/').is_some_and(|(service, call)| {
            let ident = |s: &str| {
                !s.is_empty()
                    && s.split('.').all(|part| {
                        part.chars()
                            .next()
                            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
            };
            ident(service) && ident(call) && !call.contains('.')
        });
        if !ok {
            let at = g.get("method").map_or(node.span.start, |n| n.span.start);
            d.push(
                at,
                &g.key("method"),
                format!("expected \"package.Service/Method\", found {m:?}"),
            );
            return None;
        }
        Some(m)
    });
    let proto = g.req_string("proto", d).and_then(|p| {
        let at = g.get("proto").map_or(node.span.start, |n| n.span.start);
        if p.trim().is_empty() {
            d.push(
                at,
                &g.key("proto"),
                "expected the path of a .proto file, found \"\"",
            );
            return None;
        }
        let (line, column) = d.line_col(at);
        Some((p, Pos { line, column }))
    });
    let message = match g.string("message", d) {
        Some(m) => {
            let at = g.get("message").map_or(node.span.start, |n| n.span.start);
            Template::parse_with_env(&m, d.env)
                .map_err(|why| d.push(at, &g.key("message"), format!("invalid template: {why}")))
                .ok()
        }
        None => Template::parse("{}").ok(),
    };
    let (headers, header_templates) = header_list(r, "headers", d);
    let method = method?;
    let path = Template::parse(&format!("/{method}")).ok()?;
    let (proto, pos) = proto?;
    Some(RequestSpec {
        name: name?,
        operation,
        weight: NonZeroU32::new(weight)?,
        method: "POST".into(),
        path,
        headers,
        header_templates,
        body: message?,
        expect_status: vec![200],
        idempotency: None,
        stale_version: None,
        probe_limits: false,
        grpc: Some(GrpcCall {
            method,
            proto: proto.into(),
            pos,
        }),
    })
}
