//! Chaos runs never leave a fault behind on an attached `redline proxy`: not after a second
//! Ctrl-C, SIGTERM or SIGKILL, not when the target is unreachable or the run is frozen, and when
//! the proxy stops answering, the run names the fault and the command that removes it while the
//! proxy's lease removes it by itself. `--ttl` and `--max-fault-ttl` over both dialects. Also:
//! an https target gets health samples. Real processes (`redline run`, `redline proxy`) and real
//! sockets on 127.0.0.1 only.

use crate::chaos_common;
use crate::common;

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
    /// Where the `users` proxy listens.
    listen: SocketAddr,
    /// Lines the proxy printed after its control address.
    lines: mpsc::Receiver<String>,
}

impl ProxyProcess {
    fn start(upstream: SocketAddr) -> ProxyProcess {
        ProxyProcess::start_with(upstream, &[])
    }

    fn start_with(upstream: SocketAddr, extra: &[&str]) -> ProxyProcess {
        let mut child = Command::new(BIN)
            .args(["proxy", "--listen", "127.0.0.1:0", "--upstream"])
            .arg(upstream.to_string())
            .args(["--control", "127.0.0.1:0", "--name", "users", "--seed", "1"])
            .args(extra)
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
        let mut listen = None;
        while Instant::now() < deadline {
            let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) else {
                continue;
            };
            if let Some((_, rest)) = line.split_once("listening on ") {
                listen = rest.split_whitespace().next().and_then(|a| a.parse().ok());
            }
            if let Some((_, rest)) = line.split_once("control API on http://") {
                let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
                return ProxyProcess {
                    child,
                    control: addr,
                    listen: listen.expect("the proxy printed its listen address first"),
                    lines: rx,
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

    /// One native API GET, as JSON.
    async fn get(&self, path: &str) -> Value {
        let (status, body) = http(self.control, "GET", path, &[], "")
            .await
            .expect("control API answers");
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The proxy's change journal.
    async fn journal(&self) -> Vec<Value> {
        self.get("/redline/journal").await["changes"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Polls (every 50 ms, at most `limit`) until the proxy holds no fault; how long it took.
    async fn wait_until_clean(&self, limit: Duration) -> Duration {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.faults().await.is_empty() {
                return start.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the proxy still holds {:?} after {limit:?}",
            self.faults().await
        );
    }

    /// The first line the proxy printed (from now, within `limit`) containing `text`.
    fn line_with(&self, text: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                if line.contains(text) {
                    return line;
                }
            }
        }
        panic!("the proxy printed no line with {text:?} within {limit:?}");
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
    extra: &[&str],
) -> (Child, common::Server, std::path::PathBuf) {
    let target = common::http(Behaviour::Delay(Duration::from_millis(1500)));
    let dir = temp_dir(name);
    let scenario = attached_scenario(&target.base_url(), proxy.control, "30s");
    let mut args = vec!["--quiet"];
    args.extend_from_slice(extra);
    let child = redline_run(&dir, &scenario, &args).spawn().unwrap();
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
    let (child, _target, dir) = run_with_fault_installed("double-ctrl-c", &proxy, &[]).await;
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
    let (child, _target, _dir) =
        run_with_fault_installed("frozen-control", &proxy, &["--fault-lease", "60s"]).await;
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
    let (child, _target, dir) =
        run_with_fault_installed("frozen-single", &proxy, &["--fault-lease", "60s"]).await;
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

/// The journal's removals of `fault` made by the proxy itself.
fn lease_removals<'a>(journal: &'a [Value], fault: &str) -> Vec<&'a Value> {
    journal
        .iter()
        .filter(|c| {
            c["actor"] == "lease-expired" && c["action"] == "fault.remove" && c["target"] == fault
        })
        .collect()
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) with a pid we spawned and a standard signal number.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_at_4_s_of_a_40_s_run_leaves_no_fault_and_writes_an_interrupted_result() {
    let upstream = common::http(Behaviour::Status(200));
    let proxy = ProxyProcess::start(upstream.addr);
    let target = common::http(Behaviour::Status(200));
    let dir = temp_dir("sigterm");
    let scenario = attached_scenario(&target.base_url(), proxy.control, "40s");
    let started = Instant::now();
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    proxy.wait_for_a_fault().await;
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(started.elapsed())).await;
    let faults = proxy.get("/redline/proxies/users/faults").await;
    let owner = faults[0]["owner"].as_str().unwrap_or_default().to_string();
    assert!(
        owner.starts_with("run-"),
        "the run owns its fault: {faults}"
    );
    assert!(faults[0]["expires_at"].as_u64().is_some(), "{faults}");
    signal(&child, libc::SIGTERM);
    let sent = Instant::now();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(30)))
            .await
            .unwrap();
    let to_exit = sent.elapsed();
    eprintln!("SIGTERM to exit: {} ms", to_exit.as_millis());
    assert_eq!(code, Some(143), "{stdout}\n{stderr}");
    assert!(stderr.contains("terminated (SIGTERM)"), "{stderr}");
    assert!(
        proxy.faults().await.is_empty(),
        "fault left behind\n{stderr}"
    );
    assert!(!stderr.contains("STILL INSTALLED"), "{stderr}");
    let r = result(&dir);
    assert!(r.interrupted);
    assert_eq!(r.interrupted_by.as_deref(), Some("SIGTERM"));
    assert_eq!(r.run_id.as_deref(), Some(owner.as_str()));
    assert!(
        r.notes.iter().any(|n| n == "stopped by SIGTERM"),
        "{:?}",
        r.notes
    );
    assert!(r.duration_s < 20.0, "{}", r.duration_s);
    // The run removed it itself, not the lease.
    let journal = proxy.journal().await;
    assert!(
        lease_removals(&journal, "abort@0s").is_empty(),
        "{journal:?}"
    );
    assert!(
        journal
            .iter()
            .any(|c| c["actor"] == "redline-run" && c["action"] == "faults.clear"),
        "{journal:?}"
    );
    // Kubernetes waits 30 s, GitHub Actions about 7 s: a generous bound well inside both.
    assert!(to_exit < Duration::from_secs(7), "{to_exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_leaves_the_fault_at_most_the_lease_then_the_proxy_removes_and_journals_it() {
    let upstream = common::http(Behaviour::Status(200));
    let proxy = ProxyProcess::start(upstream.addr);
    let target = common::http(Behaviour::Status(200));
    let dir = temp_dir("sigkill");
    let scenario = attached_scenario(&target.base_url(), proxy.control, "40s");
    let started = Instant::now();
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    proxy.wait_for_a_fault().await;
    tokio::time::sleep(Duration::from_secs(4).saturating_sub(started.elapsed())).await;
    signal(&child, libc::SIGKILL);
    let killed = Instant::now();
    let (code, _, _) = tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(code, None, "killed by a signal");
    assert_eq!(proxy.faults().await, ["abort@0s"], "nobody removed it yet");
    proxy.wait_until_clean(Duration::from_secs(20)).await;
    let gone = killed.elapsed();
    eprintln!("SIGKILL to fault removal: {} ms", gone.as_millis());
    // Default lease 10 s, renewed every 3.3 s: at most 10 s after the last renewal.
    assert!(gone <= Duration::from_secs(15), "{gone:?}");
    let journal = proxy.journal().await;
    let removed = lease_removals(&journal, "abort@0s");
    assert_eq!(removed.len(), 1, "{journal:?}");
    assert!(
        removed[0]["detail"]["owner"]
            .as_str()
            .is_some_and(|o| o.starts_with("run-")),
        "{removed:?}"
    );
    let line = proxy.line_with("lease-expired", Duration::from_secs(5));
    assert!(
        line.contains("stopped renewing its lease; removed its fault abort@0s on proxy users"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_off_from_its_control_api_stops_by_itself_and_the_proxy_drops_its_faults() {
    let upstream = common::http(Behaviour::Status(200));
    let mut proxy = ProxyProcess::start(upstream.addr);
    let relay = Relay::start(proxy.control).await;
    let real_control = proxy.control;
    proxy.control = relay.addr;
    let target = common::http(Behaviour::Status(200));
    let dir = temp_dir("cut-off");
    let scenario = attached_scenario(&target.base_url(), relay.addr, "40s");
    let child = redline_run(&dir, &scenario, &["--quiet", "--fault-lease", "4s"])
        .spawn()
        .unwrap();
    proxy.wait_for_a_fault().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    relay.frozen.store(true, Ordering::SeqCst);
    let cut = Instant::now();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(60)))
            .await
            .unwrap();
    proxy.control = real_control;
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "control API http://{} did not answer lease renewals",
            relay.addr
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("STILL INSTALLED: fault abort@0s on proxy users"),
        "{stderr}"
    );
    assert!(
        stderr.contains("removes them by itself within the 4 s lease"),
        "{stderr}"
    );
    let r = result(&dir);
    assert!(r.interrupted);
    assert_eq!(r.interrupted_by.as_deref(), Some("control-lost"));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("did not answer lease renewals")),
        "{:?}",
        r.notes
    );
    proxy.wait_until_clean(Duration::from_secs(20)).await;
    eprintln!("cut off to fault removal: {} ms", cut.elapsed().as_millis());
    let journal = proxy.journal().await;
    assert_eq!(lease_removals(&journal, "abort@0s").len(), 1, "{journal:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_fault_ends_at_its_end_even_while_the_run_is_frozen() {
    let upstream = common::http(Behaviour::Status(200));
    let proxy = ProxyProcess::start(upstream.addr);
    let target = common::http(Behaviour::Status(200));
    let dir = temp_dir("frozen-run");
    let scenario = attached_scenario(&target.base_url(), proxy.control, "12s").replace(
        "at = \"0s\"\nduration = \"60s\"",
        "at = \"1s\"\nduration = \"3s\"",
    );
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    proxy.wait_for_a_fault().await;
    let faults = proxy.get("/redline/proxies/users/faults").await;
    let expires_at = faults[0]["expires_at"].as_u64().expect("an end time");
    signal(&child, libc::SIGSTOP);
    proxy.wait_until_clean(Duration::from_secs(15)).await;
    signal(&child, libc::SIGCONT);
    let journal = proxy.journal().await;
    let removed = lease_removals(&journal, "abort@1s");
    assert_eq!(
        removed.len(),
        1,
        "removed by the proxy, the run was frozen: {journal:?}"
    );
    let at = removed[0]["unix_ms"].as_u64().unwrap();
    assert!(at >= expires_at, "not before its end: {at} < {expires_at}");
    assert!(at <= expires_at + 3000, "on time: {at} vs {expires_at}");
    // Thawed within its lease, the run goes on and ends normally.
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(proxy.faults().await.is_empty());
    let r = result(&dir);
    assert!(!r.interrupted);
    assert_eq!(r.faults.len(), 1, "{:?}", r.faults);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_and_max_fault_ttl_end_faults_and_toxics_over_both_dialects() {
    let upstream = common::http(Behaviour::Status(200));
    let proxy = ProxyProcess::start_with(upstream.addr, &["--max-fault-ttl", "3s"]);
    let c = proxy.control;
    // --ttl on the command line (native dialect).
    let out = Command::new(BIN)
        .args(["fault", "add", "abort:status=503,name=short", "--ttl", "1s"])
        .args(["--control", &format!("http://{c}"), "--proxy", "users"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("added fault short to users (the proxy removes it at"),
        "{said}"
    );
    // No expiry asked: the cap gives it one.
    let (status, body) = http(
        c,
        "POST",
        "/redline/proxies/users/faults",
        &[],
        r#"{"name":"capped","kind":{"type":"abort","status":500}}"#,
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let capped: Value = serde_json::from_str(&body).unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let left = capped["expires_at"]
        .as_u64()
        .unwrap()
        .saturating_sub(now_ms);
    assert!((1000..=3100).contains(&left), "{left} ms: {capped}");
    // The Toxiproxy dialect: a TCP proxy, one toxic with expires_in, one capped.
    let (status, body) = http(
        c,
        "POST",
        "/proxies",
        &[],
        &format!(
            r#"{{"name":"tcp","listen":"127.0.0.1:0","upstream":"{}"}}"#,
            upstream.addr
        ),
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(
        c,
        "POST",
        "/proxies/tcp/toxics",
        &[],
        r#"{"name":"slow","type":"latency","attributes":{"latency":100},"expires_in":"1s"}"#,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let toxic: Value = serde_json::from_str(&body).unwrap();
    let mut keys: Vec<&str> = toxic
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["attributes", "name", "stream", "toxicity", "type"],
        "Toxiproxy's shape"
    );
    let (status, body) = http(
        c,
        "POST",
        "/proxies/tcp/toxics",
        &[],
        r#"{"name":"capped","type":"latency","attributes":{"latency":100}}"#,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let toxics = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(proxy.faults().await, ["capped"], "--ttl 1s ended");
    assert_eq!(toxics(proxy.get("/proxies/tcp/toxics").await), ["capped"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && !(proxy.faults().await.is_empty()
            && toxics(proxy.get("/proxies/tcp/toxics").await).is_empty())
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(proxy.faults().await.is_empty(), "--max-fault-ttl ended it");
    assert!(toxics(proxy.get("/proxies/tcp/toxics").await).is_empty());
    let journal = proxy.journal().await;
    let by_lease: Vec<(String, String)> = journal
        .iter()
        .filter(|c| c["actor"] == "lease-expired")
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_string(),
                c["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("fault.remove", "short"),
        ("fault.remove", "capped"),
        ("toxic.remove", "slow"),
        ("toxic.remove", "capped"),
    ] {
        assert!(
            by_lease.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {by_lease:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_that_cannot_be_written_says_so_exits_1_and_leaves_no_fault() {
    let upstream = common::http(Behaviour::Status(200));
    let proxy = ProxyProcess::start(upstream.addr);
    let target = common::http(Behaviour::Status(200));
    let dir = temp_dir("unwritable");
    let scenario = attached_scenario(&target.base_url(), proxy.control, "3s");
    let child = redline_run(&dir, &scenario, &["--quiet"]).spawn().unwrap();
    proxy.wait_for_a_fault().await;
    // The output folder disappears mid-run: result.json cannot be written.
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(stderr.contains("the run's faults were removed"), "{stderr}");
    assert!(proxy.faults().await.is_empty(), "fault left behind");
}

/// Holds `n` connections to `addr` that each sent a partial request head and wait.
async fn slow_heads(addr: SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
            continue;
        };
        let _ = s.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n").await;
        held.push(s);
    }
    held
}

/// A well-behaved caller: `n` requests through the proxy, each on a fresh connection.
async fn well_behaved(addr: SocketAddr, n: usize) -> Vec<Option<u16>> {
    let mut statuses = Vec::with_capacity(n);
    for _ in 0..n {
        statuses.push(http(addr, "GET", "/", &[], "").await.map(|(s, _)| s));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_slow_heads_do_not_lock_out_a_well_behaved_caller() {
    let upstream = common::http(Behaviour::Status(200));
    // The default cap (from the open-file limit) and a cap far below the slow heads, which
    // must be shed for the caller rather than refuse it.
    for extra in [&[][..], &["--max-connections", "1000"][..]] {
        let proxy = ProxyProcess::start_with(upstream.addr, extra);
        let stats = proxy.get("/redline/proxies/users/stats").await;
        let cap = stats["max_connections"].as_u64().unwrap();
        if extra.is_empty() {
            assert!(cap > 5000, "default cap {cap} from the open-file limit");
        }
        let held = slow_heads(proxy.listen, 5000).await;
        // The kernel completes connects before the proxy accepts them: let it take in the
        // flood (bounded), then ask while all 5,000 are still held.
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let s = proxy.get("/redline/proxies/users/stats").await;
            if s["connections_total"].as_u64().unwrap() >= 5000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let statuses = well_behaved(proxy.listen, 30).await;
        assert_eq!(held.len(), 5000, "this process holds all 5,000");
        assert!(
            statuses.iter().all(|s| *s == Some(200)),
            "cap {cap}: {statuses:?}"
        );
        let stats = proxy.get("/redline/proxies/users/stats").await;
        assert_eq!(stats["connections_rejected"], 0, "{stats}");
        let shed = stats["connections_shed"].as_u64().unwrap();
        if cap < 5000 {
            // Every slow head past the cap took an older one's slot.
            assert!(shed >= 5000 - cap, "{stats}");
        } else {
            assert_eq!(shed, 0, "{stats}");
        }
        drop(held);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_opens_more_connections_than_the_cap_gets_the_note() {
    // The proxy stands in for a service whose pool to its dependency outgrows the cap: 20
    // calls a second that each take 1 s keep ~20 connections busy; the cap is 4.
    let upstream = common::http(Behaviour::Delay(Duration::from_millis(1000)));
    let proxy = ProxyProcess::start_with(upstream.addr, &["--max-connections", "4"]);
    let dir = temp_dir("over-cap");
    let scenario = format!(
        "name = \"over-cap\"\nseed = 3\n\
         [target]\nbase_url = \"http://{}\"\nallowed_hosts = [\"127.0.0.1\"]\ntimeout = \"5s\"\n\
         [load]\nmodel = \"open\"\nstages = [ {{ duration = \"3s\", rate = 20 }} ]\n\
         [[request]]\nname = \"get\"\npath = \"/\"\n\
         [[dependency]]\nname = \"Users\"\ncontrol = \"http://{}\"\nproxy = \"users\"\n",
        proxy.listen, proxy.control
    );
    let out = redline_run(&dir, &scenario, &["--quiet"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = result(&dir);
    let cap = r.dependencies["Users"]
        .connection_cap
        .clone()
        .unwrap_or_else(|| panic!("no cap report: {:?}", r.dependencies["Users"]));
    assert_eq!(cap.max_connections, 4);
    assert!(cap.refused > 0, "{cap:?}");
    let (from, to) = (cap.refused_from_s.unwrap(), cap.refused_to_s.unwrap());
    assert!(
        0.0 <= from && from <= to && to <= r.duration_s + 1.0,
        "{cap:?}"
    );
    let note = r
        .notes
        .iter()
        .find(|n| n.contains("at its cap of 4"))
        .unwrap_or_else(|| panic!("{:?}", r.notes));
    assert!(
        note.starts_with(&format!("the proxy refused {} connections", cap.refused))
            && note.contains("verdicts about Users in"),
        "{note}"
    );
}
