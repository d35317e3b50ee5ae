//! The native `/redline` dialect: HTTP faults over the API, the dependency-side log, counters,
//! the change journal (who and when), reset, and `/metrics`.

use crate::control_support;

use control_support::*;
use serde_json::{json, Value};

async fn http_proxy(api: &Api) -> std::net::SocketAddr {
    let up = http_upstream().await.to_string();
    let r = api
        .call(
            "POST",
            "/redline/proxies",
            Some(json!({"name": "dep", "upstream": up})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json()["protocol"],
        "http",
        "native create defaults to http"
    );
    r.json()["listen"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn faults_lifecycle_over_the_api() {
    let api = api().await;
    let proxy = http_proxy(&api).await;
    assert_eq!(request(proxy, "GET", "/a", None, &[]).await.status, 200);

    let abort = json!({"name": "boom", "kind": {"type": "abort", "status": 503}});
    let r = api
        .call_with(
            "POST",
            "/redline/proxies/dep/faults",
            Some(abort.clone()),
            &[("x-redline-actor", "game-day")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["name"], "boom");
    assert_eq!(r.json()["probability"], 1.0);
    assert_eq!(
        request(proxy, "GET", "/b", None, &[]).await.status,
        503,
        "fault applies to the next request"
    );

    let dup = api
        .call("POST", "/redline/proxies/dep/faults", Some(abort))
        .await;
    assert_eq!(dup.status, 409);
    let bad = api
        .call(
            "POST",
            "/redline/proxies/dep/faults",
            Some(json!({"kind": {"type": "abort", "status": 42}})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let unknown = api
        .call(
            "POST",
            "/redline/proxies/dep/faults",
            Some(json!({"kind": {"type": "explode"}})),
        )
        .await;
    assert_eq!(unknown.status, 400);

    let list = api
        .call("GET", "/redline/proxies/dep/faults", None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let one = api
        .call("GET", "/redline/proxies/dep/faults/boom", None)
        .await;
    assert_eq!(
        (one.status, one.json()["kind"]["status"].clone()),
        (200, json!(503))
    );
    assert_eq!(
        api.call("GET", "/redline/proxies/dep/faults/none", None)
            .await
            .status,
        404
    );

    let put = json!({"kind": {"type": "abort", "status": 429}});
    let r = api
        .call("PUT", "/redline/proxies/dep/faults/boom", Some(put))
        .await;
    assert_eq!(
        (r.status, r.json()["kind"]["status"].clone()),
        (200, json!(429)),
        "{}",
        r.text
    );
    assert_eq!(request(proxy, "GET", "/c", None, &[]).await.status, 429);

    assert_eq!(
        api.call("DELETE", "/redline/proxies/dep/faults/boom", None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.call("DELETE", "/redline/proxies/dep/faults/boom", None)
            .await
            .status,
        404
    );
    assert_eq!(request(proxy, "GET", "/d", None, &[]).await.status, 200);

    api.call(
        "POST",
        "/redline/proxies/dep/faults",
        Some(json!({"kind": {"type": "abort", "status": 500}})),
    )
    .await;
    assert_eq!(
        api.call("DELETE", "/redline/proxies/dep/faults", None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.call("GET", "/redline/proxies/dep/faults", None)
            .await
            .json(),
        json!([])
    );
    assert_eq!(
        api.call("GET", "/redline/proxies/nope/faults", None)
            .await
            .status,
        404
    );

    // The journal says who changed what, in order.
    let j = api.call("GET", "/redline/journal", None).await.json();
    let changes = j["changes"].as_array().unwrap();
    let actions: Vec<&str> = changes
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "proxy.create",
            "fault.add",
            "fault.update",
            "fault.remove",
            "fault.add",
            "faults.clear"
        ]
    );
    assert_eq!(changes[1]["actor"], "game-day");
    assert_eq!(changes[1]["target"], "boom");
    assert_eq!(changes[1]["detail"]["kind"]["status"], 503);
    assert!(
        changes[2]["actor"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "peer address is the default actor"
    );
    assert!(changes[1]["t_ms"].as_f64().unwrap() <= changes[2]["t_ms"].as_f64().unwrap());
    assert_eq!(j["next"], 6);
    let later = api
        .call("GET", "/redline/journal?since=5", None)
        .await
        .json();
    assert_eq!(later["changes"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.call("GET", "/redline/journal?since=x", None)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn log_summary_and_stats() {
    let api = api().await;
    let proxy = http_proxy(&api).await;
    for i in 0..3 {
        let id = format!("req-{i}");
        request(
            proxy,
            "GET",
            &format!("/item/{i}"),
            None,
            &[("x-request-id", id.as_str())],
        )
        .await;
    }
    // Entries are pushed when each exchange ends; wait for the third (bounded).
    let mut log = Value::Null;
    for _ in 0..200 {
        log = api
            .call("GET", "/redline/proxies/dep/log", None)
            .await
            .json();
        if log["entries"].as_array().unwrap().len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{log}");
    assert_eq!(entries[0]["path"], "/item/0");
    assert_eq!(entries[0]["correlation_id"], "req-0");
    assert_eq!(log["next"], 3);
    let tail = api
        .call("GET", "/redline/proxies/dep/log?since=2", None)
        .await
        .json();
    assert_eq!(tail["entries"].as_array().unwrap().len(), 1);
    let limited = api
        .call("GET", "/redline/proxies/dep/log?since=0&limit=1", None)
        .await
        .json();
    assert_eq!(
        (
            limited["entries"].as_array().unwrap().len(),
            limited["next"].clone()
        ),
        (1, json!(1))
    );

    let summary = api
        .call("GET", "/redline/proxies/dep/log/summary", None)
        .await;
    assert_eq!(summary.status, 200);
    assert!(summary.json().is_object());
    let stats = api
        .call("GET", "/redline/proxies/dep/stats", None)
        .await
        .json();
    assert_eq!(stats["requests"], 3);
    let detail = api.call("GET", "/redline/proxies/dep", None).await.json();
    assert_eq!(detail["stats"]["requests"], 3);
    let all = api.call("GET", "/redline/proxies", None).await.json();
    assert_eq!(all.as_array().unwrap()[0]["name"], "dep");
}

#[tokio::test]
async fn tcp_proxies_refuse_faults_but_show_stats() {
    let api = api().await;
    let up = echo_server().await.to_string();
    let r = api
        .call(
            "POST",
            "/redline/proxies",
            Some(json!({"name": "raw", "upstream": up, "protocol": "tcp"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let listen = r.json()["listen"].as_str().unwrap().to_string();
    echo_through(&listen, b"abc").await.unwrap();
    let f = api
        .call(
            "POST",
            "/redline/proxies/raw/faults",
            Some(json!({"kind": {"type": "reset"}})),
        )
        .await;
    assert_eq!(f.status, 400);
    assert!(f.json()["error"].as_str().unwrap().contains("toxics"));
    let stats = api
        .call("GET", "/redline/proxies/raw/stats", None)
        .await
        .json();
    assert_eq!(stats["bytes_upstream"], 3);
    assert_eq!(
        api.call("GET", "/redline/proxies/raw/log", None)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn create_with_faults_disable_and_reset() {
    let api = api().await;
    let up = http_upstream().await.to_string();
    let body = json!({"name": "dep", "upstream": up, "faults": [{"kind": {"type": "abort", "status": 502}}]});
    let r = api.call("POST", "/redline/proxies", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["faults"][0]["name"], "abort");
    let proxy: std::net::SocketAddr = r.json()["listen"].as_str().unwrap().parse().unwrap();
    assert_eq!(request(proxy, "GET", "/", None, &[]).await.status, 502);

    let off = api
        .call(
            "PATCH",
            "/redline/proxies/dep",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(
        (off.status, off.json()["enabled"].clone()),
        (200, json!(false))
    );

    assert_eq!(api.call("POST", "/redline/reset", None).await.status, 204);
    let p = api.call("GET", "/redline/proxies/dep", None).await.json();
    assert_eq!(
        (p["enabled"].clone(), p["faults"].clone()),
        (json!(true), json!([]))
    );
    assert_eq!(request(proxy, "GET", "/", None, &[]).await.status, 200);

    let bad =
        json!({"name": "x", "upstream": up, "faults": [{"kind": {"type": "abort", "status": 42}}]});
    assert_eq!(
        api.call("POST", "/redline/proxies", Some(bad)).await.status,
        400
    );
    assert!(api.registry.get("x").is_none());
    assert_eq!(
        api.call("DELETE", "/redline/proxies/dep", None)
            .await
            .status,
        204
    );
    assert_eq!(api.call("GET", "/redline/nothing", None).await.status, 404);
}

#[tokio::test]
async fn metrics_cover_both_kinds() {
    let api = api().await;
    let proxy = http_proxy(&api).await;
    api.call(
        "POST",
        "/redline/proxies/dep/faults",
        Some(json!({"kind": {"type": "abort", "status": 503}})),
    )
    .await;
    request(proxy, "GET", "/", None, &[]).await;
    let up = echo_server().await.to_string();
    let tcp = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "raw", "upstream": up})),
        )
        .await
        .json();
    api.call("POST", "/proxies/raw/toxics", Some(json!({"type": "noop"})))
        .await;
    echo_through(tcp["listen"].as_str().unwrap(), b"12345")
        .await
        .unwrap();

    let m = api.call("GET", "/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(m.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let has = |line: &str| m.text.lines().any(|l| l == line);
    for line in [
        "redline_proxy_requests_total{proxy=\"dep\"} 1",
        "redline_proxy_faults_injected_total{proxy=\"dep\",kind=\"abort\"} 1",
        "redline_proxy_faults_injected_total{proxy=\"raw\",kind=\"noop\"} 1",
        "redline_proxy_bytes_total{proxy=\"raw\",direction=\"upstream\"} 5",
        "redline_proxy_up{proxy=\"raw\"} 1",
        "# TYPE redline_proxy_open_connections gauge",
    ] {
        assert!(has(line), "missing {line:?} in\n{}", m.text);
    }
    // Every sample line parses as `name{labels} integer`.
    for l in m.text.lines().filter(|l| !l.starts_with('#')) {
        let (_, v) = l.rsplit_once(' ').unwrap();
        v.parse::<u64>()
            .unwrap_or_else(|_| panic!("bad sample {l:?}"));
    }
}
