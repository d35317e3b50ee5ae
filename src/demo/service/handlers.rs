//! Request handling: routing, rate limit, the UserService lookup with its fallback, then the store.
//!
//! Order per request: health and readiness answer at once (never limited, never call UserService);
//! then the body is read (so the connection stays reusable whatever the answer), the client key is
//! rate limited, the route is matched, UserService is asked for the caller's profile, and only then
//! is the operation's simulated work done.

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

/// Answers one request; never fails (errors become JSON error answers).
pub async fn handle(state: Arc<AppState>, peer: SocketAddr, req: Request<Incoming>) -> Reply {
    let rid = request_id(&state, req.headers());
    let path = req.uri().path().to_string();
    let shutting_down = state.shutting_down.load(Ordering::Relaxed);
    match (req.method(), path.as_str()) {
        (&Method::GET, "/health") => {
            let snap = state.users.breaker().snapshot();
            let uptime = state.started.elapsed();
            let (code, body) = health_body(&snap, &state.cfg.dependency_url, shutting_down, uptime);
            return json_reply(code, &body, &rid);
        }
        (&Method::GET, "/ready") => {
            let (code, body) = ready_body(shutting_down);
            return json_reply(code, &body, &rid);
        }
        _ => {}
    }
    match serve(&state, peer, req, &rid).await {
        Ok(reply) | Err(reply) => reply,
    }
}

async fn serve(
    state: &AppState,
    peer: SocketAddr,
    req: Request<Incoming>,
    rid: &str,
) -> Result<Reply, Reply> {
    let (parts, body) = req.into_parts();
    let body = read_body(body, rid).await?;
    let key = client_key(&parts.headers, peer, rid)?;
    if let Some(limiter) = &state.limiter {
        limiter.check(&key, Instant::now()).map_err(|wait| {
            error_reply(
                429,
                "RATE_LIMIT_EXCEEDED",
                "too many requests for this client key",
                rid,
                Some(wait),
            )
        })?;
    }
    let route = route(&parts.method, parts.uri.path(), rid)?;
    let traceparent = parts
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok());
    let ctx = CallContext {
        request_id: rid,
        traceparent,
    };
    let user = state
        .users
        .lookup(&key, ctx)
        .await
        .map_err(|e| lookup_reply(e, rid))?;
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
) -> Result<Reply, Reply> {
    let times = state.cfg.service_times;
    let (work, reply) = match route {
        Route::Get(id) => (times.get, state.store.get(id).map(|i| (200, json!(i)))),
        Route::List => {
            let (page, per_page) = pagination(query, rid)?;
            (
                times.list,
                Ok((200, json!(state.store.list(page, per_page)))),
            )
        }
        Route::Create => {
            let (name, value, _) = parse_item(body, false, rid)?;
            let item = state.store.create(name, value);
            (times.create, Ok((201, json!(item))))
        }
        Route::Update(id) => {
            let (name, value, version) = parse_item(body, true, rid)?;
            let updated = state.store.update(id, version.unwrap_or(0), name, value);
            (times.update, updated.map(|i| (200, json!(i))))
        }
        Route::Delete(id) => (
            times.delete,
            state.store.delete(id).map(|()| (204, Value::Null)),
        ),
    };
    tokio::time::sleep(state.work.sample(work)).await;
    let (code, mut body) = reply.map_err(|e| store_reply(e, rid))?;
    if code == 204 {
        return Ok(empty_reply(204, rid));
    }
    if let Value::Object(map) = &mut body {
        if let Some(name) = user.get("name") {
            map.insert("served_for".into(), name.clone());
        }
    }
    Ok(json_reply(code, &body, rid))
}

fn route(method: &Method, path: &str, rid: &str) -> Result<Route, Reply> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let not_allowed = || {
        error_reply(
            405,
            "METHOD_NOT_ALLOWED",
            "method not allowed here",
            rid,
            None,
        )
    };
    match segments.as_slice() {
        ["items"] => match *method {
            Method::GET => Ok(Route::List),
            Method::POST => Ok(Route::Create),
            _ => Err(not_allowed()),
        },
        ["items", id] => {
            let id: u64 = id.parse().map_err(|_| {
                error_reply(
                    400,
                    "VALIDATION_FAILED",
                    "item id must be a positive integer",
                    rid,
                    None,
                )
            })?;
            match *method {
                Method::GET => Ok(Route::Get(id)),
                Method::PUT => Ok(Route::Update(id)),
                Method::DELETE => Ok(Route::Delete(id)),
                _ => Err(not_allowed()),
            }
        }
        _ => Err(error_reply(
            404,
            "RESOURCE_NOT_FOUND",
            "no such route",
            rid,
            None,
        )),
    }
}

fn pagination(query: &str, rid: &str) -> Result<(u32, u32), Reply> {
    let mut page = 1u32;
    let mut per_page = DEFAULT_PER_PAGE;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let target = match k {
            "page" => &mut page,
            "per_page" => &mut per_page,
            _ => continue,
        };
        *target = v.parse().map_err(|_| {
            error_reply(
                400,
                "VALIDATION_FAILED",
                &format!("{k} must be a positive integer"),
                rid,
                None,
            )
        })?;
    }
    if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
        let msg = format!("page must be >= 1 and per_page within 1..={MAX_PER_PAGE}");
        return Err(error_reply(400, "VALIDATION_FAILED", &msg, rid, None));
    }
    Ok((page, per_page))
}

/// `{"name": "...", "value": any, "version": n}`; `version` required for updates.
fn parse_item(
    body: &Bytes,
    update: bool,
    rid: &str,
) -> Result<(String, Value, Option<u64>), Reply> {
    let invalid = |msg: &str| error_reply(400, "VALIDATION_FAILED", msg, rid, None);
    let v: Value =
        serde_json::from_slice(body).map_err(|_| invalid("body must be a JSON object"))?;
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("name is required"))?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name must be 1 to 100 characters"));
    }
    let version = v.get("version").and_then(Value::as_u64);
    if update && version.is_none() {
        return Err(invalid("version is required for an update"));
    }
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    Ok((name.to_string(), value, version))
}

async fn read_body(body: Incoming, rid: &str) -> Result<Bytes, Reply> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(error_reply(
            413,
            "PAYLOAD_TOO_LARGE",
            "body over 64 KiB or unreadable",
            rid,
            None,
        )),
    }
}

/// `x-client-key` if present (it becomes a URL path segment, so it is restricted), else the peer IP.
fn client_key(headers: &HeaderMap, peer: SocketAddr, rid: &str) -> Result<String, Reply> {
    let Some(raw) = headers.get("x-client-key") else {
        return Ok(peer.ip().to_string());
    };
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "-._~:@".contains(c);
    match raw.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 128 && k.chars().all(ok_char) => Ok(k.to_string()),
        _ => Err(error_reply(
            400,
            "VALIDATION_FAILED",
            "x-client-key must be 1 to 128 characters of A-Z a-z 0-9 - . _ ~ : @",
            rid,
            None,
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

fn lookup_reply(err: LookupError, rid: &str) -> Reply {
    match err {
        LookupError::BreakerOpen { retry_after } => error_reply(
            503,
            "SERVICE_UNAVAILABLE",
            "UserService unavailable (circuit open)",
            rid,
            Some(retry_after),
        ),
        LookupError::Exhausted {
            attempts,
            retry_after,
            ..
        } => {
            let msg = format!("UserService failed {attempts} attempts");
            error_reply(503, "SERVICE_UNAVAILABLE", &msg, rid, Some(retry_after))
        }
        LookupError::Refused {
            status: 401 | 403 | 404,
        } => error_reply(
            401,
            "UNAUTHORIZED",
            "client key not known to UserService",
            rid,
            None,
        ),
        LookupError::Refused { status } => {
            let msg = format!("UserService refused the lookup with {status}");
            error_reply(502, "BAD_GATEWAY", &msg, rid, None)
        }
    }
}

fn store_reply(err: StoreError, rid: &str) -> Reply {
    match err {
        StoreError::NotFound(_) => {
            error_reply(404, "RESOURCE_NOT_FOUND", &err.to_string(), rid, None)
        }
        StoreError::VersionConflict { .. } => {
            error_reply(409, "CONFLICT", &err.to_string(), rid, None)
        }
    }
}

fn error_reply(
    status: u16,
    code: &str,
    message: &str,
    rid: &str,
    retry_after: Option<Duration>,
) -> Reply {
    let secs = retry_after.map(|d| d.as_secs().max(1));
    let body = json!({
        "error_code": code,
        "message": message,
        "request_id": rid,
        "retry_after": secs,
    });
    let mut reply = json_reply(status, &body, rid);
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

fn empty_reply(status: u16, rid: &str) -> Reply {
    finish(Response::new(Full::new(Bytes::new())), status, rid)
}

fn finish(mut reply: Reply, status: u16, rid: &str) -> Reply {
    *reply.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(rid) {
        reply.headers_mut().insert("x-request-id", v);
    }
    reply
}
