//! Support for tests/load_h2.rs and tests/load_grpc.rs: nginx serving HTTP/2 (TLS with ALPN,
//! h2c with prior knowledge) and TLS HTTP/1.1 only, with a self-signed certificate made here
//! and an access log naming each request's connection and protocol; the Python grpcio server;
//! `redline run` to its end.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::support::free_port;

/// A fresh folder under the temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("redline-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One nginx process (`master_process off`) on four ports: `h2_tls` (TLS, ALPN h2 or
/// http/1.1), `h1_tls` (TLS, HTTP/1.1 only), `h2c` (cleartext HTTP/2 with prior knowledge) and
/// `h2c_short` (h2c closing each connection with GOAWAY after 20 requests).
/// The access log has one line per request: "connection-serial protocol status".
pub struct Nginx {
    child: Child,
    pub h2_tls: u16,
    pub h1_tls: u16,
    pub h2c: u16,
    pub h2c_short: u16,
    pub cert: PathBuf,
    log: PathBuf,
}

impl Nginx {
    pub fn start(dir: &Path) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("nginx is not installed: run .ci/install-test-deps");
        let d = dir.join("nginx");
        std::fs::create_dir_all(d.join("tmp")).unwrap();
        std::fs::create_dir_all(d.join("html")).unwrap();
        std::fs::write(d.join("html/index.html"), "hello over HTTP/2\n").unwrap();
        let key = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .unwrap();
        let cert = d.join("cert.pem");
        std::fs::write(&cert, key.cert.pem()).unwrap();
        std::fs::write(d.join("key.pem"), key.key_pair.serialize_pem()).unwrap();
        let (h2_tls, h1_tls, h2c, h2c_short) = (free_port(), free_port(), free_port(), free_port());
        let root = if unsafe { libc::geteuid() } == 0 {
            "user root;\n"
        } else {
            ""
        };
        let log = d.join("access.log");
        let tls = format!(
            "ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem; root {d}/html;",
            d = d.display()
        );
        let conf = format!(
            "{root}worker_processes 1;\ndaemon off;\nmaster_process off;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  log_format conns '$connection $server_protocol $status';\n  access_log {log} conns;\n\
               client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
               fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n\
               keepalive_requests 100000;\n\
               server {{ listen 127.0.0.1:{h2_tls} ssl http2; {tls} }}\n\
               server {{ listen 127.0.0.1:{h1_tls} ssl; {tls} }}\n\
               server {{ listen 127.0.0.1:{h2c} http2; root {d}/html; }}\n\
               server {{ listen 127.0.0.1:{h2c_short} http2; keepalive_requests 20; root {d}/html; }}\n}}\n",
            d = d.display(),
            log = log.display(),
        );
        let file = d.join("nginx.conf");
        std::fs::write(&file, conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(&d)
            .arg("-c")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in [h2_tls, h1_tls, h2c, h2c_short] {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "nginx did not listen on {port}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Nginx {
            child,
            h2_tls,
            h1_tls,
            h2c,
            h2c_short,
            cert,
            log,
        }
    }

    /// (connection serial, protocol, status) of each request logged so far.
    pub fn requests(&self) -> Vec<(u64, String, u16)> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut parts = l.split(' ');
                Some((
                    parts.next()?.parse().ok()?,
                    parts.next()?.to_string(),
                    parts.next()?.parse().ok()?,
                ))
            })
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `redline run SCENARIO --out DIR/out` to its end (60 s bound): (exit code, result.json or
/// Null, what it printed).
pub fn redline_run(dir: &Path, scenario: &str) -> (i32, serde_json::Value, String) {
    redline_run_with(dir, scenario, &[])
}

/// The same with more arguments (`--spec FILE` ...).
pub fn redline_run_with(
    dir: &Path,
    scenario: &str,
    args: &[&str],
) -> (i32, serde_json::Value, String) {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("run")
        .arg(&file)
        .arg("--quiet")
        .args(args)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redline run");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("redline run did not end within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let result = std::fs::read_to_string(out.join("result.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap_or(-1), result, said)
}

const GRPC_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/load_grpc_support/grpc_server.py"
);
pub const ITEMS_PROTO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/load_grpc_support/items.proto"
);

/// The grpcio server of `grpc_server.py`; `stop` ends it and returns what it printed after
/// its port (its counts).
pub struct GrpcServer {
    pub port: u16,
    child: Child,
    stdin: Option<ChildStdin>,
    out: Option<BufReader<std::process::ChildStdout>>,
}

impl GrpcServer {
    pub fn start(max_deadline_ms: u64) -> GrpcServer {
        let mut child = Command::new(crate::support::python())
            .arg(GRPC_SERVER)
            .arg(max_deadline_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with grpcio must be installed (see .ci/install-test-deps)");
        let stdin = child.stdin.take();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("grpc_server.py did not start (grpcio missing?): {line:?}"));
        GrpcServer {
            port,
            child,
            stdin,
            out: Some(out),
        }
    }

    /// Stops the server; the lines it printed on its way out.
    pub fn stop(mut self) -> String {
        drop(self.stdin.take());
        let mut rest = String::new();
        if let Some(mut out) = self.out.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut rest);
        }
        let _ = self.child.wait();
        rest
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
