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
        redline::spec::parse(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/specs/payments-gateway.md"
        )))
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
fn breaker_rules_table_and_json_show_each_librarys_rule() {
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/specs/breaker-forms/resilience4j-yaml.md"
    );
    let out = redline(&["spec", spec]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let rules = text
        .split("Circuit breaker rules")
        .nth(1)
        .unwrap_or_else(|| panic!("no rules table:\n{text}"));
    let row = |start: &str| {
        rules
            .lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no row {start:?}:\n{rules}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        row("20 "),
        "20 ledgerDb failure_rate resilience4j ≥ 40% failed last 20 calls 10 80% slower than 1.5s - ×2, up to 80s 4 probes, rest rejected, closes if their rate < threshold -"
    );
    assert!(row("32 ").contains("30s 100"), "{}", row("32 "));
    assert!(row("32 ").ends_with("minimum_calls, half_open_requests, slow_call_rate, slow_call_ms"));

    let out = redline(&["spec", spec, "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b = &value["breakers"][1];
    assert_eq!(b["kind"], "failure_rate");
    assert_eq!(b["library"], "resilience4j");
    assert_eq!(b["rate_trips"], "at_least");
    assert_eq!(b["window_ms"], 30000.0);
    assert!(b["window_calls"].is_null());
    assert_eq!(b["close_rule"], "probe_rate_below_threshold");
    assert_eq!(b["defaults_applied"][0], "minimum_calls");
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
