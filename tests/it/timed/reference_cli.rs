//! `redline serve-dependency` and `redline serve-reference` as processes: they start on a free port,
//! say where, serve, and refuse bad flags with exit code 2.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the child (ours, by handle) when the test ends, pass or fail; keeps its stdout open.
struct Proc(
    Child,
    #[allow(dead_code)] BufReader<std::process::ChildStdout>,
);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `redline ARGS` and returns it with the URL from its "listening on" line.
fn spawn(args: &[&str]) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn redline");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("a line");
    let proc = Proc(child, stdout);
    let url = line.split_whitespace().last().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (proc, url)
}

#[tokio::test]
async fn serve_commands_start_and_answer() {
    let (_dep, dep_url) = spawn(&["serve-dependency", "--port", "0"]);
    let (_svc, svc_url) = spawn(&[
        "serve-reference",
        "--port",
        "0",
        "--dependency-url",
        &dep_url,
        "--work-scale",
        "0",
        "--failure-threshold",
        "2",
    ]);
    let addr: std::net::SocketAddr = svc_url.trim_start_matches("http://").parse().unwrap();
    let res = tokio::time::timeout(Duration::from_secs(10), async {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::get("/items/1")
            .header("host", "x")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        send.send_request(req).await.unwrap().status()
    })
    .await
    .expect("answer in time");
    assert_eq!(res, 200);
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["serve-reference", "--recovery-timeout", "5 parsecs"][..],
        &["serve-reference", "--jitter", "150%"][..],
        &["serve-reference", "--port", "0", "--rate-limit", "fast"][..],
        &[
            "serve-reference",
            "--port",
            "0",
            "--dependency-url",
            "ftp://127.0.0.1:1",
        ][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_redline"))
            .args(args)
            .output()
            .expect("run redline");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} explains itself");
    }
}
