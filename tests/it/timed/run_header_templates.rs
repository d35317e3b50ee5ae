//! `redline run` with templated header values and `{{env NAME}}`: a real server on 127.0.0.1:0
//! records the headers it receives; the env value reaches the server and no file written.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const TOKEN: &str = "tok-9f1c2e7d5b";
const KEY_A: &str = "key-a-41d8cd98";
const KEY_B: &str = "key-b-00b204e9";

/// (path, x-trace, authorization, x-api-key) of every request received.
type Seen = Arc<Mutex<Vec<[String; 4]>>>;

/// A server answering 200 to everything and recording the headers of interest.
fn recording_server() -> (SocketAddr, Seen) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let s = seen.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(listener).unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let get = |h: &str| {
                            req.headers()
                                .get(h)
                                .map_or(String::new(), |v| v.to_str().unwrap_or("?").to_string())
                        };
                        let row = [
                            req.uri().path().to_string(),
                            get("x-trace"),
                            get("authorization"),
                            get("x-api-key"),
                        ];
                        s.lock().unwrap().push(row);
                        async {
                            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    (addr, seen)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-hdr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn scenario(addr: SocketAddr) -> String {
    format!(
        r#"
name = "headers"
seed = 11
[target]
base_url = "http://{addr}"
allowed_hosts = ["127.0.0.1"]
timeout = "5s"
headers = {{ authorization = "Bearer {{{{env RL_TEST_TOKEN}}}}" }}
[load]
stages = [ {{ duration = "1s", rate = 40 }} ]
[[request]]
name = "a"
path = "/a/{{{{env RL_TEST_ITEM}}}}"
headers = {{ x-trace = "t-{{{{seq}}}}-{{{{uuid}}}}", x-api-key = "{{{{env RL_TEST_KEY_A}}}}" }}
[[request]]
name = "b"
path = "/b"
headers = {{ x-trace = "t-{{{{seq}}}}-{{{{uuid}}}}", x-api-key = "{{{{env RL_TEST_KEY_B}}}}" }}
"#
    )
}

/// A spec with one rate limit: its verdicts name each request's key header value, which must
/// show as written (`{{env NAME}}`), not resolved.
const SPEC: &str = "## Backend Spec: Headers\n\n#### Rate Limiting\n\n```python\nRATE_LIMITS = {\n    \"default\": \"1000/minute\",\n}\n```\n";

fn run(dir: &Path, scenario: &str, env: &[(&str, &str)]) -> std::process::Output {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    std::fs::write(dir.join("spec.md"), SPEC).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline"));
    cmd.arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--quiet")
        .arg("--spec")
        .arg(dir.join("spec.md"))
        .current_dir(dir);
    for name in [
        "RL_TEST_TOKEN",
        "RL_TEST_ITEM",
        "RL_TEST_KEY_A",
        "RL_TEST_KEY_B",
    ] {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

const ALL_ENV: [(&str, &str); 4] = [
    ("RL_TEST_TOKEN", TOKEN),
    ("RL_TEST_ITEM", "item-77"),
    ("RL_TEST_KEY_A", KEY_A),
    ("RL_TEST_KEY_B", KEY_B),
];

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn templated_and_env_headers_reach_the_server_and_no_report() {
    let (addr, seen) = recording_server();
    let dir = temp_dir("ok");
    let out = run(&dir, &scenario(addr), &ALL_ENV);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 40, "{seen:?}");
    let traces: HashSet<&str> = seen.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        traces.len(),
        40,
        "x-trace must differ per request: {seen:?}"
    );
    for [path, trace, auth, key] in &seen {
        assert!(trace.starts_with("t-") && trace.len() > 38, "{trace}");
        assert_eq!(auth, &format!("Bearer {TOKEN}"));
        match path.as_str() {
            "/a/item-77" => assert_eq!(key, KEY_A),
            "/b" => assert_eq!(key, KEY_B),
            other => panic!("unexpected path {other}"),
        }
    }
    // The rate-limit verdicts are per key, named as the scenario wrote them.
    let result = std::fs::read_to_string(dir.join("out/result.json")).unwrap();
    assert!(result.contains("{{env RL_TEST_KEY_A}}"), "{result}");
    let written = files(&dir.join("out"));
    assert!(written.len() >= 2, "{written:?}");
    for f in &written {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for secret in [TOKEN, KEY_A, KEY_B] {
            assert!(!text.contains(secret), "{} shows {secret}", f.display());
        }
    }
    for secret in [TOKEN, KEY_A, KEY_B] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
}

#[test]
fn unset_env_var_is_bad_input_with_position() {
    let (addr, seen) = recording_server();
    let dir = temp_dir("unset");
    let env: Vec<_> = ALL_ENV
        .iter()
        .copied()
        .filter(|(k, _)| *k != "RL_TEST_KEY_B")
        .collect();
    let out = run(&dir, &scenario(addr), &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("scenario.toml:18:45: `request[1].headers.x-api-key`")
            && stderr.contains("environment variable RL_TEST_KEY_B is not set"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(TOKEN) && !stderr.contains(KEY_A),
        "{stderr}"
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn invalid_header_template_is_bad_input_with_position() {
    let (addr, seen) = recording_server();
    let dir = temp_dir("bad");
    let src = scenario(addr).replacen("t-{{seq}}", "t-{{seq 3}}", 1);
    let out = run(&dir, &src, &ALL_ENV);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("scenario.toml:14:13: `request[0].headers.x-trace`")
            && stderr.contains("`seq` takes no arguments"),
        "{stderr}"
    );
    assert!(seen.lock().unwrap().is_empty());
}
