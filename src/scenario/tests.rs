//! Unit tests of scenario parsing: the issue's example, every error shape, chaos keys, phases.

use std::time::Duration;

use super::*;
use crate::result::PhaseKind;

const FULL: &str = r#"
name = "smoke"
seed = 7
[target]
base_url = "http://127.0.0.1:8080"
allowed_hosts = ["127.0.0.1", "localhost"]
timeout = "5s"
max_connections = 256
headers = { authorization = "Bearer t" }
request_id_header = "x-request-id"
[load]
model = "open"
arrival = "uniform"
stages = [ { duration = "5s", rate = 100 }, { duration = "20s", rate = 500, ramp = true } ]
warmup = "2s"
max_in_flight = 10000
[[request]]
name = "get-item"
operation = "GET by ID"
weight = 3
method = "GET"
path = "/items/{{random_int 1 1000}}"
headers = {}
body = ""
expect_status = [200, 404]
"#;

fn errors(src: &str) -> Vec<Diagnostic> {
    parse(src, "s.toml")
        .expect_err("should not parse")
        .diagnostics
}

#[test]
fn parses_the_issue_example() {
    let plan = parse(FULL, "smoke.toml").unwrap();
    assert_eq!(plan.name, "smoke");
    assert_eq!(plan.seed, 7);
    assert_eq!(plan.target.base_url.port, 8080);
    assert_eq!(plan.target.timeout, Duration::from_secs(5));
    assert_eq!(
        plan.target.request_id_header.as_deref(),
        Some("x-request-id")
    );
    assert_eq!(plan.load.duration(), Duration::from_secs(25));
    assert_eq!(plan.load.expected_arrivals(), Some(500.0 + 6000.0));
    let r = &plan.requests[0];
    assert_eq!(r.weight.get(), 3);
    assert!(r.expects(404) && !r.expects(500));
}

#[test]
fn reports_every_problem_with_positions() {
    let src = FULL
        .replace("timeout = \"5s\"", "timout = \"5s\"")
        .replace("rate = 100 }", "rate = \"fast\" }")
        .replace("model = \"open\"", "model = \"opne\"");
    let errs = errors(&src);
    let text = format!(
        "{}",
        ScenarioError {
            file: "s.toml".into(),
            diagnostics: errs.clone()
        }
    );
    assert!(text.contains("did you mean `timeout`"), "{text}");
    assert!(text.contains("s.toml:7:1: `target.timout`"), "{text}");
    assert!(
        text.contains("expected \"open\" or \"closed\", found \"opne\""),
        "{text}"
    );
    assert_eq!(errs.len(), 2, "{text}");
}

#[test]
fn type_errors_in_several_sections_are_all_reported() {
    let src = FULL
        .replace("max_connections = 256", "max_connections = \"many\"")
        .replace("rate = 100 }", "rate = \"fast\" }")
        .replace("weight = 3", "weight = 0")
        .replace("expect_status = [200, 404]", "expect_status = [200, 4040]");
    let errs = errors(&src);
    let keys: Vec<&str> = errs.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "target.max_connections",
            "load.stages[0].rate",
            "request[0].weight",
            "request[0].expect_status"
        ]
    );
    assert!(errs[1].message.contains("found the string \"fast\""));
}

#[test]
fn refuses_hosts_not_allowed() {
    let errs = errors(&FULL.replace("http://127.0.0.1:8080", "http://example.com:8080"));
    assert_eq!(errs.len(), 1);
    assert!(errs[0].message.contains("not in allowed_hosts"));
}

#[test]
fn syntax_errors_have_positions() {
    let errs = errors("name = \"x\"\n[target\n");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, 2);
    assert!(errs[0].message.starts_with("invalid TOML"));
}

#[test]
fn missing_sections_are_named() {
    let errs = errors("name = \"x\"\n");
    let keys: Vec<&str> = errs.iter().map(|d| d.key.as_str()).collect();
    assert!(
        keys.contains(&"target") && keys.contains(&"load") && keys.contains(&"request"),
        "{keys:?}"
    );
}

#[test]
fn closed_model_and_misplaced_keys() {
    let src = FULL.replace(
        "model = \"open\"\narrival = \"uniform\"\nstages = [ { duration = \"5s\", rate = 100 }, { duration = \"20s\", rate = 500, ramp = true } ]\n",
        "model = \"closed\"\nusers = 4\nduration = \"10s\"\nthink_time = \"10ms\"\n",
    );
    let errs = errors(&src);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0]
        .message
        .contains("does not apply to model = \"closed\""));
    let plan = parse(&src.replace("max_in_flight = 10000\n", ""), "s.toml").unwrap();
    assert!(matches!(plan.load.model, Model::Closed { users, .. } if users.get() == 4));
}

const CHAOS: &str = r#"
[[dependency]]
name = "UserService"
listen = "127.0.0.1:9101"
upstream = "127.0.0.1:9100"
protocol = "http"

[[dependency]]
name = "Cache"
control = "http://127.0.0.1:8474"
proxy = "cache"

[[fault]]
dependency = "UserService"
at = "10s"
duration = "5s"
kind = "abort"
status = 503
probability = 0.5
match = { method = "GET", path_prefix = "/users" }

[[fault]]
dependency = "Cache"
at = "18s"
duration = "2s"
kind = "latency"
delay = "4s"

[[slo]]
operation = "GET by ID"
phase = "baseline"
p99 = "200ms"
error_rate = 0.01
"#;

#[test]
fn chaos_keys_parse_and_default_phases_follow_faults() {
    let plan = parse(&format!("{FULL}{CHAOS}"), "s.toml").unwrap();
    assert_eq!(plan.dependencies.len(), 2);
    let f = &plan.faults[0];
    assert_eq!(f.kind, FaultKind::Abort);
    assert_eq!(f.params["status"].value, serde_json::json!(503));
    assert_eq!(
        f.matcher.as_ref().unwrap().path_prefix.as_deref(),
        Some("/users")
    );
    assert_eq!(plan.slos[0].p99, Some(Duration::from_millis(200)));
    assert!(plan.slos[0].line > 30);
    let names: Vec<(String, PhaseKind)> = phase_windows(&plan)
        .into_iter()
        .map(|w| (w.name, w.kind))
        .collect();
    let expect = [
        ("warmup", PhaseKind::Warmup),
        ("baseline", PhaseKind::Baseline),
        ("fault:UserService:abort", PhaseKind::Fault),
        ("recovery-1", PhaseKind::Recovery),
        ("fault:Cache:latency", PhaseKind::Fault),
        ("recovery", PhaseKind::Recovery),
    ];
    assert_eq!(names, expect.map(|(n, k)| (n.to_string(), k)));
}

#[test]
fn no_faults_means_warmup_and_baseline() {
    let plan = parse(FULL, "s.toml").unwrap();
    let w = phase_windows(&plan);
    assert_eq!(w.len(), 2);
    assert_eq!(
        (w[1].from, w[1].to),
        (Duration::from_secs(2), Duration::from_secs(25))
    );
}

#[test]
fn explicit_phases_replace_defaults_but_keep_warmup() {
    let src = format!("{FULL}{CHAOS}\n[[phase]]\nname = \"storm\"\nfrom = \"5s\"\nto = \"15s\"\n");
    let plan = parse(&src, "s.toml").unwrap();
    let names: Vec<String> = phase_windows(&plan).into_iter().map(|w| w.name).collect();
    assert_eq!(names, ["warmup", "storm"]);
}

#[test]
fn chaos_errors_name_the_problem() {
    let src = format!("{FULL}{CHAOS}")
        .replace("dependency = \"Cache\"", "dependency = \"Cahce\"")
        .replace("kind = \"abort\"", "kind = \"abrot\"")
        .replace("p99 = \"200ms\"", "p99 = \"fast\"");
    let errs = errors(&src);
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].message.contains("did you mean \"abort\""));
    assert!(errs[1].message.contains("did you mean \"Cache\""));
    assert_eq!(errs[2].key, "slo[0].p99");
}

#[test]
fn framing_headers_and_bad_paths_are_refused() {
    let src = FULL
        .replace("headers = {}", "headers = { Host = \"example.com\" }")
        .replace(
            "path = \"/items/{{random_int 1 1000}}\"",
            "path = \"/items /x\"",
        );
    let errs = errors(&src);
    let keys: Vec<&str> = errs.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        ["request[0].path", "request[0].headers.Host"],
        "{errs:?}"
    );
}

#[test]
fn ready_path_is_read_and_checked_like_health_path() {
    let with = |lines: &str| {
        FULL.replace(
            "request_id_header = \"x-request-id\"",
            &format!("request_id_header = \"x-request-id\"\n{lines}"),
        )
    };
    let plan = parse(
        &with("health_path = \"/health\"\nready_path = \"/ready\""),
        "s.toml",
    )
    .unwrap();
    assert_eq!(plan.target.health_path.as_deref(), Some("/health"));
    assert_eq!(plan.target.ready_path.as_deref(), Some("/ready"));
    assert_eq!(parse(FULL, "s.toml").unwrap().target.ready_path, None);

    let err = parse(&with("ready_path = \"ready\"\nhealth_path = 3"), "s.toml").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("s.toml:11:14: `target.ready_path`: expected a path starting with \"/\", found \"ready\""),
        "{text}"
    );
    assert!(
        text.contains("s.toml:12:15: `target.health_path`: expected a string"),
        "{text}"
    );
    assert_eq!(err.diagnostics.len(), 2, "{text}");
    let text = errors(&with("redy_path = \"/ready\"")).remove(0).message;
    assert!(text.contains("did you mean `ready_path`"), "{text}");
}

#[test]
fn ca_file_is_kept_with_its_position_for_https_targets_only() {
    let https = FULL.replace("http://127.0.0.1:8080", "https://localhost:8443");
    let plan = parse(
        &https.replace(
            "timeout = \"5s\"",
            "timeout = \"5s\"\nca_file = \"certs/ca.pem\"",
        ),
        "s.toml",
    )
    .unwrap();
    let ca = plan.target.ca_file.unwrap();
    assert_eq!(ca.path, std::path::PathBuf::from("certs/ca.pem"));
    assert_eq!((ca.pos.line, ca.pos.column), (8, 11));
    let both = https.replace(
        "timeout = \"5s\"",
        "timeout = \"5s\"\nca_file = \"ca.pem\"\ninsecure_tls = true",
    );
    let errs = errors(&both);
    assert!(errs[0].key == "target.ca_file", "{errs:?}");
    assert!(errs[0].message.contains("found both"), "{errs:?}");
    let plain = FULL.replace("timeout = \"5s\"", "timeout = \"5s\"\nca_file = \"ca.pem\"");
    assert!(errors(&plain)[0].message.contains("https://"));
    let empty = https.replace("timeout = \"5s\"", "timeout = \"5s\"\nca_file = \"\"");
    assert_eq!(errors(&empty)[0].line, 8);
}
