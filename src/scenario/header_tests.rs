//! Unit tests of templated header values and `{{env NAME}}` in scenarios: parsing, positions
//! of errors, and that what the plan shows of a header never holds an environment value.

use super::*;

const BASE: &str = r#"
name = "h"
[target]
base_url = "http://127.0.0.1:8080"
allowed_hosts = ["127.0.0.1"]
headers = { authorization = "Bearer {{env TOKEN}}", x-static = "v" }
[load]
stages = [ { duration = "1s", rate = 1 } ]
[[request]]
name = "get"
path = "/items/{{env ITEM}}"
headers = { x-request-id = "req-{{seq}}", x-api-key = "{{choice k1 k2 k3}}" }
"#;

fn env(name: &str) -> Result<String, String> {
    match name {
        "TOKEN" => Ok("s3cret".into()),
        "ITEM" => Ok("42".into()),
        _ => Err(format!("environment variable {name} is not set")),
    }
}

fn parse_env(src: &str) -> Result<Plan, ScenarioError> {
    parse_with_env(src, "h.toml", &env)
}

#[test]
fn header_values_are_templates_and_shown_as_written() {
    let plan = parse_env(BASE).unwrap();
    let t = &plan.target;
    assert_eq!(
        t.headers,
        [
            (
                "authorization".to_string(),
                "Bearer {{env TOKEN}}".to_string()
            ),
            ("x-static".to_string(), "v".to_string()),
        ]
    );
    assert_eq!(t.header_templates[0].1.as_static(), Some("Bearer s3cret"));
    let r = &plan.requests[0];
    assert_eq!(r.path.as_static(), Some("/items/42"));
    assert_eq!(r.header_templates[0].0, "x-request-id");
    assert_eq!(r.header_templates[0].1.as_static(), None);
    assert_eq!(r.headers[1].1, "{{choice k1 k2 k3}}");
    // Nothing printed of the plan holds the value.
    assert!(!format!("{plan:?}").contains("s3cret"));
}

#[test]
fn unset_env_is_a_positioned_error() {
    let src = BASE.replace("{{env TOKEN}}", "{{env NOPE_TOKEN}}");
    let text = parse_env(&src).unwrap_err().to_string();
    assert!(
        text.contains("h.toml:6:13: `target.headers.authorization`:")
            && text.contains("environment variable NOPE_TOKEN is not set"),
        "{text}"
    );
    let src = BASE.replace("{{env ITEM}}", "{{env NOPE_ITEM}}");
    let text = parse_env(&src).unwrap_err().to_string();
    assert!(
        text.contains("h.toml:11:8: `request[0].path`:")
            && text.contains("environment variable NOPE_ITEM is not set"),
        "{text}"
    );
}

#[test]
fn bad_header_templates_are_positioned_errors() {
    let src = BASE.replace("req-{{seq}}", "req-{{sequence}}");
    let errs = parse_env(&src).unwrap_err();
    let text = errs.to_string();
    assert!(
        text.contains("h.toml:12:13: `request[0].headers.x-request-id`:")
            && text.contains("unknown placeholder"),
        "{text}"
    );
    let src = BASE.replace("{{choice k1 k2 k3}}", "{{choice k1 \\u0001k2}}");
    let text = parse_env(&src).unwrap_err().to_string();
    assert!(text.contains("`choice` option"), "{text}");
    let src = BASE.replace("x-static = \"v\"", "x-static = \"a\\r\\nb: c\"");
    let text = parse_env(&src).unwrap_err().to_string();
    assert!(
        text.contains("`target.headers.x-static`")
            && text.contains("not allowed in a header value"),
        "{text}"
    );
}

#[test]
fn env_values_that_would_break_a_header_are_refused_without_showing_them() {
    let bad = |name: &str| match name {
        "TOKEN" => Ok("x\r\nevil: 1".to_string()),
        other => env(other),
    };
    let text = parse_with_env(BASE, "h.toml", &bad)
        .unwrap_err()
        .to_string();
    assert!(text.contains("`target.headers.authorization`"), "{text}");
    assert!(!text.contains("evil"), "{text}");
}
