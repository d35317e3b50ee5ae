//! Test servers for the engine tests: small hyper HTTP/1.1 servers on 127.0.0.1:0, each on its
//! own thread and runtime, that count and record what they receive.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// How the server answers.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// 200 after a fixed delay.
    Delay(Duration),
    /// 200 at once, except that every `period` it stalls for `stall`: requests arriving in
    /// the last `stall` of each period are held until the period ends.
    Stall { period: Duration, stall: Duration },
    /// Always this status.
    Status(u16),
    /// 200 with `connection: close`: every request needs a new connection.
    Close,
}

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: String,
    pub request_id: Option<String>,
}

pub struct Server {
    pub addr: SocketAddr,
    hits: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts a plain HTTP server.
pub fn http(behaviour: Behaviour) -> Server {
    start(behaviour, None)
}

/// Starts an HTTPS server with a freshly generated self-signed certificate for "localhost".
pub fn https(behaviour: Behaviour) -> Server {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(ck.key_pair.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    start(
        behaviour,
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
    )
}

fn start(behaviour: Behaviour, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let hits = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (hits.clone(), seen.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            serve(
                TcpListener::from_std(std_listener).unwrap(),
                behaviour,
                tls,
                h,
                s,
            )
            .await
        });
    });
    Server { addr, hits, seen }
}

async fn serve(
    listener: TcpListener,
    behaviour: Behaviour,
    tls: Option<tokio_rustls::TlsAcceptor>,
    hits: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    let origin = Instant::now();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (hits, seen, tls) = (hits.clone(), seen.clone(), tls.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let (hits, seen) = (hits.clone(), seen.clone());
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    let (parts, body) = req.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    seen.lock().unwrap().push(Seen {
                        method: parts.method.to_string(),
                        path: parts.uri.to_string(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        request_id: parts
                            .headers
                            .get("x-request-id")
                            .map(|v| v.to_str().unwrap_or("").to_string()),
                    });
                    let status = answer(behaviour, origin).await;
                    let close = matches!(behaviour, Behaviour::Close);
                    let resp = Response::builder()
                        .header("connection", if close { "close" } else { "keep-alive" })
                        .status(status)
                        .body(Full::new(Bytes::from_static(b"ok")))
                        .unwrap();
                    Ok::<_, Infallible>(resp)
                }
            });
            match tls {
                None => {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
                Some(acceptor) => {
                    if let Ok(s) = acceptor.accept(stream).await {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(s), service)
                            .await;
                    }
                }
            }
        });
    }
}

async fn answer(behaviour: Behaviour, origin: Instant) -> u16 {
    match behaviour {
        Behaviour::Delay(d) => {
            // tokio's timer rounds up to the next millisecond; finish the wait by spinning so
            // the delay is what the test says it is.
            let until = Instant::now() + d;
            tokio::time::sleep(d.saturating_sub(Duration::from_millis(1))).await;
            while Instant::now() < until {
                std::hint::spin_loop();
            }
            200
        }
        Behaviour::Stall { period, stall } => {
            let into = origin.elapsed().as_nanos() % period.as_nanos();
            let free_from = (period - stall).as_nanos();
            if into >= free_from {
                tokio::time::sleep(Duration::from_nanos((period.as_nanos() - into) as u64)).await;
            }
            200
        }
        Behaviour::Status(s) => s,
        Behaviour::Close => 200,
    }
}

/// A scenario for `server` with the given `[load]` body and request path.
pub fn scenario(server: &Server, load: &str, path: &str) -> String {
    format!(
        r#"
name = "test"
seed = 7
[target]
base_url = "{}"
allowed_hosts = ["127.0.0.1"]
timeout = "5s"
max_connections = 1000
request_id_header = "x-request-id"
[load]
{load}
[[request]]
name = "get"
path = "{path}"
"#,
        server.base_url()
    )
}

/// A raw TCP server that answers every request with `response` written in `pieces` (to exercise
/// framing across reads); closes after each answer when `close` is set.
pub fn raw(response: Vec<u8>, pieces: usize, close: bool) -> Server {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (response, hits) = (response.clone(), h.clone());
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // One request: a head without a body (the engine tests send GETs here).
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    buf.drain(..end);
                    hits.fetch_add(1, Ordering::SeqCst);
                    let step = response.len().div_ceil(pieces.max(1));
                    for piece in response.chunks(step.max(1)) {
                        if stream.write_all(piece).is_err() {
                            return;
                        }
                        let _ = stream.flush();
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    if close {
                        return;
                    }
                }
            });
        }
    });
    Server {
        addr,
        hits,
        seen: Arc::new(Mutex::new(Vec::new())),
    }
}
