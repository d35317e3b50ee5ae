//! Answers the proxy writes itself (faults, errors): a status line, `content-length`, optional
//! extra fields, and whether the connection ends after it.

use hyper::StatusCode;

/// How the proxy's own answer is sent.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Manner {
    /// The connection ends after this answer.
    pub close: bool,
    /// The request was HEAD: the length is stated, the body not sent.
    pub head_request: bool,
}

/// Appends a complete answer with a `text/plain` body (no body type when `body` is empty).
/// 204 and 304 answers and answers to HEAD carry no body, whatever `body` says.
pub(crate) fn plain(
    status: u16,
    body: &str,
    extra: &[(&str, &str)],
    how: Manner,
    out: &mut Vec<u8>,
) {
    let body = if status == 204 || status == 304 {
        ""
    } else {
        body
    };
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    if !body.is_empty() {
        out.extend_from_slice(b"content-type: text/plain; charset=utf-8\r\n");
    }
    // 204 and 304 state no length (RFC 9110 sections 8.6, 15.4.5).
    if status != 204 && status != 304 {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    for (name, value) in extra {
        // Fault specs are validated; a line break here would still split the head, so skip it.
        if !name.contains(['\r', '\n']) && !value.contains(['\r', '\n']) {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
    }
    if how.close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !how.head_request {
        out.extend_from_slice(body.as_bytes());
    }
}

/// The usual manner: close or not, and not an answer to HEAD.
pub(crate) fn closing(close: bool) -> Manner {
    Manner {
        close,
        head_request: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_complete_heads_with_length() {
        let mut out = Vec::new();
        plain(
            503,
            "down\n",
            &[("retry-after", "2")],
            closing(true),
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
             content-length: 5\r\nretry-after: 2\r\nconnection: close\r\n\r\ndown\n"
        );
        let mut out = Vec::new();
        plain(504, "", &[("x", "a\r\nb")], closing(false), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 504 Gateway Timeout\r\ncontent-length: 0\r\n\r\n"
        );
    }

    #[test]
    fn no_body_after_head_requests_or_on_204() {
        let mut out = Vec::new();
        let head = Manner {
            close: false,
            head_request: true,
        };
        plain(503, "boom", &[], head, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("content-length: 4\r\n\r\n"), "{text}");
        let mut out = Vec::new();
        plain(204, "boom", &[], closing(false), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 204 No Content\r\n\r\n"
        );
    }
}
