//! The reference service's resource API end to end, against the built-in stub UserService.

use crate::refsvc;

use redline::demo::service::ServiceTimes;
use redline::demo::{ReferenceConfig, ReferenceService, StubConfig, StubDependency};
use refsvc::{get, send};

#[tokio::test]
async fn crud_pagination_and_optimistic_versions() {
    let stub = StubDependency::start(StubConfig::ephemeral())
        .await
        .unwrap();
    let mut cfg = ReferenceConfig::ephemeral(stub.url());
    cfg.seed_items = 30;
    let svc = ReferenceService::start(cfg).await.unwrap();
    let addr = svc.addr();

    let one = get(addr, "/items/3").await;
    assert_eq!(one.status, 200);
    assert_eq!(
        (one.body["id"].as_u64(), one.body["version"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(one.headers["content-type"], "application/json");

    let page = get(addr, "/items?page=2&per_page=10").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 10);
    assert_eq!(page.body["items"][0]["id"], 11);
    assert_eq!(
        (page.body["total"].as_u64(), page.body["has_more"].as_bool()),
        (Some(30), Some(true))
    );
    assert_eq!(get(addr, "/items?per_page=500").await.status, 400);
    assert_eq!(get(addr, "/items?page=0").await.status, 400);

    let created = send(
        addr,
        "POST",
        "/items",
        &[],
        Some(r#"{"name":"lamp","value":{"watts":40}}"#),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_u64().unwrap();
    assert_eq!(id, 31);
    let path = format!("/items/{id}");

    let update = r#"{"name":"lamp v2","value":1,"version":1}"#;
    let updated = send(addr, "PUT", &path, &[], Some(update)).await;
    assert_eq!(
        (updated.status, updated.body["version"].as_u64()),
        (200, Some(2))
    );
    let stale = send(addr, "PUT", &path, &[], Some(update)).await;
    assert_eq!(
        (stale.status, stale.body["error_code"].as_str()),
        (409, Some("CONFLICT"))
    );

    assert_eq!(send(addr, "DELETE", &path, &[], None).await.status, 204);
    assert_eq!(get(addr, &path).await.status, 404);
    assert_eq!(send(addr, "DELETE", &path, &[], None).await.status, 404);
    assert!(stub.calls() >= 10, "every API request looked up its caller");
    svc.shutdown().await;
    stub.shutdown().await;
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let stub = StubDependency::start(StubConfig::ephemeral())
        .await
        .unwrap();
    let svc = ReferenceService::start(ReferenceConfig::ephemeral(stub.url()))
        .await
        .unwrap();
    let addr = svc.addr();
    for (method, path, body, status) in [
        ("POST", "/items", Some("not json"), 400),
        ("POST", "/items", Some(r#"{"value":1}"#), 400),
        ("PUT", "/items/1", Some(r#"{"name":"no version"}"#), 400),
        ("GET", "/items/abc", None, 400),
        ("PATCH", "/items/1", None, 405),
        ("GET", "/nowhere", None, 404),
    ] {
        let a = send(addr, method, path, &[], body).await;
        assert_eq!(a.status, status, "{method} {path}");
        assert!(a.body["error_code"].is_string() && a.body["request_id"].is_string());
    }
    let bad_key = send(addr, "GET", "/items/1", &[("x-client-key", "a/b")], None).await;
    assert_eq!(bad_key.status, 400);
    let huge = "x".repeat(70 * 1024);
    assert_eq!(
        send(addr, "POST", "/items", &[], Some(&huge)).await.status,
        413
    );
    svc.shutdown().await;
}

#[tokio::test]
async fn concurrent_requests_all_answered_with_work_time() {
    let stub = StubDependency::start(StubConfig::ephemeral())
        .await
        .unwrap();
    let mut cfg = ReferenceConfig::ephemeral(stub.url());
    cfg.service_times = ServiceTimes::default();
    cfg.rate_limit = None;
    let svc = ReferenceService::start(cfg).await.unwrap();
    let addr = svc.addr();
    let tasks: Vec<_> = (1..=50u32)
        .map(|i| tokio::spawn(async move { get(addr, &format!("/items/{i}")).await }))
        .collect();
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.status, 200);
    }
    assert_eq!(stub.calls(), 50);
    svc.shutdown().await;
    stub.shutdown().await;
}

#[tokio::test]
async fn bad_configuration_is_refused_at_start() {
    let mut cfg = ReferenceConfig::ephemeral("https://127.0.0.1:1");
    assert!(
        ReferenceService::start(cfg.clone()).await.is_err(),
        "https is refused"
    );
    cfg.dependency_url = "http://127.0.0.1:1".into();
    cfg.breaker.failure_threshold = 0;
    let err = ReferenceService::start(cfg).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_then_refuses_connections() {
    let stub = StubDependency::start(StubConfig {
        latency: std::time::Duration::from_millis(400),
        jitter: std::time::Duration::ZERO,
        ..StubConfig::ephemeral()
    })
    .await
    .unwrap();
    let mut cfg = ReferenceConfig::ephemeral(stub.url());
    cfg.call_timeout = std::time::Duration::from_secs(2);
    let svc = ReferenceService::start(cfg).await.unwrap();
    let addr = svc.addr();
    let in_flight = tokio::spawn(async move { get(addr, "/items/1").await });
    while stub.calls() == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    svc.shutdown().await;
    assert_eq!(in_flight.await.unwrap().status, 200, "drained, not cut");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
    stub.shutdown().await;
}
