//! TCP relay without toxics: passthrough, half-close both ways, down/up, upstream failures,
//! upstream change.

use crate::tcp_support;

use std::time::Duration;

use tcp_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn relays_bytes_both_ways() {
    let proxy = proxy_to(echo_server().await, vec![]).await;
    let mut s = connect(&proxy).await;
    assert_eq!(ping(&mut s, b"hello").await, b"hello");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let (mut r, mut w) = s.into_split();
    let sent = big.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut got = Vec::new();
    tokio::time::timeout(SOON, r.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    writer.await.unwrap();
    assert_eq!(got, big);
    let stats = proxy.stats();
    assert_eq!(stats.bytes_upstream, 5 + 200_000);
    assert_eq!(stats.bytes_downstream, 5 + 200_000);
}

#[tokio::test]
async fn client_half_close_keeps_the_answer_flowing() {
    // The server reads the whole request (to EOF), then answers: only works if the proxy
    // passes the client's FIN on without closing the other direction.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        s.read_to_end(&mut req).await.unwrap();
        s.write_all(format!("got {} bytes", req.len()).as_bytes())
            .await
            .unwrap();
        s.shutdown().await.unwrap();
    });
    let proxy = proxy_to(upstream, vec![]).await;
    let mut s = connect(&proxy).await;
    s.write_all(b"0123456789").await.unwrap();
    s.shutdown().await.unwrap();
    let (got, err) = read_to_end(&mut s).await;
    assert_eq!(err, None);
    assert_eq!(got, b"got 10 bytes");
}

#[tokio::test]
async fn server_half_close_keeps_the_request_flowing() {
    // The server says hello and half-closes at once, then still reads the client's data.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"hi").await.unwrap();
        s.shutdown().await.unwrap();
        let mut req = Vec::new();
        s.read_to_end(&mut req).await.unwrap();
        tx.send(req).unwrap();
    });
    let proxy = proxy_to(upstream, vec![]).await;
    let mut s = connect(&proxy).await;
    let (got, err) = read_to_end(&mut s).await;
    assert_eq!((got.as_slice(), err), (&b"hi"[..], None));
    s.write_all(b"late data").await.unwrap();
    s.shutdown().await.unwrap();
    let req = tokio::time::timeout(SOON, rx).await.unwrap().unwrap();
    assert_eq!(req, b"late data");
}

#[tokio::test]
async fn disabled_proxy_refuses_and_drops_then_comes_back_on_the_same_port() {
    let proxy = proxy_to(echo_server().await, vec![]).await;
    let addr = proxy.listen_addr().unwrap();
    let mut live = connect(&proxy).await;
    assert_eq!(ping(&mut live, b"a").await, b"a");

    proxy.set_enabled(false).await.unwrap();
    assert!(!proxy.enabled());
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "down proxy must refuse connections"
    );
    let (_, _) = read_to_end(&mut live).await; // dropped: EOF or reset, within the bound

    proxy.set_enabled(true).await.unwrap();
    assert_eq!(proxy.listen_addr(), Some(addr));
    let mut again = TcpStream::connect(addr).await.unwrap();
    assert_eq!(ping(&mut again, b"b").await, b"b");
}

#[tokio::test]
async fn unreachable_upstream_closes_the_client_and_counts() {
    // Bind then drop a listener to get a port nobody listens on.
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = proxy_to(dead, vec![]).await;
    let mut s = connect(&proxy).await;
    let (got, _) = read_to_end(&mut s).await;
    assert!(got.is_empty());
    let deadline = tokio::time::Instant::now() + SOON;
    while proxy.stats().upstream_errors == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(proxy.stats().upstream_errors, 1);
}

#[tokio::test]
async fn new_upstream_applies_to_new_connections() {
    let first = blurt_server(b"first".to_vec()).await;
    let second = blurt_server(b"second".to_vec()).await;
    let proxy = proxy_to(first, vec![]).await;
    let mut s = connect(&proxy).await;
    assert_eq!(read_to_end(&mut s).await.0, b"first");
    proxy.set_upstream(second.to_string());
    let mut s = connect(&proxy).await;
    assert_eq!(read_to_end(&mut s).await.0, b"second");
}

#[tokio::test]
async fn open_connections_are_counted() {
    let proxy = proxy_to(echo_server().await, vec![]).await;
    let mut a = connect(&proxy).await;
    let mut b = connect(&proxy).await;
    ping(&mut a, b"x").await;
    ping(&mut b, b"y").await;
    assert_eq!(proxy.stats().open_connections, 2);
    drop(a);
    drop(b);
    let deadline = tokio::time::Instant::now() + SOON;
    while proxy.stats().open_connections != 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(proxy.stats().open_connections, 0);
    assert_eq!(proxy.stats().connections, 2);
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_and_counted() {
    let mut cfg = redline_proxy::tcp::TcpProxyConfig::new(
        "capped",
        "127.0.0.1:0",
        echo_server().await.to_string(),
    );
    cfg.max_connections = 1;
    let proxy = redline_proxy::tcp::TcpProxy::start(cfg).await.unwrap();
    let mut first = connect(&proxy).await;
    ping(&mut first, b"1").await;
    let mut second = connect(&proxy).await;
    let (got, _) = read_to_end(&mut second).await;
    assert!(got.is_empty());
    assert_eq!(proxy.stats().refused, 1);
    assert_eq!(ping(&mut first, b"still").await, b"still");
}

#[tokio::test]
async fn stopping_drops_connections_and_closes_the_port() {
    let proxy = proxy_to(echo_server().await, vec![]).await;
    let addr = proxy.listen_addr().unwrap();
    let mut live = connect(&proxy).await;
    ping(&mut live, b"x").await;
    proxy.stop().await;
    let (got, _) = read_to_end(&mut live).await;
    assert!(got.is_empty());
    assert!(TcpStream::connect(addr).await.is_err());
}
