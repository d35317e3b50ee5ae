//! Failures a person can act on, through `redline run` as a real process against real servers
//! on 127.0.0.1: a certificate from an untrusted CA, a refused port, a server that resets, one
//! that never answers. Each failure's first message reaches result.json (schema-valid) and every
//! report; a run where nothing answered exits 1 with one line naming the first error, with or
//! without a spec; `ca_file` makes the private-CA run succeed without `insecure_tls`.

use crate::run_errors_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use redline::result::{FirstError, RunResult};
use run_errors_support as servers;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    dir: PathBuf,
}

impl Run {
    fn result(&self) -> RunResult {
        let text = std::fs::read_to_string(self.dir.join("out/result.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/result.schema.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let errs: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errs.is_empty(), "result.json against the schema: {errs:#?}");
        serde_json::from_value(json).unwrap()
    }

    fn first_errors(&self) -> Vec<FirstError> {
        self.result().operations["get"].first_errors.clone()
    }

    /// Every report file in the output folder holds `text` (entities decoded for HTML/XML;
    /// the terminal report may wrap it across lines).
    fn assert_reported(&self, text: &str) {
        for file in ["report.txt", "report.md", "report.html", "junit.xml"] {
            let raw = std::fs::read_to_string(self.dir.join("out").join(file)).unwrap();
            let decoded = raw
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&apos;", "'")
                .replace("&amp;", "&");
            let holds = if file == "report.txt" {
                words(&decoded).contains(&words(text))
            } else {
                decoded.contains(text)
            };
            assert!(holds, "{file} lacks {text:?}:\n{raw}");
        }
        assert!(
            words(&self.stdout).contains(&words(text)),
            "terminal lacks {text:?}:\n{}",
            self.stdout
        );
    }

    fn explain(&self) -> String {
        format!("exit {:?}\n{}\n{}", self.code, self.stdout, self.stderr)
    }
}

/// The words of `text` joined by single spaces (undoes the terminal's wrapping).
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn run(name: &str, scenario: &str, extra: &[&str], files: &[(&str, &str)]) -> Run {
    let dir = std::env::temp_dir().join(format!("redline-errors-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--quiet")
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    }
}

/// 20 requests over one second to `base_url`; `target` adds keys to `[target]`.
fn scenario(base_url: &str, target: &str) -> String {
    format!(
        "name = \"errors\"\n[target]\nbase_url = \"{base_url}\"\nallowed_hosts = [\"127.0.0.1\"]\n\
         {target}\n[load]\nstages = [ {{ duration = \"1s\", rate = 20 }} ]\n\
         [[request]]\nname = \"get\"\npath = \"/x\"\n"
    )
}

fn spec_path() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/specs/reference-service.md"
    ))
}

#[test]
fn an_untrusted_certificate_is_named_and_fails_the_run_even_with_a_spec() {
    let (server, _ca) = servers::https_private_ca();
    let url = format!("https://{}", server.addr);
    let spec = spec_path().display().to_string();
    let r = run("tls", &scenario(&url, ""), &["--spec", &spec], &[]);
    assert_eq!(r.code, Some(1), "{}", r.explain());
    let message = format!(
        "invalid peer certificate: UnknownIssuer for {}",
        server.addr
    );
    let line = format!(
        "FAILED: no request got an answer: tls: {message}; set insecure_tls = true for a \
         self-signed certificate, or ca_file"
    );
    assert!(
        r.stdout.lines().any(|l| l.starts_with(&line)),
        "{}",
        r.explain()
    );
    let first = r.first_errors();
    assert_eq!(first.len(), 1, "one distinct text: {first:#?}");
    assert_eq!(
        (first[0].kind.as_str(), first[0].message.as_str()),
        ("tls", message.as_str())
    );
    assert!(first[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("insecure_tls = true"));
    assert!(!r.result().verdicts.is_empty(), "the spec was judged");
    r.assert_reported(&message);
    r.assert_reported("no request got an answer");
}

#[test]
fn ca_file_trusts_a_private_ca_without_insecure_tls() {
    let (server, ca) = servers::https_private_ca();
    let url = format!("https://{}", server.addr);
    let r = run(
        "ca-file",
        &scenario(&url, "ca_file = \"ca.pem\""),
        &[],
        &[("ca.pem", &ca)],
    );
    assert_eq!(r.code, Some(0), "{}", r.explain());
    let result = r.result();
    let get = &result.operations["get"];
    assert_eq!(
        (get.count, get.errors, get.status.get("200")),
        (20, 0, Some(&20))
    );
    assert!(get.first_errors.is_empty());
}

#[test]
fn a_missing_ca_file_is_bad_input_with_its_line_and_nothing_is_sent() {
    let (server, _ca) = servers::https_private_ca();
    let url = format!("https://{}", server.addr);
    let r = run(
        "ca-missing",
        &scenario(&url, "ca_file = \"nowhere.pem\""),
        &[],
        &[],
    );
    assert_eq!(r.code, Some(2), "{}", r.explain());
    assert!(
        r.stderr.contains("scenario.toml:5:11: `target.ca_file`")
            && r.stderr.contains("cannot read"),
        "{}",
        r.explain()
    );
    assert!(!r.dir.join("out/result.json").exists());
    assert_eq!(server.accepted(), 0);
    let empty = run(
        "ca-empty",
        &scenario(&url, "ca_file = \"ca.pem\""),
        &[],
        &[("ca.pem", "not a certificate\n")],
    );
    assert_eq!(empty.code, Some(2), "{}", empty.explain());
    assert!(empty.stderr.contains("found none"), "{}", empty.explain());
}

#[test]
fn a_refused_port_is_named_with_its_address() {
    let port = servers::refused_port();
    let r = run(
        "refused",
        &scenario(&format!("http://127.0.0.1:{port}"), ""),
        &[],
        &[],
    );
    assert_eq!(r.code, Some(1), "{}", r.explain());
    let message = format!("Connection refused (os error 111) to 127.0.0.1:{port}");
    assert!(
        r.stdout
            .contains(&format!("FAILED: no request got an answer: connect: {message}; is the service running on 127.0.0.1:{port}?")),
        "{}",
        r.explain()
    );
    let first = r.first_errors();
    assert_eq!(first.len(), 1, "{first:#?}");
    assert_eq!(first[0].kind, "connect");
    assert_eq!(first[0].message, message);
    r.assert_reported(&message);
}

#[test]
fn a_server_that_resets_is_named() {
    let server = servers::resets();
    let r = run(
        "reset",
        &scenario(&format!("http://{}", server.addr), ""),
        &[],
        &[],
    );
    assert_eq!(r.code, Some(1), "{}", r.explain());
    let first = r.first_errors();
    assert!(
        first
            .iter()
            .any(|e| e.kind == "reset" && e.message == "Connection reset by peer (os error 104)"),
        "{first:#?}"
    );
    assert!(first.iter().all(|e| e.kind == "reset"), "{first:#?}");
    assert!(r.result().operations["get"].error_kinds["reset"] == 20);
    r.assert_reported("Connection reset by peer (os error 104)");
    assert!(server.accepted() >= 1);
}

#[test]
fn a_timeout_names_the_limit_and_how_to_raise_it() {
    let server = servers::silent();
    let r = run(
        "timeout",
        &scenario(&format!("http://{}", server.addr), "timeout = \"300ms\""),
        &[],
        &[],
    );
    assert_eq!(r.code, Some(1), "{}", r.explain());
    let message = "no complete answer within the timeout (timeout = 300ms)";
    let first = r.first_errors();
    assert_eq!(first.len(), 1, "{first:#?}");
    assert_eq!(
        (first[0].kind.as_str(), first[0].message.as_str()),
        ("timeout", message)
    );
    // The first request is due at 0 and cannot have failed before its 300 ms.
    assert!(first[0].t_ms >= 300.0, "{first:#?}");
    assert!(
        first[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("the service answered none within 300ms"),
        "{first:#?}"
    );
    r.assert_reported(message);
}

#[test]
fn a_mostly_failed_run_without_a_spec_says_so_in_the_headline_and_keeps_its_exit_code() {
    let server = servers::status(500);
    let r = run(
        "mostly",
        &scenario(&format!("http://{}", server.addr), ""),
        &[],
        &[],
    );
    assert_eq!(
        r.code,
        Some(0),
        "answered: the threshold stays --max-error-rate: {}",
        r.explain()
    );
    let headline = "most requests failed: 100% of 20 (status_unexpected×20) (no spec judged)";
    let txt = std::fs::read_to_string(r.dir.join("out/report.txt")).unwrap();
    // On the badge's line (wrapped under it), before the tables.
    let head = txt.split("Latency and errors").next().unwrap();
    assert!(
        words(head).contains(&format!("MEASURED {headline}")),
        "{txt}"
    );
    assert_eq!(
        r.first_errors()[0].message,
        "status 500, not in expect_status"
    );
    r.assert_reported("status 500, not in expect_status");
    r.assert_reported("most requests failed: 100% of 20");
}
