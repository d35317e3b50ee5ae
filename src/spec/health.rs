//! Health checks: the `/health` endpoint, its states (healthy/degraded/unhealthy) and `/ready`.

use super::claims::{Claims, HealthCheck};
use super::markdown::{Block, Kind};

const STATES: &[&str] = &["healthy", "degraded", "unhealthy"];

/// Reads health claims from prose, code and tables under a health heading, and from code blocks that
/// define `/health`.
pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    let mut path: Option<(String, usize)> = None;
    let mut ready: Option<String> = None;
    let mut states: Vec<String> = Vec::new();
    let mut joined: Vec<(usize, String)>;
    for b in blocks {
        let lines: Vec<(usize, &str)> = match &b.kind {
            Kind::Code { lines, .. } => lines.iter().map(|(l, s)| (*l, s.as_str())).collect(),
            Kind::Paragraph | Kind::Item => vec![(b.text.first_line(), b.text.s.as_str())],
            Kind::Table { rows, .. } if b.under(&["health"]) => {
                joined = rows.iter().map(|r| (r.line, r.cells.join(" | "))).collect();
                joined.iter().map(|(l, s)| (*l, s.as_str())).collect()
            }
            _ => continue,
        };
        let defines = matches!(b.kind, Kind::Code { .. })
            && lines
                .iter()
                .any(|(_, s)| s.contains("\"/health") || s.contains("'/health"));
        if !(b.under(&["health"]) || defines) {
            continue;
        }
        for (line, s) in lines {
            if path.is_none() {
                path = endpoint(s, &["/health", "/healthz", "/livez", "/status"])
                    .filter(|p| !p.contains("read"))
                    .map(|p| (p, line));
            }
            if ready.is_none() {
                ready = endpoint(s, &["/ready", "/readyz", "/readiness", "/health/ready"]);
            }
            for w in super::names::words(s) {
                if STATES.contains(&w.as_str()) && !states.contains(&w) {
                    states.push(w);
                }
            }
        }
    }
    if let Some((path, line)) = path {
        claims.health = Some(HealthCheck {
            path,
            ready_path: ready,
            states,
            line,
        });
    }
}

/// The first endpoint path on a line that starts with one of `prefixes` (extended to the whole path).
fn endpoint(s: &str, prefixes: &[&str]) -> Option<String> {
    prefixes.iter().find_map(|p| {
        let i = s.find(p)?;
        let path: String = s[i..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '/' | '_' | '-'))
            .collect();
        let boundary =
            path.len() == p.len() || path[p.len()..].starts_with('/') || p.ends_with('z');
        boundary.then_some(path)
    })
}
