//! gRPC on the wire, as far as the proxy needs it: the `grpc-timeout` header, status codes by
//! name, and the trailers-only answer (one HEADERS frame with END_STREAM) an abort sends.

use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};

/// gRPC status codes in number order (grpc/doc/statuscodes.md), upper-case as the spec writes them.
pub const STATUS_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// True for the codes a server (or the network) is to blame for, the ones gRPC's HTTP mapping
/// puts in 5xx: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS.
/// The caller's own errors (INVALID_ARGUMENT, NOT_FOUND, ...) are not failures of the
/// dependency, like a 4xx.
pub fn is_server_failure(code: u32) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

/// A status by number (`14`) or name (`UNAVAILABLE`, `unavailable`, `Unavailable`).
pub fn parse_status(text: &str) -> Option<u32> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u32>() {
        return (n < STATUS_NAMES.len() as u32).then_some(n);
    }
    let upper = t.to_ascii_uppercase().replace(['-', ' '], "_");
    STATUS_NAMES
        .iter()
        .position(|n| *n == upper)
        .map(|i| i as u32)
}

/// `grpc-timeout` in ms: 1 to 8 ASCII digits then a unit (H, M, S, m, u, n), per the gRPC
/// over HTTP/2 protocol document. Anything else is `None` (the caller sent no usable deadline).
pub fn timeout_ms(value: &[u8]) -> Option<f64> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: f64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let ms_per_unit = match unit {
        b'H' => 3_600_000.0,
        b'M' => 60_000.0,
        b'S' => 1_000.0,
        b'm' => 1.0,
        b'u' => 0.001,
        b'n' => 0.000_001,
        _ => return None,
    };
    Some(n * ms_per_unit)
}

/// The `grpc-status` of a header block (a trailers-only answer or the trailers), if any.
pub fn status_of(headers: &HeaderMap) -> Option<u32> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// A trailers-only answer: HTTP 200, `content-type: application/grpc`, `grpc-status` and
/// `grpc-message` (percent-encoded as the protocol asks) in the one HEADERS frame.
pub fn trailers_only<B>(status: u32, message: Option<&str>, body: B) -> Response<B> {
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    h.insert("grpc-status", HeaderValue::from(status));
    if let Some(m) = message {
        if let Ok(v) = HeaderValue::from_str(&percent_encode(m)) {
            h.insert("grpc-message", v);
        }
    }
    res
}

/// Percent-encodes everything outside printable ASCII and `%` itself (grpc-message's rule).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_in_every_unit() {
        assert_eq!(timeout_ms(b"250m"), Some(250.0));
        assert_eq!(timeout_ms(b"2S"), Some(2000.0));
        assert_eq!(timeout_ms(b"1M"), Some(60_000.0));
        assert_eq!(timeout_ms(b"1500u"), Some(1.5));
        assert_eq!(timeout_ms(b"99999999n"), Some(99.999999));
        assert_eq!(timeout_ms(b"123456789m"), None, "nine digits");
        assert_eq!(timeout_ms(b"m"), None);
        assert_eq!(timeout_ms(b"10x"), None);
        assert_eq!(timeout_ms(b"-1S"), None);
    }

    #[test]
    fn statuses_by_number_or_name() {
        assert_eq!(parse_status("14"), Some(14));
        assert_eq!(parse_status("UNAVAILABLE"), Some(14));
        assert_eq!(parse_status("deadline_exceeded"), Some(4));
        assert_eq!(parse_status("Resource-Exhausted"), Some(8));
        assert_eq!(parse_status("17"), None);
        assert_eq!(parse_status("NOPE"), None);
    }

    #[test]
    fn messages_are_percent_encoded() {
        assert_eq!(percent_encode("down 100%"), "down 100%25");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }
}
