//! Validation of the chaos keys: `[[dependency]]`, `[[fault]]`, `[[phase]]` and `[[slo]]`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::{did_you_mean, Diagnostics};
use super::tree::{Kind, Node, TableReader};
use super::{
    Dependency, DependencyProxy, Fault, FaultKind, FaultMatch, FaultParam, PhaseSpec, Pos,
    Protocol, Slo,
};

const DEPENDENCY: &[&str] = &["name", "listen", "upstream", "protocol", "control", "proxy"];
const FAULT_COMMON: &[&str] = &[
    "dependency",
    "at",
    "duration",
    "kind",
    "probability",
    "match",
];
const MATCH: &[&str] = &["method", "path_prefix"];
const PHASE: &[&str] = &["name", "from", "to"];
const SLO: &[&str] = &[
    "operation",
    "phase",
    "p50",
    "p95",
    "p99",
    "timeout",
    "error_rate",
    "availability",
];

#[derive(Default)]
pub(super) struct Chaos {
    pub dependencies: Vec<Dependency>,
    pub faults: Vec<Fault>,
    pub phases: Vec<PhaseSpec>,
    pub slos: Vec<Slo>,
}

/// `run` is (warmup, run length) when `[load]` was valid, to check windows against the run.
pub(super) fn chaos(
    top: &TableReader,
    run: Option<(Duration, Duration)>,
    d: &mut Diagnostics,
) -> Chaos {
    let dependencies: Vec<Dependency> = tables(top, "dependency", d)
        .into_iter()
        .filter_map(|(n, p)| dependency(n, &p, d))
        .collect();
    let names: Vec<&str> = dependencies.iter().map(|x| x.name.as_str()).collect();
    for (i, dep) in dependencies.iter().enumerate() {
        if names[..i].contains(&dep.name.as_str()) {
            d.push(
                0,
                "dependency.name",
                format!(
                    "expected unique dependency names, found {:?} twice (line {})",
                    dep.name, dep.pos.line
                ),
            );
        }
    }
    let faults = tables(top, "fault", d)
        .into_iter()
        .filter_map(|(n, p)| fault(n, &p, &names, run, d))
        .collect();
    let phases = tables(top, "phase", d)
        .into_iter()
        .filter_map(|(n, p)| phase(n, &p, d))
        .collect();
    let slos = tables(top, "slo", d)
        .into_iter()
        .filter_map(|(n, p)| slo(n, &p, d))
        .collect();
    Chaos {
        dependencies,
        faults,
        phases,
        slos,
    }
}

/// The tables of an array-of-tables key, with their paths ("fault[2]").
fn tables<'n>(top: &TableReader<'n>, key: &str, d: &mut Diagnostics) -> Vec<(&'n Node, String)> {
    match top.get(key) {
        None => Vec::new(),
        Some(Node {
            kind: Kind::Array(items),
            ..
        }) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (n, format!("{key}[{i}]")))
            .collect(),
        Some(other) => {
            d.push(
                other.span.start,
                key,
                format!(
                    "expected `[[{key}]]` tables, found {}",
                    other.kind.type_name()
                ),
            );
            Vec::new()
        }
    }
}

fn pos(node: &Node, d: &Diagnostics) -> Pos {
    let (line, column) = d.line_col(node.span.start);
    Pos { line, column }
}

fn dependency(node: &Node, path: &str, d: &mut Diagnostics) -> Option<Dependency> {
    let t = TableReader::new(node, path, DEPENDENCY, d)?;
    let name = t.req_string("name", d);
    let protocol = match t.string("protocol", d).as_deref() {
        None | Some("http") => Some(Protocol::Http),
        Some("http2" | "grpc" | "h2c") => Some(Protocol::Http2),
        Some("tcp") => Some(Protocol::Tcp),
        Some(other) => {
            d.push(
                t.get("protocol")?.span.start,
                &t.key("protocol"),
                format!(
                    "expected \"http\", \"http2\" (alias \"grpc\") or \"tcp\", found {other:?}"
                ),
            );
            None
        }
    };
    let local = (t.get("listen").is_some(), t.get("upstream").is_some());
    let attach = (t.get("control").is_some(), t.get("proxy").is_some());
    let proxy = match (local, attach) {
        ((true, true), (false, false)) => {
            let listen = address(&t, "listen", d);
            let upstream = address(&t, "upstream", d);
            Some(DependencyProxy::Local {
                listen: listen?,
                upstream: upstream?,
            })
        }
        ((false, false), (true, true)) => {
            let control = t.string("control", d).filter(|c| {
                let ok = c.starts_with("http://");
                if !ok {
                    d.push(
                        t.get("control").map_or(0, |n| n.span.start),
                        &t.key("control"),
                        format!(
                            "expected an http:// URL of a running `redline proxy`, found {c:?}"
                        ),
                    );
                }
                ok
            });
            let proxy = t.string("proxy", d);
            Some(DependencyProxy::Attach {
                control: control?,
                proxy: proxy?,
            })
        }
        _ => {
            d.push(node.span.start, path, "expected either `listen` + `upstream` (start a proxy) or `control` + `proxy` (attach to a running one)");
            None
        }
    };
    Some(Dependency {
        name: name?,
        protocol: protocol?,
        attach: proxy?,
        pos: pos(node, d),
    })
}

/// A `host:port` address string.
fn address(t: &TableReader, key: &str, d: &mut Diagnostics) -> Option<String> {
    let s = t.string(key, d)?;
    let ok = s
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if !ok {
        d.push(
            t.get(key).map_or(0, |n| n.span.start),
            &t.key(key),
            format!("expected host:port such as \"127.0.0.1:9101\", found {s:?}"),
        );
        return None;
    }
    Some(s)
}

fn fault(
    node: &Node,
    path: &str,
    deps: &[&str],
    run: Option<(Duration, Duration)>,
    d: &mut Diagnostics,
) -> Option<Fault> {
    // Kind-specific keys are the proxy's to check; accept any key here and keep it.
    let t = TableReader::open(node, path, d)?;
    let dependency = t.req_string("dependency", d).filter(|name| {
        let known = deps.contains(&name.as_str());
        if !known {
            let hint = did_you_mean(name, deps.iter().copied())
                .map_or(String::new(), |k| format!("; did you mean {k:?}?"));
            let at = t.get("dependency").map_or(0, |n| n.span.start);
            d.push(
                at,
                &t.key("dependency"),
                format!("expected the name of a [[dependency]], found {name:?}{hint}"),
            );
        }
        known
    });
    let at = t.req_duration("at", d);
    let duration = t.req_duration("duration", d);
    let kind = t.req_string("kind", d).and_then(|k| {
        let found = FaultKind::ALL
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| *v);
        if found.is_none() {
            let names = FaultKind::ALL.map(|(n, _)| n);
            let hint =
                did_you_mean(&k, names).map_or(String::new(), |s| format!("; did you mean {s:?}?"));
            d.push(
                t.get("kind").map_or(0, |n| n.span.start),
                &t.key("kind"),
                format!("expected one of {}, found {k:?}{hint}", names.join(", ")),
            );
        }
        found
    });
    let probability = t.number("probability", 0.0, 1.0, d).unwrap_or(1.0);
    let matcher = t.get("match").and_then(|m| {
        let m = TableReader::new(m, &t.key("match"), MATCH, d)?;
        Some(FaultMatch {
            method: m.string("method", d),
            path_prefix: m.string("path_prefix", d),
        })
    });
    if let (Some(at_v), Some((_, end))) = (at, run) {
        if at_v >= end {
            d.push(
                t.get("at").map_or(0, |n| n.span.start),
                &t.key("at"),
                format!("expected a time before the run ends ({end:?}), found {at_v:?}"),
            );
        }
    }
    let params = t
        .entries()
        .iter()
        .filter(|e| !FAULT_COMMON.contains(&e.key.as_str()))
        .map(|e| {
            let (line, column) = d.line_col(e.key_span.start);
            (
                e.key.clone(),
                FaultParam {
                    value: json(&e.node),
                    pos: Pos { line, column },
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    Some(Fault {
        dependency: dependency?,
        at: at?,
        duration: duration?,
        kind: kind?,
        probability,
        matcher,
        params,
        pos: pos(node, d),
    })
}

/// A TOML value as JSON, for fault parameters handed to the proxy.
fn json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.kind {
        Kind::Str(s) | Kind::Datetime(s) => J::String(s.clone()),
        Kind::Int(i) => J::from(*i),
        Kind::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Kind::Bool(b) => J::Bool(*b),
        Kind::Array(items) => J::Array(items.iter().map(json).collect()),
        Kind::Table(entries) => J::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), json(&e.node)))
                .collect(),
        ),
    }
}

fn phase(node: &Node, path: &str, d: &mut Diagnostics) -> Option<PhaseSpec> {
    let t = TableReader::new(node, path, PHASE, d)?;
    let name = t.req_string("name", d);
    let from = t.req_duration("from", d);
    let to = t.req_duration("to", d);
    if let (Some(f), Some(e)) = (from, to) {
        if e <= f {
            d.push(
                t.get("to").map_or(0, |n| n.span.start),
                &t.key("to"),
                format!("expected a time after `from` ({f:?}), found {e:?}"),
            );
            return None;
        }
    }
    Some(PhaseSpec {
        name: name?,
        from: from?,
        to: to?,
        pos: pos(node, d),
    })
}

fn slo(node: &Node, path: &str, d: &mut Diagnostics) -> Option<Slo> {
    let t = TableReader::new(node, path, SLO, d)?;
    let slo = Slo {
        operation: t.string("operation", d),
        phase: t.string("phase", d),
        p50: t.duration("p50", d),
        p95: t.duration("p95", d),
        p99: t.duration("p99", d),
        timeout: t.duration("timeout", d),
        error_rate: t.number("error_rate", 0.0, 1.0, d),
        availability: t.number("availability", 0.0, 1.0, d),
        line: d.line_of(node.span.start),
    };
    let empty = [slo.p50, slo.p95, slo.p99, slo.timeout]
        .iter()
        .all(Option::is_none)
        && slo.error_rate.is_none()
        && slo.availability.is_none();
    if empty && t.entries().iter().all(|e| SLO.contains(&e.key.as_str())) {
        d.push(
            node.span.start,
            path,
            "expected at least one objective: p50, p95, p99, timeout, error_rate or availability",
        );
        return None;
    }
    Some(slo)
}
