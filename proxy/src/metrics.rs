//! `GET /metrics`: every proxy's counters as Prometheus text exposition (format 0.0.4).
//!
//! Bytes use `direction="upstream"` (caller to dependency) and `direction="downstream"`
//! (dependency to caller) for both kinds; faults count HTTP fault kinds and TCP toxic types.

use std::fmt::Write;

use crate::registry::{ProxyStats, Registry};

struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: Vec<(String, u64)>,
}

/// Renders the registry's proxies as Prometheus text.
pub fn render(registry: &Registry) -> String {
    let mut families = [
        family(
            "redline_proxy_up",
            "gauge",
            "1 if the proxy is enabled (listening), 0 if down.",
        ),
        family(
            "redline_proxy_requests_total",
            "counter",
            "HTTP requests received (HTTP proxies).",
        ),
        family(
            "redline_proxy_faults_injected_total",
            "counter",
            "Faults injected (HTTP) or toxics applied to connections (TCP), by kind.",
        ),
        family(
            "redline_proxy_upstream_errors_total",
            "counter",
            "Requests or connections that failed at the upstream.",
        ),
        family(
            "redline_proxy_bytes_total",
            "counter",
            "Bytes relayed, by direction.",
        ),
        family(
            "redline_proxy_open_connections",
            "gauge",
            "Client connections currently open.",
        ),
        family(
            "redline_proxy_connections_total",
            "counter",
            "Client connections accepted.",
        ),
        family(
            "redline_proxy_caller_gave_up_total",
            "counter",
            "Requests the caller abandoned before the answer was complete (HTTP).",
        ),
    ];
    for (name, proxy) in registry.list() {
        let p = format!("proxy=\"{}\"", escape(&name));
        let mut add = |i: usize, labels: String, v: u64| families[i].samples.push((labels, v));
        add(0, p.clone(), proxy.enabled() as u64);
        match proxy.stats() {
            ProxyStats::Http(s) => {
                add(1, p.clone(), s.requests);
                for (kind, n) in s.faults_by_kind() {
                    add(2, format!("{p},kind=\"{kind}\""), n);
                }
                add(3, p.clone(), s.upstream_errors);
                add(4, format!("{p},direction=\"upstream\""), s.bytes_in);
                add(4, format!("{p},direction=\"downstream\""), s.bytes_out);
                add(5, p.clone(), s.open_connections);
                add(6, p.clone(), s.connections_total);
                add(7, p.clone(), s.caller_gave_up);
            }
            ProxyStats::Tcp(s) => {
                for (kind, n) in &s.toxics_applied {
                    add(2, format!("{p},kind=\"{kind}\""), *n);
                }
                add(3, p.clone(), s.upstream_errors);
                add(4, format!("{p},direction=\"upstream\""), s.bytes_upstream);
                add(
                    4,
                    format!("{p},direction=\"downstream\""),
                    s.bytes_downstream,
                );
                add(5, p.clone(), s.open_connections);
                add(6, p.clone(), s.connections);
            }
        }
    }
    let mut out = String::new();
    for f in &families {
        let _ = writeln!(
            out,
            "# HELP {} {}\n# TYPE {} {}",
            f.name, f.help, f.name, f.kind
        );
        for (labels, v) in &f.samples {
            let _ = writeln!(out, "{}{{{}}} {}", f.name, labels, v);
        }
    }
    out
}

fn family(name: &'static str, kind: &'static str, help: &'static str) -> Family {
    Family {
        name,
        kind,
        help,
        samples: Vec::new(),
    }
}

/// Escapes a label value as the exposition format requires.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
