//! Answers of the control API: JSON bodies, Toxiproxy's `{"error", "status"}` errors, 204s,
//! plain text and Prometheus text.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde_json::{json, Value};

/// An answer before it becomes a hyper response.
pub(crate) struct Reply {
    status: u16,
    content_type: &'static str,
    body: Bytes,
    /// The message of an error answer (to nest it in a bigger answer).
    message: Option<String>,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        let mut body = serde_json::to_vec(value).unwrap_or_default();
        body.push(b'\n');
        Reply {
            status,
            content_type: "application/json",
            body: body.into(),
            message: None,
        }
    }

    /// Serialises any boundary type as a JSON answer.
    pub fn of<T: serde::Serialize>(status: u16, value: &T) -> Reply {
        match serde_json::to_value(value) {
            Ok(v) => Reply::json(status, &v),
            Err(e) => Reply::error(500, format!("cannot encode answer: {e}")),
        }
    }

    /// Toxiproxy's error shape.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        let message = message.into();
        let mut reply = Reply::json(status, &json!({"error": message, "status": status}));
        reply.message = Some(message);
        reply
    }

    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            content_type: "",
            body: Bytes::new(),
            message: None,
        }
    }

    pub fn text(status: u16, text: &'static str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from_static(text.as_bytes()),
            message: None,
        }
    }

    pub fn metrics(text: String) -> Reply {
        Reply {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: text.into(),
            message: None,
        }
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut builder = Response::builder().status(self.status);
        if !self.content_type.is_empty() {
            builder = builder.header(hyper::header::CONTENT_TYPE, self.content_type);
        }
        builder.body(Full::new(self.body)).unwrap_or_else(|_| {
            let mut r = Response::new(Full::new(Bytes::from_static(b"internal error")));
            *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}
