//! Bad input and bad neighbours: malformed requests, unreachable or broken upstreams, idle and
//! slow callers, too many connections (idle ones shed first, busy ones never).

use crate::http_support;

use http_support::*;
use redline_proxy::http::{HttpProxy, HttpProxyConfig};
use redline_proxy::log::Outcome;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn unreachable_upstream_is_a_502_naming_it() {
    // Bind then drop: a loopback port with nobody listening.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = proxy_to(dead, 1).await;
    let a = get_once(proxy.listen_addr(), "/").await.unwrap();
    assert_eq!(a.status.as_u16(), 502);
    let body = String::from_utf8_lossy(&a.body).to_string();
    assert!(body.contains(&dead.to_string()), "{body}");
    assert_eq!(proxy.stats().upstream_errors, 1);
    assert!(eventually(|| proxy.log_since(0).len() == 1).await);
    assert_eq!(proxy.log_since(0)[0].outcome, Outcome::UpstreamError);
    proxy.stop().await;
}

#[tokio::test]
async fn malformed_upstream_answer_is_a_502() {
    let bad = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = bad.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = bad.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"this is not http\r\n\r\n").await;
        }
    });
    let proxy = proxy_to(addr, 1).await;
    let a = get_once(proxy.listen_addr(), "/").await.unwrap();
    assert_eq!(a.status.as_u16(), 502);
    proxy.stop().await;
}

#[tokio::test]
async fn malformed_request_is_a_400() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nbad header line\r\n\r\n",
    ] {
        let (bytes, _) = raw_exchange(proxy.listen_addr(), raw, Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("HTTP/1.1 400"), "{text:?}");
    }
    assert_eq!(up.hits(), 0);
    // Still serving afterwards.
    assert_eq!(
        get_once(proxy.listen_addr(), "/").await.unwrap().status,
        200
    );
    proxy.stop().await;
}

#[tokio::test]
async fn slow_header_senders_are_shed_at_the_cap_and_cut_off_by_the_header_timeout() {
    let up = Upstream::start().await;
    let mut cfg = HttpProxyConfig::new("dep", "127.0.0.1:0".parse().unwrap(), up.addr.to_string());
    cfg.max_connections = 2;
    cfg.header_read_timeout = Duration::from_millis(300);
    let proxy = HttpProxy::start(cfg).await.unwrap();
    let addr = proxy.listen_addr();
    // Two callers that never finish their headers take both slots...
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: d").await.unwrap();
        slow.push(s);
    }
    assert!(eventually(|| proxy.stats().open_connections == 2).await);
    // ...so a third takes the slot of the one idle longest (shed), and is answered.
    let (bytes, _) = raw_exchange(
        addr,
        b"GET / HTTP/1.1\r\nhost: dep\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(
        bytes.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(proxy.stats().connections_shed, 1);
    assert_eq!(proxy.stats().connections_rejected, 0);
    // The header read timeout frees the slots, and service resumes.
    for s in &mut slow {
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
        assert!(
            matches!(n, Ok(Ok(_)) | Ok(Err(_))),
            "slow caller not cut off"
        );
    }
    assert!(eventually(|| proxy.stats().open_connections == 0).await);
    assert_eq!(get_once(addr, "/").await.unwrap().status, 200);
    proxy.stop().await;
}

#[tokio::test]
async fn a_caller_is_refused_only_when_every_connection_is_serving_a_request() {
    let up = Upstream::start().await;
    let mut cfg = HttpProxyConfig::new("dep", "127.0.0.1:0".parse().unwrap(), up.addr.to_string());
    cfg.max_connections = 2;
    let proxy = HttpProxy::start(cfg).await.unwrap();
    // Requests that never end keep both connections busy: none may be shed.
    proxy
        .add_fault(redline_proxy::fault::FaultSpec::parse_cli("hang").unwrap())
        .unwrap();
    let addr = proxy.listen_addr();
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: dep\r\n\r\n")
            .await
            .unwrap();
        busy.push(s);
    }
    assert!(eventually(|| proxy.stats().requests == 2).await);
    let (bytes, _) = raw_exchange(
        addr,
        b"GET / HTTP/1.1\r\nhost: dep\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(bytes.is_empty());
    let stats = proxy.stats();
    assert_eq!(stats.connections_rejected, 1);
    assert_eq!(stats.connections_shed, 0);
    assert!(stats.refused_first_ms.is_some() && stats.refused_first_ms == stats.refused_last_ms);
    assert_eq!(stats.max_connections, 2);
    proxy.stop().await;
}

#[tokio::test]
async fn stop_closes_the_port_and_drops_connections() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let addr = proxy.listen_addr();
    let mut c = Client::connect(addr).await.unwrap();
    c.get("/").await.unwrap();
    proxy.stop().await;
    assert!(c.get("/").await.is_err());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn header_timeout_spares_long_requests_but_closes_idle_keep_alive() {
    let up = Upstream::start().await;
    let mut cfg = HttpProxyConfig::new("dep", "127.0.0.1:0".parse().unwrap(), up.addr.to_string());
    cfg.header_read_timeout = Duration::from_millis(200);
    let proxy = HttpProxy::start(cfg).await.unwrap();
    proxy
        .add_fault(fault("hang:after=700ms,status=504,path=/held"))
        .unwrap();
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    // A request held three times longer than the header timeout is still answered...
    assert_eq!(c.get("/held").await.unwrap().status, 504);
    // ...and so is a slow upstream answer streamed on the same connection.
    assert_eq!(&c.get("/sleep/500").await.unwrap().body[..], b"slept");
    // An idle keep-alive connection is closed after about the timeout.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        c.get("/").await.is_err(),
        "idle connection should have been closed"
    );
    assert!(eventually(|| proxy.stats().open_connections == 0).await);
    proxy.stop().await;
}
