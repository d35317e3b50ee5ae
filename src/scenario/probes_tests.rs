//! Unit tests of `[[request]] stale_version` and `probe_limits`: forms, defaults, positioned errors.

use super::*;

const BASE: &str = r#"
name = "p"
[target]
base_url = "http://127.0.0.1:8080"
allowed_hosts = ["127.0.0.1"]
[load]
stages = [ { duration = "1s", rate = 1 } ]
[[request]]
name = "update"
method = "PUT"
path = "/items/1"
KEYS
"#;

fn parse_keys(keys: &str) -> Result<Plan, ScenarioError> {
    parse(&BASE.replace("KEYS", keys), "p.toml")
}

#[test]
fn stale_version_forms_and_defaults() {
    let r = &parse_keys("").unwrap().requests[0];
    assert_eq!((r.stale_version.clone(), r.probe_limits), (None, false));
    let field = |k: &str| {
        parse_keys(k).unwrap().requests[0]
            .stale_version
            .clone()
            .map(|s| s.field)
    };
    assert_eq!(field("stale_version = true").as_deref(), Some("version"));
    assert_eq!(field("stale_version = false"), None);
    assert_eq!(field("stale_version = {}").as_deref(), Some("version"));
    assert_eq!(
        field("stale_version = { field = \"etag_rev\" }").as_deref(),
        Some("etag_rev")
    );
    assert!(parse_keys("probe_limits = true").unwrap().requests[0].probe_limits);
}

#[test]
fn bad_probe_keys_are_positioned_errors() {
    let err = |k: &str| parse_keys(k).unwrap_err().to_string();
    let text = err("stale_version = \"yes\"");
    assert!(
        text.contains("p.toml:12:") && text.contains("request[0].stale_version"),
        "{text}"
    );
    assert!(text.contains("expected true, false or a table"), "{text}");
    assert!(text.contains("found a string"), "{text}");
    let text = err("stale_version = { field = \"a b\" }");
    assert!(
        text.contains("p.toml:12:") && text.contains("request[0].stale_version.field"),
        "{text}"
    );
    assert!(text.contains("found \"a b\""), "{text}");
    let text = err("stale_version = { fields = \"v\" }");
    assert!(text.contains("fields"), "{text}");
    let text = err("probe_limits = 1");
    assert!(
        text.contains("p.toml:12:") && text.contains("request[0].probe_limits"),
        "{text}"
    );
    assert!(text.contains("expected true or false"), "{text}");
}
