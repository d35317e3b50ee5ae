//! Chaos runs never leave a fault behind on an attached `redline proxy`: not after a second
//! Ctrl-C, not when the target is unreachable, and when the proxy stops answering, the run names
//! the fault and the command that removes it. Also: an https target gets health samples.
//! Real processes (`redline run`, `redline proxy`) and real sockets on 127.0.0.1 only.

mod chaos_common;
mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use chaos_common::{free_port, http, interrupt, redline_run, result, temp_dir, wait};
use common::Behaviour;
use serde_json::Value;
use tokio::io::AsyncReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_redline");

/// A `redline proxy` process with one HTTP proxy named `users` and its control API.
struct ProxyProcess {
    child: Child,
    control: SocketAddr,
}

impl ProxyProcess {
    fn start(upstream: SocketAddr) -> ProxyProcess {
        let mut child = Command::new(BIN)
            .args(["proxy", "--listen", "127.0.0.1:0", "--upstream"])
            .arg(upstream.to_string())
            .args(["--control", "127.0.0.1:0", "--name", "users", "--seed", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) else {
                continue;
            };
            if let Some((_, rest)) = line.split_once("control API on http://") {
                let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
                return ProxyProcess {
                    child,
                    control: addr,
                };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redline proxy printed no control address");
    }

    /// The proxy's fault names, asked of its native API.
    async fn faults(&self) -> Vec<String> {
        let (status, body) = http(
            self.control,
            "GET",
            "/redline/proxies/users/faults",
            &[],
            "",
        )
        .await
        .expect("control API answers");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// Waits (bounded) until the proxy holds a fault.
    async fn wait_for_a_fault(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if !self.faults().await.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the scheduled fault never reached the attached proxy");
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scenario against `target` with dependency Users attached to the proxy process and an
/// abort fault from t = 0 that outlasts the run.
fn attached_scenario(target: &str, control: SocketAddr, run: &str) -> String {
    format!(
        "name = \"safety\"\nseed = 3\n\
         [target]\nbase_url = \"{target}\"\nallowed_hosts = [\"127.0.0.1\"]\ntimeout = \"5s\"\n\
         [load]\nmodel = \"open\"\nstages = [ {{ duration = \"{run}\", rate = 10 }} ]\n\
         [[request]]\nname = \"get\"\npath = \"/slow\"\n\
         [[dependency]]\nname = \"Users\"\ncontrol = \"http://{control}\"\nproxy = \"users\"\n\
         [[fault]]\ndependency = \"Users\"\nat = \"0s\"\nduration = \"60s\"\nkind = \"abort\"\nstatus = 503\n"
    )
}

/// Starts `redline run` against a target that answers after 1.5 s (so a Ctrl-C finds requests
/// in flight and the run's own cleanup waits for them), once the fault is on the proxy.
async fn run_with_fault_installed(
    name: &str,
    proxy: &ProxyProcess,
) -> (Child, common::Server, std::path::PathBuf) {
    let target = common::http(Behaviour::Delay(Duration::from_millis(1500)));
    let dir = temp_dir(name);
    let scenario = attached_scenario(&target.base_url(), proxy.control, "30s");
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    proxy.wait_for_a_fault().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while target.hits() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(target.hits() >= 3, "no request reached the target");
    (child, target, dir)
}

fn twice_ctrl_c(child: Child) -> (Option<i32>, String, String, Duration) {
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    interrupt(&child);
    let (code, out, err) = wait(child, Duration::from_secs(20));
    (code, out, err, second.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_still_removes_the_fault_from_the_attached_proxy() {
    let upstream = common::http(Behaviour::Status(200));
    let proxy = ProxyProcess::start(upstream.addr);
    let (child, _target, dir) = run_with_fault_installed("double-ctrl-c", &proxy).await;
    assert_eq!(proxy.faults().await, ["abort@0s"]);
    let (code, stdout, stderr, _) = tokio::task::spawn_blocking(move || twice_ctrl_c(child))
        .await
        .unwrap();
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    assert_eq!(
        proxy.faults().await,
        Vec::<String>::new(),
        "fault left behind on the attached proxy\n{stderr}"
    );
    assert!(stderr.contains("interrupted again"), "{stderr}");
    assert!(
        stderr.contains("removed fault abort@0s on proxy users"),
        "{stderr}"
    );
    assert!(!stderr.contains("STILL INSTALLED"), "{stderr}");
    // A second Ctrl-C skips the result (documented): no half-written file either.
    assert!(!dir.join("out/result.json").exists());
    assert!(!dir.join("out/result.json.tmp").exists());
}

/// A TCP relay in front of a control API that can be frozen: connections made while frozen are
/// read and never answered nor forwarded (a control API that stopped answering, whose late
/// requests cannot land afterwards either).
struct Relay {
    addr: SocketAddr,
    frozen: Arc<AtomicBool>,
}

impl Relay {
    async fn start(to: SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let f = frozen.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let frozen = f.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    if frozen {
                        let mut sink = [0u8; 4096];
                        while matches!(inbound.read(&mut sink).await, Ok(n) if n > 0) {}
                        return;
                    }
                    if let Ok(mut out) = tokio::net::TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        Relay { addr, frozen }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_api_that_stops_answering_is_named_with_the_command_that_removes_the_fault() {
    let upstream = common::http(Behaviour::Status(200));
    let mut proxy = ProxyProcess::start(upstream.addr);
    let relay = Relay::start(proxy.control).await;
    let real_control = proxy.control;
    // The run (and the command it prints) talk to the proxy through the relay.
    proxy.control = relay.addr;
    let (child, _target, _dir) = run_with_fault_installed("frozen-control", &proxy).await;
    relay.frozen.store(true, Ordering::SeqCst);
    let (code, stdout, stderr, after_second) =
        tokio::task::spawn_blocking(move || twice_ctrl_c(child))
            .await
            .unwrap();
    relay.frozen.store(false, Ordering::SeqCst);
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    // The 2 s removal deadline holds (generous bound for a busy machine).
    assert!(after_second < Duration::from_secs(10), "{after_second:?}");
    assert!(
        stderr.contains("STILL INSTALLED: fault abort@0s on proxy users"),
        "{stderr}"
    );
    let command = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("remove it with: "))
        .unwrap_or_else(|| panic!("no command in {stderr}"));
    assert_eq!(
        command,
        format!(
            "redline fault rm abort@0s --control http://{} --proxy users",
            relay.addr
        )
    );
    proxy.control = real_control;
    assert_eq!(
        proxy.faults().await,
        ["abort@0s"],
        "still there, as printed"
    );
    let words: Vec<&str> = command.split_whitespace().collect();
    let out = Command::new(BIN).args(&words[1..]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(proxy.faults().await.is_empty(), "the printed command works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_against_an_unreachable_target_leaves_no_fault_behind() {
    let upstream = common::http(Behaviour::Status(200));
    let proxy = ProxyProcess::start(upstream.addr);
    let dir = temp_dir("unreachable");
    // Nothing listens on this port: every request fails to connect.
    let target = format!("http://127.0.0.1:{}", free_port());
    let scenario = attached_scenario(&target, proxy.control, "3s");
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    proxy.wait_for_a_fault().await;
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(30)))
            .await
            .unwrap();
    // No request got an answer: a failed run (exit 1) that says why, faults still removed.
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("FAILED: no request got an answer: connect: Connection refused"),
        "{stdout}"
    );
    assert!(proxy.faults().await.is_empty(), "fault left behind");
    assert!(!stderr.contains("STILL INSTALLED"), "{stderr}");
    let r = result(&dir);
    let ops = &r.operations["get"];
    assert!(ops.count > 0 && ops.errors == ops.count, "{ops:?}");
    assert_eq!(r.faults.len(), 1, "{:?}", r.faults);
    assert!(r.faults[0].removed_at_s.is_some(), "{:?}", r.faults[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_target_gets_health_samples() {
    let server = common::https(Behaviour::Status(200));
    let dir = temp_dir("https-health");
    let scenario = format!(
        "name = \"tls-health\"\nseed = 1\n\
         [target]\nbase_url = \"https://127.0.0.1:{}\"\nallowed_hosts = [\"127.0.0.1\"]\ninsecure_tls = true\nhealth_path = \"/health\"\n\
         [load]\nmodel = \"open\"\nstages = [ {{ duration = \"3s\", rate = 5 }} ]\n\
         [[request]]\nname = \"get\"\npath = \"/\"\n",
        server.addr.port()
    );
    let out = redline_run(&dir, &scenario, &["--quiet"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = result(&dir);
    assert!(r.health.len() >= 3, "{:?} {:?}", r.health, r.notes);
    for s in &r.health {
        assert_eq!(s.status, Some(200), "{s:?}");
        assert_eq!(s.state.as_deref(), Some("healthy"), "{s:?}");
    }
    assert!(
        r.notes.iter().all(|n| !n.contains("health_path")),
        "{:?}",
        r.notes
    );
    let probes = server.seen().iter().filter(|s| s.path == "/health").count();
    assert!(probes >= r.health.len(), "{probes} probes seen over TLS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_cannot_remove_its_fault_ends_naming_it() {
    let upstream = common::http(Behaviour::Status(200));
    let mut proxy = ProxyProcess::start(upstream.addr);
    let relay = Relay::start(proxy.control).await;
    let real_control = proxy.control;
    proxy.control = relay.addr;
    let (child, _target, dir) = run_with_fault_installed("frozen-single", &proxy).await;
    relay.frozen.store(true, Ordering::SeqCst);
    interrupt(&child);
    // Each control call gives up after 5 s: the run ends by itself, later than usual.
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(90)))
            .await
            .unwrap();
    relay.frozen.store(false, Ordering::SeqCst);
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("STILL INSTALLED: fault abort@0s on proxy users"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "remove it with: redline fault rm abort@0s --control http://{} --proxy users",
            relay.addr
        )),
        "{stderr}"
    );
    let r = result(&dir);
    assert!(r.interrupted);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("Users: could not remove its faults")),
        "{:?}",
        r.notes
    );
    proxy.control = real_control;
    assert_eq!(proxy.faults().await, ["abort@0s"], "still there, as named");
}
