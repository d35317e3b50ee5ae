//! Test helpers for the reference service: a switchable UserService (healthy / error / hang / slow)
//! that records every call it receives, and a minimal HTTP client. Both use real loopback sockets.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How the test dependency answers `/users/{key}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Healthy,
    /// Answers this status at once.
    Error(u16),
    /// Never answers (holds the request for 60 s, longer than any test).
    Hang,
    /// Answers 200 after this delay.
    Slow(Duration),
}

/// One call as the dependency saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    pub path: String,
    pub request_id: Option<String>,
    pub traceparent: Option<String>,
}

#[derive(Debug)]
struct Shared {
    mode: Mutex<Mode>,
    calls: Mutex<Vec<Call>>,
    connections: std::sync::atomic::AtomicUsize,
}

/// A real HTTP server on 127.0.0.1:0 standing in for UserService. Dropping it stops it.
#[derive(Debug)]
pub struct FlakyDependency {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FlakyDependency {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

impl FlakyDependency {
    pub async fn start(mode: Mode) -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), mode).await
    }

    /// Listens on `addr` (e.g. the address of a dependency that was stopped, to bring it back).
    pub async fn start_on(addr: SocketAddr, mode: Mode) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            mode: Mutex::new(mode),
            calls: Mutex::new(Vec::new()),
            connections: std::sync::atomic::AtomicUsize::new(0),
        });
        let task = tokio::spawn(accept(listener, Arc::clone(&shared)));
        Self { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    pub fn call_count(&self) -> usize {
        self.shared.calls.lock().unwrap().len()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        shared
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shared = Arc::clone(&shared);
        conns.spawn(async move {
            let svc = hyper::service::service_fn(move |req| answer(Arc::clone(&shared), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
        while conns.try_join_next().is_some() {}
    }
}

async fn answer(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let call = Call {
        at: Instant::now(),
        path: req.uri().path().to_string(),
        request_id: header("x-request-id"),
        traceparent: header("traceparent"),
    };
    shared.calls.lock().unwrap().push(call);
    let mode = *shared.mode.lock().unwrap();
    let status = match mode {
        Mode::Healthy => 200,
        Mode::Error(s) => s,
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            200
        }
        Mode::Slow(d) => {
            tokio::time::sleep(d).await;
            200
        }
    };
    let body = if status == 200 {
        r#"{"id":"k","name":"test user"}"#
    } else {
        r#"{"error_code":"INJECTED"}"#
    };
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
    Ok(resp)
}

/// One answer from the service under test.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    pub elapsed: Duration,
}

impl Answer {
    pub fn retry_after(&self) -> Option<u64> {
        self.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }
}

/// Sends one request on a fresh connection and reads the whole answer (10 s cap).
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Answer {
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let conn_task = tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::from(body.unwrap_or("").to_string())))
        .unwrap();
    let fut = async {
        let resp = sender.send_request(req).await.expect("response");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, headers, bytes)
    };
    let (status, headers, bytes) = tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("answer within 10 s");
    conn_task.abort();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Answer {
        status,
        headers,
        body,
        elapsed: started.elapsed(),
    }
}

/// `GET path` with no extra headers.
pub async fn get(addr: SocketAddr, path: &str) -> Answer {
    send(addr, "GET", path, &[], None).await
}

/// The overall `/health` status and the UserService breaker state.
pub async fn health(addr: SocketAddr) -> (String, String) {
    let a = get(addr, "/health").await;
    let status = a.body["status"].as_str().unwrap_or("?").to_string();
    let breaker = a.body["checks"]["UserService"]["breaker"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    (status, breaker)
}

/// A raw TCP dependency that reads requests and never answers, recording when each caller closed
/// its connection: the caller's give-up, as a fault proxy sees it.
#[derive(Debug)]
pub struct SilentDependency {
    addr: SocketAddr,
    opened: Arc<Mutex<Vec<Instant>>>,
    closed: Arc<Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SilentDependency {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SilentDependency {
    pub async fn start() -> Self {
        use tokio::io::AsyncReadExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let opened = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(Mutex::new(Vec::new()));
        let (o, c) = (Arc::clone(&opened), Arc::clone(&closed));
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                o.lock().unwrap().push(Instant::now());
                let c = Arc::clone(&c);
                conns.spawn(async move {
                    let mut buf = [0u8; 4096];
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                    c.lock().unwrap().push(Instant::now());
                });
            }
        });
        Self {
            addr,
            opened,
            closed,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn opened(&self) -> Vec<Instant> {
        self.opened.lock().unwrap().clone()
    }

    pub fn closed(&self) -> Vec<Instant> {
        self.closed.lock().unwrap().clone()
    }
}
