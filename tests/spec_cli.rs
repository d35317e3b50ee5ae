//! `redline spec` run as a real process: the table, the JSON shape of the issue, and a missing file.

use std::process::Command;

use redline::spec::Claims;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/specs/payments-gateway.md"
);

fn redline(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .output()
        .expect("run redline")
}

#[test]
fn table_shows_each_family_with_source_lines() {
    let out = redline(&["spec", FIXTURE]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("service Payments Gateway"), "{text}");
    assert!(text.contains("24 claims read, 0 diagnostics"), "{text}");
    for title in [
        "Latency targets",
        "Latency budget",
        "Dependencies",
        "Circuit breakers",
        "Retries",
        "Rate limits",
        "Error classes",
        "Alerts",
        "Objectives",
        "Diagnostics",
    ] {
        assert!(text.contains(title), "missing section {title}:\n{text}");
    }
    let row = |start: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no row {start:?}:\n{text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(row("29 "), "29 Get payment 25ms 60ms 120ms 2s");
    assert_eq!(
        row("38 "),
        "38 acquirer_breaker AcquirerAPI 6 20s 2 AcquirerTimeout, AcquirerUnavailable"
    );
    assert_eq!(
        row("18 "),
        "18 AcquirerAPI External API 1.5s Return 503 503 no /status"
    );
    assert_eq!(
        row("58 "),
        "58 Acquirer timeout exponential 3 200ms, 400ms, 800ms 10%"
    );
}

#[test]
fn json_has_the_issue_shape() {
    let out = redline(&["spec", FIXTURE, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "service",
        "latency",
        "latency_budget",
        "dependencies",
        "breakers",
        "retries",
        "rate_limits",
        "error_rate_max",
        "availability",
        "diagnostics",
    ] {
        assert!(value.get(key).is_some(), "missing key {key}");
    }
    // Absent values are null, not missing.
    assert!(value["latency_budget"]["p95_ms"].is_null());
    assert_eq!(value["latency"][0]["operation"], "Get payment");
    assert_eq!(value["latency"][0]["p99_ms"], 120.0);
    assert_eq!(value["latency"][0]["line"], 29);
    assert_eq!(value["dependencies"][0]["fallback_status"], 503);
    assert_eq!(value["breakers"][0]["recovery_timeout_ms"], 20000.0);
    assert_eq!(
        value["retries"][0]["backoff_ms"],
        serde_json::json!([200.0, 400.0, 800.0])
    );
    assert_eq!(value["rate_limits"][0]["per_s"], 60.0);
    assert_eq!(value["availability"], 0.9995);

    let claims: Claims = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        claims,
        redline::spec::parse(include_str!("fixtures/specs/payments-gateway.md"))
    );
}

#[test]
fn missing_spec_is_bad_input() {
    let out = redline(&["spec", "/nonexistent/redline-spec-test.md"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read spec /nonexistent/redline-spec-test.md"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_directory_is_not_a_spec() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/specs");
    let out = redline(&["spec", dir, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: cannot read spec"));
}

#[test]
fn a_spec_with_no_testable_claim_says_run_would_refuse_it() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/spec_corpus/11-wrong-file.md"
    );
    let out = redline(&["spec", file]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("0 claims read, 0 diagnostics"), "{text}");
    assert!(
        text.contains("no testable claim: `redline run --spec")
            && text.contains("unless --allow-empty-spec"),
        "{text}"
    );
}
