//! Opening persistent connections (TCP or TLS) and running one bounded exchange on them.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

pub use super::http1::Answer;
use super::http1::Http1;
use super::io::Io;
use super::stats::FailKind;

pub type Conn = Http1;

/// How to reach the target; shared by a worker's in-flight exchanges.
pub struct Connector {
    addr: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
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

    /// Opens a connection (TCP connect, and the TLS handshake for https).
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
        Ok(Http1::new(io))
    }
}

/// Sends the request encoded in `wbuf` on `conn` (or on a new connection if there is none or
/// the server closed it while idle), reads the whole response, and gives the connection back
/// if it can carry another request. Bounded by `deadline`.
pub async fn exchange(
    connector: &Connector,
    conn: Option<Conn>,
    wbuf: Vec<u8>,
    head_request: bool,
    deadline: Instant,
) -> (Option<Conn>, Result<Answer, FailKind>) {
    match tokio::time::timeout_at(deadline, attempt(connector, conn, wbuf, head_request)).await {
        Ok(done) => done,
        Err(_) => (None, Err(FailKind::Timeout)),
    }
}

async fn attempt(
    connector: &Connector,
    conn: Option<Conn>,
    wbuf: Vec<u8>,
    head_request: bool,
) -> (Option<Conn>, Result<Answer, FailKind>) {
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
        Ok((answer, true)) => (Some(conn), Ok(answer)),
        Ok((answer, false)) => (None, Ok(answer)),
        Err(kind) => (None, Err(kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
