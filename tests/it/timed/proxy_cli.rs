//! `redline proxy` and `redline fault` as real processes: startup lines, toxics and faults from
//! flags, the control API of the process, the fault client, clean stop on SIGINT, usage errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_redline");
const SOON: Duration = Duration::from_secs(15);

/// A `redline proxy` process, killed if a test fails before stopping it.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(BIN)
            .arg("proxy")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running { child, lines }
    }

    /// The address printed after `marker` on the first stdout line containing it.
    fn addr_after(&self, marker: &str) -> SocketAddr {
        let deadline = Instant::now() + SOON;
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                if let Some((_, rest)) = line.split_once(marker) {
                    let word = rest
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .trim_start_matches("http://");
                    return word
                        .parse()
                        .unwrap_or_else(|_| panic!("no address in {line:?}"));
                }
            }
        }
        panic!("no line with {marker:?} within {SOON:?}");
    }

    /// Sends SIGINT (as Ctrl-C) and waits for the exit code.
    fn interrupt(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + SOON;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("redline proxy did not stop within {SOON:?} of SIGINT");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for mut s in listener.incoming().map_while(Result::ok) {
            thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// An HTTP/1.1 upstream answering `200 ok` to every request, keep-alive aware.
fn http_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for s in listener.incoming().map_while(Result::ok) {
            thread::spawn(move || {
                let mut reader = BufReader::new(s.try_clone().unwrap());
                let mut s = s;
                loop {
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn round_trip(addr: SocketAddr) -> Duration {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(SOON)).unwrap();
    s.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    start.elapsed()
}

/// Status code of `method path` on a fresh connection (`Connection: close`).
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(SOON)).unwrap();
    let req = format!("{method} {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn redline(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn tcp_proxy_with_toxic_flag_and_control_api_stops_on_sigint() {
    let upstream = echo_server().to_string();
    let run = Running::start(&[
        "--protocol",
        "tcp",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &upstream,
        "--name",
        "db",
        "--toxic",
        "latency:latency=800",
        "--control",
        "127.0.0.1:0",
        "--seed",
        "3",
    ]);
    let listen = run.addr_after("listening on ");
    let control = run.addr_after("control API on ");
    assert!(round_trip(listen) >= Duration::from_millis(800));
    let (status, _) = http(
        control,
        "DELETE",
        "/proxies/db/toxics/latency_downstream",
        "",
    );
    assert_eq!(status, 204);
    assert!(round_trip(listen) < Duration::from_millis(800));
    assert_eq!(run.interrupt(), Some(0));
    assert!(
        TcpStream::connect(listen).is_err(),
        "listener closed after stop"
    );
}

#[test]
fn http_proxy_with_fault_client() {
    let upstream = http_upstream().to_string();
    let run = Running::start(&[
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &upstream,
        "--name",
        "dep",
        "--control",
        "127.0.0.1:0",
    ]);
    let listen = run.addr_after("listening on ");
    let control = format!("http://{}", run.addr_after("control API on "));
    assert_eq!(http(listen, "GET", "/", "").0, 200);

    let add = redline(&[
        "fault",
        "add",
        "--control",
        &control,
        "--proxy",
        "dep",
        "--actor",
        "cli-test",
        "abort:status=503,name=outage",
    ]);
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    assert_eq!(http(listen, "GET", "/", "").0, 503);

    let list = redline(&["fault", "list", "--control", &control, "--proxy", "dep"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("outage") && text.contains("abort"), "{text}");
    let json = redline(&[
        "fault",
        "list",
        "--control",
        &control,
        "--proxy",
        "dep",
        "--json",
    ]);
    let faults: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(faults[0]["kind"]["status"], 503);

    let rm = redline(&[
        "fault",
        "rm",
        "--control",
        &control,
        "--proxy",
        "dep",
        "outage",
    ]);
    assert!(rm.status.success());
    assert_eq!(http(listen, "GET", "/", "").0, 200);

    let missing = redline(&[
        "fault",
        "rm",
        "--control",
        &control,
        "--proxy",
        "dep",
        "outage",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("404"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );

    let (_, journal) = http(
        control.trim_start_matches("http://").parse().unwrap(),
        "GET",
        "/redline/journal",
        "",
    );
    let journal: serde_json::Value = serde_json::from_str(&journal).unwrap();
    assert_eq!(journal["changes"][0]["actor"], "cli-test");
    assert_eq!(run.interrupt(), Some(0));
}

#[test]
fn control_only_waits_for_proxies_from_the_api() {
    let run = Running::start(&["--control", "127.0.0.1:0"]);
    let control = run.addr_after("control API on ");
    let upstream = echo_server().to_string();
    let body =
        format!("{{\"name\":\"late\",\"upstream\":\"{upstream}\",\"listen\":\"127.0.0.1:0\"}}");
    let (status, created) = http(control, "POST", "/proxies", &body);
    assert_eq!(status, 201, "{created}");
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    round_trip(created["listen"].as_str().unwrap().parse().unwrap());
    assert_eq!(run.interrupt(), Some(0));
}

#[test]
fn bad_flags_exit_2_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["proxy"], "nothing to run"),
        (&["proxy", "--listen", "127.0.0.1:0"], "--upstream"),
        (
            &["proxy", "--listen", "127.0.0.1:0", "--upstream", "x"],
            "expected host:port",
        ),
        (
            &[
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                "127.0.0.1:1",
                "--fault",
                "abort:status=9",
            ],
            "status",
        ),
        (
            &[
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                "127.0.0.1:1",
                "--toxic",
                "noop",
            ],
            "--protocol tcp",
        ),
        (
            &[
                "proxy",
                "--protocol",
                "tcp",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                "127.0.0.1:1",
                "--toxic",
                "latency:lat=1",
            ],
            "unknown key",
        ),
        (&["proxy", "--protocol", "udp"], "udp"),
        (
            &["proxy", "--control", "0.0.0.0:8474"],
            "--control-allow-remote",
        ),
        (&["fault", "add", "nope:x=1"], "unknown fault kind"),
        (
            &["fault", "--control", "https://127.0.0.1:1", "list"],
            "https",
        ),
        (&["fault", "rm"], "NAME"),
    ];
    for (args, needle) in cases {
        let out = redline(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    }
    let unreachable = redline(&["fault", "--control", "127.0.0.1:1", "list"]);
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot reach the control API"));
}
