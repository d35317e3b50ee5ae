//! Error bodies against the spec's error schema, over `result.body_samples`: every sampled error
//! answer (status >= 400, fault phases and fallback answers included) is JSON with the required
//! fields of the right types (`error_body.<status>`); the request-id field echoes the id the
//! engine sent (`error_body.request_id`); answers of the promised statuses carry `retry_after` or
//! `Retry-After` (`error_body.retry_after.<status>`). Judged on samples: a pass says how many
//! bodies of how many answers were read.

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::{spec_source, Claim, JudgeContext, Judgement};
use crate::result::{BodySample, BodySampleSet, RunResult};
use crate::spec::claims::{BodyField, Claims, ErrorBody};

/// One sampled body with where it came from.
struct Seen<'a> {
    set: &'a BodySampleSet,
    sample: &'a BodySample,
}

impl Seen<'_> {
    fn place(&self) -> String {
        let phase = self
            .set
            .phase
            .as_deref()
            .map_or(String::new(), |p| format!(", phase {p}"));
        format!(
            "{} {} at {:.1} s{phase}",
            self.set.request,
            self.set.status,
            self.sample.t_ms / 1000.0
        )
    }
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    let Some(body) = &claims.error_body else {
        return;
    };
    let mut by_status: BTreeMap<u16, Vec<Seen>> = BTreeMap::new();
    let mut answers: BTreeMap<u16, u64> = BTreeMap::new();
    for set in result.body_samples.iter().filter(|s| s.status >= 400) {
        *answers.entry(set.status).or_default() += set.seen;
        let list = by_status.entry(set.status).or_default();
        list.extend(set.samples.iter().map(|sample| Seen { set, sample }));
    }
    let what = body.name.as_deref().unwrap_or(&body.form);
    if by_status.is_empty() {
        let c = Claim::new(
            "error_body",
            format!("error answers carry {what}"),
            spec_source(ctx, body.line),
            expected(body),
        );
        let why = if result.body_samples.is_empty() {
            "The run kept no response bodies (run without --no-bodies / sample_bodies = false to judge error bodies)."
        } else {
            "No request was answered with an error status, so no error body was seen: a fault or an invalid request would produce one."
        };
        out.verdicts
            .push(c.inconclusive("no error answer sampled", why));
        return;
    }
    for (status, seen) in &by_status {
        out.verdicts
            .push(schema_verdict(body, ctx, *status, seen, answers[status]));
    }
    if let Some(field) = &body.request_id_field {
        out.verdicts
            .push(echo_verdict(body, ctx, field, &by_status));
    }
    for status in &body.retry_after_statuses {
        out.verdicts.push(retry_after_verdict(
            body,
            ctx,
            *status,
            by_status.get(status),
        ));
    }
}

/// The expected column: the field list when it is short, else how many fields (the list is in
/// the detail, `fields_listed`), so the column stays as narrow as the other verdicts'.
fn expected(body: &ErrorBody) -> String {
    if body.problem_details {
        return "RFC 7807 problem+json".to_string();
    }
    let list = fields_listed(body);
    if list.chars().count() <= 32 {
        return list;
    }
    let n = body.fields.iter().filter(|f| f.required).count();
    format!("JSON, {n} required fields")
}

/// Every required field with its type (`?`: may be null); a field named without a type (a prose
/// list) is only required to be there.
fn fields_listed(body: &ErrorBody) -> String {
    if body.problem_details {
        return "application/problem+json; status member = the answer's status".to_string();
    }
    let required: Vec<String> = body
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| match (f.ty.as_str(), f.nullable) {
            ("any", _) => f.name.clone(),
            (ty, nullable) => format!("{}: {ty}{}", f.name, if nullable { "?" } else { "" }),
        })
        .collect();
    format!("JSON with {}", required.join(", "))
}

/// What is wrong with one body, if anything.
pub(crate) fn problems(body: &ErrorBody, status: u16, s: &BodySample) -> Vec<String> {
    let Some(json) = &s.json else {
        let ct = s.content_type.as_deref().unwrap_or("no content type");
        let why = if s.truncated {
            "longer than the 4 KiB kept".to_string()
        } else if s.bytes == 0 {
            "an empty body".to_string()
        } else {
            format!("not JSON ({ct})")
        };
        return vec![why];
    };
    let Some(obj) = json.as_object() else {
        return vec!["not a JSON object".to_string()];
    };
    let mut out = Vec::new();
    if body.problem_details {
        let ct = s.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
        if !ct.starts_with("application/problem+json") {
            out.push(format!(
                "content type {:?}, not application/problem+json",
                s.content_type.as_deref().unwrap_or("")
            ));
        }
        if let Some(v) = obj.get("status") {
            if v.as_u64() != Some(u64::from(status)) {
                out.push(format!("status member {v} on a {status} answer"));
            }
        }
    }
    for f in &body.fields {
        match obj.get(&f.name) {
            None if f.required => out.push(format!("no {}", f.name)),
            None => {}
            Some(v) if !type_ok(f, v) => {
                out.push(format!("{} is {}, not {}", f.name, kind(v), f.ty))
            }
            Some(_) => {}
        }
    }
    out
}

/// The error code of a body: `error_code`, `code`, `error.code`, or `error` when it is a string.
pub(crate) fn code_of(json: &Value) -> Option<&str> {
    json.get("error_code")
        .or_else(|| json.get("code"))
        .or_else(|| json.get("error").and_then(|e| e.get("code")))
        .or_else(|| json.get("error").filter(|e| e.is_string()))
        .and_then(Value::as_str)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn type_ok(f: &BodyField, v: &Value) -> bool {
    if v.is_null() {
        return f.nullable || f.ty == "any";
    }
    match f.ty.as_str() {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "datetime" => v.as_str().is_some_and(iso_datetime),
        _ => true,
    }
}

/// `2024-01-15T10:30:00Z`, with optional fraction and offset.
fn iso_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
}

fn schema_verdict(
    body: &ErrorBody,
    ctx: &JudgeContext,
    status: u16,
    seen: &[Seen],
    answers: u64,
) -> crate::result::Verdict {
    let what = body.name.as_deref().unwrap_or(&body.form);
    let c = Claim::new(
        format!("error_body.{status}"),
        format!("{status} answers carry {what}"),
        spec_source(ctx, body.line),
        expected(body),
    );
    let bad: Vec<String> = seen
        .iter()
        .filter_map(|s| {
            let p = problems(body, status, s.sample);
            (!p.is_empty()).then(|| format!("{}: {}", s.place(), p.join(", ")))
        })
        .collect();
    let measured = format!(
        "{}/{} sampled bodies conform",
        seen.len() - bad.len(),
        seen.len()
    );
    if bad.is_empty() {
        c.pass(
            measured,
            format!(
                "Every sampled {status} body ({} of {answers} answers, first ones and a uniform sample of the rest) is {}.",
                seen.len(),
                fields_listed(body)
            ),
        )
    } else {
        let shown: Vec<&str> = bad.iter().take(3).map(String::as_str).collect();
        c.fail(
            measured,
            format!(
                "{} of {} sampled {status} bodies differ from {what} ({}): {}{}",
                bad.len(),
                seen.len(),
                fields_listed(body),
                shown.join("; "),
                if bad.len() > 3 { "; ..." } else { "" }
            ),
        )
    }
}

fn echo_verdict(
    body: &ErrorBody,
    ctx: &JudgeContext,
    field: &str,
    by_status: &BTreeMap<u16, Vec<Seen>>,
) -> crate::result::Verdict {
    let c = Claim::new(
        "error_body.request_id",
        format!("error bodies echo the request's id in {field}"),
        spec_source(ctx, body.field_line(field)),
        format!("{field} = the id sent"),
    );
    let all: Vec<&Seen> = by_status.values().flatten().collect();
    let with_id: Vec<&&Seen> = all
        .iter()
        .filter(|s| s.sample.request_id.is_some())
        .collect();
    if with_id.is_empty() {
        return c.inconclusive(
            "no request id sent",
            "The engine sent no request id: set [target] request_id_header (e.g. \"x-request-id\") so the echo can be compared.",
        );
    }
    let wrong: Vec<String> = with_id
        .iter()
        .filter_map(|s| {
            let sent = s.sample.request_id.as_deref()?;
            let got = s.sample.json.as_ref().and_then(|j| j.get(field));
            match got.and_then(Value::as_str) {
                Some(v) if v == sent => None,
                Some(v) => Some(format!("{}: {v:?} for {sent:?}", s.place())),
                None => Some(format!("{}: no {field} for {sent:?}", s.place())),
            }
        })
        .collect();
    let measured = format!("{}/{} echoed", with_id.len() - wrong.len(), with_id.len());
    if wrong.is_empty() {
        c.pass(
            measured,
            format!(
                "Every sampled error body ({}) carries the id its request was sent with.",
                with_id.len()
            ),
        )
    } else {
        let shown: Vec<&str> = wrong.iter().take(3).map(String::as_str).collect();
        c.fail(
            measured,
            format!(
                "{} sampled error bodies do not echo the sent id: {}",
                wrong.len(),
                shown.join("; ")
            ),
        )
    }
}

fn retry_after_verdict(
    body: &ErrorBody,
    ctx: &JudgeContext,
    status: u16,
    seen: Option<&Vec<Seen>>,
) -> crate::result::Verdict {
    let field = body.retry_after_field.as_deref();
    let c = Claim::new(
        format!("error_body.retry_after.{status}"),
        format!("{status} answers say when to retry"),
        spec_source(ctx, field.map_or(body.line, |f| body.field_line(f))),
        match field {
            Some(f) => format!("Retry-After header or {f} set"),
            None => "Retry-After header".to_string(),
        },
    );
    let Some(seen) = seen.filter(|s| !s.is_empty()) else {
        return c.inconclusive(
            format!("no {status} sampled"),
            format!("No {status} answer was sampled, so this was not exercised."),
        );
    };
    let missing: Vec<String> = seen
        .iter()
        .filter(|s| {
            let in_body = field
                .and_then(|f| s.sample.json.as_ref()?.get(f))
                .is_some_and(|v| !v.is_null());
            !(s.sample.retry_after || in_body)
        })
        .map(|s| s.place())
        .collect();
    let measured = format!("{}/{} say when", seen.len() - missing.len(), seen.len());
    if missing.is_empty() {
        c.pass(measured, format!("Every sampled {status} answer ({}) carries a Retry-After header or a retry_after value.", seen.len()))
    } else {
        let shown: Vec<&str> = missing.iter().take(3).map(String::as_str).collect();
        c.fail(measured, format!("{} sampled {status} answers carry neither a Retry-After header nor a retry_after value: {}", missing.len(), shown.join("; ")))
    }
}

#[cfg(test)]
#[path = "error_bodies_tests.rs"]
mod tests;
