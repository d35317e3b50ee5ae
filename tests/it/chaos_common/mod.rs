//! Helpers for the chaos-run tests: the reference service in front of a stub UserService with a
//! free port between them for the run's proxy, a scenario writer, the real `redline` binary, and
//! a tiny HTTP/1.1 client. Everything is a real socket on 127.0.0.1.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redline::demo::{
    ReferenceConfig, ReferenceHandle, ReferenceService, StubConfig, StubDependency, StubHandle,
};
use redline::result::RunResult;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use crate::support::free_port;

/// Reference service -> (port for the run's proxy) -> stub UserService.
pub struct Rig {
    pub stub: StubHandle,
    pub svc: ReferenceHandle,
    pub proxy_port: u16,
}

impl Rig {
    pub async fn start() -> Rig {
        let stub = StubDependency::start(StubConfig::ephemeral())
            .await
            .unwrap();
        let proxy_port = free_port();
        let cfg = ReferenceConfig {
            rate_limit: None,
            ..ReferenceConfig::ephemeral(format!("http://127.0.0.1:{proxy_port}"))
        };
        let svc = ReferenceService::start(cfg).await.unwrap();
        Rig {
            stub,
            svc,
            proxy_port,
        }
    }

    /// A scenario against the reference service with UserService behind the run's proxy.
    pub fn scenario(&self, stages: &str, extra: &str) -> String {
        format!(
            "name = \"chaos-test\"\nseed = 3\n\
             [target]\nbase_url = \"{}\"\nallowed_hosts = [\"127.0.0.1\"]\ntimeout = \"2s\"\nrequest_id_header = \"x-request-id\"\nhealth_path = \"/health\"\n\
             [load]\nmodel = \"open\"\nstages = [ {stages} ]\n\
             [[request]]\nname = \"get-item\"\noperation = \"get_item\"\npath = \"/items/{{{{random_int 1 100}}}}\"\nexpect_status = [200]\n\
             [[dependency]]\nname = \"UserService\"\nlisten = \"127.0.0.1:{}\"\nupstream = \"{}\"\n{extra}",
            self.svc.url(),
            self.proxy_port,
            self.stub.addr()
        )
    }
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-chaos-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `redline run DIR/scenario.toml --out DIR/out EXTRA...`, output captured.
pub fn redline_run(dir: &Path, scenario: &str, extra: &[&str]) -> Command {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline"));
    cmd.arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .args(extra);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

pub fn result(dir: &Path) -> RunResult {
    let text = std::fs::read_to_string(dir.join("out/result.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Sends SIGINT, as Ctrl-C would.
pub fn interrupt(child: &Child) {
    // SAFETY: kill(2) with a pid we spawned and a standard signal number.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
}

/// Waits for a child to exit (bounded), killing it if it does not.
pub fn wait(mut child: Child, limit: Duration) -> (Option<i32>, String, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "redline did not exit within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP/1.1 exchange on a fresh connection: (status, body). None when nothing answered.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text.split_whitespace().nth(1)?.parse().ok()?;
        let body = text
            .split_once("\r\n\r\n")
            .map_or(String::new(), |(_, b)| b.to_string());
        Some((status, body))
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .ok()
        .flatten()
}
