//! The HTTP/2 connection to the upstream: one multiplexed connection (h2c prior knowledge, or
//! TLS with ALPN h2 when configured) shared by every caller stream, opened on first use and again once it closed or
//! the target changed.

use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::io;
use std::sync::Mutex;
use tokio::net::TcpStream;

#[derive(Default)]
pub(crate) struct H2Upstream {
    current: Mutex<Option<(std::sync::Arc<str>, SendRequest<Incoming>)>>,
}

impl H2Upstream {
    /// A handle to send one request to `target` on the shared connection.
    pub async fn sender(
        &self,
        target: &std::sync::Arc<str>,
        tls: Option<&super::H2Tls>,
    ) -> io::Result<SendRequest<Incoming>> {
        if let Some((t, s)) = &*self.lock() {
            if t == target && !s.is_closed() {
                return Ok(s.clone());
            }
        }
        // Two streams may race to connect; the later connection replaces the earlier one, and
        // the earlier one closes once its streams end.
        let tcp = TcpStream::connect(&**target).await?;
        let _ = tcp.set_nodelay(true);
        let sender = match tls.and_then(|t| t.upstream.as_ref()) {
            None => handshake(tcp).await?,
            Some((connector, name)) => {
                handshake(connector.connect(name.clone(), tcp).await?).await?
            }
        };
        *self.lock() = Some((target.clone(), sender.clone()));
        Ok(sender)
    }

    /// Drops the shared connection (the proxy stopped); it closes once its streams end.
    pub fn close(&self) {
        self.lock().take();
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<(std::sync::Arc<str>, SendRequest<Incoming>)>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn handshake<I>(io: I) -> io::Result<SendRequest<Incoming>>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .map_err(io::Error::other)?;
    tokio::spawn(connection);
    Ok(sender)
}
