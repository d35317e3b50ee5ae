//! `redline report` as users run it: the real binary, real files, exit codes.

use crate::report_common;

use std::path::PathBuf;
use std::process::{Command, Output};

use report_common::fixture_path;

fn redline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run redline")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn fixture(name: &str) -> String {
    fixture_path(name).to_string_lossy().into_owned()
}

#[test]
fn renders_a_saved_result_to_the_terminal() {
    let out = redline(&["report", &fixture("chaos.json")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("FAIL"));
    assert!(text.contains("Breaker stays open 30 s"));
    assert!(!text.contains('\x1b'), "NO_COLOR and a pipe: no colour");
}

#[test]
fn clicolor_force_colours_a_pipe_and_no_color_wins_over_it() {
    let run = |no_color: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline"));
        cmd.args(["report", &fixture("chaos.json")])
            .env("CLICOLOR_FORCE", "1")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    assert!(run(None).contains("\x1b[1;31m"));
    assert!(!run(Some("1")).contains('\x1b'));
}

#[test]
fn writes_every_format_into_the_out_folder() {
    let dir = tmp("all");
    let d = dir.to_string_lossy().into_owned();
    let out = redline(&[
        "report",
        &fixture("chaos.json"),
        "--format",
        "terminal,md,junit,json,csv,html",
        "--out",
        &d,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "report.txt",
        "report.md",
        "junit.xml",
        "result.json",
        "timeline.csv",
        "report.html",
    ] {
        assert!(dir.join(f).metadata().unwrap().len() > 100, "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn out_without_format_writes_every_format() {
    let dir = tmp("default");
    let out = redline(&[
        "report",
        &fixture("nospec.json"),
        "--out",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_result_is_bad_input() {
    let out = redline(&["report", "/nonexistent/result.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("cannot read /nonexistent/result.json"),
        "{err}"
    );
}

#[test]
fn an_invalid_result_is_bad_input_with_line_and_column() {
    let dir = tmp("invalid");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("result.json");
    std::fs::write(&bad, "{\n  \"schema_version\": 1,\n  \"scenario\": 42\n}\n").unwrap();
    let out = redline(&["report", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("result.json:3:"), "{err}");
    assert!(err.contains("not a redline result.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_result_from_a_newer_redline_is_bad_input() {
    let dir = tmp("newer");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(fixture_path("nospec.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["schema_version"] = serde_json::Value::from(99);
    let path = dir.join("result.json");
    std::fs::write(&path, value.to_string()).unwrap();
    let out = redline(&["report", &path.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema_version 99 is newer"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_format_or_files_without_out_is_bad_input() {
    let out = redline(&["report", &fixture("chaos.json"), "--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown report format `pdf`"));
    let out = redline(&["report", &fixture("chaos.json"), "--format", "html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
}

#[test]
fn a_regression_fails_only_when_asked() {
    let slower = fixture("chaos-slower.json");
    let base = fixture("chaos.json");
    let out = redline(&["report", &slower, "--baseline", &base]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("regression"));
    let out = redline(&[
        "report",
        &slower,
        "--baseline",
        &base,
        "--fail-on-regression",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = redline(&[
        "report",
        &fixture("chaos-rerun.json"),
        "--baseline",
        &base,
        "--fail-on-regression",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_missing_baseline_is_bad_input() {
    let out = redline(&[
        "report",
        &fixture("chaos.json"),
        "--baseline",
        "/nonexistent/old.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_terminal_report_takes_the_width_from_columns() {
    let widest = |columns: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline"));
        cmd.args(["report", &fixture("demo.json")])
            .env("NO_COLOR", "1");
        match columns {
            Some(c) => cmd.env("COLUMNS", c),
            None => cmd.env_remove("COLUMNS"),
        };
        let out = cmd.output().expect("run redline");
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().map(|l| l.chars().count()).max().unwrap()
    };
    // A pipe without $COLUMNS gets 80; a wide terminal more; a tiny one is held at 60.
    assert!(widest(None) <= 80);
    let wide = widest(Some("120"));
    assert!(wide > 80 && wide <= 120, "{wide}");
    assert!(widest(Some("20")) <= 60);
}
