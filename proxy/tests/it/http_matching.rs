//! Which requests get a fault: matchers, limits, seeded probabilities (binomial bounds), and
//! changes made while traffic flows.

use crate::http_support;

use http_support::*;
use redline_proxy::fault::FaultError;

async fn statuses(c: &mut Client, path: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(c.get(path).await.unwrap().status.as_u16());
    }
    out
}

#[tokio::test]
async fn matcher_selects_method_path_and_header() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy
        .add_fault(fault("abort:status=501,method=POST,name=post"))
        .unwrap();
    proxy
        .add_fault(fault("abort:status=502,path=/api/,name=api"))
        .unwrap();
    proxy
        .add_fault(fault(
            "abort:status=503,header=x-chaos,header_value=on,name=hdr",
        ))
        .unwrap();
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    assert_eq!(c.get("/").await.unwrap().status, 200);
    assert_eq!(c.get("/api/users").await.unwrap().status, 502);
    assert_eq!(c.get("/apix").await.unwrap().status, 200);
    let post = hyper::Request::post("/")
        .header("host", "dep")
        .body(Default::default())
        .unwrap();
    assert_eq!(c.send(post).await.unwrap().status, 501);
    let chaos = |v: &str| {
        hyper::Request::get("/")
            .header("host", "dep")
            .header("x-chaos", v)
            .body(Default::default())
            .unwrap()
    };
    assert_eq!(c.send(chaos("on")).await.unwrap().status, 503);
    assert_eq!(c.send(chaos("off")).await.unwrap().status, 200);
    proxy.stop().await;
}

#[tokio::test]
async fn limits_first_and_every() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    proxy.add_fault(fault("abort:status=503,first=2")).unwrap();
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    assert_eq!(statuses(&mut c, "/", 4).await, [503, 503, 200, 200]);
    proxy
        .update_fault("abort", fault("abort:status=500,every=3"))
        .unwrap();
    assert_eq!(
        statuses(&mut c, "/", 6).await,
        [200, 200, 500, 200, 200, 500]
    );
    proxy.stop().await;
}

#[tokio::test]
async fn probability_is_seeded_and_within_binomial_bounds() {
    let up = Upstream::start().await;
    let mut runs = Vec::new();
    for seed in [7, 7, 8] {
        let proxy = proxy_to(up.addr, seed).await;
        proxy
            .add_fault(fault("abort:status=503,probability=0.25"))
            .unwrap();
        let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
        runs.push(statuses(&mut c, "/", 400).await);
        proxy.stop().await;
    }
    assert_eq!(
        runs[0], runs[1],
        "same seed, same request order: same coins"
    );
    assert_ne!(runs[0], runs[2]);
    let hits = runs[0].iter().filter(|s| **s == 503).count();
    // Binomial(400, 0.25): mean 100, sd 8.66; 5 sd either side.
    assert!((57..=143).contains(&hits), "{hits}");
    assert_eq!(runs[0].iter().filter(|s| **s == 200).count(), 400 - hits);
}

#[tokio::test]
async fn live_changes_apply_to_the_next_request_on_the_same_connection() {
    let up = Upstream::start().await;
    let proxy = proxy_to(up.addr, 1).await;
    let mut c = Client::connect(proxy.listen_addr()).await.unwrap();
    assert_eq!(c.get("/").await.unwrap().status, 200);
    proxy.add_fault(fault("abort:status=503")).unwrap();
    assert_eq!(
        proxy.add_fault(fault("abort:status=500")),
        Err(FaultError::Exists("abort".into()))
    );
    assert_eq!(c.get("/").await.unwrap().status, 503);
    proxy
        .update_fault("abort", fault("abort:status=418"))
        .unwrap();
    assert_eq!(c.get("/").await.unwrap().status, 418);
    assert_eq!(proxy.faults().len(), 1);
    proxy.add_fault(fault("latency:delay=1ms")).unwrap();
    proxy.clear_faults();
    assert!(proxy.faults().is_empty());
    assert_eq!(c.get("/").await.unwrap().status, 200);
    proxy.add_fault(fault("abort:status=503")).unwrap();
    assert!(proxy.remove_fault("abort"));
    assert!(!proxy.remove_fault("abort"));
    assert_eq!(c.get("/").await.unwrap().status, 200);
    proxy.stop().await;
}

#[tokio::test]
async fn set_upstream_moves_traffic() {
    let a = Upstream::start().await;
    let b = Upstream::start().await;
    let proxy = proxy_to(a.addr, 1).await;
    get_once(proxy.listen_addr(), "/").await.unwrap();
    proxy.set_upstream(b.addr.to_string());
    assert_eq!(proxy.upstream(), b.addr.to_string());
    get_once(proxy.listen_addr(), "/").await.unwrap();
    assert_eq!((a.hits(), b.hits()), (1, 1));
    proxy.stop().await;
}
