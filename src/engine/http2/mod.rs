//! The HTTP/2 client of the load engine (`[target] http = "2"`, or "auto" when TLS ALPN picks
//! h2): the `h2` crate (flow control, HPACK, stream states), a per-worker pool of at most the
//! worker's share of `max_connections`, each carrying up to `streams_per_connection` requests
//! at once. The worker loop is the HTTP/1.1 one; only its "is there room / take a connection"
//! steps ask this pool, and an exchange is one stream, bounded by the request's deadline.
//!
//! A new request goes to the least busy connection that has a free stream; a new connection is
//! opened only when every one is full (so few connections carry many streams). A connection that ended (GOAWAY, error, close) is
//! dropped from the pool; a request refused before anything of it was processed (GOAWAY,
//! REFUSED_STREAM, a connection that closed) is sent once more on another connection.

pub mod convert;
pub mod grpc;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use http::{HeaderValue, Request};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::conn::{Answer, Connector};
use super::failure::{Failure, Said};
use super::io::Io;
use super::stats::FailKind;
use grpc::GrpcMethod;

/// Stream and connection receive windows: large enough that flow control never paces a load
/// test's answers (the h2 default of 64 KiB would, for bodies of more than a few KiB).
const STREAM_WINDOW: u32 = 1 << 20;
const CONN_WINDOW: u32 = 1 << 24;

/// One HTTP/2 connection of the pool.
struct Lane {
    /// Set once the connection is up (the first stream on it opens it; others wait).
    send: OnceCell<SendRequest<Bytes>>,
    active: Cell<usize>,
    /// Set by the connection's driver task when the connection ended, or by a stream that
    /// saw it fail.
    dead: Arc<AtomicBool>,
}

impl Lane {
    fn new() -> Rc<Lane> {
        Rc::new(Lane {
            send: OnceCell::new(),
            active: Cell::new(0),
            dead: Arc::new(AtomicBool::new(false)),
        })
    }

    fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Relaxed)
    }
}

/// A worker's HTTP/2 connections.
pub struct H2Pool {
    connector: Connector,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    lanes: RefCell<Vec<Rc<Lane>>>,
    /// Streams in flight over all lanes.
    active: Cell<usize>,
    max_lanes: usize,
    streams: usize,
}

/// One stream's claim on a lane; gives the stream back when dropped (answer, failure, timeout).
pub struct Slot {
    pool: Rc<H2Pool>,
    lane: Rc<Lane>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.lane.active.set(self.lane.active.get() - 1);
        self.pool.active.set(self.pool.active.get() - 1);
    }
}

impl H2Pool {
    pub fn new(
        connector: Connector,
        tls: bool,
        authority: http::uri::Authority,
        max_lanes: usize,
        streams: usize,
    ) -> Rc<H2Pool> {
        Rc::new(H2Pool {
            connector,
            scheme: if tls {
                http::uri::Scheme::HTTPS
            } else {
                http::uri::Scheme::HTTP
            },
            authority,
            lanes: RefCell::new(Vec::new()),
            active: Cell::new(0),
            max_lanes: max_lanes.max(1),
            streams: streams.max(1),
        })
    }

    fn prune(&self) {
        self.lanes.borrow_mut().retain(|l| !l.is_dead());
    }

    /// Whether a request can start now (a free stream, or room for a new connection).
    pub fn has_room(&self) -> bool {
        self.prune();
        let lanes = self.lanes.borrow().len();
        lanes < self.max_lanes || self.active.get() < lanes * self.streams
    }

    /// Claims a stream: on the least busy connection with a free stream, else on a new one.
    /// Call only after `has_room`.
    pub fn take(self: &Rc<Self>) -> Slot {
        let lane = self.pick();
        lane.active.set(lane.active.get() + 1);
        self.active.set(self.active.get() + 1);
        Slot {
            pool: self.clone(),
            lane,
        }
    }

    fn pick(&self) -> Rc<Lane> {
        self.prune();
        let mut lanes = self.lanes.borrow_mut();
        let least = lanes.iter().min_by_key(|l| l.active.get()).cloned();
        match least {
            Some(l) if l.active.get() < self.streams || lanes.len() >= self.max_lanes => l,
            _ => {
                let lane = Lane::new();
                lanes.push(lane.clone());
                lane
            }
        }
    }

    /// The HTTP/2 request for `wire` (an encoded HTTP/1.1 request); for a gRPC call its JSON
    /// body becomes the framed message, with the gRPC headers and `grpc-timeout` = `left`.
    pub fn prepare(
        &self,
        wire: &[u8],
        grpc: Option<&GrpcMethod>,
        left: Duration,
    ) -> Result<(Request<()>, Bytes), Failure> {
        let (mut req, body) = convert::to_h2(wire, &self.scheme, &self.authority)
            .map_err(|_| Failure::said(FailKind::Protocol, Said::BadPath))?;
        let Some(method) = grpc else {
            return Ok((req, body));
        };
        let framed = method
            .frame(&body)
            .map_err(|_| Failure::said(FailKind::Protocol, Said::BadGrpcMessage))?;
        let h = req.headers_mut();
        h.remove(http::header::CONTENT_LENGTH);
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        h.insert(http::header::TE, HeaderValue::from_static("trailers"));
        h.insert("grpc-timeout", grpc::timeout_header(left));
        Ok((req, framed))
    }

    /// Opens a connection: TCP (+ TLS with ALPN h2), the HTTP/2 preface and settings; its
    /// driver runs as a task on the worker's runtime and marks the lane dead when it ends.
    async fn open(&self, dead: Arc<AtomicBool>) -> Result<SendRequest<Bytes>, Failure> {
        let io = Box::pin(self.connector.connect_io()).await?;
        if let Io::Tls(tls) = &io {
            if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
                return Err(Failure::said(FailKind::Protocol, Said::NoH2Alpn));
            }
        }
        let (send, conn) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONN_WINDOW)
            .enable_push(false)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(Failure::h2)?;
        tokio::spawn(async move {
            let _ = conn.await;
            dead.store(true, Ordering::Relaxed);
        });
        Ok(send)
    }
}

impl Slot {
    /// Moves this claim to another connection (the one it had refused the stream).
    fn move_on(&mut self) {
        self.lane.dead.store(true, Ordering::Relaxed);
        let lane = self.pool.pick();
        lane.active.set(lane.active.get() + 1);
        self.lane.active.set(self.lane.active.get() - 1);
        self.lane = lane;
    }
}

/// Sends `req` with `body` as one stream and reads the whole answer (trailers included), all
/// before `deadline`. A timed-out stream is reset (CANCEL) when its future is dropped.
/// A gRPC call's answer must carry a `grpc-status` (`grpc`).
pub async fn exchange(
    mut slot: Slot,
    req: Request<()>,
    body: Bytes,
    deadline: Instant,
    grpc: bool,
) -> Result<Answer, Failure> {
    let run = async {
        match attempt(&slot, req.clone(), body.clone()).await {
            Err(Refused(_)) => {
                slot.move_on();
                attempt(&slot, req, body)
                    .await
                    .map_err(Failed::into_failure)
            }
            other => other.map_err(Failed::into_failure),
        }
    };
    match tokio::time::timeout_at(deadline, run).await {
        Ok(Ok(a)) if grpc && a.status == 200 && a.grpc_status.is_none() => {
            Err(Failure::said(FailKind::Protocol, Said::NoGrpcStatus))
        }
        Ok(done) => done,
        Err(_) => Err(Failure::said(FailKind::Timeout, Said::NoAnswerInTime)),
    }
}

/// Why an attempt failed: `Refused` when the server cannot have acted on the request.
enum Failed {
    Refused(Failure),
    Other(Failure),
}
use Failed::{Other, Refused};

impl Failed {
    fn into_failure(self) -> Failure {
        match self {
            Refused(f) | Other(f) => f,
        }
    }
}

/// Sorts an h2 error: a connection-level one ends the lane; GOAWAY and REFUSED_STREAM mean the
/// server did not act on the stream, and an I/O error before the request was sent is safe too.
fn refused(e: h2::Error, lane: &Lane, sent: bool) -> Failed {
    if !e.is_reset() {
        lane.dead.store(true, Ordering::Relaxed);
    }
    if e.is_go_away() || e.reason() == Some(h2::Reason::REFUSED_STREAM) || (!sent && e.is_io()) {
        Refused(Failure::h2(e))
    } else {
        Other(Failure::h2(e))
    }
}

async fn attempt(slot: &Slot, req: Request<()>, body: Bytes) -> Result<Answer, Failed> {
    let lane = &slot.lane;
    let dead = lane.dead.clone();
    let send = lane
        .send
        .get_or_try_init(|| slot.pool.open(dead))
        .await
        .map_err(|f| {
            lane.dead.store(true, Ordering::Relaxed);
            Other(f)
        })?;
    let mut send = send
        .clone()
        .ready()
        .await
        .map_err(|e| refused(e, lane, false))?;
    let (response, mut stream) = send
        .send_request(req, body.is_empty())
        .map_err(|e| refused(e, lane, false))?;
    if !body.is_empty() {
        stream
            .send_data(body, true)
            .map_err(|e| Other(Failure::h2(e)))?;
    }
    let response = response.await.map_err(|e| refused(e, lane, true))?;
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key(http::header::RETRY_AFTER);
    let mut grpc_status = response
        .headers()
        .get("grpc-status")
        .and_then(|v| grpc::parse_status(v.as_bytes()));
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| Other(Failure::h2(e)))?;
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    if grpc_status.is_none() {
        if let Some(trailers) = body.trailers().await.map_err(|e| Other(Failure::h2(e)))? {
            grpc_status = trailers
                .get("grpc-status")
                .and_then(|v| grpc::parse_status(v.as_bytes()));
        }
    }
    Ok(Answer {
        status,
        retry_after,
        grpc_status,
    })
}
