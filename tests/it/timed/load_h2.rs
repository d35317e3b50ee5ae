//! The load engine over HTTP/2 against a real nginx on loopback: TLS with ALPN h2, `auto`
//! negotiating h2 or falling back to HTTP/1.1, h2c with prior knowledge, and many requests on
//! few connections (nginx's access log names each request's connection and protocol).

use crate::load_h2_support;

use std::collections::BTreeSet;

use load_h2_support::{redline_run, Nginx, TempDir};
use serde_json::Value;

fn scenario(base_url: &str, http: &str, tls: &str, conns: u32, rate: u32) -> String {
    format!(
        "name = \"h2\"\n[target]\nbase_url = \"{base_url}\"\nallowed_hosts = [\"127.0.0.1\"]\n\
         timeout = \"3s\"\nhttp = \"{http}\"\nmax_connections = {conns}\nstreams_per_connection = 64\n{tls}\n\
         [load]\nstages = [ {{ duration = \"1s\", rate = {rate} }} ]\n\
         [[request]]\nname = \"index\"\npath = \"/index.html\"\n"
    )
}

fn ca(nginx: &Nginx) -> String {
    format!("ca_file = \"{}\"", nginx.cert.display())
}

fn op(result: &Value) -> &Value {
    &result["operations"]["index"]
}

#[test]
fn http2_over_tls_carries_every_request_on_at_most_max_connections() {
    let dir = TempDir::new("load-h2-tls");
    let nginx = Nginx::start(&dir.0);
    let url = format!("https://127.0.0.1:{}", nginx.h2_tls);
    let (code, result, said) = redline_run(&dir.0, &scenario(&url, "2", &ca(&nginx), 2, 400));
    assert_eq!(code, 0, "{said}");
    assert_eq!(result["http_version"], "2", "{said}");
    assert_eq!(result["totals"]["completed"], 400, "{said}");
    assert_eq!(op(&result)["status"]["200"], 400, "{}", op(&result));
    let logged = nginx.requests();
    assert_eq!(logged.len(), 400);
    assert!(logged
        .iter()
        .all(|(_, proto, status)| proto == "HTTP/2.0" && *status == 200));
    let conns: BTreeSet<u64> = logged.iter().map(|(c, _, _)| *c).collect();
    assert!(
        !conns.is_empty() && conns.len() <= 2,
        "400 requests on {} connections: {conns:?}",
        conns.len()
    );
}

#[test]
fn auto_speaks_http2_where_alpn_offers_it_and_http1_where_not() {
    let dir = TempDir::new("load-h2-auto");
    let nginx = Nginx::start(&dir.0);
    let h2 = format!("https://127.0.0.1:{}", nginx.h2_tls);
    let (code, result, said) = redline_run(&dir.0, &scenario(&h2, "auto", &ca(&nginx), 2, 50));
    assert_eq!(code, 0, "{said}");
    assert_eq!(result["http_version"], "2", "{said}");
    assert_eq!(op(&result)["status"]["200"], 50);
    let h1 = format!("https://127.0.0.1:{}", nginx.h1_tls);
    let (code, result, said) = redline_run(&dir.0, &scenario(&h1, "auto", &ca(&nginx), 2, 50));
    assert_eq!(code, 0, "{said}");
    assert!(result.get("http_version").is_none(), "{said}");
    assert_eq!(op(&result)["status"]["200"], 50);
    let protocols: Vec<String> = nginx.requests().into_iter().map(|(_, p, _)| p).collect();
    assert_eq!(protocols.len(), 100);
    assert!(
        protocols[..50].iter().all(|p| p == "HTTP/2.0"),
        "{protocols:?}"
    );
    assert!(
        protocols[50..].iter().all(|p| p == "HTTP/1.1"),
        "{protocols:?}"
    );
}

#[test]
fn h2c_with_prior_knowledge_on_a_cleartext_port() {
    let dir = TempDir::new("load-h2c");
    let nginx = Nginx::start(&dir.0);
    let url = format!("http://127.0.0.1:{}", nginx.h2c);
    let (code, result, said) = redline_run(&dir.0, &scenario(&url, "2", "", 1, 100));
    assert_eq!(code, 0, "{said}");
    assert_eq!(op(&result)["status"]["200"], 100, "{said}");
    let logged = nginx.requests();
    assert_eq!(logged.len(), 100);
    assert!(logged.iter().all(|(_, p, _)| p == "HTTP/2.0"));
    let conns: BTreeSet<u64> = logged.iter().map(|(c, _, _)| *c).collect();
    assert_eq!(conns.len(), 1, "max_connections = 1: {conns:?}");
}

/// nginx ends each connection with GOAWAY after 20 requests: the engine opens new ones and a
/// stream the server refused unprocessed is sent again, so no request fails.
#[test]
fn connections_the_server_ends_with_goaway_are_replaced_without_errors() {
    let dir = TempDir::new("load-h2-goaway");
    let nginx = Nginx::start(&dir.0);
    let url = format!("http://127.0.0.1:{}", nginx.h2c_short);
    let (code, result, said) = redline_run(&dir.0, &scenario(&url, "2", "", 2, 600));
    assert_eq!(code, 0, "{said}");
    assert_eq!(result["totals"]["errors"], 0, "{}", op(&result));
    assert_eq!(op(&result)["status"]["200"], 600, "{said}");
    let conns: BTreeSet<u64> = nginx.requests().iter().map(|(c, _, _)| *c).collect();
    assert!(
        conns.len() >= 30,
        "600 requests at 20 per connection: {}",
        conns.len()
    );
}

#[test]
fn http2_against_a_server_without_h2_fails_saying_so() {
    let dir = TempDir::new("load-h2-noalpn");
    let nginx = Nginx::start(&dir.0);
    let url = format!("https://127.0.0.1:{}", nginx.h1_tls);
    let (code, result, said) = redline_run(&dir.0, &scenario(&url, "2", &ca(&nginx), 1, 20));
    assert_eq!(code, 1, "nothing answered: {said}");
    assert_eq!(result["totals"]["completed"], 0);
    let first = op(&result)["first_errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // nginx refuses the handshake (no_application_protocol alert); a server that completes it
    // without ALPN gets the engine's own sentence.
    assert!(
        first.contains("NoApplicationProtocol") || first.contains("ALPN"),
        "{first}"
    );
    assert!(nginx.requests().is_empty());
}

#[test]
fn a_bad_http_value_is_rejected_with_its_line() {
    let dir = TempDir::new("load-h2-bad");
    let text = scenario("http://127.0.0.1:9", "3", "", 1, 1);
    let (code, _, said) = redline_run(&dir.0, &text);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("scenario.toml:6") && said.contains("target.http"),
        "{said}"
    );
    assert!(
        said.contains("expected \"1.1\", \"2\" or \"auto\", found \"3\""),
        "{said}"
    );
}
