//! Opening persistent HTTP/1.1 connections (TCP or TLS) and running one exchange on them.

use std::error::Error as _;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::RETRY_AFTER;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use super::request::Req;
use super::stats::FailKind;

pub type Conn = SendRequest<Full<Bytes>>;

/// How to reach the target; shared by a worker's in-flight exchanges.
pub struct Connector {
    addr: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

/// The answer to one exchange.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub status: u16,
    pub retry_after: bool,
}

impl Connector {
    pub fn new(
        addr: SocketAddr,
        tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    ) -> Self {
        Connector {
            addr,
            tls: tls.map(|(config, name)| (TlsConnector::from(config), name)),
        }
    }

    /// Opens a connection; its driver runs as a task on the current (worker) runtime.
    pub async fn connect(&self) -> Result<Conn, FailKind> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|_| FailKind::Connect)?;
        let _ = tcp.set_nodelay(true);
        let builder = http1::Builder::new();
        match &self.tls {
            None => {
                let (send, conn) = builder
                    .handshake(TokioIo::new(tcp))
                    .await
                    .map_err(classify)?;
                tokio::spawn(conn);
                Ok(send)
            }
            Some((tls, name)) => {
                let stream = tls
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|_| FailKind::Tls)?;
                let (send, conn) = builder
                    .handshake(TokioIo::new(stream))
                    .await
                    .map_err(classify)?;
                tokio::spawn(conn);
                Ok(send)
            }
        }
    }
}

/// Sends `req` on `conn` (or a new connection if there is none or it was closed), reads the
/// whole body, and gives the connection back if it can be reused. Bounded by `deadline`.
pub async fn exchange(
    connector: &Connector,
    conn: Option<Conn>,
    req: Req,
    deadline: Instant,
) -> (Option<Conn>, Result<Answer, FailKind>) {
    match tokio::time::timeout_at(deadline, attempt(connector, conn, req)).await {
        Ok(Ok((conn, answer))) => (Some(conn), Ok(answer)),
        Ok(Err(kind)) => (None, Err(kind)),
        Err(_) => (None, Err(FailKind::Timeout)),
    }
}

async fn attempt(
    connector: &Connector,
    conn: Option<Conn>,
    req: Req,
) -> Result<(Conn, Answer), FailKind> {
    // Connecting is rare and its future (TLS handshake state) is large: boxing it keeps the
    // per-request future small, which is moved into a Box on every request.
    let mut conn = match conn {
        Some(mut c) => match c.ready().await {
            Ok(()) => c,
            Err(_) => Box::pin(connector.connect()).await?,
        },
        None => Box::pin(connector.connect()).await?,
    };
    let resp = conn.send_request(req).await.map_err(classify)?;
    let answer = Answer {
        status: resp.status().as_u16(),
        retry_after: resp.headers().contains_key(RETRY_AFTER),
    };
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        frame.map_err(classify)?;
    }
    Ok((conn, answer))
}

/// Maps a hyper error to a failure kind without formatting anything.
fn classify(err: hyper::Error) -> FailKind {
    if err.is_timeout() {
        return FailKind::Timeout;
    }
    if err.is_canceled() || err.is_closed() || err.is_incomplete_message() {
        return FailKind::Reset;
    }
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof => FailKind::Reset,
                _ => FailKind::Protocol,
            };
        }
        source = e.source();
    }
    FailKind::Protocol
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every request moves its exchange future into a Box: keep it small (connect is boxed
    /// separately because the TLS handshake state is several kilobytes).
    #[test]
    fn exchange_future_stays_small() {
        let connector = Connector::new(SocketAddr::from(([127, 0, 0, 1], 9)), None);
        let req = hyper::Request::new(Full::new(Bytes::new()));
        let fut = exchange(&connector, None, req, Instant::now());
        let size = std::mem::size_of_val(&fut);
        eprintln!("exchange future: {size} bytes");
        assert!(size < 2048, "exchange future is {size} bytes");
    }
}
