//! The caller's side of one connection: its socket, the bytes read ahead of parsing, the byte
//! counters, waiting on something while noticing the caller hang up, and the abrupt (RST) or
//! graceful ends of the connection.

use super::conn::ConnCtl;
use super::Shared;
use bytes::BytesMut;
use std::future::Future;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes read ahead of use (a request body during a fault, pipelined requests) are kept up to
/// this much; beyond it the proxy stops reading until they are used.
pub(crate) const READ_AHEAD_MAX: usize = 1 << 20;
const READ_CHUNK: usize = 16 * 1024;

/// The caller closed its connection (or it broke) while we waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gone;

pub(crate) struct Caller {
    pub stream: TcpStream,
    /// Read from the caller, not yet used.
    pub buf: BytesMut,
    shared: Arc<Shared>,
    ctl: Arc<ConnCtl>,
}

impl Caller {
    pub fn new(stream: TcpStream, shared: Arc<Shared>, ctl: Arc<ConnCtl>) -> Caller {
        Caller {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
            shared,
            ctl,
        }
    }

    /// Reads more into `buf`; 0 at end of stream.
    pub async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        let n = self.stream.read_buf(&mut self.buf).await?;
        self.shared
            .counters
            .bytes_in
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data).await?;
        self.shared
            .counters
            .bytes_out
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Runs `fut` to its end unless the caller hangs up first. Meanwhile whatever the caller
    /// sends (the rest of a body, a pipelined request) is kept in `buf`, up to `READ_AHEAD_MAX`.
    pub async fn watch<F: Future>(&mut self, fut: F) -> Result<F::Output, Gone> {
        tokio::pin!(fut);
        loop {
            let room = self.buf.len() < READ_AHEAD_MAX;
            tokio::select! {
                biased;
                out = &mut fut => return Ok(out),
                read = self.fill(), if room => match read {
                    Ok(0) | Err(_) => return Err(Gone),
                    Ok(_) => {}
                },
            }
        }
    }

    /// Waits until the caller hangs up, throwing away whatever it sends (a request that is never
    /// answered).
    pub async fn wait_gone(&mut self) {
        loop {
            self.buf.clear();
            if matches!(self.fill().await, Ok(0) | Err(_)) {
                return;
            }
        }
    }

    /// Ends the connection with a TCP RST once this is dropped.
    pub fn reset_on_drop(&self) {
        self.ctl.mark_reset();
    }

    /// Closes after an answer while the caller may still be sending a body we did not read:
    /// shut our side, then drain briefly, so the kernel does not answer unread bytes with a
    /// RST that could destroy the answer in flight.
    pub async fn lingering_close(mut self) {
        let _ = self.stream.shutdown().await;
        let drain = async {
            let mut scratch = [0u8; 4096];
            while matches!(self.stream.read(&mut scratch).await, Ok(n) if n > 0) {}
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    }
}

impl Drop for Caller {
    fn drop(&mut self) {
        if self.ctl.reset_requested() {
            // Zero linger makes close() send RST instead of FIN: an abrupt reset, never a block.
            let _ = self.stream.set_zero_linger();
        }
    }
}
