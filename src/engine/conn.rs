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
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use tokio::net::TcpStream;

use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use super::io::Io;
use super::request::Req;
use super::stats::FailKind;

/// A persistent connection: the request handle and the connection state machine, both owned
/// by the worker. The connection is driven inside each exchange (no task per connection), so a
/// response wakes the worker directly instead of a connection task that then wakes it.
pub struct Live {
    send: SendRequest<Full<Bytes>>,
    conn: http1::Connection<TokioIo<Io>, Full<Bytes>>,
}

/// Boxed so that moving a connection in and out of an exchange copies a pointer.
pub type Conn = Box<Live>;

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

    /// Opens a connection (TCP connect, TLS handshake if https, HTTP/1.1 handshake).
    pub async fn connect(&self) -> Result<Conn, FailKind> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|_| FailKind::Connect)?;
        let _ = tcp.set_nodelay(true);
        let io = match &self.tls {
            None => Io::Tcp(tcp),
            Some((tls, name)) => Io::Tls(Box::new(
                tls.connect(name.clone(), tcp)
                    .await
                    .map_err(|_| FailKind::Tls)?,
            )),
        };
        let (send, conn) = http1::Builder::new()
            .handshake(TokioIo::new(io))
            .await
            .map_err(classify)?;
        Ok(Box::new(Live { send, conn }))
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
        Ok((conn, result)) => (conn, result),
        Err(_) => (None, Err(FailKind::Timeout)),
    }
}

async fn attempt(
    connector: &Connector,
    conn: Option<Conn>,
    req: Req,
) -> (Option<Conn>, Result<Answer, FailKind>) {
    // Connecting is rare and its future (TLS handshake state) is large: boxing it keeps the
    // per-request future small, which is moved into a Box on every request.
    let reuse = match conn {
        Some(mut c) => (!closed_while_idle(&mut c).await).then_some(c),
        None => None,
    };
    let mut live = match reuse {
        Some(c) => c,
        None => match Box::pin(connector.connect()).await {
            Ok(c) => c,
            Err(kind) => return (None, Err(kind)),
        },
    };
    let (result, reusable) = drive(&mut live, req).await;
    (reusable.then_some(live), result)
}

/// Runs one request on `live`, polling the connection alongside; also says whether the
/// connection can carry another request.
async fn drive(live: &mut Live, req: Req) -> (Result<Answer, FailKind>, bool) {
    let Live { send, conn } = live;
    let work = async {
        send.ready().await.map_err(classify)?;
        let resp = send.send_request(req).await.map_err(classify)?;
        let answer = Answer {
            status: resp.status().as_u16(),
            retry_after: resp.headers().contains_key(RETRY_AFTER),
        };
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(classify)?;
        }
        Ok::<_, FailKind>(answer)
    };
    let mut work = std::pin::pin!(work);
    let mut conn_ended: Option<Result<(), FailKind>> = None;
    // Drive the connection and the exchange together; two rounds per wake cover the usual
    // hand-offs (request queued -> written; head parsed -> body delivered) without self-wakes.
    let result = poll_fn(|cx| {
        for _ in 0..2 {
            if conn_ended.is_none() {
                if let Poll::Ready(r) = Pin::new(&mut *conn).poll(cx) {
                    conn_ended = Some(r.map_err(classify));
                }
            }
            if let Poll::Ready(r) = work.as_mut().poll(cx) {
                return Poll::Ready(r);
            }
            if let Some(ended) = conn_ended {
                // The connection is gone and the exchange did not finish with it.
                return Poll::Ready(Err(ended.err().unwrap_or(FailKind::Reset)));
            }
        }
        Poll::Pending
    })
    .await;
    let reusable = conn_ended.is_none() && result.is_ok();
    (result, reusable)
}

/// Polls an idle connection once: true if the server closed it since the last exchange.
async fn closed_while_idle(live: &mut Live) -> bool {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut live.conn).poll(cx).is_ready())).await
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
