//! A small client of a running `redline proxy`'s control API (native `/redline` routes and
//! Toxiproxy's toxic routes), for dependencies that attach with `control` + `proxy`.
//!
//! One short HTTP/1.1 connection per call: calls are a few per second at most, and a fresh
//! connection never trips over a half-closed keep-alive after a long quiet hold.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// Who the run says it is in the proxy's change journal; changes by this actor are the run's own.
pub const ACTOR: &str = "redline-run";

/// Longest time one control call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("control API {authority}: {why}")]
    Transport { authority: String, why: String },
    #[error("control API {authority}: {method} {path} answered {status}: {body}")]
    Status {
        authority: String,
        method: String,
        path: String,
        status: u16,
        body: String,
    },
}

/// The control API of one running proxy process.
#[derive(Debug, Clone)]
pub struct Control {
    /// `host:port`.
    pub authority: String,
}

impl Control {
    /// From `http://host:port` (as the scenario's `control` key) or `host:port`.
    pub fn new(url: &str) -> Control {
        let rest = url.strip_prefix("http://").unwrap_or(url);
        Control {
            authority: rest.trim_end_matches('/').to_string(),
        }
    }

    /// The host part, for the allowed-hosts check.
    pub fn host(&self) -> &str {
        let a = self.authority.as_str();
        a.rsplit_once(':')
            .map_or(a, |(h, _)| h)
            .trim_matches(['[', ']'])
    }

    /// Sends one call; a 2xx answer gives its JSON body (Null when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, RemoteError> {
        self.call_with(method, path, body, &[]).await
    }

    /// `call` with extra request headers (the run's lease: owner and own lifetime).
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Value, RemoteError> {
        let transport = |why: String| RemoteError::Transport {
            authority: self.authority.clone(),
            why,
        };
        let exchange = async {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|e| transport(e.to_string()))?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| transport(e.to_string()))?;
            tokio::spawn(conn);
            let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
            let mut req = Request::builder()
                .method(method)
                .uri(path)
                .header("host", &self.authority)
                .header("content-type", "application/json")
                .header("x-redline-actor", ACTOR);
            for (k, v) in headers {
                req = req.header(*k, v.as_str());
            }
            let req = req
                .body(Full::new(bytes))
                .map_err(|e| transport(e.to_string()))?;
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| transport(e.to_string()))?;
            let status = resp.status().as_u16();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| transport(e.to_string()))?
                .to_bytes();
            Ok::<_, RemoteError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| transport(format!("no answer within {CALL_TIMEOUT:?}")))??;
        if !(200..300).contains(&status) {
            return Err(RemoteError::Status {
                authority: self.authority.clone(),
                method: method.to_string(),
                path: path.to_string(),
                status,
                body: String::from_utf8_lossy(&bytes).trim().to_string(),
            });
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| transport(format!("{path}: not JSON: {e}")))
    }
}

/// A path segment with the characters that would break a URL path escaped.
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
