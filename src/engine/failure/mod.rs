//! Why a request failed: its cause kept unformatted (an `io::Error`, httparse's error or a fixed
//! reason) and the Copy kind the hot path counts derived from it, so the first few failures of
//! each kind can be put into words (`text`) without formatting every failed request.

pub mod hints;
pub mod samples;

use super::stats::FailKind;

/// A failed exchange: what happened, as the failing call reported it (turned into text only
/// when sampled), and from that the kind it counts as. One pointer: every call on the exchange
/// path returns `Result<_, Failure>`, and a small error keeps those results in registers; the
/// cause is boxed, so only a failure allocates.
#[derive(Debug)]
pub struct Failure(Box<Cause>);

/// What happened.
#[derive(Debug)]
enum Cause {
    /// TCP connect failed.
    Connect(std::io::Error),
    /// The TLS handshake failed.
    Tls(std::io::Error),
    /// Writing the request or reading the answer failed (kind from the error's `ErrorKind`).
    Io(std::io::Error),
    /// The response head did not parse.
    Head(httparse::Error),
    /// The HTTP/2 connection or stream failed (protocol error, reset, GOAWAY, I/O).
    H2(h2::Error),
    /// A failure the engine detected itself.
    Said(FailKind, Said),
}

/// Failures the engine itself detects, each with a fixed sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    HeadTooLarge,
    BadContentLength,
    ConflictingLengths,
    NoStatus,
    BadChunkSize,
    ChunkLineTooLong,
    ClosedBeforeHead,
    ClosedInBody,
    NoAnswerInTime,
    QueuedPastTimeout,
    BadPath,
    Cancelled,
    NoH2Alpn,
    BadGrpcMessage,
    NoGrpcStatus,
}

impl Said {
    pub fn sentence(self) -> &'static str {
        match self {
            Said::HeadTooLarge => "response head larger than 64 KiB",
            Said::BadContentLength => "invalid Content-Length in the response",
            Said::ConflictingLengths => "two different Content-Length values in the response",
            Said::NoStatus => "response head without a status code",
            Said::BadChunkSize => "invalid chunk size line in a chunked response body",
            Said::ChunkLineTooLong => "chunk size line longer than 32 KiB",
            Said::ClosedBeforeHead => "connection closed by the server before the response head",
            Said::ClosedInBody => {
                "connection closed by the server in the middle of the response body"
            }
            Said::NoAnswerInTime => "no complete answer within the timeout",
            Said::QueuedPastTimeout => {
                "waited for a free connection until the timeout passed (never sent)"
            }
            Said::BadPath => "the rendered path holds a space or control character (not sent)",
            Said::Cancelled => "still waiting or in flight when the run was stopped",
            Said::NoH2Alpn => "the server did not select h2 in the TLS handshake (ALPN)",
            Said::BadGrpcMessage => {
                "the rendered gRPC message does not fit the method's input type (not sent)"
            }
            Said::NoGrpcStatus => "a gRPC answer without grpc-status in its headers or trailers",
        }
    }
}

impl Failure {
    pub fn said(kind: FailKind, said: Said) -> Failure {
        Failure(Box::new(Cause::Said(kind, said)))
    }

    /// An I/O error while writing the request or reading the answer.
    pub fn io(e: std::io::Error) -> Failure {
        Failure(Box::new(Cause::Io(e)))
    }

    /// TCP connect failed.
    pub fn connect(e: std::io::Error) -> Failure {
        Failure(Box::new(Cause::Connect(e)))
    }

    /// The TLS handshake failed.
    pub fn tls(e: std::io::Error) -> Failure {
        Failure(Box::new(Cause::Tls(e)))
    }

    /// The response head did not parse.
    pub fn head(e: httparse::Error) -> Failure {
        Failure(Box::new(Cause::Head(e)))
    }

    /// The HTTP/2 connection or stream failed.
    pub fn h2(e: h2::Error) -> Failure {
        Failure(Box::new(Cause::H2(e)))
    }

    /// The kind this failure counts as.
    pub fn kind(&self) -> FailKind {
        use std::io::ErrorKind::*;
        match &*self.0 {
            Cause::Connect(_) => FailKind::Connect,
            Cause::Tls(_) => FailKind::Tls,
            Cause::Io(e) => match e.kind() {
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
                    FailKind::Reset
                }
                TimedOut => FailKind::Timeout,
                _ => FailKind::Protocol,
            },
            Cause::Head(_) => FailKind::Protocol,
            Cause::H2(e) => match e.get_io().map(|io| io.kind()) {
                Some(ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof) => {
                    FailKind::Reset
                }
                Some(TimedOut) => FailKind::Timeout,
                Some(_) => FailKind::Protocol,
                None if e.is_go_away() || e.is_reset() => FailKind::Reset,
                None => FailKind::Protocol,
            },
            Cause::Said(kind, _) => *kind,
        }
    }

    /// The failure in words, from the cause's source chain, with the place it concerns:
    /// "Connection refused (os error 111) to 127.0.0.1:8080".
    pub fn text(&self, ctx: &Context<'_>) -> String {
        match &*self.0 {
            Cause::Connect(e) => format!("{} to {}", chain(e), ctx.addr),
            Cause::Tls(e) => format!("{} for {}", chain(e), ctx.authority),
            Cause::Io(e) => chain(e),
            Cause::Head(e) => format!("malformed response head: {e}"),
            Cause::H2(e) => format!("HTTP/2: {}", chain(e)),
            Cause::Said(_, s @ (Said::NoAnswerInTime | Said::QueuedPastTimeout)) => {
                format!(
                    "{} (timeout = {})",
                    s.sentence(),
                    human_duration(ctx.timeout)
                )
            }
            Cause::Said(_, s) => s.sentence().to_string(),
        }
    }
}

/// Where requests went, for the failure texts.
pub struct Context<'a> {
    /// The address connected to.
    pub addr: std::net::SocketAddr,
    /// host:port as the base URL names it (what a certificate must match).
    pub authority: &'a str,
    pub timeout: std::time::Duration,
}

/// The error and each of its sources, ": "-separated, skipping a source whose text the chain
/// already holds (io::Error shows its inner error's text, and some errors repeat their source).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(source) = next {
        let s = source.to_string();
        if !s.is_empty() && !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        next = source.source();
    }
    text
}

/// "200ms", "5s", "1.5s": as a scenario would write it.
pub fn human_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ctx() -> Context<'static> {
        Context {
            addr: "127.0.0.1:8080".parse().unwrap(),
            authority: "localhost:18443",
            timeout: Duration::from_millis(250),
        }
    }

    #[test]
    fn texts_name_the_place_they_concern() {
        let refused = Failure::connect(std::io::Error::from_raw_os_error(111));
        assert_eq!(
            refused.text(&ctx()),
            "Connection refused (os error 111) to 127.0.0.1:8080"
        );
        let tls = Failure::tls(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert_eq!(
            tls.text(&ctx()),
            "invalid peer certificate: UnknownIssuer for localhost:18443"
        );
        let reset = Failure::io(std::io::Error::from_raw_os_error(104));
        assert_eq!(reset.kind(), FailKind::Reset);
        let late = Failure::said(FailKind::Timeout, Said::NoAnswerInTime);
        assert_eq!(
            late.text(&ctx()),
            "no complete answer within the timeout (timeout = 250ms)"
        );
    }

    #[test]
    fn chains_add_only_what_is_new() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("handshake failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::from_raw_os_error(104));
        assert_eq!(
            chain(&e),
            "handshake failed: Connection reset by peer (os error 104)"
        );
    }

    /// Every settled request moves its `Result<Answer, Failure>`: keep it as small as the
    /// cause allows (an `io::Error` is one pointer).
    #[test]
    fn a_failure_stays_small() {
        let size = std::mem::size_of::<Result<crate::engine::conn::Answer, Failure>>();
        eprintln!("Result<Answer, Failure>: {size} bytes");
        assert!(size <= 16, "{size} bytes");
        assert_eq!(std::mem::size_of::<Failure>(), 8);
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(human_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(human_duration(Duration::from_secs(5)), "5s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
    }
}
