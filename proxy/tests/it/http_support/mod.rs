//! Shared by the `http_*` integration tests: a real upstream HTTP server on 127.0.0.1:0, a proxy
//! in front of it, and small real clients (hyper over a TCP socket, or raw bytes).
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use redline_proxy::fault::FaultSpec;
use redline_proxy::http::{HttpProxy, HttpProxyConfig};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A real upstream. Routes: `/bytes/N` answers N bytes of 'x' (content-length), `/chunked/N`
/// the same in 1 KiB chunks without a length, `/echo` returns the request body, `/sleep/MS`
/// answers after MS ms, anything else "hello". Counts the requests it received.
pub struct Upstream {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicU64>,
    pub connections: Arc<AtomicU64>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicU64::new(0));
        let counter = hits.clone();
        let connections = Arc::new(AtomicU64::new(0));
        let accepted = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let counter = counter.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| route(counter.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Upstream {
            addr,
            hits,
            connections,
        }
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

type UpBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn route(
    hits: Arc<AtomicU64>,
    req: Request<Incoming>,
) -> Result<Response<UpBody>, Infallible> {
    hits.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let body: UpBody = match parts.as_slice() {
        ["bytes", n] => Full::new(Bytes::from(vec![b'x'; n.parse().unwrap_or(0)])).boxed(),
        ["chunked", n] => Chunks(n.parse().unwrap_or(0)).boxed(),
        ["echo"] => {
            let b = req
                .into_body()
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            Full::new(b).boxed()
        }
        ["sleep", ms] => {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
            Full::new(Bytes::from_static(b"slept")).boxed()
        }
        _ => Full::new(Bytes::from_static(b"hello")).boxed(),
    };
    Ok(Response::new(body))
}

/// `n` bytes of 'x' in 1 KiB frames with no length known up front (sent chunked).
struct Chunks(usize);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        if self.0 == 0 {
            return std::task::Poll::Ready(None);
        }
        let n = self.0.min(1024);
        self.0 -= n;
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(vec![
            b'x';
            n
        ])))))
    }
}

/// A proxy on 127.0.0.1:0 in front of `upstream`, with `seed`.
pub async fn proxy_to(upstream: SocketAddr, seed: u64) -> HttpProxy {
    let mut cfg = HttpProxyConfig::new("dep", "127.0.0.1:0".parse().unwrap(), upstream.to_string());
    cfg.seed = seed;
    HttpProxy::start(cfg).await.unwrap()
}

pub fn fault(text: &str) -> FaultSpec {
    FaultSpec::parse_cli(text).unwrap()
}

/// What a client saw.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

/// One keep-alive HTTP/1.1 client connection.
pub struct Client {
    send: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(conn);
        Ok(Client { send })
    }

    /// Sends a request; an error means the connection failed (reset, closed, truncated body).
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Answer, String> {
        self.send.ready().await.map_err(|e| e.to_string())?;
        let resp = self
            .send
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let (head, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Answer {
            status: head.status,
            headers: head.headers,
            body,
        })
    }

    pub async fn get(&mut self, path: &str) -> Result<Answer, String> {
        self.send(get(path)).await
    }
}

pub fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", "dep")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// GET on a fresh connection.
pub async fn get_once(addr: SocketAddr, path: &str) -> Result<Answer, String> {
    let mut c = Client::connect(addr).await.map_err(|e| e.to_string())?;
    c.get(path).await
}

/// Writes `raw` on a fresh connection and reads until the peer closes or `wait` passes.
/// Returns the bytes read and whether the read ended in an error (e.g. a reset).
pub async fn raw_exchange(addr: SocketAddr, raw: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return (out, false),
            Ok(Ok(0)) => return (out, false),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => return (out, true),
        }
    }
}

/// Polls `cond` every 10 ms for up to 5 s (for log entries written when exchanges end).
pub async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}
