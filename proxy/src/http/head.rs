//! Request and response heads: parsed with httparse, kept as ranges into the bytes read (no
//! header map, no copy), and re-encoded for the next hop without the hop-by-hop headers
//! (RFC 9110 section 7.6.1). Bodies are relayed in their own framing, so `Transfer-Encoding`
//! goes through unless a chunked answer must be decoded for an HTTP/1.0 caller.
//!
//! Over 600 lines only with its unit tests (the code ends near line 520): heads are one parser and
//! one encoder, and the tests sit beside them.

use super::framing::Framing;
use bytes::{Bytes, BytesMut};
use std::ops::Range;

/// Largest head accepted from either side (request or status line plus headers).
pub(crate) const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;

/// Why a head could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeadError {
    Malformed(String),
    TooLarge,
}

impl HeadError {
    fn from_httparse(e: httparse::Error) -> HeadError {
        match e {
            httparse::Error::TooManyHeaders => HeadError::TooLarge,
            other => HeadError::Malformed(other.to_string()),
        }
    }

    /// The status the proxy answers a caller's bad head with.
    pub fn status(&self) -> u16 {
        match self {
            HeadError::Malformed(_) => 400,
            HeadError::TooLarge => 431,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            HeadError::Malformed(why) => format!("malformed head: {why}"),
            HeadError::TooLarge => format!(
                "head too large (over {} KiB or {MAX_HEADERS} header fields)",
                MAX_HEAD / 1024
            ),
        }
    }
}

type Field = (Range<usize>, Range<usize>);

/// What the connection tokens and framing headers of a head say.
#[derive(Default)]
struct Hop {
    close: bool,
    keep_alive: bool,
    upgrade: bool,
    /// Transfer codings seen, and whether `chunked` was the last one (and only there).
    codings: usize,
    chunked_last: bool,
    chunked_early: bool,
    has_te: bool,
    length: Option<Result<u64, ()>>,
    has_host: bool,
    expect_continue: bool,
    /// Names listed in `Connection` beyond close/keep-alive/upgrade, which are hop-by-hop too.
    listed: bool,
}

/// A parsed request head, owning its bytes.
pub(crate) struct RequestHead {
    raw: Bytes,
    method: Range<usize>,
    target: Range<usize>,
    fields: Vec<Field>,
    pub http10: bool,
    pub framing: Framing,
    /// The caller wants the connection kept after this exchange.
    pub keep_alive: bool,
    pub expect_continue: bool,
    /// `Upgrade` with `Connection: upgrade` (e.g. WebSocket).
    pub upgrade: bool,
    has_host: bool,
    listed: bool,
}

/// Where `part` lies in `base`; empty when it lies elsewhere (httparse gives a static "" for an
/// absent reason phrase).
fn range_of(base: &[u8], part: &[u8]) -> Range<usize> {
    let (b, p) = (base.as_ptr() as usize, part.as_ptr() as usize);
    match p.checked_sub(b) {
        Some(start) if start + part.len() <= base.len() => start..start + part.len(),
        _ => 0..0,
    }
}

fn text<'a>(raw: &'a [u8], r: &Range<usize>) -> &'a str {
    std::str::from_utf8(&raw[r.clone()]).unwrap_or("")
}

/// Reads the headers that decide framing and connection handling.
fn hop_of<'a>(fields: impl Iterator<Item = (&'a str, &'a [u8])>) -> Hop {
    let mut hop = Hop::default();
    for (name, value) in fields {
        if name.eq_ignore_ascii_case("connection") {
            for token in tokens(value) {
                if token.eq_ignore_ascii_case(b"close") {
                    hop.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    hop.keep_alive = true;
                } else if token.eq_ignore_ascii_case(b"upgrade") {
                    hop.upgrade = true;
                } else {
                    hop.listed = true;
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            hop.has_te = true;
            for token in tokens(value) {
                hop.chunked_early |= hop.chunked_last;
                hop.chunked_last = token.eq_ignore_ascii_case(b"chunked");
                hop.codings += 1;
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            // Every item must be a number (an empty one too is an error, not "absent").
            for token in value.split(|&b| b == b',').map(|t| t.trim_ascii()) {
                let n = std::str::from_utf8(token)
                    .ok()
                    .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or(());
                hop.length = match (hop.length, n) {
                    (None, n) => Some(n),
                    (Some(Ok(a)), Ok(b)) if a == b => Some(Ok(a)),
                    _ => Some(Err(())),
                };
            }
        } else if name.eq_ignore_ascii_case("host") {
            hop.has_host = true;
        } else if name.eq_ignore_ascii_case("expect") {
            hop.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
        }
    }
    hop
}

impl Hop {
    /// Chunked is the last transfer coding and appears only there ("gzip, chunked" is fine).
    fn chunked(&self) -> bool {
        self.chunked_last && !self.chunked_early
    }
}

fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
}

/// Header names that describe one hop and are never forwarded as they are.
fn is_hop_by_hop(name: &str) -> bool {
    const HOP: [&str; 7] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    ];
    HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// True when `name` is listed in one of the `Connection` fields. Fields that frame the message
/// or name its host are never removed this way: dropping them while relaying the body in the
/// framing we read would let the body be read as another request.
fn listed_in_connection<'a>(
    name: &str,
    mut fields: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> bool {
    const KEPT: [&str; 3] = ["content-length", "transfer-encoding", "host"];
    if KEPT.iter().any(|k| name.eq_ignore_ascii_case(k)) {
        return false;
    }
    fields.any(|(n, v)| {
        n.eq_ignore_ascii_case("connection")
            && tokens(v).any(|t| t.eq_ignore_ascii_case(name.as_bytes()))
    })
}

impl RequestHead {
    /// Takes a complete head off the front of `buf`; `Ok(None)` when more bytes are needed.
    pub fn parse(buf: &mut BytesMut) -> Result<Option<RequestHead>, HeadError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let len = match req.parse(buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                return Err(HeadError::TooLarge)
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(HeadError::from_httparse(e)),
        };
        if len > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let base: &[u8] = buf;
        let method = range_of(base, req.method.unwrap_or("").as_bytes());
        let target = range_of(base, req.path.unwrap_or("").as_bytes());
        let http10 = req.version == Some(0);
        let hop = hop_of(req.headers.iter().map(|h| (h.name, h.value)));
        let fields: Vec<Field> = req
            .headers
            .iter()
            .map(|h| (range_of(base, h.name.as_bytes()), range_of(base, h.value)))
            .collect();
        let framing = match (hop.has_te, hop.length) {
            (true, Some(_)) => {
                return Err(HeadError::Malformed(
                    "both Transfer-Encoding and Content-Length".into(),
                ))
            }
            (true, None) if hop.chunked() => Framing::Chunked,
            (true, None) => {
                return Err(HeadError::Malformed(
                    "Transfer-Encoding whose last coding is not chunked".into(),
                ))
            }
            (false, Some(Ok(n))) => Framing::Length(n),
            (false, Some(Err(()))) => {
                return Err(HeadError::Malformed("invalid Content-Length".into()))
            }
            (false, None) => Framing::Empty,
        };
        // An HTTP/1.0 message with Transfer-Encoding has faulty framing: close after it.
        let keep_alive = if http10 {
            hop.keep_alive && !hop.close && !hop.has_te
        } else {
            !hop.close
        };
        let raw = buf.split_to(len).freeze();
        Ok(Some(RequestHead {
            raw,
            method,
            target,
            fields,
            http10,
            framing,
            keep_alive,
            expect_continue: hop.expect_continue && !http10,
            upgrade: hop.upgrade && !http10,
            has_host: hop.has_host,
            listed: hop.listed,
        }))
    }

    pub fn method(&self) -> &str {
        text(&self.raw, &self.method)
    }

    pub fn has_host(&self) -> bool {
        self.has_host
    }

    pub fn is_head(&self) -> bool {
        self.method() == "HEAD"
    }

    /// For an absolute-form target ("http://host:port/path"), the part after the scheme.
    fn after_scheme(&self) -> Option<&str> {
        let target = text(&self.raw, &self.target);
        let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
        ["http://", "https://"]
            .iter()
            .find_map(|s| lower.starts_with(s).then(|| &target[s.len()..]))
    }

    /// The authority of an absolute-form target, which replaces the caller's `Host`.
    fn authority(&self) -> Option<&str> {
        let rest = self.after_scheme()?;
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        Some(&rest[..end]).filter(|a| !a.is_empty())
    }

    /// The target in origin form ("/path?query"), whatever form the caller used.
    pub fn path_and_query(&self) -> &str {
        let Some(rest) = self.after_scheme() else {
            return text(&self.raw, &self.target);
        };
        match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
            // "http://host?q" has an empty path: "/" must be added, so only "/" is returned.
            _ => "/",
        }
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        let pq = self.path_and_query();
        pq.split('?').next().unwrap_or(pq)
    }

    /// Header fields in the order received.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.fields
            .iter()
            .map(|(n, v)| (text(&self.raw, n), &self.raw[v.clone()]))
    }

    /// The first field called `name` (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The head to send upstream: origin form, HTTP/1.1, hop-by-hop fields and `Expect`
    /// removed (the proxy answers 100-continue itself), one normalised `content-length`, and
    /// `Host` from an absolute-form target, else the caller's, else `host`.
    pub fn encode_upstream(&self, host: &str, out: &mut Vec<u8>) {
        let authority = self.authority();
        let pq = self.path_and_query();
        let pq = if pq.is_empty() { "/" } else { pq };
        out.extend_from_slice(&self.raw[self.method.clone()]);
        out.push(b' ');
        out.extend_from_slice(pq.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in self.fields() {
            let upgrade_kept = self.upgrade && name.eq_ignore_ascii_case("upgrade");
            let drop = (is_hop_by_hop(name) && !upgrade_kept)
                || (self.expect_continue && name.eq_ignore_ascii_case("expect"))
                || name.eq_ignore_ascii_case("content-length")
                || (authority.is_some() && name.eq_ignore_ascii_case("host"))
                || (self.listed && listed_in_connection(name, self.fields()));
            if !drop {
                push_field(out, name.as_bytes(), value);
            }
        }
        if let Framing::Length(n) = self.framing {
            push_length(out, n);
        }
        match authority {
            Some(a) => push_field(out, b"host", a.as_bytes()),
            None if !self.has_host => push_field(out, b"host", host.as_bytes()),
            None => {}
        }
        if self.upgrade {
            out.extend_from_slice(b"connection: upgrade\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// `content-length: N` CRLF.
fn push_length(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"content-length: ");
    push_decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

/// `n` in decimal, without the allocation `to_string` makes on every answer.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// A parsed response head; its ranges point into the buffer it was parsed from, which must
/// stay unchanged until `encode_caller` has run.
pub(crate) struct ResponseHead {
    pub len: usize,
    pub status: u16,
    reason: Range<usize>,
    fields: Vec<Field>,
    pub framing: Framing,
    /// The upstream connection may carry another request after this one.
    pub reusable: bool,
    listed: bool,
    has_te: bool,
    /// The valid `Content-Length` (also on answers to HEAD and on 304s, where it frames nothing).
    length: Option<u64>,
}

/// How the answer is framed towards the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallerFraming {
    /// Chunked upstream body decoded for an HTTP/1.0 caller (who then sees close-delimited).
    pub dechunk: bool,
    /// The caller's connection ends after this answer.
    pub close: bool,
}

impl ResponseHead {
    /// Parses a head at the start of `buf`; `Ok(None)` when more bytes are needed.
    pub fn parse(buf: &[u8], head_request: bool) -> Result<Option<ResponseHead>, HeadError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let len = match resp.parse(buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                return Err(HeadError::TooLarge)
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(HeadError::from_httparse(e)),
        };
        let status = resp.code.unwrap_or(0);
        let http10 = resp.version == Some(0);
        let hop = hop_of(resp.headers.iter().map(|h| (h.name, h.value)));
        let no_body =
            head_request || (100..200).contains(&status) || status == 204 || status == 304;
        let framing = match (no_body, hop.has_te, hop.length) {
            (true, _, _) => Framing::Empty,
            (false, true, _) if hop.chunked() => Framing::Chunked,
            (false, true, _) => Framing::UntilClose,
            (false, false, Some(Ok(n))) => Framing::Length(n),
            (false, false, Some(Err(()))) => {
                return Err(HeadError::Malformed("invalid Content-Length".into()))
            }
            (false, false, None) => Framing::UntilClose,
        };
        let keep = if http10 {
            hop.keep_alive && !hop.close
        } else {
            !hop.close
        };
        // Transfer-Encoding with Content-Length: the length is dropped and the connection not
        // reused (RFC 9112 section 6.3).
        let both = hop.has_te && hop.length.is_some();
        Ok(Some(ResponseHead {
            len,
            status,
            reason: range_of(buf, resp.reason.unwrap_or("").as_bytes()),
            fields: resp
                .headers
                .iter()
                .map(|h| (range_of(buf, h.name.as_bytes()), range_of(buf, h.value)))
                .collect(),
            framing,
            reusable: keep && framing != Framing::UntilClose && !both,
            listed: hop.listed,
            has_te: hop.has_te,
            length: hop.length.and_then(Result::ok),
        }))
    }

    /// An interim answer (1xx other than 101 Switching Protocols).
    pub fn interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// How the answer goes to a caller that sent `req`.
    pub fn caller_framing(&self, req: &RequestHead) -> CallerFraming {
        let dechunk = req.http10 && self.framing == Framing::Chunked;
        let until_close = self.framing == Framing::UntilClose || dechunk;
        CallerFraming {
            dechunk,
            close: !req.keep_alive || until_close || self.status == 101,
        }
    }

    /// The head for the caller: HTTP/1.1 status line, hop-by-hop fields removed, and the
    /// caller's connection handling stated.
    pub fn encode_caller(
        &self,
        buf: &[u8],
        req: &RequestHead,
        how: CallerFraming,
        out: &mut Vec<u8>,
    ) {
        let fields = || {
            self.fields
                .iter()
                .map(|(n, v)| (text(buf, n), &buf[v.clone()]))
        };
        out.extend_from_slice(b"HTTP/1.1 ");
        push_decimal(out, u64::from(self.status));
        out.push(b' ');
        out.extend_from_slice(&buf[self.reason.clone()]);
        out.extend_from_slice(b"\r\n");
        let switching = self.status == 101;
        for (name, value) in fields() {
            let drop = (is_hop_by_hop(name)
                && !(switching && name.eq_ignore_ascii_case("upgrade")))
                || (how.dechunk && name.eq_ignore_ascii_case("transfer-encoding"))
                || name.eq_ignore_ascii_case("content-length")
                || (self.listed && listed_in_connection(name, fields()));
            if !drop {
                push_field(out, name.as_bytes(), value);
            }
        }
        if let (Some(n), false) = (self.length, self.has_te) {
            push_length(out, n);
        }
        if switching {
            out.extend_from_slice(b"connection: upgrade\r\n");
        } else if how.close {
            out.extend_from_slice(b"connection: close\r\n");
        } else if req.http10 {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(raw: &str) -> Result<Option<RequestHead>, HeadError> {
        RequestHead::parse(&mut BytesMut::from(raw.as_bytes()))
    }

    fn upstream_head(raw: &str) -> String {
        let head = request(raw).unwrap().unwrap();
        let mut out = Vec::new();
        head.encode_upstream("up:80", &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parses_and_leaves_the_body_in_the_buffer() {
        let mut buf = BytesMut::from(
            &b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET"[..],
        );
        let head = RequestHead::parse(&mut buf).unwrap().unwrap();
        assert_eq!(head.method(), "POST");
        assert_eq!(head.path_and_query(), "/a?b=1");
        assert_eq!(head.path(), "/a");
        assert_eq!(head.framing, Framing::Length(3));
        assert!(head.keep_alive && !head.http10);
        assert_eq!(head.field("HOST"), Some(&b"x"[..]));
        assert_eq!(&buf[..], b"abcGET");
    }

    #[test]
    fn partial_heads_wait_and_huge_ones_are_refused() {
        assert!(request("GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        let huge = format!("GET / HTTP/1.1\r\nx: {}\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(request(&huge).err(), Some(HeadError::TooLarge));
        assert!(matches!(
            request("GET / HTTP/1.1\r\nbad header\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
    }

    #[test]
    fn framing_rules_for_requests() {
        let chunked = request("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(chunked.unwrap().unwrap().framing, Framing::Chunked);
        for bad in [
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        ] {
            assert!(
                matches!(request(bad), Err(HeadError::Malformed(_))),
                "{bad}"
            );
        }
        let same = request("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n");
        assert_eq!(same.unwrap().unwrap().framing, Framing::Length(3));
    }

    #[test]
    fn upstream_head_drops_hop_by_hop_fields_and_adds_host() {
        let out = upstream_head(
            "GET http://example:81/p?q HTTP/1.0\r\nConnection: keep-alive, x-hop\r\nx-hop: 1\r\nKeep-Alive: 5\r\nx-id: 7\r\n\r\n",
        );
        assert_eq!(
            out,
            "GET /p?q HTTP/1.1\r\nx-id: 7\r\nhost: example:81\r\n\r\n"
        );
        let out = upstream_head("GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n");
        assert_eq!(out, "GET /x HTTP/1.1\r\nhost: a\r\n\r\n");
        let out = upstream_head(
            "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        );
        assert_eq!(
            out,
            "PUT / HTTP/1.1\r\nHost: h\r\ncontent-length: 1\r\n\r\n"
        );
        let out = upstream_head(
            "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        );
        assert_eq!(
            out,
            "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nconnection: upgrade\r\n\r\n"
        );
    }

    #[test]
    fn http10_keep_alive_only_when_asked() {
        assert!(
            !request("GET / HTTP/1.0\r\n\r\n")
                .unwrap()
                .unwrap()
                .keep_alive
        );
        let ka = request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(ka.unwrap().unwrap().keep_alive);
        let close = request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(!close.unwrap().unwrap().keep_alive);
    }

    fn answer(req: &str, resp: &str) -> (ResponseHead, String) {
        let req = request(req).unwrap().unwrap();
        let head = ResponseHead::parse(resp.as_bytes(), req.is_head())
            .unwrap()
            .unwrap();
        let mut out = Vec::new();
        head.encode_caller(resp.as_bytes(), &req, head.caller_framing(&req), &mut out);
        (head, String::from_utf8(out).unwrap())
    }

    #[test]
    fn response_heads_for_the_caller() {
        let (h, out) = answer(
            "GET / HTTP/1.1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(
            (h.status, h.framing, h.reusable),
            (200, Framing::Length(5), true)
        );
        assert_eq!(h.len, out.len() + "Connection: keep-alive\r\n".len());
        assert_eq!(out, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");

        let (h, out) = answer(
            "GET / HTTP/1.0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        assert_eq!(h.framing, Framing::Chunked);
        assert_eq!(out, "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");

        let (h, out) = answer(
            "HEAD / HTTP/1.1\r\n\r\n",
            "HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\n",
        );
        assert_eq!((h.framing, h.reusable), (Framing::Empty, false));
        assert_eq!(out, "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n");

        let (h, _) = answer("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!((h.framing, h.reusable), (Framing::UntilClose, false));
        let (h, _) = answer("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n");
        assert!(h.interim());
        assert!(
            ResponseHead::parse(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false).is_err()
        );
    }

    #[test]
    fn connection_cannot_remove_framing_or_host() {
        let out = upstream_head(
            "POST / HTTP/1.1\r\nHost: h\r\nConnection: content-length, host, transfer-encoding\r\nContent-Length: 2\r\n\r\n",
        );
        assert_eq!(
            out,
            "POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 2\r\n\r\n"
        );
        let (_, out) = answer(
            "GET / HTTP/1.1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 2\r\n\r\n",
        );
        assert_eq!(out, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n");
    }

    #[test]
    fn lengths_are_normalised_and_dropped_next_to_transfer_encoding() {
        let out = upstream_head("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\n");
        assert_eq!(
            out,
            "PUT / HTTP/1.1\r\nHost: h\r\ncontent-length: 3\r\n\r\n"
        );
        for bad in [
            "POST / HTTP/1.1\r\nContent-Length: ,\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: ,5\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        ] {
            assert!(
                matches!(request(bad), Err(HeadError::Malformed(_))),
                "{bad}"
            );
        }
        let (h, out) = answer(
            "GET / HTTP/1.1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
        );
        assert_eq!((h.framing, h.reusable), (Framing::Chunked, false));
        assert_eq!(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let te10 = request(
            "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        assert!(!te10.unwrap().unwrap().keep_alive);
    }

    #[test]
    fn a_status_line_without_reason_is_fine() {
        let (h, out) = answer(
            "GET / HTTP/1.1\r\n\r\n",
            "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
        );
        assert_eq!(h.status, 200);
        assert_eq!(out, "HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\n");
    }

    #[test]
    fn decimals_match_std_formatting() {
        for n in [0u64, 7, 10, 404, 65_536, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
