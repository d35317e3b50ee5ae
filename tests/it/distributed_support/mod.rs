//! Helpers for the distributed-run tests: nginx on 127.0.0.1 (a real server of its own
//! process), scratch folders, the real `redline` binary run as N segment processes started
//! together, `redline merge`, and exact histogram arithmetic to check the merge against.

#![allow(dead_code)]

pub mod kube;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use hdrhistogram::Histogram;
use redline::result::RunResult;

pub const BIN: &str = env!("CARGO_BIN_EXE_redline");

pub use crate::support::free_port;

/// A scratch folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "redline-dist-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// nginx (Debian's, installed by .ci/install-test-deps) on a loopback port: `/fail` answers 500,
/// every other path 200 from memory.
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    _dir: Scratch,
}

impl Nginx {
    pub fn start() -> Nginx {
        let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("nginx is not installed: run .ci/install-test-deps (Debian package nginx)");
        for _ in 0..5 {
            let dir = Scratch::new("nginx");
            let port = free_port();
            let d = dir.0.display();
            let conf = format!(
                "worker_processes 1;\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
                 events {{ worker_connections 16384; }}\n\
                 http {{\n  access_log off;\n  keepalive_requests 1000000;\n  keepalive_timeout 60s;\n\
                 client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n\
                 server {{\n    listen 127.0.0.1:{port};\n    location /fail {{ return 500 \"fail\\n\"; }}\n    location / {{ return 200 \"ok\\n\"; }}\n  }}\n}}\n"
            );
            let conf_path = dir.write("nginx.conf", &conf);
            let child = Command::new(bin)
                .arg("-c")
                .arg(&conf_path)
                .arg("-p")
                .arg(&dir.0)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("nginx starts");
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let mut nginx = Nginx {
                child,
                addr,
                _dir: dir,
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = nginx.child.try_wait() {
                    break; // port taken meanwhile: try another
                }
                if std::net::TcpStream::connect(addr).is_ok() {
                    return nginx;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = nginx.child.kill();
        }
        panic!("nginx did not start on a loopback port");
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scenario against `base_url` (loopback) with the given `[load]` body and requests.
pub fn scenario(base_url: &str, seed: u64, load: &str, requests: &str) -> String {
    format!(
        "name = \"dist\"\nseed = {seed}\n[target]\nbase_url = \"{base_url}\"\nallowed_hosts = [\"127.0.0.1\"]\n\
         timeout = \"5s\"\nmax_connections = 1000\nrequest_id_header = \"x-request-id\"\n[load]\n{load}\n{requests}"
    )
}

/// Two requests, 9 : 1.
pub const TWO_REQUESTS: &str = "[[request]]\nname = \"get\"\noperation = \"Get item\"\npath = \"/items/{{random_int 1 1000}}\"\nweight = 9\n\
                                [[request]]\nname = \"list\"\npath = \"/items?page={{seq}}\"\n";

/// RFC 3339 for `t` (what `--start-at` takes).
pub fn rfc3339(t: SystemTime) -> String {
    redline::engine::collect::rfc3339(t)
}

/// A shared start this far ahead: every process is up by then even on a busy machine.
pub fn start_in(lead: Duration) -> String {
    rfc3339(SystemTime::now() + lead)
}

/// Runs `redline ARGS` to the end.
pub fn redline(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("redline runs")
}

pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// N `redline run --segment i/N --start-at T` processes started together (out: `dir/seg-i`);
/// each must exit 0. Returns the segments' results, in index order.
pub fn run_segments(scenario: &Path, n: u32, dir: &Path, extra: &[&str]) -> Vec<RunResult> {
    let at = start_in(Duration::from_millis(2500));
    let children: Vec<Child> = (0..n)
        .map(|i| {
            Command::new(BIN)
                .arg("run")
                .arg(scenario)
                .args(["--segment", &format!("{i}/{n}"), "--start-at", &at])
                .arg("--out")
                .arg(dir.join(format!("seg-{i}")))
                .args(["--quiet", "--format", "json"])
                .args(extra)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("redline run starts")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for (i, o) in outputs.iter().enumerate() {
        assert_eq!(o.status.code(), Some(0), "segment {i}: {}", text(o));
    }
    (0..n)
        .map(|i| load(&dir.join(format!("seg-{i}/result.json"))))
        .collect()
}

/// `redline run SCENARIO` as one process (the comparison).
pub fn run_single(scenario: &Path, out: &Path, extra: &[&str]) -> (Output, RunResult) {
    let o = Command::new(BIN)
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    (o.clone(), load(&out.join("result.json")))
}

/// `redline merge PARTS... --out OUT ARGS`: its output and, when written, the merged result.
pub fn merge(parts: &[PathBuf], out: &Path, args: &[&str]) -> (Output, Option<RunResult>) {
    let o = Command::new(BIN)
        .arg("merge")
        .args(parts)
        .arg("--out")
        .arg(out)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let path = out.join("result.json");
    let result = path.exists().then(|| load(&path));
    (o, result)
}

pub fn load(path: &Path) -> RunResult {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes an encoded result histogram.
pub fn decode(text: &str) -> Histogram<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .unwrap()
}

/// (value, count) of every recorded bucket: two histograms with the same list are the same.
pub fn buckets(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

/// The exact sum of encoded histograms.
pub fn sum(encoded: &[&str]) -> Histogram<u64> {
    let mut total = decode(encoded[0]);
    for e in &encoded[1..] {
        total.add(decode(e)).unwrap();
    }
    total
}

/// How many arrivals of `scenario`'s schedule fall to stripe `residue` of `modulus` (1 for the
/// whole run): what N processes together must account for.
pub fn schedule_count(scenario: &str, residue: u64, modulus: u64) -> u64 {
    let plan = redline::scenario::parse(scenario, "s.toml").unwrap();
    let mut s =
        redline::engine::schedule::Schedule::striped(&plan.load, plan.seed, residue, modulus);
    let mut n = 0;
    while s.pop().is_some() {
        n += 1;
    }
    n
}

/// Lines a child printed on stdout, as they come.
pub fn lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}
