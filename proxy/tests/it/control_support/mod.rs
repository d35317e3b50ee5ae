//! Helpers for the control API tests: an in-process control server over a fresh registry, a
//! small HTTP client, and loopback upstreams.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use redline_proxy::control::ControlServer;
use redline_proxy::registry::Registry;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const SOON: Duration = Duration::from_secs(10);

pub struct Api {
    pub addr: SocketAddr,
    pub registry: Arc<Registry>,
    _server: ControlServer,
}

pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }
}

pub async fn api() -> Api {
    let registry = Arc::new(Registry::new(7, Instant::now()));
    let server = ControlServer::start("127.0.0.1:0", registry.clone())
        .await
        .unwrap();
    Api {
        addr: server.local_addr(),
        registry,
        _server: server,
    }
}

impl Api {
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_with(method, path, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        request(
            self.addr,
            method,
            path,
            body.map(|b| b.to_string()),
            headers,
        )
        .await
    }

    /// `POST /proxies` for a TCP proxy `name` in front of `upstream`, which must answer 201: the
    /// proxy's JSON and the address it listens on.
    pub async fn create_proxy(&self, name: &str, upstream: &str) -> (Value, String) {
        let body = json!({"name": name, "upstream": upstream});
        let r = self.call("POST", "/proxies", Some(body)).await;
        assert_eq!(r.status, 201, "creating {name}: {}", r.text);
        let p = r.json();
        let listen = p["listen"].as_str().unwrap().to_string();
        (p, listen)
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> Answer {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap();
    let resp = tokio::time::timeout(SOON, sender.send_request(req))
        .await
        .unwrap()
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// An HTTP upstream answering 200 "ok <path>" to everything.
pub async fn http_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let body = format!("ok {}", req.uri().path());
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    addr
}

/// A TCP echo server.
pub async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// Round trip of `msg` through a TCP address; `None` if the connection fails or closes.
pub async fn echo_through(addr: &str, msg: &[u8]) -> Option<(Vec<u8>, Duration)> {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).await.ok()?;
    s.write_all(msg).await.ok()?;
    let mut got = vec![0u8; msg.len()];
    tokio::time::timeout(SOON, s.read_exact(&mut got))
        .await
        .ok()?
        .ok()?;
    Some((got, start.elapsed()))
}
