//! A minimal HTTP/1.1 client connection for the hot path: one reused write buffer holding the
//! encoded request, one reused read buffer, httparse for the head, and body framing by
//! Content-Length, chunked transfer coding, or connection close. No allocation per request.
//!
//! Why not hyper's client: at saturation hyper costs about 3 us of user CPU per request here
//! (task hand-offs, channels, header maps, boxed state), three times wrk's total user time;
//! the engine's target is CPU per request at or below wrk's. The subset implemented is the
//! client side of RFC 9112 a load generator needs: no pipelining, no upgrades, interim 1xx
//! responses skipped, HEAD / 204 / 304 without body.

use std::mem::MaybeUninit;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::bodies::capture::Capture;
use super::failure::{Failure, Said};
use super::io::Io;
use super::stats::FailKind;

/// Largest response head accepted (status line + headers).
const MAX_HEAD: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// The parts of a response the engine keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub retry_after: bool,
    /// `grpc-status` of an HTTP/2 gRPC answer (headers or trailers); None otherwise.
    pub grpc_status: Option<u8>,
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

pub struct Http1 {
    io: Io,
    /// A boxed slice, not a Vec: the connection is moved with every exchange, and 8 bytes less
    /// keep it (with the capture's box) the size it had before body sampling.
    rbuf: Box<[u8]>,
    /// Unconsumed bytes are `rbuf[rpos..rlen]`.
    rpos: usize,
    rlen: usize,
    /// The encoded request; lent to the worker between exchanges so it can encode into it.
    pub wbuf: Vec<u8>,
    /// The last answer's body (first 4 KiB) and content type, for the body samples, and whether
    /// the connection can carry another request (boxed: the connection lives in every exchange
    /// future, which is kept small).
    pub capture: Box<Capture>,
}

impl Http1 {
    pub fn new(io: Io, capture: bool) -> Self {
        Http1 {
            io,
            rbuf: vec![0; READ_CHUNK].into_boxed_slice(),
            rpos: 0,
            rlen: 0,
            wbuf: Vec::with_capacity(512),
            capture: Box::new(Capture::new(capture)),
        }
    }

    /// Writes the request in `wbuf`, reads the whole response. `Ok((answer, reusable))`.
    pub async fn exchange(&mut self, head_request: bool) -> Result<(Answer, bool), Failure> {
        self.io.write_all(&self.wbuf).await.map_err(Failure::io)?;
        // TLS may hold records back until flushed; for plain TCP this returns at once.
        self.io.flush().await.map_err(Failure::io)?;
        let (answer, framing, close) = loop {
            let (answer, framing, close) = self.read_head(head_request).await?;
            // Interim responses (100 Continue, 103 Early Hints) precede the real one.
            if (100..200).contains(&answer.status) && answer.status != 101 {
                continue;
            }
            break (answer, framing, close);
        };
        let reusable = match framing {
            Framing::None => true,
            Framing::Length(n) => {
                self.skip(n, true).await?;
                true
            }
            Framing::Chunked => {
                self.skip_chunked().await?;
                true
            }
            Framing::UntilClose => {
                self.capture.body(&self.rbuf[self.rpos..self.rlen]);
                self.rpos = self.rlen;
                while self.fill().await? > 0 {
                    self.capture.body(&self.rbuf[self.rpos..self.rlen]);
                    self.rpos = self.rlen;
                }
                false
            }
        };
        if self.rpos == self.rlen {
            self.rpos = 0;
            self.rlen = 0;
        }
        Ok((answer, reusable && !close && answer.status != 101))
    }

    /// Whether the server closed (or wrote to) this connection while it was idle: polled once,
    /// without a syscall when the socket has not become readable.
    pub async fn closed_while_idle(&mut self) -> bool {
        use std::future::poll_fn;
        use std::pin::Pin;
        use std::task::Poll;
        use tokio::io::{AsyncRead, ReadBuf};
        let (io, buf) = (&mut self.io, &mut self.rbuf[..]);
        poll_fn(|cx| {
            let mut rb = ReadBuf::new(&mut buf[..1]);
            match Pin::new(&mut *io).poll_read(cx, &mut rb) {
                Poll::Pending => Poll::Ready(false),
                // EOF, stray bytes or an error: either way not safe to reuse.
                Poll::Ready(_) => Poll::Ready(true),
            }
        })
        .await
    }

    /// Reads more bytes after `rlen`; returns how many (0 at EOF). Compacts or grows the buffer.
    async fn fill(&mut self) -> Result<usize, Failure> {
        if self.rpos == self.rlen {
            self.rpos = 0;
            self.rlen = 0;
        } else if self.rlen == self.rbuf.len() {
            if self.rpos > 0 {
                self.rbuf.copy_within(self.rpos..self.rlen, 0);
                self.rlen -= self.rpos;
                self.rpos = 0;
            } else if self.rbuf.len() < MAX_HEAD {
                let mut grown = std::mem::take(&mut self.rbuf).into_vec();
                grown.resize(grown.len() * 2, 0);
                self.rbuf = grown.into_boxed_slice();
            } else {
                return Err(Failure::said(FailKind::Protocol, Said::HeadTooLarge));
            }
        }
        let n = self
            .io
            .read(&mut self.rbuf[self.rlen..])
            .await
            .map_err(Failure::io)?;
        self.rlen += n;
        Ok(n)
    }

    async fn read_head(&mut self, head_request: bool) -> Result<(Answer, Framing, bool), Failure> {
        loop {
            if self.rlen > self.rpos {
                // Uninitialised slots: httparse writes only the headers it finds, where an
                // `[EMPTY_HEADER; 64]` costs 2 KiB of stores per response.
                let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; 64];
                let mut resp = httparse::Response::new(&mut []);
                let buf = &self.rbuf[self.rpos..self.rlen];
                // Default config: the same strict rules as `Response::parse`.
                let parser = httparse::ParserConfig::default();
                match parser.parse_response_with_uninit_headers(&mut resp, buf, &mut headers) {
                    Ok(httparse::Status::Complete(len)) => {
                        self.capture.reset();
                        let parsed = head_of(&resp, head_request, &mut self.capture)?;
                        self.rpos += len;
                        return Ok(parsed);
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(e) => return Err(Failure::head(e)),
                }
            }
            if self.fill().await? == 0 {
                return Err(Failure::said(FailKind::Reset, Said::ClosedBeforeHead));
            }
        }
    }

    /// Discards `n` body bytes (`body`: body content, offered to the capture; else framing).
    async fn skip(&mut self, mut n: u64, body: bool) -> Result<(), Failure> {
        loop {
            let have = (self.rlen - self.rpos) as u64;
            let take = have.min(n);
            if body {
                self.capture
                    .body(&self.rbuf[self.rpos..self.rpos + take as usize]);
            }
            self.rpos += take as usize;
            n -= take;
            if n == 0 {
                return Ok(());
            }
            if self.fill().await? == 0 {
                return Err(Failure::said(FailKind::Reset, Said::ClosedInBody));
            }
        }
    }

    /// The next CRLF-terminated line as a range of `rbuf` (consumed).
    async fn line(&mut self) -> Result<(usize, usize), Failure> {
        loop {
            if let Some(i) = self.rbuf[self.rpos..self.rlen]
                .windows(2)
                .position(|w| w == b"\r\n")
            {
                let start = self.rpos;
                self.rpos += i + 2;
                return Ok((start, start + i));
            }
            if self.rlen - self.rpos > MAX_HEAD / 2 {
                return Err(Failure::said(FailKind::Protocol, Said::ChunkLineTooLong));
            }
            if self.fill().await? == 0 {
                return Err(Failure::said(FailKind::Reset, Said::ClosedInBody));
            }
        }
    }

    /// Discards a chunked body, trailers included.
    async fn skip_chunked(&mut self) -> Result<(), Failure> {
        loop {
            let (a, b) = self.line().await?;
            let size = chunk_size(&self.rbuf[a..b])
                .ok_or_else(|| Failure::said(FailKind::Protocol, Said::BadChunkSize))?;
            if size == 0 {
                // Trailer fields until an empty line.
                loop {
                    let (a, b) = self.line().await?;
                    if a == b {
                        return Ok(());
                    }
                }
            }
            self.skip(size, true).await?;
            self.skip(2, false).await?;
        }
    }
}

/// Status, framing and `Connection: close` from a parsed head.
fn head_of(
    resp: &httparse::Response<'_, '_>,
    head_request: bool,
    capture: &mut Capture,
) -> Result<(Answer, Framing, bool), Failure> {
    let fail = |said| Failure::said(FailKind::Protocol, said);
    let status = resp.code.ok_or_else(|| fail(Said::NoStatus))?;
    let (mut length, mut chunked, mut close, mut retry_after) =
        (None, false, resp.version == Some(0), false);
    for h in resp.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let v = content_length(h.value).ok_or_else(|| fail(Said::BadContentLength))?;
            if length.is_some_and(|l| l != v) {
                return Err(fail(Said::ConflictingLengths));
            }
            length = Some(v);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = h
                .value
                .split(|c| *c == b',')
                .next_back()
                .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"connection") {
            close |= h
                .value
                .split(|c| *c == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
        } else if name.eq_ignore_ascii_case(b"retry-after") {
            retry_after = true;
        } else if capture.on && name.eq_ignore_ascii_case(b"content-type") {
            capture.content_type(h.value);
        }
    }
    let framing = if head_request || (100..200).contains(&status) || status == 204 || status == 304
    {
        Framing::None
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        if n == 0 {
            Framing::None
        } else {
            Framing::Length(n)
        }
    } else {
        Framing::UntilClose
    };
    Ok((
        Answer {
            status,
            retry_after,
            grpc_status: None,
        },
        framing,
        close,
    ))
}

/// A Content-Length value: 1*DIGIT (RFC 9110 8.6) around optional whitespace. A digit loop:
/// `str::from_utf8` + `parse::<u64>` cost about 250 instructions per response, 3% of the
/// engine's user-space work per request.
fn content_length(value: &[u8]) -> Option<u64> {
    let digits = value.trim_ascii();
    // 19 digits always fit in a u64.
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(c - b'0');
    }
    Some(n)
}

/// Hex chunk size, ignoring chunk extensions after `;`.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let hex = line.split(|c| *c == b';').next()?.trim_ascii();
    if hex.is_empty() || hex.len() > 15 {
        return None;
    }
    let mut n = 0u64;
    for c in hex {
        n = n * 16 + (*c as char).to_digit(16)? as u64;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_lengths() {
        assert_eq!(content_length(b"73"), Some(73));
        assert_eq!(content_length(b" 0 "), Some(0));
        assert_eq!(
            content_length(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(content_length(b"99999999999999999999"), None, "20 digits");
        assert_eq!(content_length(b"+5"), None, "1*DIGIT: no sign");
        assert_eq!(content_length(b"5 5"), None);
        assert_eq!(content_length(b"0x10"), None);
        assert_eq!(content_length(b""), None);
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"0"), Some(0));
        assert_eq!(chunk_size(b"FF;ext=1"), Some(255));
        assert_eq!(chunk_size(b"zz"), None);
        assert_eq!(chunk_size(b""), None);
    }

    fn head(raw: &[u8], head_request: bool) -> (Answer, Framing, bool) {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut resp = httparse::Response::new(&mut headers);
        resp.parse(raw).unwrap();
        head_of(&resp, head_request, &mut Capture::new(true)).unwrap()
    }

    #[test]
    fn framing_rules() {
        assert_eq!(
            head(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", false).1,
            Framing::Length(5)
        );
        assert_eq!(
            head(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", true).1,
            Framing::None
        );
        assert_eq!(
            head(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
                false
            )
            .1,
            Framing::Chunked
        );
        assert_eq!(
            head(b"HTTP/1.1 204 No Content\r\n\r\n", false).1,
            Framing::None
        );
        assert_eq!(
            head(b"HTTP/1.1 200 OK\r\n\r\n", false).1,
            Framing::UntilClose
        );
        let (a, _, close) = head(b"HTTP/1.1 503 X\r\nConnection: keep-alive, close\r\nRetry-After: 3\r\ncontent-length: 0\r\n\r\n", false);
        assert_eq!(
            a,
            Answer {
                status: 503,
                retry_after: true,
                grpc_status: None,
            }
        );
        assert!(close);
        assert!(
            head(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", false).2,
            "HTTP/1.0 closes by default"
        );
    }
}
