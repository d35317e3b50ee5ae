//! An encoded HTTP/1.1 request (what `RequestGen::encode` writes) as an HTTP/2 request: the
//! request line becomes `:method` / `:path`, `host` becomes `:authority`, connection-specific
//! fields are left out (RFC 9113 §8.2.2), the rest are sent as they are, the body follows.
//!
//! Re-reading the bytes keeps ONE request builder for both protocols (templates, ids, header
//! order and checks are the HTTP/1.1 ones); httparse reads a head in well under a microsecond,
//! next to the several microseconds the h2 crate spends per stream.

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{HeaderName, HeaderValue, Method, Request, Uri};

/// Fields HTTP/2 forbids (connection-specific) or replaces with a pseudo-header.
const DROPPED: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

/// The HTTP/2 form of `wire` (one whole HTTP/1.1 request) sent to `scheme://authority` (both
/// parsed once per run; cloning them shares their bytes). `Err` only when `wire` is not a
/// request `encode` could have written.
pub fn to_h2(
    wire: &[u8],
    scheme: &Scheme,
    authority: &Authority,
) -> Result<(Request<()>, Bytes), String> {
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut fields);
    let head_len = match req.parse(wire) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("incomplete request head".into()),
        Err(e) => return Err(e.to_string()),
    };
    let method =
        Method::from_bytes(req.method.unwrap_or("GET").as_bytes()).map_err(|e| e.to_string())?;
    let uri = Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query(req.path.unwrap_or("/"))
        .build()
        .map_err(|e| e.to_string())?;
    let mut out = Request::builder()
        .method(method)
        .uri(uri)
        .version(http::Version::HTTP_2)
        .body(())
        .map_err(|e| e.to_string())?;
    let headers = out.headers_mut();
    for f in req.headers.iter() {
        if DROPPED.iter().any(|d| f.name.eq_ignore_ascii_case(d)) {
            continue;
        }
        if f.name.eq_ignore_ascii_case("te") && !f.value.eq_ignore_ascii_case(b"trailers") {
            continue;
        }
        let name = HeaderName::from_bytes(f.name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_bytes(f.value).map_err(|e| e.to_string())?;
        headers.append(name, value);
    }
    Ok((out, Bytes::copy_from_slice(&wire[head_len..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_connection_fields_become_pseudo_headers_or_go() {
        let wire = b"POST /items?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8443\r\nconnection: keep-alive\r\nx-key: k1\r\nte: gzip\r\ncontent-length: 2\r\n\r\n{}";
        let authority = Authority::from_static("127.0.0.1:8443");
        let (req, body) = to_h2(wire, &Scheme::HTTPS, &authority).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri().to_string(), "https://127.0.0.1:8443/items?x=1");
        assert_eq!(req.headers().get("x-key").unwrap(), "k1");
        assert!(req.headers().get("host").is_none());
        assert!(req.headers().get("connection").is_none());
        assert!(
            req.headers().get("te").is_none(),
            "te other than trailers is dropped"
        );
        assert_eq!(req.headers().get("content-length").unwrap(), "2");
        assert_eq!(&body[..], b"{}");
    }

    #[test]
    fn te_trailers_is_kept_for_grpc() {
        let wire = b"GET / HTTP/1.1\r\nhost: h\r\nte: trailers\r\n\r\n";
        let (req, body) = to_h2(wire, &Scheme::HTTP, &Authority::from_static("h:80")).unwrap();
        assert_eq!(req.headers().get("te").unwrap(), "trailers");
        assert!(body.is_empty());
    }
}
