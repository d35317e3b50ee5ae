//! Dependency claims: the dependencies table (timeout, fallback and its HTTP or gRPC status,
//! critical, health check).

use super::claims::{Claims, Dependency};
use super::diag;
use super::grpc_status::grpc_status;
use super::latency::unreadable_duration;
use super::markdown::{Block, Kind};
use super::names::words;
use super::tables::{cell, Header};
use super::units::{duration_cell, http_status, is_blank, Cell};

const NAME: &[&[&str]] = &[
    &["dependency"],
    &["dependencies"],
    &["service"],
    &["system"],
    &["component"],
    &["upstream"],
    &["name"],
];
const KIND: &[&[&str]] = &[&["type"], &["kind"]];
const TIMEOUT: &[&[&str]] = &[&["timeout"]];
const FALLBACK: &[&[&str]] = &[
    &["fallback"],
    &["degradation"],
    &["degraded"],
    &["on", "failure"],
];
const HEALTH: &[&[&str]] = &[&["health"]];
const PERCENTILES: &[&[&str]] = &[&["p50"], &["p95"], &["p99"]];

/// Reads every dependencies table: timeout and fallback columns, or one of them in a table that a
/// header or heading calls dependencies (integrations, upstreams).
pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        let Kind::Table { header, rows } = &b.kind else {
            continue;
        };
        let h = Header(header);
        let named = h.col(&[&["dependency"], &["dependencies"]]).is_some()
            || ["dependenc", "integration", "upstream", "downstream"]
                .iter()
                .any(|w| b.under(&[w]));
        let (timeout, fallback) = (h.col(TIMEOUT), h.col(FALLBACK));
        // Without a dependency header or heading, a timeout AND a fallback column still say "dependencies".
        let columns = (timeout.is_some() && fallback.is_some())
            || (named && (timeout.is_some() || fallback.is_some()));
        if !columns || h.col(PERCENTILES).is_some() {
            continue;
        }
        let name_col = h.col(NAME).or(Some(0));
        let (kind_col, health_col) = (h.col(KIND), h.col(HEALTH));
        for row in rows {
            let name = cell(row, name_col).to_string();
            if name.is_empty() {
                diag(
                    claims,
                    row.line,
                    "dependency row without a name; row skipped".into(),
                );
                continue;
            }
            let timeout_ms = match timeout.map(|c| (c, cell(row, Some(c)))) {
                None => None,
                Some((c, text)) => match duration_cell(text, h.unit_ms(c)) {
                    Cell::Value(ms) => Some(ms),
                    Cell::Blank => None,
                    Cell::Unreadable => {
                        diag(
                            claims,
                            row.line,
                            unreadable_duration(&format!("timeout of dependency \"{name}\""), text),
                        );
                        None
                    }
                },
            };
            let f = read_fallback(cell(row, fallback));
            claims.dependencies.push(Dependency {
                name,
                kind: non_blank(cell(row, kind_col)),
                timeout_ms,
                fallback: f.text,
                fallback_status: f.status,
                fallback_grpc_status: f.grpc_status,
                critical: f.critical,
                health_check: non_blank(cell(row, health_col)),
                line: row.line,
            });
        }
    }
}

fn non_blank(text: &str) -> Option<String> {
    (!is_blank(text)).then(|| text.to_string())
}

/// A fallback cell or clause as read: what it says, the statuses it names, and "critical".
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fallback {
    pub text: Option<String>,
    pub status: Option<u16>,
    pub grpc_status: Option<u8>,
    pub critical: bool,
}

/// "Return 503" -> status 503; "Return UNAVAILABLE" -> gRPC status 14; "N/A (critical)" -> no
/// fallback, critical.
pub(crate) fn read_fallback(text: &str) -> Fallback {
    let critical = words(text).iter().any(|w| w == "critical");
    let head = text
        .split('(')
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches([',', ';', ':', '.']);
    let head_words = words(head);
    let only_critical = head_words
        .iter()
        .all(|w| w == "critical" || w == "none" || w == "no" || w == "fallback");
    if is_blank(head) || (critical && only_critical) {
        return Fallback {
            critical,
            ..Fallback::default()
        };
    }
    Fallback {
        text: Some(text.to_string()),
        status: http_status(text),
        grpc_status: grpc_status(text),
        critical,
    }
}

#[cfg(test)]
mod tests {
    use super::{read_fallback, Fallback};

    fn said(text: &str, status: Option<u16>, grpc_status: Option<u8>) -> Fallback {
        Fallback {
            text: Some(text.into()),
            status,
            grpc_status,
            critical: false,
        }
    }

    #[test]
    fn fallbacks() {
        assert_eq!(
            read_fallback("Return 503"),
            said("Return 503", Some(503), None)
        );
        let critical = Fallback {
            critical: true,
            ..Fallback::default()
        };
        assert_eq!(read_fallback("N/A (critical)"), critical);
        assert_eq!(read_fallback("Critical - no fallback"), critical);
        assert_eq!(
            read_fallback("Bypass cache"),
            said("Bypass cache", None, None)
        );
        assert_eq!(read_fallback("-"), Fallback::default());
        assert_eq!(read_fallback(""), Fallback::default());
    }

    #[test]
    fn grpc_fallbacks_beside_http_ones() {
        let f = read_fallback("Return UNAVAILABLE");
        assert_eq!(f, said("Return UNAVAILABLE", None, Some(14)));
        let f = read_fallback("Status.UNAVAILABLE (HTTP 503 for REST callers)");
        assert_eq!((f.status, f.grpc_status), (Some(503), Some(14)));
        assert_eq!(read_fallback("gRPC status 8").grpc_status, Some(8));
    }
}
