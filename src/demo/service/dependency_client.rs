//! The UserService client: per-attempt timeout, retries with backoff, every attempt through the breaker.
//!
//! Each attempt is one call the breaker hears about, so retries cannot hide failures from it. A call
//! that times out drops its connection (the dependency side sees the caller give up); connections
//! that answered fully are kept for reuse.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::AbortHandle;

use super::breaker::SharedBreaker;
use super::retry::RetryPolicy;

/// Largest UserService answer read; bigger ones count as a failed call.
const MAX_BODY: usize = 64 * 1024;
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 64;

/// Why an attempt failed, as the breaker counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallFailure {
    Timeout,
    /// Connect refused, reset, truncated answer or unreadable body.
    Transport,
    /// The dependency answered 5xx or 429 (it is overloaded: worth a retry, and a failure).
    Status(u16),
}

/// The outcome of a lookup when no usable profile came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// Breaker open (or its probes all taken): the dependency was not called this time.
    BreakerOpen { retry_after: Duration },
    /// Every attempt failed.
    Exhausted {
        attempts: u32,
        last: CallFailure,
        retry_after: Duration,
    },
    /// UserService answered but refused the key (a 4xx): not a dependency failure.
    Refused { status: u16 },
}

/// Correlation headers forwarded to the dependency.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    pub request_id: &'a str,
    pub traceparent: Option<&'a str>,
}

/// Where UserService lives, parsed once from the configured URL.
#[derive(Debug, Clone)]
struct Target {
    host: String,
    port: u16,
    authority: String,
    base_path: String,
}

/// A kept-alive connection; dropping it closes the socket.
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    task: AbortHandle,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The client shared by all handlers.
pub struct UserServiceClient {
    target: Target,
    call_timeout: Duration,
    breaker: SharedBreaker,
    retry: RetryPolicy,
    idle: Mutex<Vec<Conn>>,
}

impl std::fmt::Debug for UserServiceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserServiceClient")
            .field("target", &self.target)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// The dependency URL is not an `http://host:port[/path]` URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dependency URL {url:?}: {why}")]
pub struct BadUrl {
    pub url: String,
    pub why: &'static str,
}

fn parse_target(url: &str) -> Result<Target, BadUrl> {
    let bad = |why| BadUrl {
        url: url.to_string(),
        why,
    };
    let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad("only http:// is supported"));
    }
    let host = uri.host().ok_or_else(|| bad("no host"))?;
    let port = uri.port_u16().unwrap_or(80);
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .ok_or_else(|| bad("no host"))?;
    Ok(Target {
        host,
        port,
        authority,
        base_path: uri.path().trim_end_matches('/').to_string(),
    })
}

impl UserServiceClient {
    pub fn new(
        url: &str,
        call_timeout: Duration,
        breaker: SharedBreaker,
        retry: RetryPolicy,
    ) -> Result<Self, BadUrl> {
        Ok(Self {
            target: parse_target(url)?,
            call_timeout,
            breaker,
            retry,
            idle: Mutex::new(Vec::new()),
        })
    }

    pub fn breaker(&self) -> &SharedBreaker {
        &self.breaker
    }

    /// Looks up the profile of `key`, retrying failed attempts while the breaker allows.
    pub async fn lookup(
        &self,
        key: &str,
        ctx: CallContext<'_>,
    ) -> Result<serde_json::Value, LookupError> {
        let path = format!("{}/users/{}", self.target.base_path, key);
        let attempts = self.retry.max_attempts();
        let mut last = CallFailure::Transport;
        for attempt in 1..=attempts {
            if attempt > 1 {
                // Don't sit out a backoff when the breaker has already opened: fail fast.
                if let Some(r) = self.breaker.rejects_now() {
                    return Err(LookupError::BreakerOpen {
                        retry_after: r.retry_after,
                    });
                }
                tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
            }
            let guard = self
                .breaker
                .acquire()
                .map_err(|r| LookupError::BreakerOpen {
                    retry_after: r.retry_after,
                })?;
            let outcome = tokio::time::timeout(self.call_timeout, self.call_once(&path, ctx)).await;
            let failure = match outcome {
                Err(_) => CallFailure::Timeout,
                Ok(Err(())) => CallFailure::Transport,
                Ok(Ok((status, _)))
                    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS =>
                {
                    CallFailure::Status(status.as_u16())
                }
                Ok(Ok((status, body))) if status.is_success() => {
                    match serde_json::from_slice(&body) {
                        Ok(profile) => {
                            guard.success();
                            return Ok(profile);
                        }
                        Err(_) => CallFailure::Transport,
                    }
                }
                Ok(Ok((status, _))) => {
                    guard.success();
                    return Err(LookupError::Refused {
                        status: status.as_u16(),
                    });
                }
            };
            guard.failure();
            last = failure;
        }
        let retry_after = self
            .breaker
            .rejects_now()
            .map_or(Duration::from_secs(1), |r| r.retry_after);
        Err(LookupError::Exhausted {
            attempts,
            last,
            retry_after,
        })
    }

    /// One attempt: a pooled or new connection, one GET, the whole answer read.
    async fn call_once(&self, path: &str, ctx: CallContext<'_>) -> Result<(StatusCode, Bytes), ()> {
        let mut conn = match self.checkout() {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        let mut req = Request::get(path)
            .header(hyper::header::HOST, &self.target.authority)
            .header(hyper::header::ACCEPT, "application/json")
            .header("x-request-id", ctx.request_id);
        if let Some(tp) = ctx.traceparent {
            req = req.header("traceparent", tp);
        }
        let req = req.body(Full::new(Bytes::new())).map_err(|_| ())?;
        let resp = conn.sender.send_request(req).await.map_err(|_| ())?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|_| ())?
            .to_bytes();
        self.checkin(conn);
        Ok((status, body))
    }

    fn checkout(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(conn) = idle.pop() {
            if conn.sender.is_ready() {
                return Some(conn);
            }
        }
        None
    }

    fn checkin(&self, conn: Conn) {
        if !conn.sender.is_ready() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    async fn connect(&self) -> Result<Conn, ()> {
        let stream = TcpStream::connect((self.target.host.as_str(), self.target.port))
            .await
            .map_err(|_| ())?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| ())?;
        let task = tokio::spawn(async move {
            let _ = connection.await;
        })
        .abort_handle();
        Ok(Conn { sender, task })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_targets() {
        let t = parse_target("http://127.0.0.1:9000/api/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 9000));
        assert_eq!(t.base_path, "/api");
        assert_eq!(t.authority, "127.0.0.1:9000");
        let t = parse_target("http://[::1]:9000").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.base_path, "");
        assert!(parse_target("https://127.0.0.1").is_err());
        assert!(parse_target("nonsense").is_err());
    }
}
