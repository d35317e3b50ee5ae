//! Unit tests of `[[request]] idempotency`: defaults, and positioned errors for bad values.

use super::*;

const BASE: &str = r#"
name = "i"
[target]
base_url = "http://127.0.0.1:8080"
allowed_hosts = ["127.0.0.1"]
[load]
stages = [ { duration = "1s", rate = 1 } ]
[[request]]
name = "order"
method = "POST"
path = "/orders"
IDEM
"#;

fn parse_idem(idem: &str) -> Result<Plan, ScenarioError> {
    parse(&BASE.replace("IDEM", idem), "i.toml")
}

#[test]
fn idempotency_defaults_and_absence() {
    let plan = parse_idem("").unwrap();
    assert_eq!(plan.requests[0].idempotency, None);
    let plan = parse_idem("idempotency = {}").unwrap();
    assert_eq!(
        plan.requests[0].idempotency,
        Some(Idempotency {
            header: "Idempotency-Key".into(),
            replay: 2
        })
    );
    let plan = parse_idem("idempotency = { header = \"X-Key\", replay = 5 }").unwrap();
    let i = plan.requests[0].idempotency.as_ref().unwrap();
    assert_eq!((i.header.as_str(), i.replay), ("X-Key", 5));
}

#[test]
fn bad_idempotency_keys_are_positioned_errors() {
    let text = parse_idem("idempotency = { header = \"Idem Key\" }")
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("i.toml:12:")
            && text.contains("request[0].idempotency.header")
            && text.contains("expected a header name")
            && text.contains("\"Idem Key\""),
        "{text}"
    );
    let text = parse_idem("idempotency = { replay = 0 }")
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("i.toml:12:") && text.contains("request[0].idempotency.replay"),
        "{text}"
    );
    let text = parse_idem("idempotency = { replays = 2 }")
        .unwrap_err()
        .to_string();
    assert!(text.contains("replays"), "{text}");
    let text = parse_idem("idempotency = true").unwrap_err().to_string();
    assert!(text.contains("expected a table, found"), "{text}");
}
