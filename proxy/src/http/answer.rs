//! Answers the proxy writes itself (faults, errors): a status line, `content-length`, optional
//! extra fields, and whether the connection ends after it.

use hyper::StatusCode;

/// Appends a complete answer with a `text/plain` body (no body type when `body` is empty).
pub(crate) fn plain(
    status: u16,
    body: &str,
    extra: &[(&str, &str)],
    close: bool,
    out: &mut Vec<u8>,
) {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    if !body.is_empty() {
        out.extend_from_slice(b"content-type: text/plain; charset=utf-8\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    for (name, value) in extra {
        // Fault specs are validated; a line break here would still split the head, so skip it.
        if !name.contains(['\r', '\n']) && !value.contains(['\r', '\n']) {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_complete_heads_with_length() {
        let mut out = Vec::new();
        plain(503, "down\n", &[("retry-after", "2")], true, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
             content-length: 5\r\nretry-after: 2\r\nconnection: close\r\n\r\ndown\n"
        );
        let mut out = Vec::new();
        plain(504, "", &[("x", "a\r\nb")], false, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 504 Gateway Timeout\r\ncontent-length: 0\r\n\r\n"
        );
    }
}
