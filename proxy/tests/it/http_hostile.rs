//! Hostile or odd peers: requests that try to smuggle a second request past the proxy, answers
//! the proxy must not carry a body on, upstreams that answer early, drop a request half-way or
//! leave out the reason phrase. Each case was a real bug found in review.

use crate::http_support;

use http_support::*;
use redline_proxy::log::Outcome;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An upstream that answers every read with `answer` (bounded: 5 s per connection).
async fn canned_upstream(answer: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
                    if n == 0 || s.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn connection_cannot_strip_the_length_and_smuggle_a_request() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let smuggled = "GET /sleep/300 HTTP/1.1\r\nHost: x\r\n\r\n";
    let attack = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nContent-Length: {}\r\n\r\n{smuggled}",
        smuggled.len()
    );
    let (a, _) = raw_exchange(
        proxy.listen_addr(),
        attack.as_bytes(),
        Duration::from_millis(300),
    )
    .await;
    // The "request" was the POST's body, echoed back.
    assert!(text(&a).ends_with(smuggled), "{}", text(&a));
    let victim = b"GET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (v, _) = raw_exchange(proxy.listen_addr(), victim, Duration::from_secs(2)).await;
    assert!(text(&v).ends_with("\r\n\r\nxxx"), "{}", text(&v));
    assert_eq!(up.hits(), 2);
    proxy.stop().await;
}

#[tokio::test]
async fn a_bare_lf_in_trailers_is_refused_before_anything_is_forwarded() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let req = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    let (out, _) = raw_exchange(proxy.listen_addr(), req, Duration::from_secs(2)).await;
    assert!(text(&out).starts_with("HTTP/1.1 400"), "{}", text(&out));
    assert!(text(&out).contains("bare LF"), "{}", text(&out));
    assert_eq!(up.hits(), 0);
    assert!(eventually(|| proxy.log_since(0).len() == 1).await);
    assert_eq!(proxy.log_since(0)[0].outcome, Outcome::BadRequest);
    proxy.stop().await;
}

#[tokio::test]
async fn an_abort_answering_head_sends_no_body() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy
        .add_fault(fault("abort:status=503,body=boom,path=/a"))
        .unwrap();
    let raw = b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (out, _) = raw_exchange(proxy.listen_addr(), raw, Duration::from_secs(2)).await;
    let out = text(&out);
    assert!(
        out.contains("content-length: 4\r\n\r\nHTTP/1.1 200"),
        "{out}"
    );
    assert!(out.ends_with("hello"), "{out}");
    assert!(!out.contains("boom"), "{out}");
    proxy.stop().await;
}

#[tokio::test]
async fn an_answer_without_a_reason_phrase_is_relayed() {
    let addr = canned_upstream(b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok").await;
    let proxy = proxy_to(addr, 1).await;
    let a = get_once(proxy.listen_addr(), "/").await.unwrap();
    assert_eq!((a.status.as_u16(), &a.body[..]), (200, &b"ok"[..]));
    assert!(eventually(|| proxy.log_since(0).len() == 1).await);
    assert_eq!(proxy.log_since(0)[0].outcome, Outcome::Forwarded);
    proxy.stop().await;
}

#[tokio::test]
async fn a_post_the_upstream_may_have_run_is_not_sent_twice() {
    // The first connection answers one request, then reads the next and dies without an answer.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let posts = Arc::new(AtomicU64::new(0));
    let counted = posts.clone();
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((mut s, _)) = listener.accept().await {
            let (posts, dies) = (counted.clone(), std::mem::take(&mut first));
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                for answered in 0..4 {
                    let read = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await;
                    let Ok(Ok(n @ 1..)) = read else { return };
                    if buf[..n].starts_with(b"POST") {
                        posts.fetch_add(1, Ordering::SeqCst);
                    }
                    if dies && answered == 1 {
                        return;
                    }
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .await;
                }
            });
        }
    });
    let proxy = proxy_to(addr, 1).await;
    assert_eq!(
        get_once(proxy.listen_addr(), "/").await.unwrap().status,
        200
    );
    let post = b"POST /pay HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";
    let (out, _) = raw_exchange(proxy.listen_addr(), post, Duration::from_secs(2)).await;
    assert!(text(&out).starts_with("HTTP/1.1 502"), "{}", text(&out));
    assert_eq!(posts.load(Ordering::SeqCst), 1);
    proxy.stop().await;
}

#[tokio::test]
async fn an_early_answer_to_a_large_upload_reaches_the_caller() {
    // The upstream reads the head only, answers 413 and closes.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        if let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig")
                .await;
        }
    });
    let proxy = proxy_to(addr, 1).await;
    let mut c = TcpStream::connect(proxy.listen_addr()).await.unwrap();
    c.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8000000\r\n\r\n")
        .await
        .unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..120 {
        let wrote = tokio::time::timeout(Duration::from_millis(200), c.write_all(&chunk)).await;
        if !matches!(wrote, Ok(Ok(()))) {
            break;
        }
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), c.read_to_end(&mut out)).await;
    let out = text(&out);
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    assert!(out.ends_with("\r\n\r\nbig"), "{out}");
    assert!(eventually(|| proxy.log_since(0).len() == 1).await);
    assert_eq!(proxy.log_since(0)[0].status, Some(413));
    proxy.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_a_408() {
    let up = Upstream::start().await;
    let mut cfg = redline_proxy::http::HttpProxyConfig::new(
        "dep",
        "127.0.0.1:0".parse().unwrap(),
        up.addr.to_string(),
    );
    cfg.header_read_timeout = Duration::from_millis(300);
    let proxy = redline_proxy::http::HttpProxy::start(cfg).await.unwrap();
    let raw = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
    let (out, _) = raw_exchange(proxy.listen_addr(), raw, Duration::from_secs(3)).await;
    assert!(text(&out).starts_with("HTTP/1.1 408"), "{}", text(&out));
    assert!(eventually(|| proxy.log_since(0).len() == 1).await);
    assert_eq!(proxy.log_since(0)[0].outcome, Outcome::BadRequest);
    proxy.stop().await;
}
