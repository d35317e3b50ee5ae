//! Tests of the error-body reader on the forms our specs write it in.

use crate::spec::parse;

const DATACLASS: &str = r#"# Backend Spec: Shop

#### Error Response Schema

```python
@dataclass
class ErrorResponse:
    error_code: str              # Machine-readable code
    message: str                 # Human-readable message (i18n key)
    details: dict[str, Any]      # Field-specific errors or context
    request_id: str              # Correlation ID for tracing
    timestamp: datetime          # Error timestamp (ISO 8601)
    retry_after: int | None      # Seconds to wait (for 429, 503)

# Example response
{
    "error_code": "VALIDATION_FAILED",
    "retry_after": null
}
```

- Propagate trace context to downstream services and message queues
"#;

#[test]
fn dataclass_with_promises() {
    let c = parse(DATACLASS);
    let b = c.error_body.expect("error body");
    assert_eq!(b.form, "dataclass");
    assert_eq!(b.name.as_deref(), Some("ErrorResponse"));
    let f: Vec<(&str, &str, bool)> = b
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.ty.as_str(), f.nullable))
        .collect();
    assert_eq!(
        f,
        [
            ("error_code", "string", false),
            ("message", "string", false),
            ("details", "object", false),
            ("request_id", "string", false),
            ("timestamp", "datetime", false),
            ("retry_after", "integer", true),
        ]
    );
    assert_eq!(b.request_id_field.as_deref(), Some("request_id"));
    assert_eq!(b.retry_after_statuses, [429, 503]);
    assert_eq!(b.line, 7);
    assert_eq!(c.trace_propagation_line, Some(22));
}

#[test]
fn typescript_interface() {
    let c = parse(
        "# S\n\n## Errors\n\n```ts\nexport interface ApiError {\n  code: string;\n  message?: string;\n  retryAfter?: number | null; // for 429\n  tags: string[];\n}\n```\n",
    );
    let b = c.error_body.unwrap();
    assert_eq!(b.form, "interface");
    let f: Vec<(&str, &str, bool, bool)> = b
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.ty.as_str(), f.required, f.nullable))
        .collect();
    assert_eq!(
        f,
        [
            ("code", "string", true, false),
            ("message", "string", false, false),
            ("retryAfter", "number", false, true),
            ("tags", "array", true, false),
        ]
    );
    assert_eq!(b.retry_after_statuses, [429]);
}

#[test]
fn json_example_and_rfc_7807() {
    let c = parse("# S\n\n**Error Responses**:\n\n```json\n{\n  \"error\": \"NOT_FOUND\",\n  \"message\": \"no such item\",\n  \"details\": []\n}\n```\n");
    let b = c.error_body.unwrap();
    assert_eq!(b.form, "json example");
    assert_eq!(b.fields.len(), 3);
    let details = b.fields.iter().find(|f| f.name == "details").unwrap();
    assert_eq!(details.ty, "array");
    let c = parse("# S\n\nErrors are RFC 7807 problem details (`application/problem+json`). A 503 carries a Retry-After header.\n");
    let b = c.error_body.unwrap();
    assert!(b.problem_details);
    assert_eq!(b.retry_after_statuses, [503]);
    assert!(b.fields.iter().all(|f| !f.required));
    // A success example is not an error body.
    assert!(parse("# S\n\n```json\n{\"id\": 1, \"name\": \"x\"}\n```\n")
        .error_body
        .is_none());
}

#[test]
fn field_list_in_prose_like_the_reference_spec() {
    let c = parse("# S\n\nThe service forwards `x-request-id` on every call.\n\nError bodies are `{\"error_code\", \"message\", \"request_id\", \"retry_after\"}`; 429 and 503 answers also\ncarry a `Retry-After` header in whole seconds.\n");
    let b = c.error_body.unwrap();
    assert_eq!(b.form, "field list");
    let names: Vec<&str> = b.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["error_code", "message", "request_id", "retry_after"]
    );
    assert_eq!(b.request_id_field.as_deref(), Some("request_id"));
    assert_eq!(b.retry_after_statuses, [429, 503]);
    assert_eq!(b.retry_after_field.as_deref(), Some("retry_after"));
    let r = parse(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/specs/reference-service.md"
        ))
        .unwrap(),
    );
    let b = r.error_body.expect("the reference spec's error body");
    assert_eq!(b.fields.len(), 4);
    assert!(r.trace_propagation_line.is_some(), "forwards traceparent");
}
