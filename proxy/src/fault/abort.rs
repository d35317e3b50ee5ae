//! `abort`: answer with a status (and optional body and headers) without forwarding the request;
//! on an HTTP/2 proxy, with a gRPC status and message instead (a trailers-only answer).

use super::{FaultError, Params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// CLI keys: `status`, `body`, `retry_after` (sets Retry-After) and `add_header=Name:Value`
/// (`header` already belongs to matching); HTTP/2 proxies only: `grpc_status` (a number or a
/// name such as `UNAVAILABLE`; `status` then defaults to 200) and `grpc_message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abort {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// gRPC status of a trailers-only answer (HTTP/2 proxies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_message: Option<String>,
}

impl Abort {
    pub const KEYS: &'static [&'static str] = &[
        "status",
        "body",
        "retry_after",
        "add_header",
        "grpc_status",
        "grpc_message",
    ];

    pub fn status(status: u16) -> Abort {
        Abort {
            status,
            body: None,
            headers: BTreeMap::new(),
            grpc_status: None,
            grpc_message: None,
        }
    }

    /// A trailers-only gRPC answer with `code` (HTTP 200).
    pub fn grpc(code: u32, message: Option<&str>) -> Abort {
        Abort {
            grpc_status: Some(code),
            grpc_message: message.map(str::to_string),
            ..Abort::status(200)
        }
    }

    pub fn from_params(p: &mut Params) -> Result<Abort, FaultError> {
        let grpc_status = match p.take_str("grpc_status") {
            None => None,
            Some(text) => Some(crate::http::h2::grpc::parse_status(&text).ok_or_else(|| {
                p.bad(
                    "grpc_status",
                    "a gRPC status code 0-16 or its name (e.g. UNAVAILABLE)",
                    &text,
                )
            })?),
        };
        let status = p.take_u64("status")?;
        let status = match grpc_status {
            Some(_) => status.unwrap_or(200),
            None => p.require("status", status, "a final HTTP status from 200 to 599")?,
        };
        let mut abort = Abort::status(u16::try_from(status).unwrap_or(0));
        abort.grpc_status = grpc_status;
        abort.grpc_message = p.take_str("grpc_message");
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
        if let Some(code) = self.grpc_status {
            if code > 16 {
                return Err(field(
                    "grpc_status",
                    "a gRPC status code from 0 to 16",
                    code.to_string(),
                ));
            }
        }
        if self.grpc_message.is_some() && self.grpc_status.is_none() {
            return Err(field(
                "grpc_message",
                "a grpc_status to go with grpc_message",
                "no grpc_status".into(),
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
