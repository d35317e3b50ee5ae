//! `abort`: answer with a status (and optional body and headers) without forwarding the request.

use super::{FaultError, Params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// CLI keys: `status`, `body`, `retry_after` (sets Retry-After) and `add_header=Name:Value`
/// (`header` already belongs to matching).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abort {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl Abort {
    pub const KEYS: &'static [&'static str] = &["status", "body", "retry_after", "add_header"];

    pub fn status(status: u16) -> Abort {
        Abort {
            status,
            body: None,
            headers: BTreeMap::new(),
        }
    }

    pub fn from_params(p: &mut Params) -> Result<Abort, FaultError> {
        let status = p.take_u64("status")?;
        let status = p.require("status", status, "a final HTTP status from 200 to 599")?;
        let mut abort = Abort::status(u16::try_from(status).unwrap_or(0));
        abort.body = p.take_str("body");
        if let Some(v) = p.take_str("retry_after") {
            abort.headers.insert("retry-after".into(), v);
        }
        if let Some(h) = p.take_str("add_header") {
            let Some((name, value)) = h.split_once(':') else {
                return Err(p.bad("add_header", "Name:Value", &h));
            };
            abort
                .headers
                .insert(name.trim().to_string(), value.trim().to_string());
        }
        Ok(abort)
    }

    pub fn validate(&self, fault: &str) -> Result<(), FaultError> {
        let field = |field: &str, expected: &str, found: String| FaultError::Field {
            fault: fault.to_string(),
            field: field.to_string(),
            expected: expected.to_string(),
            found,
        };
        if !(200..=599).contains(&self.status) {
            return Err(field(
                "status",
                "a final HTTP status from 200 to 599",
                self.status.to_string(),
            ));
        }
        for (name, value) in &self.headers {
            if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(field("headers", "valid header names", format!("{name:?}")));
            }
            if hyper::header::HeaderValue::from_str(value).is_err() {
                return Err(field(
                    "headers",
                    "visible ASCII header values",
                    format!("{value:?}"),
                ));
            }
        }
        Ok(())
    }
}
