//! Chaos runs sample the readiness endpoint beside health, and the `/ready` claim is judged from
//! those samples: the reference service (real /ready) through `redline run --spec`, an https
//! target, and a server that says not ready while it serves clients. All on 127.0.0.1.

use crate::chaos_common;
use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chaos_common::{redline_run, result, temp_dir, wait, Rig};
use common::Behaviour;
use redline::result::{RunResult, Verdict, VerdictStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ABORT_1S: &str = "[[fault]]\ndependency = \"UserService\"\nat = \"1s\"\nduration = \"2s\"\nkind = \"abort\"\nstatus = 503\n";

fn spec() -> String {
    format!(
        "{}/scenarios/specs/reference-service.md",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn ready_verdict(r: &RunResult) -> &Verdict {
    r.verdicts
        .iter()
        .find(|v| v.id == "ready")
        .unwrap_or_else(|| panic!("no ready verdict: {:?}", r.verdicts))
}

async fn run(dir: &std::path::Path, scenario: &str, extra: &[&str]) -> (Option<i32>, String) {
    let child = redline_run(dir, scenario, extra).spawn().unwrap();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(60)))
            .await
            .unwrap();
    (code, format!("{stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_service_ready_path_is_taken_from_the_spec_sampled_and_judged() {
    let rig = Rig::start().await;
    let dir = temp_dir("ready-spec");
    // No ready_path in the scenario: the spec's /ready is sampled because the run judges that spec.
    let scenario = rig.scenario("{ duration = \"5s\", rate = 40 }", ABORT_1S);
    assert!(!scenario.contains("ready_path"));
    let (code, out) = run(&dir, &scenario, &["--quiet", "--spec", &spec()]).await;
    assert!(matches!(code, Some(0 | 1)), "{out}");
    let r = result(&dir);
    let ready = r.ready.as_ref().expect("readiness samples");
    assert_eq!(ready.path, "/ready");
    assert!(ready.samples.len() >= 8, "{:?}", ready.samples);
    for s in &ready.samples {
        assert_eq!(s.status, Some(200), "{s:?}");
        assert_eq!(s.state.as_deref(), Some("ready"), "{s:?}");
    }
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("ready_path /ready sampled from the spec")),
        "{:?}",
        r.notes
    );
    // Health was sampled on its own path at the same cadence.
    assert!(r.health.len() + 2 >= ready.samples.len(), "{:?}", r.health);
    let v = ready_verdict(&r);
    assert_eq!(v.status, VerdictStatus::Pass, "{v:?}\n{out}");
    assert!(
        v.detail
            .contains("During the fault phases (fault:UserService:abort 1.0–3.0 s)"),
        "{}",
        v.detail
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_target_gets_ready_samples_when_the_scenario_names_the_path() {
    let server = common::https(Behaviour::Status(200));
    let dir = temp_dir("ready-https");
    let scenario = format!(
        "name = \"tls-ready\"\nseed = 1\n\
         [target]\nbase_url = \"https://127.0.0.1:{}\"\nallowed_hosts = [\"127.0.0.1\"]\ninsecure_tls = true\nready_path = \"/readyz\"\n\
         [load]\nmodel = \"open\"\nstages = [ {{ duration = \"3s\", rate = 5 }} ]\n\
         [[request]]\nname = \"get\"\npath = \"/\"\n",
        server.addr.port()
    );
    let (code, out) = run(&dir, &scenario, &["--quiet"]).await;
    assert_eq!(code, Some(0), "{out}");
    let r = result(&dir);
    assert!(r.health.is_empty(), "no health_path, no health samples");
    let ready = r.ready.as_ref().expect("readiness samples");
    assert_eq!(ready.path, "/readyz");
    assert!(
        ready.samples.len() >= 3,
        "{:?} {:?}",
        ready.samples,
        r.notes
    );
    assert!(ready.samples.iter().all(|s| s.status == Some(200)));
    let probes = server.seen().iter().filter(|s| s.path == "/readyz").count();
    assert!(
        probes >= ready.samples.len(),
        "{probes} probes seen over TLS"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1:0: 200 to everything, except `/ready`, which answers
/// 200 to its first `ready_for` probes and 503 `{"ready": false}` after (while still serving).
async fn flaky_ready_server(ready_for: usize) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let probes = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let probes = probes.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end + 4);
                    let path = head.split_whitespace().nth(1).unwrap_or("/");
                    let (status, body) = if path == "/ready" {
                        if probes.fetch_add(1, Ordering::SeqCst) < ready_for {
                            ("200 OK", r#"{"ready": true}"#)
                        } else {
                            ("503 Service Unavailable", r#"{"ready": false}"#)
                        }
                    } else {
                        ("200 OK", "ok")
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if sock.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_while_clients_are_served_fails_the_claim() {
    let addr = flaky_ready_server(3).await;
    let dir = temp_dir("ready-fail");
    let spec_file = dir.join("spec.md");
    std::fs::write(
        &spec_file,
        "# Svc\n\n## Health\n\n`GET /health` returns the service state. `GET /ready` answers 200 {\"ready\": true} \
         while the service accepts traffic, 503 once shutdown begins.\n",
    )
    .unwrap();
    let scenario = format!(
        "name = \"ready-fail\"\nseed = 1\n\
         [target]\nbase_url = \"http://{addr}\"\nallowed_hosts = [\"127.0.0.1\"]\nready_path = \"/ready\"\n\
         [load]\nmodel = \"open\"\nstages = [ {{ duration = \"4s\", rate = 20 }} ]\n\
         [[request]]\nname = \"get\"\npath = \"/\"\n"
    );
    let (code, out) = run(
        &dir,
        &scenario,
        &["--quiet", "--spec", spec_file.to_str().unwrap()],
    )
    .await;
    let r = result(&dir);
    let ready = r.ready.as_ref().expect("readiness samples");
    assert!(ready.samples.len() >= 6, "{:?}", ready.samples);
    assert!(ready.samples[..3].iter().all(|s| s.status == Some(200)));
    assert!(ready.samples[3..]
        .iter()
        .all(|s| s.status == Some(503) && s.state.as_deref() == Some("not_ready")));
    let v = ready_verdict(&r);
    assert_eq!(v.status, VerdictStatus::Fail, "{v:?}\n{out}");
    assert!(
        v.detail.contains("/ready answered 503 at 1.5 s"),
        "{}",
        v.detail
    );
    assert_eq!(code, Some(1), "a failed claim exits 1\n{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_ready_path_stops_the_run_before_anything_starts_with_file_and_line() {
    let dir = temp_dir("ready-bad");
    let scenario = "name = \"bad\"\n[target]\nbase_url = \"http://127.0.0.1:9\"\nallowed_hosts = [\"127.0.0.1\"]\nready_path = \"ready\"\n\
                    [load]\nstages = [ { duration = \"1s\", rate = 1 } ]\n[[request]]\nname = \"get\"\npath = \"/\"\n";
    let out = redline_run(&dir, scenario, &["--quiet"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("scenario.toml:5:14: `target.ready_path`: expected a path starting with \"/\", found \"ready\""),
        "{stderr}"
    );
    assert!(!dir.join("out/result.json").exists(), "nothing ran");
    let _ = std::fs::remove_dir_all(&dir);
}
