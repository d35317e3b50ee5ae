//! Validation of the top level, `[target]` and `[load]` into plan types.

use std::num::NonZeroU32;
use std::time::Duration;

use super::error::Diagnostics;
use super::tree::{Kind, Node, TableReader};
use super::{
    chaos, Arrival, BaseUrl, CaFile, HttpVersion, Load, Model, Plan, Pos, Scheme, Stage, Target,
    Template,
};

const TOP: &[&str] = &[
    "name",
    "seed",
    "spec",
    "target",
    "load",
    "request",
    "dependency",
    "fault",
    "phase",
    "slo",
];
const TARGET: &[&str] = &[
    "base_url",
    "allowed_hosts",
    "timeout",
    "max_connections",
    "headers",
    "request_id_header",
    "insecure_tls",
    "ca_file",
    "health_path",
    "ready_path",
    "http",
    "streams_per_connection",
    "sample_bodies",
    "secret_fields",
    "traceparent",
];
const LOAD: &[&str] = &[
    "model",
    "arrival",
    "stages",
    "warmup",
    "max_in_flight",
    "users",
    "duration",
    "think_time",
];
const STAGE: &[&str] = &["duration", "rate", "ramp"];

/// Validates the whole document; `None` if anything was wrong (the diagnostics say what).
pub(super) fn plan(root: &Node, d: &mut Diagnostics) -> Option<Plan> {
    let top = TableReader::new(root, "", TOP, d)?;
    let name = top.req_string("name", d);
    if let Some(n) = &name {
        if n.is_empty() || n.contains(['/', '\\']) {
            d.push(
                top.get("name").map_or(0, |n| n.span.start),
                "name",
                format!("expected a non-empty name without slashes, found {n:?}"),
            );
        }
    }
    let seed = top.int("seed", 0, i64::MAX, d).map_or(1, |s| s as u64);
    let spec = top.string("spec", d);
    let target = section(&top, "target", d).and_then(|t| target(&t, d));
    let load = section(&top, "load", d).and_then(|l| load(&l, d));
    let requests = super::request::requests(&top, d);
    let warmup_end = load.as_ref().map(|l| (l.warmup, l.duration()));
    let chaos = chaos::chaos(&top, warmup_end, d);
    if let (Some(t), Some(rs)) = (&target, &requests) {
        grpc_needs_http2(&top, t, rs, d);
    }
    Some(Plan {
        name: name?,
        seed,
        spec,
        target: target?,
        load: load?,
        requests: requests?,
        dependencies: chaos.dependencies,
        faults: chaos.faults,
        phases: chaos.phases,
        slos: chaos.slos,
        stated_limits: Vec::new(),
    })
}

fn section<'n>(top: &TableReader<'n>, key: &str, d: &mut Diagnostics) -> Option<TableReader<'n>> {
    let known = if key == "target" { TARGET } else { LOAD };
    match top.get(key) {
        Some(node) => TableReader::new(node, key, known, d),
        None => {
            d.push(0, key, format!("missing required section `[{key}]`"));
            None
        }
    }
}

fn target(t: &TableReader, d: &mut Diagnostics) -> Option<Target> {
    let base = t.req_string("base_url", d).and_then(|s| {
        let at = t.get("base_url").map_or(0, |n| n.span.start);
        parse_base_url(&s)
            .map_err(|why| {
                d.push(
                    at,
                    &t.key("base_url"),
                    format!("expected http://host:port or https://host:port, found {s:?} ({why})"),
                )
            })
            .ok()
    });
    if t.get("allowed_hosts").is_none() {
        t.missing(
            "allowed_hosts",
            "the list of hosts this scenario may send to, e.g. [\"127.0.0.1\"]",
            d,
        );
    }
    let allowed = t.strings("allowed_hosts", d);
    if let (Some(base), Some(allowed)) = (&base, &allowed) {
        let host = base.host.to_ascii_lowercase();
        if !allowed.iter().any(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .eq_ignore_ascii_case(&host)
        }) {
            let at = t.get("base_url").map_or(0, |n| n.span.start);
            d.push(
                at,
                &t.key("base_url"),
                format!(
                    "host {:?} is not in allowed_hosts {allowed:?}; refusing to send to it",
                    base.host
                ),
            );
        }
    }
    let timeout = positive(t, "timeout", d).unwrap_or(Duration::from_secs(5));
    let max_connections = t
        .int("max_connections", 1, 1_000_000, d)
        .map_or(256, |v| v as u32);
    let (headers, header_templates) = header_list(t, "headers", d);
    let request_id_header = t.string("request_id_header", d);
    if let Some(h) = &request_id_header {
        check_header_name(t, "request_id_header", h, d);
    }
    let insecure_tls = t.bool("insecure_tls", d).unwrap_or(false);
    let ca_file = ca_file(t, base.as_ref(), insecure_tls, d);
    let health_path = endpoint_path(t, "health_path", d);
    let ready_path = endpoint_path(t, "ready_path", d);
    let http = http_version(t, d);
    let streams = t
        .int("streams_per_connection", 1, 1_000_000, d)
        .map_or(100, |v| v as u32);
    let sample_bodies = t.bool("sample_bodies", d).unwrap_or(true);
    let secret_fields = t.strings("secret_fields", d).unwrap_or_default();
    let traceparent = t.bool("traceparent", d);
    Some(Target {
        base_url: base?,
        allowed_hosts: allowed?,
        timeout,
        max_connections: NonZeroU32::new(max_connections)?,
        headers,
        header_templates,
        request_id_header,
        insecure_tls,
        ca_file,
        health_path,
        ready_path,
        http,
        streams_per_connection: NonZeroU32::new(streams)?,
        sample_bodies,
        secret_fields,
        traceparent,
    })
}

/// gRPC runs over HTTP/2 only: a scenario with a `grpc` request must say `http = "2"`.
fn grpc_needs_http2(
    top: &TableReader,
    t: &Target,
    requests: &[super::RequestSpec],
    d: &mut Diagnostics,
) {
    let Some(r) = requests.iter().find(|r| r.grpc.is_some()) else {
        return;
    };
    if t.http == HttpVersion::Http2 {
        return;
    }
    let target = top.get("target");
    let at = target
        .and_then(|n| match &n.kind {
            Kind::Table(entries) => entries
                .iter()
                .find(|e| e.key == "http")
                .map(|e| e.node.span.start),
            _ => None,
        })
        .or(target.map(|n| n.span.start))
        .unwrap_or(0);
    let found = match t.http {
        HttpVersion::Auto => "\"auto\"",
        _ => "\"1.1\"",
    };
    d.push(
        at,
        "target.http",
        format!(
            "expected \"2\" for gRPC (request {:?} calls {}), found {found}",
            r.name,
            r.grpc.as_ref().map_or("", |g| g.method.as_str())
        ),
    );
}

/// `http`: "1.1" (default), "2" or "auto".
fn http_version(t: &TableReader, d: &mut Diagnostics) -> HttpVersion {
    match t.string("http", d).as_deref() {
        None | Some("1.1") => HttpVersion::Http1,
        Some("2") => HttpVersion::Http2,
        Some("auto") => HttpVersion::Auto,
        Some(other) => {
            let at = t.get("http").map_or(0, |n| n.span.start);
            d.push(
                at,
                &t.key("http"),
                format!("expected \"1.1\", \"2\" or \"auto\", found {other:?}"),
            );
            HttpVersion::Http1
        }
    }
}

/// `ca_file`: a non-empty path, for an https target that checks certificates. The file itself
/// is read by `redline run` (this module does no I/O).
fn ca_file(
    t: &TableReader,
    base: Option<&BaseUrl>,
    insecure: bool,
    d: &mut Diagnostics,
) -> Option<CaFile> {
    let path = t.string("ca_file", d)?;
    let at = t.get("ca_file").map_or(0, |n| n.span.start);
    let problem = if path.trim().is_empty() {
        Some("expected the path of a PEM file of CA certificates, found \"\"".to_string())
    } else if insecure {
        Some("expected either ca_file or insecure_tls = true, found both (insecure_tls accepts any certificate, so ca_file would do nothing)".to_string())
    } else if base.is_some_and(|b| b.scheme == Scheme::Http) {
        Some(
            "expected an https:// base_url for ca_file, found http:// (no certificate is checked)"
                .to_string(),
        )
    } else {
        None
    };
    if let Some(message) = problem {
        d.push(at, &t.key("ca_file"), message);
        return None;
    }
    let (line, column) = d.line_col(at);
    Some(CaFile {
        path: path.into(),
        pos: Pos { line, column },
    })
}

/// An endpoint the chaos run samples (`health_path`, `ready_path`): a path starting with "/".
fn endpoint_path(t: &TableReader, key: &str, d: &mut Diagnostics) -> Option<String> {
    let path = t.string(key, d)?;
    if !path.starts_with('/') {
        let at = t.get(key).map_or(0, |n| n.span.start);
        d.push(
            at,
            &t.key(key),
            format!("expected a path starting with \"/\", found {path:?}"),
        );
    }
    Some(path)
}

/// A duration that must be above zero.
fn positive(t: &TableReader, key: &str, d: &mut Diagnostics) -> Option<Duration> {
    let v = t.duration(key, d)?;
    if v.is_zero() {
        let at = t.get(key).map_or(0, |n| n.span.start);
        d.push(at, &t.key(key), "expected a duration above zero, found 0");
        return None;
    }
    Some(v)
}

/// (lowercased name, value template) pairs, in file order.
type TemplatedHeaders = Vec<(String, Template)>;

/// Whether `b` may appear in a header value (visible ASCII, space, tab): never CR, LF or NUL.
fn header_byte(b: u8) -> bool {
    b == b'\t' || (b' '..0x7f).contains(&b)
}

/// A `headers` table: names checked, values parsed as templates whose every possible rendering
/// is a valid header value. Returns (name, value as written) and (name, template) pairs.
pub(super) fn header_list(
    t: &TableReader,
    key: &str,
    d: &mut Diagnostics,
) -> (Vec<(String, String)>, TemplatedHeaders) {
    let (mut shown, mut sent) = (Vec::new(), Vec::new());
    for (name, value, at) in t.string_map(key, d) {
        let path = format!("{}.{name}", t.key(key));
        let ok_name = hyper::header::HeaderName::from_bytes(name.as_bytes()).is_ok();
        let framing = ["host", "content-length", "transfer-encoding"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h));
        if !ok_name {
            d.push(
                at,
                &path,
                format!("expected a valid HTTP header name, found {name:?}"),
            );
            continue;
        }
        if framing {
            d.push(
                at,
                &path,
                format!("`{name}` is set by redline from base_url and the body; remove it"),
            );
            continue;
        }
        // `value` is the text as written, so quoting it shows no env value.
        let tpl = match Template::parse_with_env(&value, d.env) {
            Ok(tpl) => tpl,
            Err(why) => {
                d.push(at, &path, format!("invalid template: {why}"));
                continue;
            }
        };
        let what = "a header value (no control characters or non-ASCII)";
        if let Err(why) = tpl.check_bytes(header_byte, what) {
            d.push(
                at,
                &path,
                format!("expected a valid header value, found {value:?}: {why}"),
            );
            continue;
        }
        let name = name.to_ascii_lowercase();
        shown.push((name.clone(), value));
        sent.push((name, tpl));
    }
    (shown, sent)
}

fn check_header_name(t: &TableReader, key: &str, h: &str, d: &mut Diagnostics) {
    if hyper::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
        let at = t.get(key).map_or(0, |n| n.span.start);
        d.push(
            at,
            &t.key(key),
            format!("expected an HTTP header name, found {h:?}"),
        );
    }
}

/// Splits `scheme://host[:port][/prefix]`.
pub(super) fn parse_base_url(s: &str) -> Result<BaseUrl, String> {
    let (scheme, rest) = if let Some(r) = s.strip_prefix("http://") {
        (Scheme::Http, r)
    } else if let Some(r) = s.strip_prefix("https://") {
        (Scheme::Https, r)
    } else {
        return Err("the scheme must be http or https".into());
    };
    let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if prefix.contains(['?', '#']) {
        return Err("no query or fragment allowed".into());
    }
    let default_port = if scheme == Scheme::Http { 80 } else { 443 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']').ok_or("unclosed `[`")?;
        let port = v6[end + 1..].strip_prefix(':');
        (v6[..end].to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host.contains('@') {
        return Err("missing or invalid host".into());
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("`{p}` is not a port"))?,
        None => default_port,
    };
    Ok(BaseUrl {
        scheme,
        host,
        port,
        prefix: prefix.trim_end_matches('/').to_string(),
    })
}

fn load(l: &TableReader, d: &mut Diagnostics) -> Option<Load> {
    let model = l.string("model", d).unwrap_or_else(|| "open".into());
    let warmup = l.duration("warmup", d).unwrap_or(Duration::ZERO);
    let max_in_flight = l
        .int("max_in_flight", 1, 10_000_000, d)
        .map_or(10_000, |v| v as u32);
    let only = |keys: &[&str], model: &str, d: &mut Diagnostics| {
        for k in keys {
            if let Some(e) = l.entry(k) {
                d.push(
                    e.key_span.start,
                    &l.key(k),
                    format!("`{k}` does not apply to model = \"{model}\""),
                );
            }
        }
    };
    let model = match model.as_str() {
        "open" => {
            only(&["users", "duration", "think_time"], "open", d);
            let arrival = match l.string("arrival", d).as_deref() {
                None | Some("uniform") => Some(Arrival::Uniform),
                Some("poisson") => Some(Arrival::Poisson),
                Some(other) => {
                    let at = l.get("arrival").map_or(0, |n| n.span.start);
                    d.push(
                        at,
                        &l.key("arrival"),
                        format!("expected \"uniform\" or \"poisson\", found {other:?}"),
                    );
                    None
                }
            };
            let stages = stages(l, d);
            Model::Open {
                arrival: arrival?,
                stages: stages?,
            }
        }
        "closed" => {
            only(&["arrival", "stages", "max_in_flight"], "closed", d);
            if l.get("users").is_none() {
                l.missing("users", "the number of concurrent users", d);
            }
            if l.get("duration").is_none() {
                l.missing("duration", "a duration such as \"30s\"", d);
            }
            let users = l.int("users", 1, 1_000_000, d).map(|u| u as u32);
            let duration = positive(l, "duration", d);
            let think_time = l.duration("think_time", d).unwrap_or(Duration::ZERO);
            Model::Closed {
                users: NonZeroU32::new(users?)?,
                duration: duration?,
                think_time,
            }
        }
        other => {
            let at = l.get("model").map_or(0, |n| n.span.start);
            d.push(
                at,
                &l.key("model"),
                format!("expected \"open\" or \"closed\", found {other:?}"),
            );
            return None;
        }
    };
    let load = Load {
        model,
        warmup,
        max_in_flight: NonZeroU32::new(max_in_flight)?,
    };
    if !warmup.is_zero() && warmup >= load.duration() {
        let at = l.get("warmup").map_or(0, |n| n.span.start);
        d.push(
            at,
            &l.key("warmup"),
            format!(
                "expected a warmup shorter than the run ({:?}), found {warmup:?}",
                load.duration()
            ),
        );
    }
    Some(load)
}

fn stages(l: &TableReader, d: &mut Diagnostics) -> Option<Vec<Stage>> {
    let Some(node) = l.get("stages") else {
        l.missing(
            "stages",
            "an array like [ { duration = \"10s\", rate = 100 } ]",
            d,
        );
        return None;
    };
    let Kind::Array(items) = &node.kind else {
        d.push(
            node.span.start,
            &l.key("stages"),
            format!(
                "expected an array of stages, found {}",
                node.kind.type_name()
            ),
        );
        return None;
    };
    if items.is_empty() {
        d.push(
            node.span.start,
            &l.key("stages"),
            "expected at least one stage, found an empty array",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let path = format!("{}[{i}]", l.key("stages"));
        let Some(s) = TableReader::new(item, &path, STAGE, d) else {
            ok = false;
            continue;
        };
        let duration = s.req_duration("duration", d);
        if s.get("rate").is_none() {
            s.missing("rate", "requests per second", d);
        }
        let rate = s.number("rate", 0.0, 10_000_000.0, d);
        let ramp = s.bool("ramp", d).unwrap_or(false);
        match (duration, rate) {
            (Some(duration), Some(rate)) => out.push(Stage {
                duration,
                rate,
                ramp,
            }),
            _ => ok = false,
        }
    }
    let total: f64 = out.iter().map(|s| s.rate).sum();
    if ok && total == 0.0 {
        d.push(
            node.span.start,
            &l.key("stages"),
            "expected at least one stage with a rate above 0, found only zero rates",
        );
        ok = false;
    }
    ok.then_some(out)
}
