//! Dependencies written as list items under a dependencies heading, as READMEs list them:
//! "- `index` (OpenSearch): 250ms timeout, on failure serve the last cached page",
//! "- **Postgres** — timeout 2s, critical". Table rows are read by `dependencies`.

use super::claims::{Claims, Dependency};
use super::dependencies::read_fallback;
use super::markdown::{Block, Kind};
use super::names::{normalize_name, words};
use super::tokens::{duration_at, is_at_most, tokenize};

/// Clause openers that introduce the fallback ("on failure serve the cache").
const FALLBACK_LEADS: &[&str] = &[
    "fallback:",
    "fallback",
    "on failure",
    "on error",
    "when down",
    "if down",
    "otherwise",
    "else",
];

pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks.iter().filter(|b| matches!(b.kind, Kind::Item)) {
        let under = b.under(&["dependenc"])
            || b.under(&["deps"])
            || b.under(&["upstream"])
            || b.under(&["downstream"]);
        if !under {
            continue;
        }
        let Some(dep) = read_item(&b.text.s, b.line) else {
            continue;
        };
        let key = normalize_name(&dep.name);
        if !claims
            .dependencies
            .iter()
            .any(|d| normalize_name(&d.name) == key)
        {
            claims.dependencies.push(dep);
        }
    }
}

/// One item: its name (before `(`, `:` or a dash), a kind in parentheses, then clauses.
fn read_item(text: &str, line: usize) -> Option<Dependency> {
    let cut = text
        .find(['(', ':', '—', '–'])
        .or_else(|| text.find(" - "))?;
    let name = text[..cut].trim().to_string();
    let ws = words(&name);
    if ws.is_empty() || ws.len() > 4 {
        return None;
    }
    let mut rest = &text[cut..];
    let mut kind = None;
    if let Some(inner) = rest.strip_prefix('(') {
        let close = inner.find(')')?;
        kind = Some(inner[..close].trim().to_string());
        rest = &inner[close + 1..];
    }
    let rest = rest.trim_start_matches([':', '—', '–', '-', ' ']);
    let mut dep = Dependency {
        name,
        kind,
        timeout_ms: None,
        fallback: None,
        fallback_status: None,
        fallback_grpc_status: None,
        critical: false,
        health_check: None,
        line,
    };
    for clause in rest.split([',', ';']).map(str::trim) {
        let lower = clause.to_lowercase();
        if dep.timeout_ms.is_none() && (lower.contains("timeout") || lower.contains("times out")) {
            dep.timeout_ms = timeout_in(clause);
        }
        if let Some(lead) = FALLBACK_LEADS.iter().find(|l| lower.starts_with(*l)) {
            let what = clause[lead.len()..].trim_start_matches([':', ' ']);
            let f = read_fallback(what);
            dep.fallback = f.text;
            dep.fallback_status = f.status;
            dep.fallback_grpc_status = f.grpc_status;
            dep.critical |= f.critical;
        } else if words(clause).iter().any(|w| w == "critical") {
            dep.critical = true;
        } else if let Some(h) = lower
            .strip_prefix("health check")
            .or_else(|| lower.strip_prefix("health"))
        {
            let at = clause.len() - h.len();
            dep.health_check = Some(clause[at..].trim_start_matches([':', ' ']).to_string())
                .filter(|h| !h.is_empty());
        }
    }
    (dep.timeout_ms.is_some() || dep.fallback.is_some() || dep.critical).then_some(dep)
}

/// "250ms timeout", "timeout 2s", "times out after 1.5 s".
fn timeout_in(clause: &str) -> Option<f64> {
    let toks = tokenize(clause);
    (0..toks.len()).find_map(|i| {
        let (ms, _) = duration_at(&toks, i)?;
        let near = toks[i.saturating_sub(4)..(i + 4).min(toks.len())]
            .iter()
            .any(|t| matches!(t.word(), Some("timeout" | "times")));
        let above = i > 0 && !is_at_most(&toks[i - 1]) && toks[i - 1].is_sym('>');
        (near && !above).then_some(ms)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items() {
        let d = read_item(
            "index (OpenSearch): 250ms timeout, on failure serve the last cached page",
            3,
        )
        .unwrap();
        assert_eq!(d.name, "index");
        assert_eq!(d.kind.as_deref(), Some("OpenSearch"));
        assert_eq!(d.timeout_ms, Some(250.0));
        assert_eq!(d.fallback.as_deref(), Some("serve the last cached page"));
        let d = read_item("Postgres — timeout 2s, critical", 4).unwrap();
        assert_eq!((d.timeout_ms, d.critical), (Some(2000.0), true));
        let d = read_item("Payments: 1s timeout; fallback: return 503", 5).unwrap();
        assert_eq!(d.fallback_status, Some(503));
        let d = read_item(
            "Inventory (gRPC): 800ms timeout, fallback: return UNAVAILABLE",
            6,
        )
        .unwrap();
        assert_eq!(
            (d.timeout_ms, d.fallback_grpc_status),
            (Some(800.0), Some(14))
        );
        assert!(read_item("We talk to many services: all of them", 6).is_none());
    }
}
