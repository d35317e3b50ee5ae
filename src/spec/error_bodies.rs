//! The error body: what every error answer carries, read from an `ErrorResponse`-like Python
//! dataclass or TypeScript interface, a JSON example under an error heading (or one with an
//! error code and a message), or RFC 7807 / 9457 problem details named in prose. Also the
//! promise to propagate trace context downstream. The first typed definition wins; a JSON
//! example beside it is only an example.

use super::claims::{BodyField, Claims, ErrorBody};
use super::markdown::{Block, Kind};

pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    let mut typed: Option<ErrorBody> = None;
    let mut example: Option<ErrorBody> = None;
    let mut problem: Option<usize> = None;
    let mut retry_prose: Vec<u16> = Vec::new();
    let mut listed: Option<ErrorBody> = None;
    let mut request_id_header = false;
    for b in blocks {
        match &b.kind {
            Kind::Code { lang, lines } => {
                if typed.is_none() {
                    typed = class_form(lines).or_else(|| interface_form(lang, lines));
                }
                if example.is_none() {
                    example = json_form(b, lines);
                }
            }
            Kind::Paragraph | Kind::Item | Kind::Heading { .. } => {
                let lower = b.text.s.to_ascii_lowercase();
                if problem.is_none()
                    && (lower.contains("rfc 7807")
                        || lower.contains("rfc7807")
                        || lower.contains("rfc 9457")
                        || lower.contains("application/problem+json")
                        || lower.contains("problem details"))
                {
                    problem = Some(b.text.first_line());
                }
                if listed.is_none() {
                    listed = prose_form(&b.text.s, b.text.first_line());
                }
                request_id_header |= lower.contains("x-request-id");
                if lower.contains("retry-after") {
                    retry_prose.extend(statuses(&lower));
                }
                if claims.idempotency_line.is_none()
                    && (lower.contains("idempotency-key") || lower.contains("idempotency key"))
                {
                    claims.idempotency_line = Some(b.text.first_line());
                }
                if claims.trace_propagation_line.is_none()
                    && (lower.contains("propagate") || lower.contains("forward"))
                    && (lower.contains("trace") || lower.contains("traceparent"))
                {
                    claims.trace_propagation_line = Some(b.text.first_line());
                }
            }
            _ => {}
        }
    }
    let mut body = match (typed, example.or(listed), problem) {
        (Some(t), _, _) => t,
        (None, _, Some(line)) => problem_details(line),
        (None, Some(e), None) => e,
        (None, None, None) => return,
    };
    // The caller's `x-request-id` named in the spec and a `request_id` field: the field echoes it.
    if body.request_id_field.is_none() && request_id_header {
        body.request_id_field = body
            .fields
            .iter()
            .find(|f| {
                matches!(
                    f.name.as_str(),
                    "request_id" | "requestId" | "correlation_id"
                )
            })
            .map(|f| f.name.clone());
    }
    for s in retry_prose {
        if !body.retry_after_statuses.contains(&s) {
            body.retry_after_statuses.push(s);
        }
    }
    body.retry_after_statuses.sort_unstable();
    claims.error_body = Some(body);
}

/// 4xx/5xx statuses written in a text.
fn statuses(text: &str) -> Vec<u16> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 3)
        .filter_map(|w| w.parse().ok())
        .filter(|s| (400..600).contains(s))
        .collect()
}

fn error_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("error") || n.contains("problem") || n.contains("fault")
}

fn new_body(form: &str, name: Option<String>, line: usize) -> ErrorBody {
    ErrorBody {
        form: form.to_string(),
        name,
        fields: Vec::new(),
        request_id_field: None,
        retry_after_statuses: Vec::new(),
        retry_after_field: None,
        problem_details: false,
        line,
    }
}

/// What a field's name and comment promise: the request-id echo and retry-after statuses.
fn promises(body: &mut ErrorBody, name: &str, comment: &str) {
    let n = name.to_ascii_lowercase();
    let c = comment.to_ascii_lowercase();
    if matches!(
        n.as_str(),
        "request_id" | "requestid" | "correlation_id" | "correlationid"
    ) && (c.contains("correlation") || c.contains("echo") || c.contains("request id"))
    {
        body.request_id_field = Some(name.to_string());
    }
    if matches!(n.as_str(), "retry_after" | "retryafter") {
        body.retry_after_field = Some(name.to_string());
        body.retry_after_statuses.extend(statuses(&c));
    }
}

/// `@dataclass class ErrorResponse:` (or any `class ...Error...:`) and its `name: type` lines.
fn class_form(lines: &[(usize, String)]) -> Option<ErrorBody> {
    let (start, header) = lines.iter().enumerate().find_map(|(i, (_, l))| {
        let rest = l.trim_start().strip_prefix("class ")?;
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        error_name(&name).then_some((i, name))
    })?;
    let mut body = new_body("dataclass", Some(header), lines[start].0);
    for (line, text) in &lines[start + 1..] {
        if text.trim().is_empty() {
            continue;
        }
        if !text.starts_with([' ', '\t']) {
            break;
        }
        let (code, comment) = text.split_once('#').unwrap_or((text, ""));
        let Some((name, ty)) = code.trim().split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let ty = ty.split('=').next().unwrap_or("").trim();
        let (ty, nullable) = python_type(ty);
        promises(&mut body, name, comment);
        body.fields.push(BodyField {
            name: name.to_string(),
            ty,
            required: true,
            nullable,
            line: *line,
        });
    }
    (!body.fields.is_empty()).then_some(body)
}

fn python_type(ty: &str) -> (String, bool) {
    let mut nullable = false;
    let mut t = ty.trim().to_string();
    if let Some(inner) = t
        .strip_prefix("Optional[")
        .and_then(|r| r.strip_suffix(']'))
    {
        nullable = true;
        t = inner.to_string();
    }
    let parts: Vec<&str> = t.split('|').map(str::trim).collect();
    if parts.len() > 1 {
        nullable |= parts.contains(&"None");
    }
    let main = parts
        .iter()
        .find(|p| **p != "None")
        .copied()
        .unwrap_or("Any");
    let base = main.split('[').next().unwrap_or(main).trim();
    let kind = match base {
        "str" => "string",
        "int" => "integer",
        "float" | "Decimal" => "number",
        "bool" => "boolean",
        "dict" | "Dict" | "Mapping" => "object",
        "list" | "List" | "Sequence" | "tuple" | "Tuple" => "array",
        "datetime" | "date" => "datetime",
        _ => "any",
    };
    (kind.to_string(), nullable)
}

/// `interface ErrorResponse { code: string; retryAfter?: number }` (TypeScript).
fn interface_form(lang: &str, lines: &[(usize, String)]) -> Option<ErrorBody> {
    let lang = lang.to_ascii_lowercase();
    if !(lang.starts_with("ts") || lang.starts_with("typescript") || lang.is_empty()) {
        return None;
    }
    let (start, name) = lines.iter().enumerate().find_map(|(i, (_, l))| {
        let l = l.trim_start().trim_start_matches("export ");
        let rest = l
            .strip_prefix("interface ")
            .or_else(|| l.strip_prefix("type "))?;
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        error_name(&name).then_some((i, name))
    })?;
    let mut body = new_body("interface", Some(name), lines[start].0);
    for (line, text) in &lines[start + 1..] {
        let t = text.trim();
        if t.starts_with('}') {
            break;
        }
        let (code, comment) = t.split_once("//").unwrap_or((t, ""));
        let Some((name, ty)) = code.split_once(':') else {
            continue;
        };
        let (name, optional) = match name.trim().strip_suffix('?') {
            Some(n) => (n.trim(), true),
            None => (name.trim(), false),
        };
        let name = name.trim_matches(['"', '\'']);
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let ty = ty.trim().trim_end_matches([';', ',']).trim();
        let parts: Vec<&str> = ty.split('|').map(str::trim).collect();
        let nullable = parts.iter().any(|p| *p == "null" || *p == "undefined");
        let main = parts
            .iter()
            .find(|p| **p != "null" && **p != "undefined")
            .copied()
            .unwrap_or("any");
        let kind = if main.ends_with("[]") || main.starts_with("Array<") {
            "array"
        } else if main.starts_with('{') || main.starts_with("Record<") || main == "object" {
            "object"
        } else {
            match main {
                "string" => "string",
                "number" => "number",
                "boolean" => "boolean",
                "Date" => "datetime",
                _ => "any",
            }
        };
        promises(&mut body, name, comment);
        body.fields.push(BodyField {
            name: name.to_string(),
            ty: kind.to_string(),
            required: !optional,
            nullable,
            line: *line,
        });
    }
    (!body.fields.is_empty()).then_some(body)
}

/// A JSON object example of an error: under an error heading, or naming an error code and a message.
fn json_form(b: &Block, lines: &[(usize, String)]) -> Option<ErrorBody> {
    let text: String = lines
        .iter()
        .map(|(_, l)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let value: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    let obj = value.as_object()?;
    let has = |k: &str| obj.contains_key(k);
    let codeish = has("error_code") || has("code") || has("error");
    let error_like = codeish && (has("message") || has("detail") || b.under(&["error"]));
    if !error_like {
        return None;
    }
    let mut body = new_body("json example", None, lines.first().map_or(b.line, |l| l.0));
    for (name, v) in obj {
        let line = lines
            .iter()
            .find(|(_, l)| l.contains(&format!("\"{name}\"")))
            .map_or(body.line, |l| l.0);
        let ty = match v {
            serde_json::Value::String(_) => "string",
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            serde_json::Value::Number(_) => "number",
            serde_json::Value::Bool(_) => "boolean",
            serde_json::Value::Object(_) => "object",
            serde_json::Value::Array(_) => "array",
            serde_json::Value::Null => "any",
        };
        body.fields.push(BodyField {
            name: name.clone(),
            ty: ty.to_string(),
            required: true,
            nullable: v.is_null(),
            line,
        });
    }
    Some(body)
}

/// Prose listing the fields: "Error bodies are `{"error_code", "message", "request_id"}`".
fn prose_form(text: &str, line: usize) -> Option<ErrorBody> {
    let lower = text.to_ascii_lowercase();
    if !(lower.contains("error bod")
        || lower.contains("error response")
        || lower.contains("errors carry"))
    {
        return None;
    }
    let open = text.find('{')?;
    let close = open + text[open..].find('}')?;
    let names: Vec<&str> = text[open + 1..close]
        .split(',')
        .map(|n| n.trim().trim_matches(['"', '\'', '`']).trim())
        .map(|n| {
            n.split(':')
                .next()
                .unwrap_or(n)
                .trim()
                .trim_matches(['"', '\''])
        })
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut body = new_body("field list", None, line);
    for name in names {
        promises(&mut body, name, "");
        body.fields.push(BodyField {
            name: name.to_string(),
            ty: "any".to_string(),
            required: true,
            nullable: true,
            line,
        });
    }
    Some(body)
}

/// RFC 7807 / 9457: `type`, `title`, `status`, `detail`, `instance`, each optional.
fn problem_details(line: usize) -> ErrorBody {
    let mut body = new_body("rfc 7807", None, line);
    body.problem_details = true;
    for (name, ty) in [
        ("type", "string"),
        ("title", "string"),
        ("status", "integer"),
        ("detail", "string"),
        ("instance", "string"),
    ] {
        body.fields.push(BodyField {
            name: name.to_string(),
            ty: ty.to_string(),
            required: false,
            nullable: false,
            line,
        });
    }
    body
}

#[cfg(test)]
#[path = "error_bodies_tests.rs"]
mod tests;
