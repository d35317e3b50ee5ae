//! Every Toxiproxy toxic on a real loopback relay, plus toxicity and live changes.

use crate::tcp_support;

use std::time::{Duration, Instant};

use redline_proxy::toxic::ToxicPatch;
use serde_json::json;
use tcp_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn latency_delays_each_answer() {
    let t = toxic(json!({"type": "latency", "attributes": {"latency": 300, "jitter": 50}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    for _ in 0..2 {
        let start = Instant::now();
        assert_eq!(ping(&mut s, b"ping").await, b"ping");
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(250), "took {took:?}");
        assert!(took < SOON);
    }
}

#[tokio::test]
async fn upstream_latency_delays_the_request() {
    let t = toxic(json!({"type": "latency", "stream": "upstream", "attributes": {"latency": 300}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let start = Instant::now();
    ping(&mut s, b"x").await;
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn bandwidth_limits_throughput() {
    // 60 KB at 100 KB/s needs at least ~0.6 s; passthrough on loopback takes milliseconds.
    let payload = vec![7u8; 60_000];
    let t = toxic(json!({"type": "bandwidth", "attributes": {"rate": 100}}));
    let proxy = proxy_to(blurt_server(payload.clone()).await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let start = Instant::now();
    let (got, err) = read_to_end(&mut s).await;
    let took = start.elapsed();
    assert_eq!((got.len(), err), (payload.len(), None));
    assert!(took >= Duration::from_millis(500), "took {took:?}");
}

#[tokio::test]
async fn slow_close_delays_the_fin() {
    let t = toxic(json!({"type": "slow_close", "attributes": {"delay": 400}}));
    let proxy = proxy_to(blurt_server(b"bye".to_vec()).await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let start = Instant::now();
    let mut buf = [0u8; 3];
    s.read_exact(&mut buf).await.unwrap();
    let (rest, err) = read_to_end(&mut s).await;
    assert_eq!((rest.len(), err), (0, None));
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "FIN came after {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn timeout_drops_data_then_closes() {
    let t = toxic(json!({"type": "timeout", "attributes": {"timeout": 300}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let start = Instant::now();
    s.write_all(b"anyone?").await.unwrap();
    let (got, _) = read_to_end(&mut s).await;
    assert!(got.is_empty(), "timeout must drop data, got {got:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "closed after {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn timeout_zero_holds_until_removed_then_closes() {
    let t = toxic(json!({"type": "timeout", "attributes": {"timeout": 0}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    s.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 16];
    let held = tokio::time::timeout(Duration::from_millis(400), s.read(&mut buf)).await;
    assert!(
        held.is_err(),
        "connection must be held open with no data: {held:?}"
    );
    proxy.remove_toxic("timeout_downstream").unwrap();
    let (got, _) = read_to_end(&mut s).await;
    assert!(got.is_empty());
}

#[tokio::test]
async fn reset_peer_resets_the_connection() {
    let t = toxic(json!({"type": "reset_peer", "attributes": {"timeout": 0}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    s.write_all(b"hello").await.unwrap();
    let (got, err) = read_to_end(&mut s).await;
    assert!(got.is_empty());
    assert_eq!(err, Some(std::io::ErrorKind::ConnectionReset));
}

#[tokio::test]
async fn reset_peer_waits_its_timeout() {
    let t =
        toxic(json!({"type": "reset_peer", "stream": "upstream", "attributes": {"timeout": 300}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let start = Instant::now();
    s.write_all(b"hello").await.unwrap();
    let (got, err) = read_to_end(&mut s).await;
    assert_eq!(
        (got.len(), err),
        (0, Some(std::io::ErrorKind::ConnectionReset))
    );
    assert!(start.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn slicer_cuts_the_stream_into_pieces() {
    let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let t = toxic(
        json!({"type": "slicer", "attributes": {"average_size": 100, "size_variation": 20, "delay": 20000}}),
    );
    let proxy = proxy_to(blurt_server(payload.clone()).await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let mut reads = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        assert!(
            n <= 120,
            "a piece of {n} bytes is larger than average + variation"
        );
        reads += 1;
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, payload);
    assert!(reads >= 8, "only {reads} reads");
}

#[tokio::test]
async fn limit_data_cuts_after_n_bytes() {
    let t = toxic(json!({"type": "limit_data", "attributes": {"bytes": 100}}));
    let proxy = proxy_to(blurt_server(vec![1u8; 5000]).await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let (got, _) = read_to_end(&mut s).await;
    assert_eq!(got.len(), 100);
}

#[tokio::test]
async fn noop_passes_everything() {
    let t = toxic(json!({"type": "noop"}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    assert_eq!(ping(&mut s, b"same").await, b"same");
    assert_eq!(proxy.stats().toxics_applied, vec![("noop".to_string(), 1)]);
}

#[tokio::test]
async fn toxicity_is_decided_per_connection_with_binomial_bounds() {
    // limit_data 0 closes a poisoned connection on its first byte; a clean one echoes.
    let t = toxic(json!({"type": "limit_data", "toxicity": 0.5, "attributes": {"bytes": 0}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut poisoned = 0;
    for _ in 0..60 {
        let mut s = connect(&proxy).await;
        s.write_all(b"x").await.unwrap();
        let mut buf = [0u8; 1];
        let n = tokio::time::timeout(SOON, s.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0);
        if n == 0 {
            poisoned += 1;
        } else {
            // The same connection stays clean: toxicity is not re-rolled per chunk.
            for _ in 0..3 {
                assert_eq!(ping(&mut s, b"y").await, b"y");
            }
        }
    }
    // Binomial(60, 0.5): 99.99% of outcomes fall within 15..=45.
    assert!((15..=45).contains(&poisoned), "{poisoned} of 60 poisoned");
}

#[tokio::test]
async fn zero_toxicity_never_applies() {
    let t = toxic(json!({"type": "latency", "toxicity": 0.0, "attributes": {"latency": 5000}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let start = Instant::now();
    ping(&mut s, b"fast").await;
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn toxics_added_live_apply_to_open_connections_and_removal_restores() {
    let proxy = proxy_to(echo_server().await, vec![]).await;
    let mut s = connect(&proxy).await;
    ping(&mut s, b"warm").await;
    proxy
        .add_toxic(toxic(
            json!({"type": "latency", "attributes": {"latency": 300}}),
        ))
        .unwrap();
    let start = Instant::now();
    ping(&mut s, b"slow").await;
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "live add missed: {:?}",
        start.elapsed()
    );

    let patch: ToxicPatch =
        serde_json::from_value(json!({"attributes": {"latency": 600}})).unwrap();
    let updated = proxy.update_toxic("latency_downstream", &patch).unwrap();
    assert_eq!(updated.to_json()["attributes"]["latency"], 600);
    let start = Instant::now();
    ping(&mut s, b"slower").await;
    assert!(
        start.elapsed() >= Duration::from_millis(600),
        "live update missed"
    );

    proxy.remove_toxic("latency_downstream").unwrap();
    let start = Instant::now();
    ping(&mut s, b"fast").await;
    assert!(
        start.elapsed() < Duration::from_millis(600),
        "removal missed: {:?}",
        start.elapsed()
    );
    assert!(proxy.toxics().is_empty());
}

#[tokio::test]
async fn toxic_names_are_unique_and_errors_are_typed() {
    let proxy = proxy_to(echo_server().await, vec![]).await;
    proxy.add_toxic(toxic(json!({"type": "noop"}))).unwrap();
    let dup = proxy.add_toxic(toxic(json!({"type": "noop"}))).unwrap_err();
    assert_eq!(dup.status(), 409);
    assert_eq!(proxy.remove_toxic("nope").unwrap_err().status(), 404);
    proxy
        .add_toxic(toxic(json!({"type": "noop", "stream": "upstream"})))
        .unwrap();
    let names: Vec<_> = proxy.toxics().into_iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        ["noop_upstream", "noop_downstream"],
        "upstream toxics list first"
    );
    proxy.clear_toxics();
    assert!(proxy.toxics().is_empty());
}

#[tokio::test]
async fn latency_delays_a_stream_without_capping_its_throughput() {
    // 4 MB is ~128 reads of 32 KiB: were each read delayed in turn, this would take 25 s.
    let payload: Vec<u8> = (0..4_000_000u32).map(|i| (i % 253) as u8).collect();
    let t = toxic(json!({"type": "latency", "attributes": {"latency": 200, "jitter": 50}}));
    let proxy = proxy_to(blurt_server(payload.clone()).await, vec![t]).await;
    let mut s = connect(&proxy).await;
    let start = Instant::now();
    let (got, err) = read_to_end(&mut s).await;
    let took = start.elapsed();
    assert_eq!(err, None);
    assert!(got == payload, "bytes reordered or lost under jitter");
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(
        took < Duration::from_secs(8),
        "latency capped throughput: {took:?}"
    );
}

#[tokio::test]
async fn removing_latency_releases_queued_data_in_order() {
    let t = toxic(json!({"type": "latency", "attributes": {"latency": 60_000}}));
    let proxy = proxy_to(echo_server().await, vec![t]).await;
    let mut s = connect(&proxy).await;
    s.write_all(b"first").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.remove_toxic("latency_downstream").unwrap();
    s.write_all(b"second").await.unwrap();
    let mut got = [0u8; 11];
    tokio::time::timeout(SOON, s.read_exact(&mut got))
        .await
        .expect("released at once")
        .unwrap();
    assert_eq!(&got, b"firstsecond");
}
