//! Request handling: routing, rate limit, the UserService lookup with its fallback, then the store.
//!
//! Order per request: health and readiness answer at once (never limited, never call UserService);
//! then the body is read (so the connection stays reusable whatever the answer), the client key is
//! rate limited, the route is matched, UserService is asked for the caller's profile, and only then
//! is the operation's simulated work done. A POST with an `Idempotency-Key` seen before gets the
//! stored answer before any of that (`idempotency`).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::dependency_client::{CallContext, LookupError};
use super::health::{health_body, ready_body};
use super::store::StoreError;
use super::AppState;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;
const MAX_PER_PAGE: u32 = 100;
const DEFAULT_PER_PAGE: u32 = 20;

type Reply = Response<Full<Bytes>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    List,
    Create,
    Get(u64),
    Update(u64),
    Delete(u64),
}

/// A request that ends in an error answer; rendered once, with the request id, by `handle`.
#[derive(Debug)]
struct ApiError {
    status: u16,
    code: &'static str,
    message: String,
    retry_after: Option<Duration>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "VALIDATION_FAILED", message)
    }

    fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }
}

/// Answers one request; never fails (errors become JSON error answers).
pub async fn handle(state: Arc<AppState>, peer: SocketAddr, req: Request<Incoming>) -> Reply {
    let rid = request_id(&state, req.headers());
    let shutting_down = state.shutting_down.load(Ordering::Relaxed);
    if req.method() == Method::GET {
        match req.uri().path() {
            "/health" => {
                let snap = state.users.breaker().snapshot();
                let uptime = state.started.elapsed();
                let url = &state.cfg.dependency_url;
                let (code, body) = health_body(&snap, url, shutting_down, uptime);
                return json_reply(code, &body, &rid);
            }
            "/ready" => {
                let (code, body) = ready_body(shutting_down);
                return json_reply(code, &body, &rid);
            }
            _ => {}
        }
    }
    let key = (req.method() == Method::POST)
        .then(|| {
            req.headers()
                .get("idempotency-key")?
                .to_str()
                .ok()
                .map(str::to_string)
        })
        .flatten();
    let answer = async {
        serve(&state, peer, req, &rid)
            .await
            .unwrap_or_else(|e| error_reply(e, &rid))
    };
    match key {
        Some(key) => state.keys.answer(&key, &rid, answer).await,
        None => answer.await,
    }
}

async fn serve(
    state: &AppState,
    peer: SocketAddr,
    req: Request<Incoming>,
    rid: &str,
) -> Result<Reply, ApiError> {
    let (parts, body) = req.into_parts();
    let body = read_body(body).await?;
    let key = client_key(&parts.headers, peer)?;
    if let Some(limiter) = &state.limiter {
        limiter.check(&key, Instant::now()).map_err(|wait| {
            ApiError::new(
                429,
                "RATE_LIMIT_EXCEEDED",
                "too many requests for this client key",
            )
            .retry_after(wait)
        })?;
    }
    let route = route(&parts.method, parts.uri.path())?;
    let traceparent = parts
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok());
    let ctx = CallContext {
        request_id: rid,
        traceparent,
    };
    let user = state.users.lookup(&key, ctx).await.map_err(lookup_error)?;
    let query = parts.uri.query().unwrap_or("");
    run(state, route, query, &body, &user, rid).await
}

/// The operation itself, after the caller is known.
async fn run(
    state: &AppState,
    route: Route,
    query: &str,
    body: &Bytes,
    user: &Value,
    rid: &str,
) -> Result<Reply, ApiError> {
    let times = state.cfg.service_times;
    let (work, outcome) = match route {
        Route::Get(id) => (times.get, state.store.get(id).map(|i| (200, json!(i)))),
        Route::List => {
            let (page, per_page) = pagination(query)?;
            let page = state.store.list(page, per_page);
            (times.list, Ok((200, json!(page))))
        }
        Route::Create => {
            let (name, value, _) = parse_item(body, false)?;
            let item = state.store.create(name, value);
            (times.create, Ok((201, json!(item))))
        }
        Route::Update(id) => {
            let (name, value, version) = parse_item(body, true)?;
            let updated = state.store.update(id, version.unwrap_or(0), name, value);
            (times.update, updated.map(|i| (200, json!(i))))
        }
        Route::Delete(id) => (
            times.delete,
            state.store.delete(id).map(|()| (204, Value::Null)),
        ),
    };
    tokio::time::sleep(state.work.sample(work)).await;
    let (code, mut body) = outcome.map_err(store_error)?;
    if code == 204 {
        return Ok(finish(Response::new(Full::new(Bytes::new())), 204, rid));
    }
    if let (Value::Object(map), Some(name)) = (&mut body, user.get("name")) {
        map.insert("served_for".into(), name.clone());
    }
    Ok(json_reply(code, &body, rid))
}

fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let not_allowed = || ApiError::new(405, "METHOD_NOT_ALLOWED", "method not allowed here");
    match segments.as_slice() {
        ["items"] => match *method {
            Method::GET => Ok(Route::List),
            Method::POST => Ok(Route::Create),
            _ => Err(not_allowed()),
        },
        ["items", id] => {
            let id: u64 = id
                .parse()
                .map_err(|_| ApiError::invalid("item id must be a positive integer"))?;
            match *method {
                Method::GET => Ok(Route::Get(id)),
                Method::PUT => Ok(Route::Update(id)),
                Method::DELETE => Ok(Route::Delete(id)),
                _ => Err(not_allowed()),
            }
        }
        _ => Err(ApiError::new(404, "RESOURCE_NOT_FOUND", "no such route")),
    }
}

fn pagination(query: &str) -> Result<(u32, u32), ApiError> {
    let mut page = 1u32;
    let mut per_page = DEFAULT_PER_PAGE;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let target = match k {
            "page" => &mut page,
            "per_page" => &mut per_page,
            _ => continue,
        };
        *target = v
            .parse()
            .map_err(|_| ApiError::invalid(format!("{k} must be a positive integer")))?;
    }
    if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::invalid(format!(
            "page must be >= 1 and per_page within 1..={MAX_PER_PAGE}"
        )));
    }
    Ok((page, per_page))
}

/// `{"name": "...", "value": any, "version": n}`; `version` required for updates.
fn parse_item(body: &Bytes, update: bool) -> Result<(String, Value, Option<u64>), ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::invalid("body must be a JSON object"))?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("name is required"))?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    let version = v.get("version").and_then(Value::as_u64);
    if update && version.is_none() {
        return Err(ApiError::invalid("version is required for an update"));
    }
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    Ok((name.to_string(), value, version))
}

async fn read_body(body: Incoming) -> Result<Bytes, ApiError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(ApiError::new(
            413,
            "PAYLOAD_TOO_LARGE",
            "body over 64 KiB or unreadable",
        )),
    }
}

/// `x-client-key` if present (it becomes a URL path segment, so it is restricted), else the peer IP.
fn client_key(headers: &HeaderMap, peer: SocketAddr) -> Result<String, ApiError> {
    let Some(raw) = headers.get("x-client-key") else {
        return Ok(peer.ip().to_string());
    };
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "-._~:@".contains(c);
    match raw.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 128 && k.chars().all(ok_char) => Ok(k.to_string()),
        _ => Err(ApiError::invalid(
            "x-client-key must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~ : @",
        )),
    }
}

fn request_id(state: &AppState, headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let n = state.next_request_id.fetch_add(1, Ordering::Relaxed);
            format!("ref-{n:016x}")
        })
}

fn lookup_error(err: LookupError) -> ApiError {
    const UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    match err {
        LookupError::BreakerOpen { retry_after } => {
            ApiError::new(503, UNAVAILABLE, "UserService unavailable (circuit open)")
                .retry_after(retry_after)
        }
        LookupError::Exhausted {
            attempts,
            retry_after,
            ..
        } => ApiError::new(
            503,
            UNAVAILABLE,
            format!("UserService failed {attempts} attempts"),
        )
        .retry_after(retry_after),
        LookupError::Refused {
            status: 401 | 403 | 404,
        } => ApiError::new(401, "UNAUTHORIZED", "client key not known to UserService"),
        LookupError::Refused { status } => ApiError::new(
            502,
            "BAD_GATEWAY",
            format!("UserService refused the lookup with {status}"),
        ),
    }
}

fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::NotFound(_) => ApiError::new(404, "RESOURCE_NOT_FOUND", err.to_string()),
        StoreError::VersionConflict { .. } => ApiError::new(409, "CONFLICT", err.to_string()),
    }
}

fn error_reply(err: ApiError, rid: &str) -> Reply {
    let secs = err.retry_after.map(|d| d.as_secs().max(1));
    let body = json!({
        "error_code": err.code,
        "message": err.message,
        "request_id": rid,
        "retry_after": secs,
    });
    let mut reply = json_reply(err.status, &body, rid);
    if let Some(secs) = secs {
        reply
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    reply
}

fn json_reply(status: u16, body: &Value, rid: &str) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut reply = Response::new(Full::new(Bytes::from(bytes)));
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    finish(reply, status, rid)
}

fn finish(mut reply: Reply, status: u16, rid: &str) -> Reply {
    *reply.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(rid) {
        reply.headers_mut().insert("x-request-id", v);
    }
    reply
}
