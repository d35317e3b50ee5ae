//! HTTP/1.1 on the wire through the proxy: request bodies in both framings, HTTP/1.0 callers,
//! Expect: 100-continue, pipelining, HEAD, upgrades, idle upstream connections the upstream
//! closed, and the bodies of the proxy's own error answers.

use crate::http_support;

use http_support::*;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const WAIT: Duration = Duration::from_secs(5);

/// Reads from `s` until `done` holds for what was read (or 5 s pass).
async fn read_until(s: &mut TcpStream, done: impl Fn(&str) -> bool) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done(&String::from_utf8_lossy(&out)) {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).to_string()
}

#[tokio::test]
async fn chunked_request_bodies_are_forwarded_whole() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let mut s = TcpStream::connect(proxy.listen_addr()).await.unwrap();
    s.write_all(
        b"POST /echo HTTP/1.1\r\nhost: dep\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.write_all(b"6\r\n world\r\n0\r\n\r\nGET / HTTP/1.1\r\nhost: dep\r\n\r\n")
        .await
        .unwrap();
    // The echo and then the pipelined GET, in order, on the same connection.
    let text = read_until(&mut s, |t| {
        t.contains("hello world") && t.ends_with("hello")
    })
    .await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let echo = text.find("hello world").unwrap();
    let second = text.rfind("HTTP/1.1 200").unwrap();
    assert!(echo < second, "{text}");
    assert_eq!(up.hits(), 2);
    proxy.stop().await;
}

#[tokio::test]
async fn http10_callers_get_a_dechunked_body_and_a_close() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let raw = b"GET /chunked/3000 HTTP/1.0\r\n\r\n";
    let (bytes, _) = raw_exchange(proxy.listen_addr(), raw, WAIT).await;
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding"),
        "{head}"
    );
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body, "x".repeat(3000));
    // Keep-alive when asked for, with a length-framed answer.
    let mut s = TcpStream::connect(proxy.listen_addr()).await.unwrap();
    for _ in 0..2 {
        s.write_all(b"GET /bytes/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .await
            .unwrap();
        let text = read_until(&mut s, |t| t.ends_with("xxx")).await;
        assert!(text.contains("connection: keep-alive"), "{text}");
    }
    proxy.stop().await;
}

#[tokio::test]
async fn expect_continue_is_answered_by_the_proxy() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let mut s = TcpStream::connect(proxy.listen_addr()).await.unwrap();
    s.write_all(
        b"PUT /echo HTTP/1.1\r\nhost: dep\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n",
    )
    .await
    .unwrap();
    let interim = read_until(&mut s, |t| t.contains("\r\n\r\n")).await;
    assert_eq!(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"ping").await.unwrap();
    let text = read_until(&mut s, |t| t.ends_with("ping")).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    proxy.stop().await;
}

#[tokio::test]
async fn head_answers_have_no_body_and_the_connection_goes_on() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let mut s = TcpStream::connect(proxy.listen_addr()).await.unwrap();
    s.write_all(
        b"HEAD /bytes/100 HTTP/1.1\r\nhost: dep\r\n\r\nGET /bytes/2 HTTP/1.1\r\nhost: dep\r\n\r\n",
    )
    .await
    .unwrap();
    let text = read_until(&mut s, |t| t.ends_with("\r\n\r\nxx")).await;
    assert_eq!(text.matches("HTTP/1.1 200").count(), 2, "{text}");
    assert!(text.contains("content-length: 100"), "{text}");
    assert!(!text.contains("xxx"), "{text}");
    proxy.stop().await;
}

#[tokio::test]
async fn aborting_a_post_keeps_the_connection_when_the_body_is_read() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy
        .add_fault(fault("abort:status=503,method=POST,retry_after=1"))
        .unwrap();
    let mut s = TcpStream::connect(proxy.listen_addr()).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nhost: dep\r\ncontent-length: 3\r\n\r\nabcGET / HTTP/1.1\r\nhost: dep\r\n\r\n")
        .await
        .unwrap();
    let text = read_until(&mut s, |t| t.ends_with("hello")).await;
    assert!(
        text.starts_with("HTTP/1.1 503 Service Unavailable"),
        "{text}"
    );
    assert!(text.contains("retry-after: 1"), "{text}");
    assert!(text.contains("HTTP/1.1 200"), "{text}");
    assert_eq!(up.hits(), 1);
    proxy.stop().await;
}

#[tokio::test]
async fn errors_of_the_proxy_say_what_was_wrong() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let huge = format!("GET / HTTP/1.1\r\nx-big: {}\r\n\r\n", "a".repeat(70 * 1024));
    let (bytes, _) = raw_exchange(proxy.listen_addr(), huge.as_bytes(), WAIT).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    assert!(text.contains("head too large"), "{text}");
    let smuggle =
        b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n";
    let (bytes, _) = raw_exchange(proxy.listen_addr(), smuggle, WAIT).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(
        text.contains("both Transfer-Encoding and Content-Length"),
        "{text}"
    );
    let bad_chunk = b"POST /echo HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n";
    let (bytes, _) = raw_exchange(proxy.listen_addr(), bad_chunk, WAIT).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("chunk"), "{text}");
    assert_eq!(up.hits(), 0);
    proxy.stop().await;
}

/// A raw upstream that answers each connection's first request and closes the connection
/// without an answer when a second request arrives on it (no `Connection: close` said): the
/// race of a server whose keep-alive timeout ends just as a request is sent.
async fn one_answer_per_connection_upstream() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(AtomicU64::new(0));
    let counted = conns.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = read_until(&mut s, |t| t.contains("\r\n\r\n")).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                let _ = read_until(&mut s, |t| t.contains("\r\n\r\n")).await;
            });
        }
    });
    (addr, conns)
}

#[tokio::test]
async fn a_request_an_idle_upstream_connection_dropped_is_sent_again() {
    let (addr, conns) = one_answer_per_connection_upstream().await;
    let proxy = proxy_to(addr, 1).await;
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    for i in 0..5 {
        let a = c.get("/").await.unwrap();
        assert_eq!(a.status.as_u16(), 200, "request {i}: {a:?}");
    }
    // Requests 2..5 each met a pooled connection that closed on them and went out again.
    assert_eq!(conns.load(Ordering::SeqCst), 5);
    assert_eq!(proxy.stats().upstream_errors, 0);
    proxy.stop().await;
}

/// A raw upstream that switches protocols and then echoes bytes back.
async fn upgrading_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let head = read_until(&mut s, |t| t.contains("\r\n\r\n")).await;
                let lower = head.to_ascii_lowercase();
                if !(lower.contains("upgrade: echo") && lower.contains("connection: upgrade")) {
                    let _ = s
                        .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let _ = s
                    .write_all(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n")
                    .await;
                let mut buf = [0u8; 1024];
                for _ in 0..100 {
                    match s.read(&mut buf).await {
                        Ok(n) if n > 0 => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                        _ => return,
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn upgrades_are_tunnelled_both_ways() {
    let addr = upgrading_upstream().await;
    let proxy = proxy_to(addr, 1).await;
    let mut s = TcpStream::connect(proxy.listen_addr()).await.unwrap();
    s.write_all(b"GET /ws HTTP/1.1\r\nhost: dep\r\nconnection: Upgrade\r\nupgrade: echo\r\n\r\n")
        .await
        .unwrap();
    let head = read_until(&mut s, |t| t.contains("\r\n\r\n")).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("upgrade: echo"), "{head}");
    for word in ["ping", "pong"] {
        s.write_all(word.as_bytes()).await.unwrap();
        assert_eq!(read_until(&mut s, |t| t == word).await, word);
    }
    let log = proxy.log_since(0);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, Some(101));
    proxy.stop().await;
}
