//! The keep-alive connection pool to the upstream: HTTP/1.1 client connections that go back to
//! an idle list once a response body has been read to its end (a body abandoned half-way closes
//! its connection, since HTTP/1 cannot resume it).

use super::ReqBody;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::net::TcpStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request could not be exchanged with the upstream.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("connect: {0}")]
    Connect(#[source] std::io::Error),
    #[error("connect: timed out after {}s", CONNECT_TIMEOUT.as_secs())]
    ConnectTimeout,
    #[error("handshake: {0}")]
    Handshake(#[source] hyper::Error),
    #[error("{0}")]
    Exchange(#[source] hyper::Error),
}

pub(crate) struct Pool {
    target: RwLock<Arc<str>>,
    idle: Mutex<Idle>,
    max_idle: usize,
}

struct Idle {
    /// Bumped by `set_target`, so connections to a previous upstream are not reused.
    generation: u64,
    senders: Vec<SendRequest<ReqBody>>,
}

/// A connection on loan for one exchange; `release` once the response body ended.
pub(crate) struct Lease {
    pool: Arc<Pool>,
    generation: u64,
    sender: SendRequest<ReqBody>,
}

impl Lease {
    pub fn release(self) {
        self.pool.put(self.generation, self.sender);
    }
}

impl Pool {
    pub fn new(target: String, max_idle: usize) -> Pool {
        Pool {
            target: RwLock::new(target.into()),
            idle: Mutex::new(Idle {
                generation: 0,
                senders: Vec::new(),
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
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.generation += 1;
        idle.senders.clear();
    }

    fn put(&self, generation: u64, sender: SendRequest<ReqBody>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if generation == idle.generation
            && idle.senders.len() < self.max_idle
            && !sender.is_closed()
        {
            idle.senders.push(sender);
        }
    }

    fn take(&self) -> Option<(u64, SendRequest<ReqBody>)> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(sender) = idle.senders.pop() {
            if !sender.is_closed() {
                return Some((idle.generation, sender));
            }
        }
        None
    }

    async fn connect(&self) -> Result<(u64, SendRequest<ReqBody>), UpstreamError> {
        let generation = self
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .generation;
        let target = self.target();
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&*target))
            .await
            .map_err(|_| UpstreamError::ConnectTimeout)?
            .map_err(UpstreamError::Connect)?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(UpstreamError::Handshake)?;
        tokio::spawn(conn);
        Ok((generation, sender))
    }

    /// Sends `req` on an idle connection (or a new one) and waits for the response head.
    /// A request that an idle connection could not take (it was closing) is retried once on a
    /// fresh connection.
    pub async fn send(
        self: &Arc<Self>,
        req: Request<ReqBody>,
    ) -> Result<(Response<Incoming>, Lease), UpstreamError> {
        let mut req = req;
        if let Some((generation, mut sender)) = self.take() {
            // Idle connections are ready at once; one just released may need a moment.
            if sender.ready().await.is_ok() {
                match sender.try_send_request(req).await {
                    Ok(resp) => return Ok((resp, self.lease(generation, sender))),
                    Err(mut e) => match e.take_message() {
                        Some(back) => req = back,
                        None => return Err(UpstreamError::Exchange(e.into_error())),
                    },
                }
            }
        }
        let (generation, mut sender) = self.connect().await?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(UpstreamError::Exchange)?;
        Ok((resp, self.lease(generation, sender)))
    }

    fn lease(self: &Arc<Self>, generation: u64, sender: SendRequest<ReqBody>) -> Lease {
        Lease {
            pool: self.clone(),
            generation,
            sender,
        }
    }
}
