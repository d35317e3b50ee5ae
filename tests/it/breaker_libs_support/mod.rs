//! The rig for judging real breaker libraries: a stub dependency, a real service built on the
//! library (Node, Python, nginx, or an emulated one in Rust) calling it through the port of the
//! run's fault proxy, and the real `redline run` driving load and a fault timeline at them, all on
//! 127.0.0.1. The run's result.json is then judged in process against claims about the breaker.

#![allow(dead_code)]

pub mod emulated;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redline::demo::{StubConfig, StubDependency, StubHandle};
use redline::result::{RunResult, Verdict, VerdictStatus};
use redline::spec::claims::{Breaker, BreakerKind, RateTrip};
use redline::spec::Claims;
use redline::verdict::{judge, JudgeContext, Judgement};

/// Where `.ci/install-test-deps` puts the breaker libraries (git-ignored).
pub fn deps_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-deps/breakers")
}

fn support(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/breaker_libs_support")
        .join(file)
}

pub use crate::support::free_port;

/// A service process (or an emulated service in this process), stopped when dropped.
pub struct Service {
    child: Option<Child>,
    emulated: Option<emulated::Emulated>,
    pub port: u16,
    pub name: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.emulated.take();
    }
}

/// A Rust service following `design`'s documented rule, calling the proxy on `proxy_port`.
pub fn emulated_service(name: &str, design: emulated::Design, proxy_port: u16) -> Service {
    let e = emulated::start(design, format!("127.0.0.1:{proxy_port}"));
    Service {
        child: None,
        port: e.port,
        emulated: Some(e),
        name: name.to_string(),
    }
}

/// Starts `cmd` and waits (bounded) for it to print "listening PORT".
fn start_listening(name: &str, mut cmd: Command) -> Service {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: cannot start {cmd:?}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        for _ in lines {}
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("{name}: no \"listening PORT\" within 20 s (run .ci/install-test-deps)")
        });
    let port = line
        .strip_prefix("listening ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name}: expected \"listening PORT\", got {line:?}"));
    Service {
        child: Some(child),
        emulated: None,
        port,
        name: name.to_string(),
    }
}

/// The Node service with `lib` ("opossum" or "cockatiel") configured by `config` (JSON).
pub fn node_service(lib: &str, config: &str, dep_url: &str) -> Service {
    let modules = deps_dir().join("node/node_modules");
    assert!(
        modules.join(lib).join("package.json").exists(),
        "{lib} is not installed in {}: run .ci/install-test-deps",
        modules.display()
    );
    let mut cmd = Command::new("node");
    cmd.arg(support("node_service.js"))
        .arg(&modules)
        .arg(lib)
        .arg(config)
        .arg(dep_url);
    start_listening(lib, cmd)
}

/// The Python service with `lib` ("pybreaker", "circuitbreaker" or "purgatory").
pub fn py_service(lib: &str, config: &str, dep_url: &str) -> Service {
    let python = deps_dir().join("python/bin/python3");
    assert!(
        python.exists(),
        "no Python venv at {}: run .ci/install-test-deps",
        python.display()
    );
    let import = Command::new(&python)
        .args(["-c", &format!("import {lib}")])
        .status()
        .unwrap();
    assert!(
        import.success(),
        "{lib} is not installed in the venv: run .ci/install-test-deps"
    );
    let mut cmd = Command::new(python);
    cmd.arg(support("py_service.py"))
        .arg(lib)
        .arg(config)
        .arg(dep_url);
    start_listening(lib, cmd)
}

/// nginx in front of the proxy port (primary, with `max_fails`/`fail_timeout`) and `backup`. One
/// process (`master_process off`), so killing it leaves no worker behind.
pub fn nginx_service(dir: &Path, proxy_port: u16, backup: &StubHandle, upstream: &str) -> Service {
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("nginx is not installed: run .ci/install-test-deps");
    let port = free_port();
    let d = dir.join("nginx");
    std::fs::create_dir_all(d.join("tmp")).unwrap();
    let root = if unsafe { libc::geteuid() } == 0 {
        "user root;\n"
    } else {
        ""
    };
    let conf = format!(
        "{root}worker_processes 1;\ndaemon off;\nmaster_process off;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
           fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n\
           upstream users {{\n    server 127.0.0.1:{proxy_port} {upstream};\n    server {} backup;\n  }}\n\
           server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://users;\n\
               proxy_set_header x-request-id $http_x_request_id;\n\
               proxy_next_upstream error timeout http_500 http_502 http_503 http_504;\n\
               proxy_connect_timeout 300ms;\n      proxy_read_timeout 300ms;\n    }}\n  }}\n}}\n",
        backup.addr(),
        d = d.display()
    );
    let file = d.join("nginx.conf");
    std::fs::write(&file, conf).unwrap();
    let mut cmd = Command::new(nginx);
    cmd.arg("-p")
        .arg(&d)
        .arg("-c")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = cmd.spawn().expect("start nginx");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Service {
        child: Some(child),
        emulated: None,
        port,
        name: "nginx".into(),
    }
}

/// One `[[fault]]` on the dependency: kind, start and length in seconds, extra keys as TOML.
pub fn fault(kind: &str, at_s: f64, for_s: f64, extra: &str) -> String {
    format!(
        "[[fault]]\ndependency = \"users\"\nat = \"{}ms\"\nduration = \"{}ms\"\nkind = \"{kind}\"\n{extra}\n",
        (at_s * 1000.0).round() as u64,
        (for_s * 1000.0).round() as u64
    )
}

/// A fault timeline for a rate breaker: a partial phase below the threshold, one above it, then an
/// outage, each followed by a clean stretch.
pub fn below_above_outage(below_every: u32, at: [f64; 3], lens: [f64; 3]) -> String {
    let mut t = fault(
        "abort",
        at[0],
        lens[0],
        &format!("status = 503\nevery = {below_every}\nname = \"below\""),
    );
    // Every 2nd call, then every 3rd of the rest: 4 of each 6 calls fail (67%), never 5 in a row.
    t.push_str(&fault(
        "abort",
        at[1],
        lens[1],
        "status = 503\nevery = 2\nname = \"above-a\"",
    ));
    t.push_str(&fault(
        "abort",
        at[1],
        lens[1],
        "status = 503\nevery = 3\nname = \"above-b\"",
    ));
    t.push_str(&fault(
        "abort",
        at[2],
        lens[2],
        "status = 503\nname = \"outage\"",
    ));
    t
}

/// One library run at a time: each is a load generator, a proxy and a service with timings to
/// keep, and two of them at once on a 2-core machine shared with builds blur the pauses they show.
static ONE_RUN_AT_A_TIME: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();

/// The same turn for other areas' runs of real services (`plan_reference`, `plan_breaker_libs`).
pub fn one_run_at_a_time() -> &'static tokio::sync::Mutex<()> {
    ONE_RUN_AT_A_TIME.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// What a test gets back: the judged run.
pub struct LibRun {
    pub result: RunResult,
    pub spec_file: String,
}

/// Runs `redline run` for `seconds` at `rate` requests per second against the service that
/// `start` builds around the dependency URL (the run's proxy in front of a stub), with `faults`.
pub async fn run_lib(
    name: &str,
    seconds: u32,
    rate: u32,
    faults: &str,
    start: impl FnOnce(&Path, u16, &str) -> Service,
) -> LibRun {
    let spec_file = format!("tests/fixtures/breakers/{name}.md");
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(&spec_file)
            .exists(),
        "{name}: write {spec_file}, the breaker in the library's own configuration form"
    );
    let _turn = ONE_RUN_AT_A_TIME
        .get_or_init(|| tokio::sync::Mutex::new(()))
        .lock()
        .await;
    let dir = std::env::temp_dir().join(format!("redline-breakers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let stub = StubDependency::start(StubConfig::ephemeral())
        .await
        .unwrap();
    let proxy_port = free_port();
    let dep_url = format!("http://127.0.0.1:{proxy_port}");
    let svc = start(&dir, proxy_port, &dep_url);
    let scenario = format!(
        "name = \"breaker-{name}\"\nseed = 7\n\
         [target]\nbase_url = \"http://127.0.0.1:{}\"\nallowed_hosts = [\"127.0.0.1\"]\ntimeout = \"2s\"\n\
         request_id_header = \"x-request-id\"\nmax_connections = 64\n\
         [load]\nmodel = \"open\"\nstages = [ {{ duration = \"{seconds}s\", rate = {rate} }} ]\n\
         [[request]]\nname = \"get-item\"\npath = \"/items/{{{{random_int 1 100}}}}\"\nexpect_status = [200]\n\
         [[dependency]]\nname = \"users\"\nlisten = \"127.0.0.1:{proxy_port}\"\nupstream = \"{}\"\nprotocol = \"http\"\n{faults}",
        svc.port,
        stub.addr()
    );
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline"));
    cmd.arg("run").arg(&file).arg("--out").arg(&out);
    let limit = Duration::from_secs(u64::from(seconds) + 60);
    let output = tokio::task::spawn_blocking(move || wait_output(cmd, limit))
        .await
        .unwrap();
    let text = std::fs::read_to_string(out.join("result.json")).unwrap_or_else(|e| {
        panic!(
            "{name}: no result.json ({e}); redline said:\n{}\n{}",
            output.0, output.1
        )
    });
    drop(svc);
    drop(stub);
    let _ = std::fs::remove_dir_all(&dir);
    LibRun {
        result: serde_json::from_str(&text).expect("result.json"),
        spec_file,
    }
}

/// Runs `cmd` to the end (killed after `limit`): (stdout, stderr).
fn wait_output(mut cmd: Command, limit: Duration) -> (String, String) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("redline run");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("redline run did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl LibRun {
    /// The breaker this run's fixture spec configures, checked against `expected` (see `spec_claim`).
    pub fn spec_claim(&self, expected: &Breaker) -> Breaker {
        let fixture = self
            .spec_file
            .trim_start_matches("tests/fixtures/breakers/")
            .trim_end_matches(".md");
        spec_claim(fixture, expected)
    }

    /// Judges the run against one breaker claim on `users`.
    pub fn judge(&self, b: Breaker) -> Judgement {
        let claims = Claims {
            breakers: vec![Breaker {
                dependency: Some("users".into()),
                line: 1,
                ..b
            }],
            ..Claims::default()
        };
        let ctx = JudgeContext {
            spec_file: self.spec_file.clone(),
            client_timeout: Some(Duration::from_secs(2)),
            ..JudgeContext::default()
        };
        judge(&self.result, &claims, &ctx)
    }
}

/// A failure-rate claim.
pub fn rate_claim(
    library: &str,
    rate: f64,
    trips: RateTrip,
    window_ms: Option<f64>,
    window_calls: Option<u32>,
    minimum_calls: u32,
    recovery_ms: f64,
) -> Breaker {
    Breaker {
        kind: Some(BreakerKind::FailureRate),
        library: Some(library.into()),
        failure_rate: Some(rate),
        rate_trips: Some(trips),
        window_ms,
        window_calls,
        minimum_calls: Some(minimum_calls),
        recovery_timeout_ms: Some(recovery_ms),
        ..Breaker::default()
    }
}

/// A consecutive-failure claim.
pub fn consecutive_claim(library: &str, n: u32, recovery_ms: f64) -> Breaker {
    Breaker {
        kind: Some(BreakerKind::Consecutive),
        library: Some(library.into()),
        failure_threshold: Some(n),
        recovery_timeout_ms: Some(recovery_ms),
        ..Breaker::default()
    }
}

pub fn find<'a>(j: &'a Judgement, id: &str) -> &'a Verdict {
    j.verdicts
        .iter()
        .find(|v| v.id == id)
        .unwrap_or_else(|| panic!("no verdict {id}; have:\n{}", dump(j)))
}

/// Asserts the verdict's status, showing every verdict and episode when it differs.
pub fn expect(j: &Judgement, id: &str, status: VerdictStatus, why: &str) {
    let v = find(j, id);
    assert_eq!(
        v.status,
        status,
        "{why}: {id} should be {status:?}\n{}",
        dump(j)
    );
}

/// Asserts that no verdict failed.
pub fn no_fails(j: &Judgement, why: &str) {
    let fails: Vec<&Verdict> = j
        .verdicts
        .iter()
        .filter(|v| v.status == VerdictStatus::Fail)
        .collect();
    assert!(fails.is_empty(), "{why}: unexpected failures\n{}", dump(j));
}

pub fn dump(j: &Judgement) -> String {
    let mut s = String::new();
    for v in &j.verdicts {
        s.push_str(&format!(
            "{:?} {} | {} | {}\n",
            v.status, v.id, v.measured, v.detail
        ));
    }
    for e in &j.episodes {
        s.push_str(&format!("{e:?}\n"));
    }
    for n in &j.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}

/// The one breaker `tests/fixtures/breakers/{fixture}.md` configures in its library's own form, read
/// by `redline::spec::parse`. Every field `expected` sets must have been read with that value, so a
/// reader regression fails here, before the run, naming the field.
pub fn spec_claim(fixture: &str, expected: &Breaker) -> Breaker {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/breakers")
        .join(format!("{fixture}.md"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let claims = redline::spec::parse(&text);
    assert_eq!(
        claims.breakers.len(),
        1,
        "{fixture}.md: expected one breaker, read {:#?}",
        claims.breakers
    );
    let read = claims.breakers[0].clone();
    macro_rules! same {
        ($($field:ident),*) => {$(
            if expected.$field.is_some() {
                assert_eq!(
                    read.$field, expected.$field,
                    "{fixture}.md: the reader's {} differs from the library's configuration\n{read:#?}",
                    stringify!($field)
                );
            }
        )*};
    }
    same!(
        kind,
        library,
        failure_threshold,
        failure_rate,
        rate_trips,
        window_calls,
        window_ms,
        minimum_calls,
        slow_call_ms,
        slow_call_rate,
        recovery_timeout_ms,
        recovery_multiplier,
        recovery_max_ms,
        recovery_growth,
        ejection_sweep_ms,
        half_open_requests,
        close_rule
    );
    read
}
