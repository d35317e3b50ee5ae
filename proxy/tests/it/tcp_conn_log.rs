//! The TCP proxy's connection log, over real loopback sockets: who closed first, the client's
//! give-up time while a toxic holds the answer, byte counts, the bounded ring, and the native
//! `/redline/proxies/{p}/connections` route.

use crate::control_support;
use crate::tcp_support;

use std::time::Duration;

use redline_proxy::tcp::{ClosedBy, ConnEntry, TcpProxy, TcpProxyConfig};
use serde_json::json;
use tcp_support::*;
use tokio::io::AsyncWriteExt;

/// Waits (bounded) until the proxy has logged `n` connections.
async fn logged(proxy: &TcpProxy, n: usize) -> Vec<ConnEntry> {
    let until = tokio::time::Instant::now() + SOON;
    loop {
        let all = proxy.connections_since(0);
        if all.len() >= n || tokio::time::Instant::now() > until {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_client_that_closes_while_latency_holds_the_answer_gave_up() {
    let up = echo_server().await;
    let proxy = proxy_to(
        up,
        vec![toxic(
            json!({"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": 3000}}),
        )],
    )
    .await;
    let mut c = connect(&proxy).await;
    c.write_all(b"GET k\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(c); // the client's own 300 ms timeout
    let log = logged(&proxy, 1).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let e = &log[0];
    assert_eq!(e.closed_by, ClosedBy::Client, "{e:?}");
    let gave_up = e.gave_up_ms.expect("gave up while the answer was held");
    assert!((250.0..2_900.0).contains(&gave_up), "{e:?}");
    assert!((e.closed_ms - gave_up).abs() < 1.0, "{e:?}");
    // The answer came back at once and waited in the delay line until the client left.
    assert!(
        e.held_ms.is_some_and(|h| h > 150.0 && h <= gave_up),
        "{e:?}"
    );
    assert_eq!(e.toxics, ["latency"]);
    assert_eq!(e.bytes_upstream, 7);
    assert_eq!(proxy.connections_summary().gave_up, 1);
}

#[tokio::test]
async fn a_client_that_closes_while_a_timeout_swallows_the_answer_gave_up() {
    let up = echo_server().await;
    let proxy = proxy_to(
        up,
        vec![toxic(
            json!({"name": "hold", "type": "timeout", "stream": "downstream", "attributes": {"timeout": 0}}),
        )],
    )
    .await;
    let mut c = connect(&proxy).await;
    c.write_all(b"PING\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(c);
    let log = logged(&proxy, 1).await;
    let e = &log[0];
    assert_eq!(e.closed_by, ClosedBy::Client, "{e:?}");
    assert!(e.gave_up_ms.is_some_and(|g| g >= 250.0), "{e:?}");
    assert_eq!(e.bytes_downstream, 0);
}

#[tokio::test]
async fn a_clean_exchange_is_closed_by_the_client_without_giving_up() {
    let up = echo_server().await;
    let proxy = proxy_to(up, Vec::new()).await;
    let mut c = connect(&proxy).await;
    assert_eq!(ping(&mut c, b"abc").await, b"abc");
    c.shutdown().await.unwrap();
    let _ = read_to_end(&mut c).await;
    let e = logged(&proxy, 1).await.remove(0);
    assert_eq!(e.closed_by, ClosedBy::Client);
    assert_eq!(e.gave_up_ms, None);
    assert_eq!((e.bytes_upstream, e.bytes_downstream), (3, 3));
    assert!(e.toxics.is_empty());
    assert!(e.total_ms >= e.closed_ms);
}

#[tokio::test]
async fn an_upstream_that_closes_first_is_attributed() {
    let up = blurt_server(b"hello".to_vec()).await;
    let proxy = proxy_to(up, Vec::new()).await;
    let mut c = connect(&proxy).await;
    let (got, _) = read_to_end(&mut c).await;
    assert_eq!(got, b"hello");
    drop(c);
    let e = logged(&proxy, 1).await.remove(0);
    assert_eq!(e.closed_by, ClosedBy::Upstream, "{e:?}");
    assert_eq!(e.bytes_downstream, 5);
    assert_eq!(e.gave_up_ms, None);
}

#[tokio::test]
async fn reset_peer_is_attributed_to_the_toxic() {
    let up = echo_server().await;
    let proxy = proxy_to(
        up,
        vec![toxic(
            json!({"name": "rst", "type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 100}}),
        )],
    )
    .await;
    let mut c = connect(&proxy).await;
    c.write_all(b"x").await.unwrap();
    let _ = read_to_end(&mut c).await;
    let e = logged(&proxy, 1).await.remove(0);
    assert_eq!(e.closed_by, ClosedBy::Toxic, "{e:?}");
    assert_eq!(e.toxic.as_deref(), Some("reset_peer"));
    assert_eq!(proxy.connections_summary().by_toxic["reset_peer"], 1);
}

#[tokio::test]
async fn limit_data_and_a_timeout_toxic_are_attributed() {
    let up = echo_server().await;
    let proxy = proxy_to(
        up,
        vec![toxic(
            json!({"name": "cap", "type": "limit_data", "stream": "upstream", "attributes": {"bytes": 2}}),
        )],
    )
    .await;
    let mut c = connect(&proxy).await;
    c.write_all(b"hello").await.unwrap();
    let _ = read_to_end(&mut c).await;
    let e = logged(&proxy, 1).await.remove(0);
    assert_eq!(
        (e.closed_by, e.toxic.as_deref()),
        (ClosedBy::Toxic, Some("limit_data")),
        "{e:?}"
    );
    assert_eq!(e.bytes_upstream, 2);

    proxy.remove_toxic("cap").unwrap();
    proxy
        .add_toxic(toxic(
            json!({"name": "t", "type": "timeout", "stream": "downstream", "attributes": {"timeout": 200}}),
        ))
        .unwrap();
    let mut c = connect(&proxy).await;
    c.write_all(b"x").await.unwrap();
    let _ = read_to_end(&mut c).await;
    let e = logged(&proxy, 2).await.remove(1);
    assert_eq!(
        (e.closed_by, e.toxic.as_deref()),
        (ClosedBy::Toxic, Some("timeout")),
        "{e:?}"
    );
    assert!(e.closed_ms >= 150.0, "{e:?}");
    assert_eq!(e.gave_up_ms, None, "the toxic, not the client, ended it");
}

#[tokio::test]
async fn an_unreachable_upstream_and_a_disabled_proxy_are_attributed() {
    // A port that was just free: nothing listens there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = proxy_to(dead, Vec::new()).await;
    let mut c = connect(&proxy).await;
    let _ = read_to_end(&mut c).await;
    let e = logged(&proxy, 1).await.remove(0);
    assert_eq!(e.closed_by, ClosedBy::UpstreamUnreachable);

    let up = echo_server().await;
    proxy.set_upstream(up.to_string());
    let mut c = connect(&proxy).await;
    assert_eq!(ping(&mut c, b"a").await, b"a");
    proxy.set_enabled(false).await.unwrap();
    let _ = read_to_end(&mut c).await;
    let e = logged(&proxy, 2).await.remove(1);
    assert_eq!(e.closed_by, ClosedBy::Proxy, "{e:?}");
}

#[tokio::test]
async fn the_ring_is_bounded_and_the_summary_counts_everything() {
    let up = echo_server().await;
    let mut cfg = TcpProxyConfig::new("ring", "127.0.0.1:0", up.to_string());
    cfg.log_capacity = 3;
    let proxy = TcpProxy::start(cfg).await.unwrap();
    for _ in 0..5 {
        let mut c = connect(&proxy).await;
        assert_eq!(ping(&mut c, b"z").await, b"z");
        c.shutdown().await.unwrap();
        let _ = read_to_end(&mut c).await;
    }
    let until = tokio::time::Instant::now() + SOON;
    while proxy.connections_summary().total < 5 && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all = proxy.connections_since(0);
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(proxy.connections_since(4).len(), 1);
    let s = proxy.connections_summary();
    assert_eq!((s.total, s.dropped), (5, 2));
    assert_eq!(s.by_closed_by["client"], 5);
}

#[tokio::test]
async fn the_native_api_serves_the_connection_log() {
    let api = control_support::api().await;
    let up = control_support::echo_server().await.to_string();
    let r = api
        .call(
            "POST",
            "/redline/proxies",
            Some(json!({"name": "db", "upstream": up, "protocol": "tcp"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let listen = r.json()["listen"].as_str().unwrap().to_string();
    control_support::echo_through(&listen, b"abc")
        .await
        .unwrap();
    let until = tokio::time::Instant::now() + SOON;
    let body = loop {
        let r = api
            .call("GET", "/redline/proxies/db/connections?since=0", None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let v = r.json();
        if !v["entries"].as_array().unwrap().is_empty() || tokio::time::Instant::now() > until {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(body["proxy"], "db");
    assert_eq!(body["next"], 1);
    let e = &body["entries"][0];
    assert_eq!(e["bytes_upstream"], 3);
    assert_eq!(e["closed_by"], "client");
    let later = api
        .call("GET", "/redline/proxies/db/connections?since=1", None)
        .await
        .json();
    assert_eq!(later["entries"].as_array().unwrap().len(), 0);
    let summary = api
        .call("GET", "/redline/proxies/db/connections/summary", None)
        .await
        .json();
    assert_eq!(summary["total"], 1);
    let bad = api
        .call("GET", "/redline/proxies/db/connections?since=x", None)
        .await;
    assert_eq!(bad.status, 400);
}
