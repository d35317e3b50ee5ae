//! Support for the HTTP/2 proxy tests: the real grpcio peer (`grpc_peer.py`) as a server
//! process and as a client run, and the proxy in front of it.

#![allow(dead_code)]

use redline_proxy::http::{HttpProxy, HttpProxyConfig};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};

pub const PEER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/h2_support/grpc_peer.py"
);

pub use crate::support::python;

/// A grpcio server on 127.0.0.1; it stops when this is dropped (its stdin closes).
pub struct GrpcServer {
    pub addr: SocketAddr,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl GrpcServer {
    pub fn start() -> GrpcServer {
        GrpcServer::start_with(&[])
    }

    /// Extra arguments: `[CERT, KEY]` (PEM files) serves over TLS.
    pub fn start_with(args: &[&str]) -> GrpcServer {
        let mut child = Command::new(python())
            .arg(PEER)
            .arg("server")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with grpcio must be installed (see .ci/install-test-deps)");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("grpcio server did not start (grpcio missing?): {line:?}"));
        GrpcServer {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
            stdin,
        }
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        if let Some(mut s) = self.stdin.take() {
            let _ = s.flush();
        }
        let _ = self.child.wait();
    }
}

/// One call's result as the grpcio client saw it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CallResult {
    pub id: String,
    pub code: String,
    pub details: String,
    pub ms: f64,
    pub reply: String,
}

/// Runs `calls` (JSON list of {id, method, case, deadline_s, delay_ms}) at once on one channel.
pub fn run_client(addr: SocketAddr, calls: &serde_json::Value) -> Vec<CallResult> {
    run_client_with(addr, calls, None)
}

/// `run_client` over TLS when `ca` (a PEM file) is given (the name verified is "localhost").
pub fn run_client_with(
    addr: SocketAddr,
    calls: &serde_json::Value,
    ca: Option<&std::path::Path>,
) -> Vec<CallResult> {
    let mut cmd = Command::new(python());
    if let Some(ca) = ca {
        cmd.env("GRPC_TLS_CA", ca);
    }
    let out = cmd
        .arg(PEER)
        .arg("client")
        .arg(addr.to_string())
        .arg(calls.to_string())
        .output()
        .expect("python3 with grpcio must be installed (see .ci/install-test-deps)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "grpcio client failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Starts a call with no deadline through `addr`, then exits after `ms`.
pub fn abandon(addr: SocketAddr, ms: u64) {
    let out = Command::new(python())
        .arg(PEER)
        .arg("abandon")
        .arg(addr.to_string())
        .arg(ms.to_string())
        .output()
        .expect("python3 with grpcio must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An HTTP/2 fault proxy in front of `upstream`.
pub async fn h2_proxy(upstream: SocketAddr) -> HttpProxy {
    let mut cfg = HttpProxyConfig::new(
        "grpc-dep",
        "127.0.0.1:0".parse().unwrap(),
        upstream.to_string(),
    );
    cfg.http2 = true;
    HttpProxy::start(cfg).await.unwrap()
}
