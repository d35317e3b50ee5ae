//! The keep-alive pool of plain TCP connections to the upstream. A connection goes back to the
//! idle list only after its answer was read to the end with nothing left over; one that the
//! upstream closed while idle is noticed when taken (without a system call when nothing
//! happened on it).

use bytes::BytesMut;
use std::io;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Read buffer of an upstream connection; grown only for a head larger than this.
const READ_BUF: usize = 16 * 1024;

/// Why a request could not be exchanged with the upstream.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("connect: {0}")]
    Connect(#[source] io::Error),
    #[error("connect: timed out after {}s", CONNECT_TIMEOUT.as_secs())]
    ConnectTimeout,
    #[error("sending the request: {0}")]
    Send(#[source] io::Error),
    #[error("reading the answer: {0}")]
    Read(#[source] io::Error),
    #[error("connection closed before a complete answer")]
    Closed,
    #[error("invalid answer: {0}")]
    Malformed(String),
}

/// One connection to the upstream with the bytes read from it but not yet used.
pub(crate) struct UpstreamConn {
    pub stream: TcpStream,
    pub buf: BytesMut,
    generation: u64,
    /// Taken from the idle list (so it may have been closed by the upstream meanwhile).
    pub reused: bool,
}

impl UpstreamConn {
    /// Reads more into `buf`; 0 at end of stream.
    pub async fn fill(&mut self) -> io::Result<usize> {
        self.make_room();
        self.stream.read_buf(&mut self.buf).await
    }

    /// Reads what has already arrived, without waiting (`WouldBlock` when nothing has).
    pub fn try_fill(&mut self) -> io::Result<usize> {
        self.make_room();
        self.stream.try_read_buf(&mut self.buf)
    }

    fn make_room(&mut self) {
        if self.buf.capacity() - self.buf.len() < READ_BUF / 4 {
            self.buf.reserve(READ_BUF);
        }
    }
}

pub(crate) struct Pool {
    target: RwLock<Arc<str>>,
    idle: Mutex<Idle>,
    max_idle: usize,
}

struct Idle {
    /// Bumped by `set_target`, so connections to a previous upstream are not reused.
    generation: u64,
    conns: Vec<UpstreamConn>,
}

impl Pool {
    pub fn new(target: String, max_idle: usize) -> Pool {
        Pool {
            target: RwLock::new(target.into()),
            idle: Mutex::new(Idle {
                generation: 0,
                conns: Vec::new(),
            }),
            max_idle,
        }
    }

    pub fn target(&self) -> Arc<str> {
        self.target
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_target(&self, target: String) {
        *self.target.write().unwrap_or_else(|p| p.into_inner()) = target.into();
        let mut idle = self.idle();
        idle.generation += 1;
        idle.conns.clear();
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Idle> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns a connection whose answer was read whole; anything else is dropped.
    pub fn put(&self, conn: UpstreamConn) {
        if !conn.buf.is_empty() {
            return;
        }
        let mut idle = self.idle();
        if conn.generation == idle.generation && idle.conns.len() < self.max_idle {
            idle.conns.push(conn);
        }
    }

    /// An idle connection that still looks open, or a new one.
    pub async fn get(&self) -> Result<UpstreamConn, UpstreamError> {
        loop {
            let Some(mut conn) = self.idle().conns.pop() else {
                return self.connect().await;
            };
            if still_open(&conn.stream) {
                conn.reused = true;
                return Ok(conn);
            }
        }
    }

    /// A new connection (also used to retry a request an idle connection could not take).
    pub async fn connect(&self) -> Result<UpstreamConn, UpstreamError> {
        let generation = self.idle().generation;
        let target = self.target();
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&*target))
            .await
            .map_err(|_| UpstreamError::ConnectTimeout)?
            .map_err(UpstreamError::Connect)?;
        let _ = stream.set_nodelay(true);
        Ok(UpstreamConn {
            stream,
            buf: BytesMut::with_capacity(READ_BUF),
            generation,
            reused: false,
        })
    }
}

/// False when the upstream closed (or wrote to) an idle connection. The read readiness is only
/// set when something arrived since the last read came up short, so an untouched connection
/// costs no system call here.
fn still_open(stream: &TcpStream) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    match stream.poll_read_ready(&mut cx) {
        Poll::Pending => true,
        Poll::Ready(Err(_)) => false,
        Poll::Ready(Ok(())) => {
            let mut probe = [0u8; 1];
            matches!(stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
        }
    }
}
