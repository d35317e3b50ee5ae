//! gRPC status codes named in a fallback ("return UNAVAILABLE", "Status.UNAVAILABLE",
//! "grpc.StatusCode.RESOURCE_EXHAUSTED", "codes.Unavailable", "gRPC status 14").

use redline_proxy::http::h2::grpc::STATUS_NAMES;

/// Qualifiers the gRPC libraries put before a status name: Java `Status.X`, Python
/// `grpc.StatusCode.X`, Go `codes.X`, C# `StatusCode.X`, grpc-js `status.X`.
const QUALIFIERS: &[&str] = &["status", "statuscode", "codes", "code", "grpc"];
/// Words allowed between "gRPC" and the code ("gRPC status 14", "grpc error code: UNAVAILABLE").
const BETWEEN: &[&str] = &["status", "code", "error", "with", "a", "an", "the"];
/// Qualifier chains that are HTTP libraries' (JAX-RS `Response.Status.X`, Spring `HttpStatus.X`).
const HTTP_CHAINS: &[&str] = &["response", "http", "httpstatus"];

/// The first non-OK gRPC status the text names: an upper-case name on its own (`UNAVAILABLE`),
/// a name behind a library's qualifier in any case (`Status.UNAVAILABLE`, `codes.Unavailable`),
/// or a name or number after the word gRPC (`gRPC status 14`, `grpc-status: 8`). OK is never
/// a fallback status (a successful degraded answer is told by its absence).
pub(crate) fn grpc_status(text: &str) -> Option<u8> {
    let toks: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty())
        .collect();
    toks.iter().enumerate().find_map(|(i, t)| {
        qualified(t)
            .or_else(|| bare(t))
            .or_else(|| after_grpc(&toks, i))
            .filter(|c| *c != 0)
    })
}

/// `Status.UNAVAILABLE`, `grpc.StatusCode.DEADLINE_EXCEEDED`, `codes.ResourceExhausted`.
fn qualified(tok: &str) -> Option<u8> {
    let (chain, name) = tok.rsplit_once('.')?;
    let chain = chain.to_ascii_lowercase();
    let last = chain.rsplit('.').next().unwrap_or_default();
    let http = chain.split('.').any(|p| HTTP_CHAINS.contains(&p));
    (QUALIFIERS.contains(&last) && !http)
        .then(|| by_name(name))
        .flatten()
}

/// `UNAVAILABLE`, `RESOURCE_EXHAUSTED`: upper case only, so prose words ("internal") are not read.
fn bare(tok: &str) -> Option<u8> {
    let upper = tok.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    (upper && tok.len() > 2).then(|| by_name(tok)).flatten()
}

/// "gRPC status 14", "grpc_status=14", "gRPC code Unavailable", "gRPC UNAVAILABLE".
fn after_grpc(toks: &[&str], i: usize) -> Option<u8> {
    let lead = toks[i].to_ascii_lowercase();
    if !matches!(lead.as_str(), "grpc" | "grpc_status" | "grpc_code") {
        return None;
    }
    let next = toks[i + 1..]
        .iter()
        .take(4)
        .find(|t| !BETWEEN.contains(&t.to_ascii_lowercase().as_str()))?;
    match next.parse::<u8>() {
        Ok(n) => (usize::from(n) < STATUS_NAMES.len()).then_some(n),
        Err(_) => by_name(next),
    }
}

/// A status by its name in upper snake case or camel case ("Unavailable", "ResourceExhausted").
fn by_name(name: &str) -> Option<u8> {
    let snake = if name.contains('_') || !name.chars().any(|c| c.is_ascii_lowercase()) {
        name.to_ascii_uppercase()
    } else {
        let mut s = String::new();
        for (k, c) in name.chars().enumerate() {
            if k > 0 && c.is_ascii_uppercase() {
                s.push('_');
            }
            s.push(c.to_ascii_uppercase());
        }
        s
    };
    STATUS_NAMES
        .iter()
        .position(|n| *n == snake)
        .map(|i| i as u8)
}

#[cfg(test)]
mod tests {
    use super::grpc_status;

    #[test]
    fn status_names_in_the_forms_libraries_write_them() {
        for text in [
            "Return UNAVAILABLE",
            "return `UNAVAILABLE` to the caller",
            "Status.UNAVAILABLE",
            "StatusCode.UNAVAILABLE",
            "raise grpc.StatusCode.UNAVAILABLE",
            "codes.Unavailable",
            "gRPC status 14",
            "grpc-status: 14",
            "answer with gRPC code Unavailable",
            "fail with a gRPC UNAVAILABLE error (HTTP 503)",
        ] {
            assert_eq!(grpc_status(text), Some(14), "{text}");
        }
        assert_eq!(grpc_status("RESOURCE_EXHAUSTED"), Some(8));
        assert_eq!(grpc_status("codes.ResourceExhausted"), Some(8));
        assert_eq!(grpc_status("Status.DEADLINE_EXCEEDED"), Some(4));
        assert_eq!(grpc_status("return INTERNAL"), Some(13));
    }

    #[test]
    fn http_fallbacks_and_prose_are_not_grpc_statuses() {
        for text in [
            "Return 503",
            "Return 503 Service Unavailable",
            "HttpStatus.SERVICE_UNAVAILABLE",
            "Response.Status.OK",
            "Status.OK",
            "serve the cached page, OK",
            "an internal error page",
            "unavailable banner",
            "gRPC 503",
            "grpc status 99",
            "N/A (critical)",
        ] {
            assert_eq!(grpc_status(text), None, "{text}");
        }
    }

    #[test]
    fn a_grpc_services_spec_reads_its_methods_and_status_fallback() {
        let spec = "# Catalog\n\n## Latency\n\n\
                    | RPC | P50 | P99 |\n|---|---|---|\n\
                    | `GetItem` | 20ms | 100ms |\n\
                    | /catalog.v1.Items/List | 50ms | 300ms |\n\n\
                    ## Dependencies\n\n\
                    | Dependency | Type | Timeout | Fallback |\n|---|---|---|---|\n\
                    | Inventory | gRPC | 800ms | Return `Status.UNAVAILABLE` |\n\
                    | Pricing | gRPC | 200ms | grpc status 8 (RESOURCE_EXHAUSTED) |\n";
        let c = crate::spec::parse(spec);
        let ops: Vec<&str> = c.latency.iter().map(|t| t.operation.as_str()).collect();
        assert_eq!(ops, ["GetItem", "/catalog.v1.Items/List"], "{c:#?}");
        assert_eq!(c.latency[0].p99_ms, Some(100.0));
        let grpc: Vec<_> = c
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.fallback_status, d.fallback_grpc_status))
            .collect();
        assert_eq!(
            grpc,
            [("Inventory", None, Some(14)), ("Pricing", None, Some(8))]
        );
        assert_eq!(
            c.dependencies[0].fallback_statuses().as_deref(),
            Some("UNAVAILABLE")
        );
    }
}
