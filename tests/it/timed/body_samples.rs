//! Body sampling end to end: `redline::engine::run_scenario` against a real HTTP/1.1 server on
//! 127.0.0.1:0 that answers with Content-Length, chunked and close-delimited bodies (JSON,
//! problem+json, text, a body over 4 KiB), closes connections after some answers, and echoes a
//! secret: the samples are bounded per key, parsed and redacted, and `sample_bodies = false`
//! keeps none.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use redline::engine::{run_scenario, RunOptions};
use redline::result::RunResult;

/// Answers by path; runs until the test process ends (each connection on its own thread).
fn server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

fn serve(s: TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut out = s;
    let mut n = 0u64;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split(' ').nth(1).unwrap_or("/").to_string();
        let mut length = 0usize;
        let mut auth = String::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("authorization:") {
                auth = h["authorization:".len()..].trim().to_string();
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        n += 1;
        let answer = match path.as_str() {
            "/ok" => {
                let b = format!("{{\"id\":{n},\"token\":\"t-{n}\",\"echo\":\"{auth}\"}}");
                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}", b.len())
            }
            "/down" => {
                let b = r#"{"type":"about:blank","title":"Unavailable","status":503}"#;
                format!("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{b}", b.len())
            }
            "/chunked" => "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nnot f\r\n5\r\nound!\r\n0\r\n\r\n".to_string(),
            "/big" => {
                let b = format!("[{}1]", "1,".repeat(5000));
                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{b}", b.len())
            }
            _ => "HTTP/1.1 500 X\r\ncontent-type: text/plain\r\n\r\nuntil close".to_string(),
        };
        if out.write_all(answer.as_bytes()).is_err() {
            return;
        }
        // After a `connection: close` answer or a close-delimited body.
        if answer.contains("connection: close")
            || path != "/ok" && path != "/chunked" && path != "/big"
        {
            return;
        }
    }
}

fn scenario(port: u16, target_extra: &str) -> String {
    format!(
        r#"name = "bodies"
[target]
base_url = "http://127.0.0.1:{port}"
allowed_hosts = ["127.0.0.1"]
request_id_header = "x-request-id"
headers = {{ authorization = "Bearer {{{{env REDLINE_BODIES_TEST_TOKEN}}}}" }}
max_connections = 4
{target_extra}
[load]
stages = [ {{ duration = "2s", rate = 200 }} ]
[[request]]
name = "ok"
path = "/ok"
weight = 5
[[request]]
name = "down"
path = "/down"
[[request]]
name = "chunked"
path = "/chunked"
[[request]]
name = "big"
path = "/big"
[[request]]
name = "close"
path = "/close"
"#
    )
}

fn run(src: &str) -> RunResult {
    std::env::set_var("REDLINE_BODIES_TEST_TOKEN", "sekrit-bearer-42");
    let plan = redline::scenario::parse(src, "bodies.toml").unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run_scenario(&plan, RunOptions::default()))
        .unwrap()
}

#[test]
fn bodies_are_sampled_bounded_parsed_and_redacted() {
    let port = server();
    let r = run(&scenario(port, ""));
    let set = |req: &str| {
        r.body_samples
            .iter()
            .filter(|s| s.request == req)
            .collect::<Vec<_>>()
    };
    for s in &r.body_samples {
        let firsts = s.samples.iter().filter(|b| b.is_first()).count();
        assert!(firsts <= 3 && s.samples.len() <= 7, "{s:?}");
        assert!(s.samples.len() as u64 <= s.seen);
    }
    let ok = set("ok");
    let seen: u64 = ok.iter().map(|s| s.seen).sum();
    let count = r.operations["ok"].count;
    assert!(seen >= count, "every answer counted: {seen} vs {count}");
    assert!(ok.iter().all(|s| s.status == 200));
    let many = ok.iter().max_by_key(|s| s.seen).unwrap();
    assert_eq!(
        many.samples.len(),
        7,
        "3 first + 4 reservoir of {}",
        many.seen
    );
    let json = many.samples[0].json.as_ref().expect("parsed as JSON");
    assert_eq!(json["token"], "[redacted]", "a secret field");
    assert_eq!(
        json["echo"], "[redacted]",
        "the secret header's value echoed back"
    );
    assert!(many.samples[0].request_id.is_some());
    assert_eq!(
        many.samples[0].content_type.as_deref(),
        Some("application/json")
    );

    let down = set("down");
    let d = &down[0].samples[0];
    assert_eq!(down[0].status, 503);
    assert!(d.retry_after, "Retry-After seen");
    assert_eq!(
        d.json.as_ref().unwrap()["status"],
        503,
        "problem+json parsed, connection closed after it"
    );

    let chunked = &set("chunked")[0].samples[0];
    assert_eq!(
        chunked.text.as_deref(),
        Some("not found!"),
        "chunk framing removed"
    );
    assert_eq!(chunked.bytes, 10);

    let big = &set("big")[0].samples[0];
    assert!(big.truncated && big.bytes > 4096 && big.json.is_none());
    assert_eq!(big.text.as_ref().map(|t| t.len()), Some(4096));

    let close = &set("close")[0];
    assert_eq!(close.status, 500);
    assert_eq!(
        close.samples[0].text.as_deref(),
        Some("until close"),
        "close-delimited body"
    );

    let text = serde_json::to_string(&r).unwrap();
    assert!(
        !text.contains("sekrit-bearer-42"),
        "no secret anywhere in result.json"
    );
    eprintln!(
        "body samples: {} keys, {} bodies, {} bytes of JSON",
        r.body_samples.len(),
        r.body_samples
            .iter()
            .map(|s| s.samples.len())
            .sum::<usize>(),
        serde_json::to_string(&r.body_samples).unwrap().len()
    );
}

#[test]
fn sample_bodies_false_keeps_none() {
    let port = server();
    let r = run(&scenario(port, "sample_bodies = false"));
    assert!(r.totals.completed > 0);
    assert!(r.body_samples.is_empty());
}
