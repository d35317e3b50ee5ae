//! Opening persistent connections (TCP or TLS) and running one bounded exchange on them.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use super::failure::{Failure, Said};
pub use super::http1::Answer;
use super::http1::Http1;
use super::io::Io;
use super::stats::FailKind;

pub type Conn = Http1;

/// How to reach the target; shared by a worker's in-flight exchanges.
pub struct Connector {
    addr: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    /// Whether connections capture answers' bodies (the body samples).
    pub bodies: bool,
}

impl Connector {
    pub fn new(
        addr: SocketAddr,
        tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    ) -> Self {
        Connector {
            addr,
            tls: tls.map(|(config, name)| (TlsConnector::from(config), name)),
            bodies: false,
        }
    }

    /// Opens a connection (TCP connect, and the TLS handshake for https).
    pub async fn connect(&self) -> Result<Conn, Failure> {
        Ok(Http1::new(self.connect_io().await?, self.bodies))
    }

    /// The stream of a new connection, for either protocol.
    pub async fn connect_io(&self) -> Result<Io, Failure> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(Failure::connect)?;
        let _ = tcp.set_nodelay(true);
        let io = match &self.tls {
            None => Io::Tcp(tcp),
            Some((tls, name)) => Io::Tls(Box::new(
                tls.connect(name.clone(), tcp).await.map_err(Failure::tls)?,
            )),
        };
        Ok(io)
    }
}

/// Sends the request encoded in `wbuf` on `conn` (or on a new connection if there is none or
/// the server closed it while idle), reads the whole response, and gives the connection back
/// with every answer (`conn.capture.reusable` says whether it can carry another request: if not, the
/// worker drops it once it read the answer's captured body). Bounded by `deadline`.
pub async fn exchange(
    connector: &Connector,
    conn: Option<Conn>,
    wbuf: Vec<u8>,
    head_request: bool,
    deadline: Instant,
) -> (Option<Conn>, Result<Answer, Failure>) {
    match tokio::time::timeout_at(deadline, attempt(connector, conn, wbuf, head_request)).await {
        Ok(done) => done,
        Err(_) => (
            None,
            Err(Failure::said(FailKind::Timeout, Said::NoAnswerInTime)),
        ),
    }
}

async fn attempt(
    connector: &Connector,
    conn: Option<Conn>,
    wbuf: Vec<u8>,
    head_request: bool,
) -> (Option<Conn>, Result<Answer, Failure>) {
    let reuse = match conn {
        Some(mut c) => (!c.closed_while_idle().await).then_some(c),
        None => None,
    };
    let mut conn = match reuse {
        Some(c) => c,
        // Connecting is rare and its future (TLS handshake state) is large: boxing it keeps
        // the per-request future small.
        None => match Box::pin(connector.connect()).await {
            Ok(c) => c,
            Err(kind) => return (None, Err(kind)),
        },
    };
    conn.wbuf = wbuf;
    match conn.exchange(head_request).await {
        Ok((answer, reusable)) => {
            conn.capture.reusable = reusable;
            (Some(conn), Ok(answer))
        }
        Err(kind) => (None, Err(kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Every request moves its exchange future into a Box: keep it small (connect is boxed
    /// separately because the TLS handshake state is several kilobytes).
    #[test]
    fn exchange_future_stays_small() {
        let connector = Connector::new(SocketAddr::from(([127, 0, 0, 1], 9)), None);
        let fut = exchange(&connector, None, Vec::new(), false, Instant::now());
        let size = std::mem::size_of_val(&fut);
        eprintln!("exchange future: {size} bytes");
        assert!(size < 1024, "exchange future is {size} bytes");
    }

    /// The connection moves with every exchange (idle list, future, result): body sampling
    /// (a boxed capture) must not make it larger than it was (moves past 104 bytes showed as
    /// +160 instructions/request of memcpy under callgrind).
    #[test]
    fn a_connection_stays_104_bytes() {
        assert!(
            std::mem::size_of::<Conn>() <= 104,
            "{}",
            std::mem::size_of::<Conn>()
        );
    }

    /// A server on one connection that answers `answers` requests at once, then reads the
    /// next one and holds it for 10 s.
    async fn answers_then_hangs(answers: usize) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            for _ in 0..answers {
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
            let _ = s.read(&mut buf).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        addr
    }

    async fn send(
        connector: &Connector,
        conn: Option<Conn>,
        within: Duration,
    ) -> (Option<Conn>, Result<Answer, Failure>, Duration) {
        let wbuf = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n".to_vec();
        let start = Instant::now();
        let (conn, result) = exchange(connector, conn, wbuf, false, start + within).await;
        (conn, result, start.elapsed())
    }

    /// Each request on a reused connection is bounded by its own deadline, whether it is
    /// later or earlier than the previous request's (a timer kept from an earlier request,
    /// or one not moved, would end it at the wrong time).
    #[tokio::test]
    async fn a_reused_connection_times_out_at_each_requests_own_deadline() {
        let connector = Connector::new(answers_then_hangs(2).await, None);
        let (conn, first, _) = send(&connector, None, Duration::from_millis(200)).await;
        assert_eq!(first.map(|a| a.status).map_err(|f| f.kind()), Ok(200));
        let (conn, second, _) = send(&connector, conn, Duration::from_secs(2)).await;
        assert_eq!(second.map(|a| a.status).map_err(|f| f.kind()), Ok(200));
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Earlier deadline than the second's: must end at 300 ms, not at the 2 s one.
        let (conn, third, took) = send(&connector, conn, Duration::from_millis(300)).await;
        assert_eq!(third.map_err(|f| f.kind()), Err(FailKind::Timeout));
        assert!(conn.is_none(), "a timed-out connection is not reused");
        assert!(took >= Duration::from_millis(300), "ended early: {took:?}");
        assert!(took < Duration::from_millis(1500), "ended late: {took:?}");
    }

    #[tokio::test]
    async fn a_later_deadline_on_a_reused_connection_is_not_cut_short() {
        let connector = Connector::new(answers_then_hangs(1).await, None);
        let (conn, first, _) = send(&connector, None, Duration::from_millis(200)).await;
        assert_eq!(first.map(|a| a.status).map_err(|f| f.kind()), Ok(200));
        assert!(
            conn.as_ref().is_some_and(|c| c.capture.reusable),
            "keep-alive answer: the connection is reused"
        );
        let (_, second, took) = send(&connector, conn, Duration::from_millis(700)).await;
        assert_eq!(second.map_err(|f| f.kind()), Err(FailKind::Timeout));
        assert!(
            took >= Duration::from_millis(700),
            "old deadline applied: {took:?}"
        );
        assert!(took < Duration::from_millis(2500), "ended late: {took:?}");
    }
}
