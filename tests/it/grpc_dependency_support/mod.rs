//! Support for tests/it/timed/grpc_dependency.rs: the Python processes (`grpc_service.py`: a gRPC
//! dependency, and an HTTP/1.1 service that calls it with a deadline and falls back) and a
//! `redline run --spec` over them.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/grpc_dependency_support/grpc_service.py"
);

use crate::support::python;

/// A Python process listening on 127.0.0.1:`port`; stops when dropped (its stdin closes).
pub struct Py {
    pub port: u16,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Py {
    pub fn start(args: &[&str]) -> Py {
        Py::script(SCRIPT, args)
    }

    /// `script` with `args`, once it printed "port N" (grpc_front_support runs its own script).
    pub fn script(script: &str, args: &[&str]) -> Py {
        let mut child = Command::new(python())
            .arg(script)
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
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{args:?} did not start (grpcio missing?): {line:?}"));
        Py { port, child, stdin }
    }
}

impl Drop for Py {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

pub use crate::support::free_port;

/// `redline run SCENARIO --spec SPEC --out DIR` to its end: (exit code, result.json, output).
pub fn redline_run(
    dir: &std::path::Path,
    scenario: &str,
    spec: &str,
) -> (i32, serde_json::Value, String) {
    std::fs::write(dir.join("scenario.toml"), scenario).unwrap();
    std::fs::write(dir.join("spec.md"), spec).unwrap();
    let out = dir.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("run")
        .arg(dir.join("scenario.toml"))
        .arg("--spec")
        .arg(dir.join("spec.md"))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redline run");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("redline run did not end within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(out.join("result.json"))
        .unwrap_or_else(|e| panic!("no result.json ({e}); redline said:\n{said}"));
    (
        output.status.code().unwrap_or(-1),
        serde_json::from_str(&text).unwrap(),
        said,
    )
}
