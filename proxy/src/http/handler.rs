//! One request: pick a fault, apply it, forward to the upstream when the fault allows, and keep
//! the request's log record up to date.

use super::body::{ProxyBody, Shape};
use super::conn::ConnCtl;
use super::record::Record;
use super::stats::Counters;
use super::{ReqBody, Shared};
use crate::fault::{Abort, Action, Hang};
use crate::log::Outcome;
use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode, Uri};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnCtl>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let arrival = Instant::now();
    Counters::inc(&shared.counters.requests);
    let (parts, body) = req.into_parts();
    let mut rec = Record::new(shared.clone(), conn.clone(), arrival, &parts);
    let Some(decision) = shared.decide(&parts) else {
        return Ok(streamed(&shared, parts, body, rec, Shape::Pass).await);
    };
    rec.set_fault(&decision.name, decision.kind);
    Counters::inc(&shared.counters.faults[decision.kind]);
    let response = match decision.action {
        Action::Truncate(n) => streamed(&shared, parts, body, rec, Shape::truncate(n)).await,
        Action::Throttle(rate) => streamed(&shared, parts, body, rec, Shape::throttle(rate)).await,
        Action::Delay(delay) => {
            let Some(body) = delay_reading_body(body, delay).await else {
                // The caller's request body broke: it went away.
                return Ok(plain(StatusCode::BAD_REQUEST, "request body broken\n"));
            };
            forward(&shared, parts, body, rec, Shape::Pass, Outcome::Forwarded).await
        }
        Action::Abort(abort) => {
            drop(body);
            aborted(&abort, rec)
        }
        Action::Hang(hang) => hung(&shared, parts, body, hang, rec).await,
        Action::Reset | Action::Down => {
            let outcome = match decision.action {
                Action::Reset => Outcome::Reset,
                _ => Outcome::Refused,
            };
            rec.finish(outcome);
            conn.reset_now();
            // The connection task drops this future along with the connection.
            std::future::pending::<()>().await;
            unreachable!("a reset connection's request is never resumed")
        }
    };
    Ok(response)
}

/// Forwards with the caller's body streamed as it arrives.
async fn streamed(
    shared: &Arc<Shared>,
    parts: Parts,
    body: Incoming,
    rec: Record,
    shape: Shape,
) -> Response<ProxyBody> {
    let body = Either::Left(body);
    forward(shared, parts, body, rec, shape, Outcome::Forwarded).await
}

/// Request bodies up to this size are read during a latency delay; larger or unsized ones
/// stream after it (and a caller leaving during that delay is noticed only when forwarding).
const DELAY_BUFFER_MAX: u64 = 1 << 20;

/// Waits `delay` while reading the request body, so a caller that hangs up during the wait is
/// noticed (hyper only sees the close once the body has been read). `None`: the body broke.
async fn delay_reading_body(body: Incoming, delay: Duration) -> Option<ReqBody> {
    let small = body
        .size_hint()
        .exact()
        .is_some_and(|n| n <= DELAY_BUFFER_MAX);
    if body.is_end_stream() || !small {
        tokio::time::sleep(delay).await;
        return Some(Either::Left(body));
    }
    let (collected, ()) = tokio::join!(body.collect(), tokio::time::sleep(delay));
    collected
        .ok()
        .map(|c| Either::Right(Full::new(c.to_bytes())))
}

/// A hang: never answer (the record ends when the caller gives up), or after `after` answer
/// with `status` or forward the request.
async fn hung(
    shared: &Arc<Shared>,
    parts: Parts,
    body: Incoming,
    hang: Hang,
    mut rec: Record,
) -> Response<ProxyBody> {
    let (Some(after), None) = (hang.after, hang.status) else {
        // Never forwarded: drop the body so hyper drains it and can see the caller leave.
        drop(body);
        let Some(after) = hang.after else {
            std::future::pending::<()>().await;
            unreachable!("a hang without `after` ends only when its future is dropped")
        };
        tokio::time::sleep(after.0).await;
        let status = hang.status.and_then(|s| StatusCode::from_u16(s).ok());
        let status = status.unwrap_or(StatusCode::GATEWAY_TIMEOUT);
        rec.set_status(status.as_u16());
        rec.finish(Outcome::Hung);
        return plain(status, "");
    };
    // Forwarded once the hang ends: keep the body, as a latency fault does.
    let Some(body) = delay_reading_body(body, after.0).await else {
        return plain(StatusCode::BAD_REQUEST, "request body broken\n");
    };
    forward(shared, parts, body, rec, Shape::Pass, Outcome::Hung).await
}

fn aborted(abort: &Abort, mut rec: Record) -> Response<ProxyBody> {
    let status = StatusCode::from_u16(abort.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = abort.body.clone().unwrap_or_default();
    let mut resp = plain(status, &body);
    for (name, value) in &abort.headers {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    rec.set_status(status.as_u16());
    rec.finish(Outcome::Aborted);
    resp
}

/// Sends the request to the upstream and streams its answer back through `shape`.
async fn forward(
    shared: &Arc<Shared>,
    mut parts: Parts,
    body: ReqBody,
    mut rec: Record,
    shape: Shape,
    done: Outcome,
) -> Response<ProxyBody> {
    // Origin-form for the next hop, even if the caller used absolute-form.
    if parts.uri.scheme().is_some() || parts.uri.authority().is_some() {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        parts.uri = path.parse().unwrap_or_else(|_| Uri::from_static("/"));
    }
    strip_hop_by_hop(&mut parts.headers);
    if !parts.headers.contains_key(header::HOST) {
        if let Ok(host) = HeaderValue::from_str(&shared.pool.target()) {
            parts.headers.insert(header::HOST, host);
        }
    }
    let started = Instant::now();
    let result = shared.pool.send(Request::from_parts(parts, body)).await;
    let upstream_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok((resp, lease)) => {
            let (mut head, body) = resp.into_parts();
            rec.set_upstream(Some(head.status.as_u16()), upstream_ms);
            rec.set_status(head.status.as_u16());
            strip_hop_by_hop(&mut head.headers);
            if body.is_end_stream() {
                rec.finish(done);
                lease.release();
                return Response::from_parts(head, ProxyBody::full(Bytes::new()));
            }
            let body = ProxyBody::upstream(body, lease, shape, rec, done, shared.clone());
            Response::from_parts(head, body)
        }
        Err(err) => {
            rec.set_upstream(None, upstream_ms);
            let upstream = shared.pool.target();
            bad_gateway(shared, &upstream, &error_chain(&err), rec)
        }
    }
}

fn bad_gateway(shared: &Shared, upstream: &str, why: &str, mut rec: Record) -> Response<ProxyBody> {
    Counters::inc(&shared.counters.upstream_errors);
    rec.set_status(502);
    rec.finish(Outcome::UpstreamError);
    let msg = format!(
        "redline-proxy {}: upstream {upstream} failed: {why}\n",
        shared.name
    );
    plain(StatusCode::BAD_GATEWAY, &msg)
}

fn plain(status: StatusCode, body: &str) -> Response<ProxyBody> {
    let mut resp = Response::new(ProxyBody::full(body.to_string()));
    *resp.status_mut() = status;
    if !body.is_empty() {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    resp
}

/// "connect: Connection refused (os error 111)", with every source appended.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Headers that describe one hop; hyper sets framing for the next hop itself.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // One pass to see whether there is anything to do: most requests carry none of these.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    if let Some(conn) = headers.get(header::CONNECTION).cloned() {
        if let Ok(list) = conn.to_str() {
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                headers.remove(name);
            }
        }
    }
    let hop: Vec<header::HeaderName> = headers
        .keys()
        .filter(|k| is_hop_by_hop(k))
        .cloned()
        .collect();
    for name in hop {
        headers.remove(name);
    }
}

fn is_hop_by_hop(name: &header::HeaderName) -> bool {
    name == header::CONNECTION
        || name == header::TRANSFER_ENCODING
        || name == header::TE
        || name == header::TRAILER
        || name == header::UPGRADE
        || name == header::PROXY_AUTHENTICATE
        || name == header::PROXY_AUTHORIZATION
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}
