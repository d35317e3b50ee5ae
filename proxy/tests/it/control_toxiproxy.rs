//! The Toxiproxy dialect of the control API: every endpoint's status codes, shapes, defaults
//! and quirks, against an in-process server and real loopback upstreams.

use crate::control_support;

use std::time::Duration;

use control_support::*;
use serde_json::json;

#[tokio::test]
async fn version_and_request_id_and_browser_block() {
    let api = api().await;
    let v = api.call("GET", "/version", None).await;
    assert_eq!(v.status, 200);
    assert!(v.json()["version"].as_str().unwrap().starts_with("2."));
    assert!(v.headers.contains_key("x-toxiproxy-request-id"));

    let browser = api
        .call_with(
            "GET",
            "/proxies",
            None,
            &[("user-agent", "Mozilla/5.0 (X11)")],
        )
        .await;
    assert_eq!(browser.status, 403);
    assert!(browser.headers.contains_key("x-toxiproxy-request-id"));

    let ids: Vec<_> = [
        api.call("GET", "/proxies", None).await,
        api.call("GET", "/proxies", None).await,
    ]
    .iter()
    .map(|a| a.headers["x-toxiproxy-request-id"].clone())
    .collect();
    assert_ne!(ids[0], ids[1], "request ids must differ");
}

#[tokio::test]
async fn proxy_create_show_list_and_errors() {
    let api = api().await;
    let up = echo_server().await.to_string();
    let created = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "db", "upstream": up, "listen": "127.0.0.1:0"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let p = created.json();
    assert_eq!(p["name"], "db");
    assert_eq!(p["upstream"], up);
    assert_eq!(p["enabled"], true);
    assert_eq!(p["toxics"], json!([]));
    let listen = p["listen"].as_str().unwrap().to_string();
    assert!(!listen.ends_with(":0"), "real port expected, got {listen}");
    assert!(echo_through(&listen, b"hi").await.is_some());

    let dup = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "db", "upstream": up})),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.json(),
        json!({"error": "proxy already exists", "status": 409})
    );
    let no_name = api
        .call("POST", "/proxies", Some(json!({"upstream": up})))
        .await;
    assert_eq!(
        (no_name.status, no_name.json()["status"].clone()),
        (400, json!(400))
    );
    assert!(no_name.json()["error"].as_str().unwrap().contains("name"));
    let no_up = api
        .call("POST", "/proxies", Some(json!({"name": "x"})))
        .await;
    assert_eq!(no_up.status, 400);
    let bad = api
        .call("POST", "/proxies", Some(json!(["not", "an", "object"])))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .starts_with("bad request body"));

    let all = api.call("GET", "/proxies", None).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.json()["db"]["listen"], listen.as_str());
    let one = api.call("GET", "/proxies/db", None).await;
    assert_eq!((one.status, one.json()["name"].clone()), (200, json!("db")));
    let missing = api.call("GET", "/proxies/nope", None).await;
    assert_eq!(
        missing.json(),
        json!({"error": "proxy not found", "status": 404})
    );
}

#[tokio::test]
async fn created_disabled_does_not_listen() {
    let api = api().await;
    let up = echo_server().await.to_string();
    let r = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "d", "upstream": up, "enabled": false})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["enabled"], false);
    let r = api
        .call("POST", "/proxies/d", Some(json!({"enabled": true})))
        .await;
    assert_eq!(r.status, 200);
    let listen = r.json()["listen"].as_str().unwrap().to_string();
    assert!(echo_through(&listen, b"x").await.is_some());
}

#[tokio::test]
async fn proxy_update_disables_enables_and_repoints() {
    let api = api().await;
    let up = echo_server().await.to_string();
    let (_, listen) = api.create_proxy("db", &up).await;

    let down = api
        .call("POST", "/proxies/db", Some(json!({"enabled": false})))
        .await;
    assert_eq!(
        (down.status, down.json()["enabled"].clone()),
        (200, json!(false))
    );
    assert!(
        echo_through(&listen, b"x").await.is_none(),
        "disabled proxy must refuse"
    );

    let back = api
        .call("PATCH", "/proxies/db", Some(json!({"enabled": true})))
        .await;
    assert_eq!(
        (back.status, back.json()["listen"].clone()),
        (200, json!(listen))
    );
    assert!(echo_through(&listen, b"x").await.is_some());

    let other = echo_server().await.to_string();
    let moved = api
        .call("PATCH", "/proxies/db", Some(json!({"upstream": other})))
        .await;
    assert_eq!(
        (moved.status, moved.json()["upstream"].clone()),
        (200, json!(other))
    );
    assert_eq!(moved.json()["enabled"], true);

    let relisten = api
        .call(
            "POST",
            "/proxies/db",
            Some(json!({"listen": "127.0.0.1:0"})),
        )
        .await;
    assert_eq!(relisten.status, 200);
    let new_listen = relisten.json()["listen"].as_str().unwrap().to_string();
    assert_ne!(new_listen, listen);
    assert!(echo_through(&new_listen, b"y").await.is_some());

    assert_eq!(
        api.call("POST", "/proxies/nope", Some(json!({"enabled": true})))
            .await
            .status,
        404
    );
    assert_eq!(
        api.call("POST", "/proxies/db", Some(json!({"enabled": "yes"})))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn proxy_delete() {
    let api = api().await;
    let up = echo_server().await.to_string();
    let (p, _) = api.create_proxy("db", &up).await;
    let gone = api.call("DELETE", "/proxies/db", None).await;
    assert_eq!((gone.status, gone.text.as_str()), (204, ""));
    assert!(echo_through(p["listen"].as_str().unwrap(), b"x")
        .await
        .is_none());
    assert_eq!(api.call("DELETE", "/proxies/db", None).await.status, 404);
    assert_eq!(api.call("GET", "/proxies", None).await.json(), json!({}));
}

#[tokio::test]
async fn toxic_lifecycle_and_errors() {
    let api = api().await;
    let up = echo_server().await.to_string();
    let (_, listen) = api.create_proxy("db", &up).await;

    let t = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(json!({"type": "latency", "attributes": {"latency": 600}})),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(
        t.json(),
        json!({"name": "latency_downstream", "type": "latency", "stream": "downstream", "toxicity": 1.0,
               "attributes": {"latency": 600, "jitter": 0}})
    );
    let (_, took) = echo_through(&listen, b"slow").await.unwrap();
    assert!(took >= Duration::from_millis(600), "{took:?}");

    let dup = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(json!({"type": "latency"})),
        )
        .await;
    assert_eq!(
        dup.json(),
        json!({"error": "toxic already exists", "status": 409})
    );
    let bad_type = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(json!({"type": "frobnicate"})),
        )
        .await;
    assert_eq!(
        bad_type.json(),
        json!({"error": "invalid toxic type", "status": 400})
    );
    let bad_stream = api
        .call(
            "POST",
            "/proxies/db/toxics",
            Some(json!({"type": "noop", "stream": "sideways"})),
        )
        .await;
    assert_eq!(bad_stream.status, 400);
    assert_eq!(
        api.call(
            "POST",
            "/proxies/nope/toxics",
            Some(json!({"type": "noop"}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        api.call("GET", "/proxies/nope/toxics", None).await.status,
        404
    );

    let up_t = json!({"name": "cut", "type": "limit_data", "stream": "upstream", "toxicity": 0.5, "attributes": {"bytes": 10}});
    assert_eq!(
        api.call("POST", "/proxies/db/toxics", Some(up_t))
            .await
            .status,
        200
    );
    let list = api.call("GET", "/proxies/db/toxics", None).await.json();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["cut", "latency_downstream"]);
    assert_eq!(
        api.call("GET", "/proxies/db", None).await.json()["toxics"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let one = api.call("GET", "/proxies/db/toxics/cut", None).await;
    assert_eq!(
        (one.status, one.json()["attributes"]["bytes"].clone()),
        (200, json!(10))
    );
    assert_eq!(
        api.call("GET", "/proxies/db/toxics/nope", None)
            .await
            .json()["status"],
        404
    );

    let upd = api
        .call(
            "POST",
            "/proxies/db/toxics/latency_downstream",
            Some(json!({"attributes": {"jitter": 5}})),
        )
        .await;
    assert_eq!(upd.status, 200);
    assert_eq!(
        upd.json()["attributes"],
        json!({"latency": 600, "jitter": 5})
    );
    let upd = api
        .call(
            "PATCH",
            "/proxies/db/toxics/cut",
            Some(json!({"toxicity": 1.0})),
        )
        .await;
    assert_eq!(
        (
            upd.json()["toxicity"].clone(),
            upd.json()["attributes"]["bytes"].clone()
        ),
        (json!(1.0), json!(10))
    );
    assert_eq!(
        api.call("PATCH", "/proxies/db/toxics/nope", Some(json!({})))
            .await
            .status,
        404
    );

    assert_eq!(
        api.call("DELETE", "/proxies/db/toxics/latency_downstream", None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.call("DELETE", "/proxies/db/toxics/latency_downstream", None)
            .await
            .status,
        404
    );
    assert_eq!(
        api.call("DELETE", "/proxies/db/toxics/cut", None)
            .await
            .status,
        204
    );
    let (_, took) = echo_through(&listen, b"fast").await.unwrap();
    assert!(took < Duration::from_millis(600), "{took:?}");
}

#[tokio::test]
async fn reset_reenables_and_clears() {
    let api = api().await;
    let up = echo_server().await.to_string();
    let (_, listen) = api.create_proxy("db", &up).await;
    api.call(
        "POST",
        "/proxies/db/toxics",
        Some(json!({"type": "timeout", "attributes": {"timeout": 0}})),
    )
    .await;
    api.call("POST", "/proxies/db", Some(json!({"enabled": false})))
        .await;

    let r = api.call("POST", "/reset", None).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    let p = api.call("GET", "/proxies/db", None).await.json();
    assert_eq!(
        (p["enabled"].clone(), p["toxics"].clone()),
        (json!(true), json!([]))
    );
    assert_eq!(echo_through(&listen, b"clean").await.unwrap().0, b"clean");
}

#[tokio::test]
async fn populate_creates_keeps_and_replaces() {
    let api = api().await;
    let a = echo_server().await.to_string();
    let b = echo_server().await.to_string();
    let body = json!([{"name": "one", "upstream": a, "listen": "127.0.0.1:0"}, {"name": "two", "upstream": b}]);
    let r = api.call("POST", "/populate", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let proxies = r.json()["proxies"].as_array().unwrap().clone();
    assert_eq!(proxies.len(), 2);
    let one_listen = proxies[0]["listen"].as_str().unwrap().to_string();
    let two_listen = proxies[1]["listen"].as_str().unwrap().to_string();

    // Same listen and upstream: kept as is. Different upstream: replaced.
    let again = json!([{"name": "one", "upstream": a, "listen": one_listen}, {"name": "two", "upstream": a, "listen": two_listen}]);
    let r = api.call("POST", "/populate", Some(again)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let proxies = r.json()["proxies"].as_array().unwrap().clone();
    assert_eq!(proxies[0]["listen"], one_listen.as_str());
    assert_eq!(proxies[1]["upstream"], a.as_str());

    let bad = api
        .call("POST", "/populate", Some(json!([{"name": "three"}])))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("upstream at proxy 1"));
    assert!(
        api.registry.get("three").is_none(),
        "a bad populate changes nothing"
    );
    assert_eq!(
        api.call("POST", "/populate", Some(json!({"name": "x"})))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let api = api().await;
    assert_eq!(api.call("GET", "/nothing/here", None).await.status, 404);
    let m = api.call("PUT", "/proxies", None).await;
    assert_eq!((m.status, m.json()["status"].clone()), (405, json!(405)));
}

#[tokio::test]
async fn http_protocol_extension_makes_an_http_proxy() {
    let api = api().await;
    let up = http_upstream().await.to_string();
    let r = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "web", "upstream": up, "protocol": "http"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["protocol"], "http");
    let listen: std::net::SocketAddr = r.json()["listen"].as_str().unwrap().parse().unwrap();
    let answer = request(listen, "GET", "/hello", None, &[]).await;
    assert_eq!((answer.status, answer.text.as_str()), (200, "ok /hello"));
    let listed = api.call("GET", "/proxies/web/toxics", None).await;
    assert_eq!((listed.status, listed.json()), (200, json!([])));
    let t = api
        .call(
            "POST",
            "/proxies/web/toxics",
            Some(json!({"type": "latency"})),
        )
        .await;
    assert_eq!(
        t.status, 400,
        "toxics are refused on http proxies with a hint"
    );
    assert!(t.json()["error"]
        .as_str()
        .unwrap()
        .contains("/redline/proxies/web/faults"));
    let bad = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "x", "upstream": up, "protocol": "udp"})),
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn oversized_and_malformed_requests_get_clear_errors() {
    let api = api().await;
    let huge = "x".repeat(2 << 20);
    let big = request(api.addr, "POST", "/proxies", Some(huge), &[]).await;
    assert_eq!(big.status, 413);
    assert_eq!(big.json()["status"], 413);
    let garbage = request(api.addr, "POST", "/proxies", Some("{not json".into()), &[]).await;
    assert_eq!(garbage.status, 400);
    assert!(garbage.json()["error"]
        .as_str()
        .unwrap()
        .starts_with("bad request body"));
    let toxic_array = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "p", "upstream": "127.0.0.1:1"})),
        )
        .await;
    assert_eq!(toxic_array.status, 201);
    let bad = api
        .call("POST", "/proxies/p/toxics", Some(json!([1, 2])))
        .await;
    assert_eq!(bad.status, 400);

    // Raw garbage on the socket: hyper answers 400 and the server keeps serving.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut raw = tokio::net::TcpStream::connect(api.addr).await.unwrap();
    raw.write_all(b"\x00\x01 NOT HTTP\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(SOON, raw.read_to_end(&mut answer)).await;
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(api.call("GET", "/version", None).await.status, 200);
}
