//! Every HTTP fault kind against a real upstream through a real proxy, with real clients.

use crate::http_support;

use http_support::*;
use redline_proxy::log::Outcome;
use std::time::{Duration, Instant};

#[tokio::test]
async fn passthrough_forwards_status_and_body() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    for _ in 0..3 {
        let a = c.get("/").await.unwrap();
        assert_eq!((a.status.as_u16(), &a.body[..]), (200, &b"hello"[..]));
    }
    let a = c.get("/chunked/5000").await.unwrap();
    assert_eq!(a.body.len(), 5000);
    let req = hyper::Request::post("/echo")
        .header("host", "dep")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"ping",
        )))
        .unwrap();
    assert_eq!(&c.send(req).await.unwrap().body[..], b"ping");
    assert_eq!(up.hits(), 5);
    // Sequential requests reuse one pooled keep-alive connection to the upstream.
    assert_eq!(up.connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    proxy.stop().await;
}

#[tokio::test]
async fn latency_delays_then_forwards() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy.add_fault(fault("latency:delay=150ms")).unwrap();
    let t = Instant::now();
    let a = get_once(proxy.listen_addr(), "/").await.unwrap();
    assert_eq!(&a.body[..], b"hello");
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    // A POST body is read during the delay and still forwarded intact.
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    let req = hyper::Request::post("/echo")
        .header("host", "dep")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"payload",
        )))
        .unwrap();
    assert_eq!(&c.send(req).await.unwrap().body[..], b"payload");
    proxy.stop().await;
}

#[tokio::test]
async fn abort_answers_without_forwarding() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy
        .add_fault(fault("abort:status=503,body=busy,retry_after=7"))
        .unwrap();
    let a = get_once(proxy.listen_addr(), "/").await.unwrap();
    assert_eq!(a.status.as_u16(), 503);
    assert_eq!(&a.body[..], b"busy");
    assert_eq!(a.headers["retry-after"], "7");
    assert_eq!(up.hits(), 0);
    proxy.stop().await;
}

#[tokio::test]
async fn hang_with_after_answers_late_or_forwards() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy
        .add_fault(fault("hang:after=200ms,status=504"))
        .unwrap();
    let t = Instant::now();
    let a = get_once(proxy.listen_addr(), "/").await.unwrap();
    assert_eq!(a.status.as_u16(), 504);
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert_eq!(up.hits(), 0);
    proxy
        .update_fault("hang", fault("hang:after=100ms"))
        .unwrap();
    let a = get_once(proxy.listen_addr(), "/").await.unwrap();
    assert_eq!((a.status.as_u16(), &a.body[..]), (200, &b"hello"[..]));
    assert_eq!(up.hits(), 1);
    let log = proxy.log_since(0);
    assert!(log.iter().all(|e| e.outcome == Outcome::Hung), "{log:?}");
    proxy.stop().await;
}

#[tokio::test]
async fn hang_forever_holds_until_the_caller_leaves() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy.add_fault(fault("hang")).unwrap();
    let res = tokio::time::timeout(
        Duration::from_millis(300),
        get_once(proxy.listen_addr(), "/"),
    )
    .await;
    assert!(res.is_err(), "a hang must not answer: {res:?}");
    assert_eq!(up.hits(), 0);
    proxy.stop().await;
}

#[tokio::test]
async fn reset_closes_without_a_response() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy.add_fault(fault("reset")).unwrap();
    let (bytes, errored) = raw_exchange(
        proxy.listen_addr(),
        b"GET / HTTP/1.1\r\nhost: dep\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(
        bytes.is_empty(),
        "no response bytes: {:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(
        errored,
        "a reset shows as a connection error (RST), not a clean close"
    );
    assert!(get_once(proxy.listen_addr(), "/").await.is_err());
    assert_eq!(up.hits(), 0);
    proxy.stop().await;
}

#[tokio::test]
async fn truncate_cuts_the_body_after_n_bytes() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy.add_fault(fault("truncate:bytes=1000")).unwrap();
    for path in ["/bytes/5000", "/chunked/5000"] {
        let (bytes, _) = raw_exchange(
            proxy.listen_addr(),
            format!("GET {path} HTTP/1.1\r\nhost: dep\r\n\r\n").as_bytes(),
            Duration::from_secs(5),
        )
        .await;
        let text = String::from_utf8_lossy(&bytes);
        let split = text.find("\r\n\r\n").expect("a response head") + 4;
        let xs = bytes[split..].iter().filter(|b| **b == b'x').count();
        assert_eq!(xs, 1000, "{path}: {text}");
        // The client sees an incomplete message, not a shorter valid one.
        assert!(get_once(proxy.listen_addr(), path).await.is_err(), "{path}");
    }
    // A body shorter than the limit passes whole.
    assert_eq!(
        get_once(proxy.listen_addr(), "/bytes/10")
            .await
            .unwrap()
            .body
            .len(),
        10
    );
    let log = proxy.log_since(0);
    assert_eq!(
        log.iter()
            .filter(|e| e.outcome == Outcome::Truncated)
            .count(),
        4,
        "{log:?}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn throttle_limits_bytes_per_second() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy
        .add_fault(fault("throttle:bytes_per_sec=20000"))
        .unwrap();
    let before = proxy.stats().bytes_out;
    let t = Instant::now();
    let a = get_once(proxy.listen_addr(), "/bytes/10000").await.unwrap();
    let elapsed = t.elapsed();
    assert_eq!(a.body.len(), 10_000);
    // 10 kB at 20 kB/s takes 0.5 s; allow for timer slack downwards only a little.
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    let sent = proxy.stats().bytes_out - before;
    assert!((10_000..11_000).contains(&sent), "bytes out {sent}");
    proxy.stop().await;
}

#[tokio::test]
async fn down_refuses_new_and_drops_existing_connections() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let addr = proxy.listen_addr();
    let mut idle = Client::connect(addr).await.unwrap();
    idle.get("/").await.unwrap();
    let (held_tx, held) = tokio::sync::oneshot::channel();
    let slow = tokio::spawn(async move {
        let r = get_once(addr, "/sleep/2000").await;
        let _ = held_tx.send(());
        r
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.add_fault(fault("down")).unwrap();
    // The in-flight request's connection is dropped, not answered.
    assert!(slow.await.unwrap().is_err());
    let _ = held.await;
    assert!(
        idle.get("/").await.is_err(),
        "existing connection must be dropped"
    );
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert_eq!(
        refused.map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    proxy.remove_fault("down");
    assert!(eventually(|| std::net::TcpStream::connect(addr).is_ok()).await);
    assert_eq!(get_once(addr, "/").await.unwrap().status.as_u16(), 200);
    // Disabled is the same as down.
    proxy.set_enabled(false);
    assert!(!proxy.enabled());
    assert!(eventually(|| std::net::TcpStream::connect(addr).is_err()).await);
    proxy.set_enabled(true);
    assert!(eventually(|| std::net::TcpStream::connect(addr).is_ok()).await);
    assert_eq!(get_once(addr, "/").await.unwrap().status.as_u16(), 200);
    proxy.stop().await;
}

#[tokio::test]
async fn conditional_down_resets_only_matching_requests() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy.add_fault(fault("down:path=/gone")).unwrap();
    assert!(get_once(proxy.listen_addr(), "/gone").await.is_err());
    // The listener stays open for everything else.
    assert_eq!(
        get_once(proxy.listen_addr(), "/").await.unwrap().status,
        200
    );
    assert!(eventually(|| proxy.log_since(0).len() == 2).await);
    assert_eq!(proxy.log_since(0)[0].outcome, Outcome::Refused);
    assert_eq!(proxy.stats().faults_injected[6], 1);
    proxy.stop().await;
}

#[tokio::test]
async fn latency_distribution_and_jitter_through_the_proxy() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 3).await;
    proxy
        .add_fault(fault("latency:dist=uniform,min=30ms,max=60ms,jitter=5ms"))
        .unwrap();
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    for _ in 0..5 {
        let t = Instant::now();
        c.get("/").await.unwrap();
        assert!(
            t.elapsed() >= Duration::from_millis(25),
            "{:?}",
            t.elapsed()
        );
    }
    proxy.stop().await;
}
