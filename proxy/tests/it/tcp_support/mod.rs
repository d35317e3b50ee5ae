//! Helpers for the TCP proxy tests: real loopback servers and a proxy in front of them.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use redline_proxy::tcp::{TcpProxy, TcpProxyConfig};
use redline_proxy::toxic::Toxic;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Generous bound for anything that should happen "soon" on a busy 2-core machine.
pub const SOON: Duration = Duration::from_secs(10);

/// An echo server on 127.0.0.1:0: writes back what it reads, half-closes at EOF.
pub async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

/// A server that sends `payload` to every connection at once, then closes.
pub async fn blurt_server(payload: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let payload = payload.clone();
            tokio::spawn(async move {
                let _ = s.write_all(&payload).await;
                let _ = s.shutdown().await;
                // Keep the socket until the peer is done so the close is a clean FIN.
                let mut sink = [0u8; 1024];
                while let Ok(n) = s.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

pub async fn proxy_to(upstream: SocketAddr, toxics: Vec<Toxic>) -> TcpProxy {
    let mut cfg = TcpProxyConfig::new("test", "127.0.0.1:0", upstream.to_string());
    cfg.toxics = toxics;
    cfg.seed = Some(42);
    TcpProxy::start(cfg).await.unwrap()
}

pub fn toxic(json: serde_json::Value) -> Toxic {
    Toxic::from_json(&json).unwrap()
}

pub async fn connect(proxy: &TcpProxy) -> TcpStream {
    TcpStream::connect(proxy.listen_addr().unwrap())
        .await
        .unwrap()
}

/// Sends `msg` and reads exactly as many bytes back.
pub async fn ping(stream: &mut TcpStream, msg: &[u8]) -> Vec<u8> {
    stream.write_all(msg).await.unwrap();
    let mut got = vec![0u8; msg.len()];
    tokio::time::timeout(SOON, stream.read_exact(&mut got))
        .await
        .expect("echo within bound")
        .unwrap();
    got
}

/// Reads until EOF or error; returns the bytes and whether it ended with an error.
pub async fn read_to_end(stream: &mut TcpStream) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(SOON, stream.read(&mut buf))
            .await
            .expect("stream ends within bound")
        {
            Ok(0) => return (all, None),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) => return (all, Some(e.kind())),
        }
    }
}
