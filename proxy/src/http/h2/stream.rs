//! One HTTP/2 stream: the fault decision (from `:method`, `:path` and the metadata), the fault
//! applied to this stream alone, and the forward to the upstream's shared connection.

use super::body::ProxyBody;
use super::conn::H2Conn;
use super::grpc;
use super::record::StreamRecord;
use crate::fault::{Abort, Action, RequestView};
use crate::http::stats::Counters;
use crate::http::Shared;
use crate::log::Outcome;
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;
use std::time::Instant;

type Answer = Result<Response<ProxyBody>, h2::Error>;

/// Serves one stream; an `Err` makes hyper reset the stream with that reason.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    conn: Arc<H2Conn>,
    req: Request<Incoming>,
) -> Answer {
    let arrival = Instant::now();
    Counters::inc(&shared.counters.requests);
    let mut rec = StreamRecord::new(&shared, &conn, arrival, &req);
    let Some(decision) = decide(&shared, &req) else {
        return forward(&shared, rec, req).await;
    };
    rec.set_fault(&decision.name, decision.kind);
    match decision.action {
        Action::Delay(d) => {
            tokio::time::sleep(d).await;
            forward(&shared, rec, req).await
        }
        Action::Abort(a) => Ok(abort(rec, &a)),
        Action::Hang(h) => {
            let Some(after) = h.after else {
                // Held until the caller cancels (the record logs when) or the proxy drops it.
                std::future::pending::<()>().await;
                unreachable!("a pending future never completes");
            };
            tokio::time::sleep(after.0).await;
            match h.status {
                Some(status) => Ok(abort(rec, &Abort::status(status))),
                None => forward(&shared, rec, req).await,
            }
        }
        Action::Reset => {
            rec.finish(Outcome::Reset);
            Err(h2::Error::from(h2::Reason::INTERNAL_ERROR))
        }
        Action::Down => {
            // Connection-level: the whole connection goes, every stream on it with it.
            rec.finish(Outcome::Refused);
            conn.kill();
            Err(h2::Error::from(h2::Reason::REFUSED_STREAM))
        }
        // Refused when installed on an HTTP/2 proxy (`fault::check_for_http2`); forwarded
        // untouched if one got here anyway.
        Action::Truncate(_) | Action::Throttle(_) => forward(&shared, rec, req).await,
    }
}

fn decide(shared: &Shared, req: &Request<Incoming>) -> Option<crate::fault::Decision> {
    if !shared.has_faults.load(std::sync::atomic::Ordering::Acquire) {
        return None;
    }
    let headers: Vec<(&str, &[u8])> = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let view = RequestView {
        method: req.method().as_str(),
        path: req.uri().path(),
        headers: &headers,
    };
    shared.table().decide(&view)
}

/// The fault's own answer: a trailers-only gRPC answer when it names a `grpc_status`, else the
/// HTTP status with its body and headers.
fn abort(mut rec: StreamRecord, a: &Abort) -> Response<ProxyBody> {
    let mut res = match a.grpc_status {
        Some(code) => grpc::trailers_only(code, a.grpc_message.as_deref(), ProxyBody::empty()),
        None => {
            let mut res = Response::new(ProxyBody::text(a.body.clone().unwrap_or_default()));
            *res.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_GATEWAY);
            res
        }
    };
    for (name, value) in &a.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            res.headers_mut().insert(n, v);
        }
    }
    rec.set_status(res.status().as_u16(), a.grpc_status);
    rec.finish(Outcome::Aborted);
    res
}

async fn forward(shared: &Shared, mut rec: StreamRecord, req: Request<Incoming>) -> Answer {
    let target = shared.pool.target();
    let sent = Instant::now();
    let answer = match shared
        .h2_upstream
        .sender(&target, shared.h2_tls.as_ref())
        .await
    {
        Ok(mut sender) => sender.send_request(req).await.map_err(Some),
        Err(_) => Err(None),
    };
    let res = match answer {
        Ok(res) => res,
        Err(e) => {
            Counters::inc(&shared.counters.upstream_errors);
            rec.set_status(StatusCode::BAD_GATEWAY.as_u16(), None);
            rec.finish(Outcome::UpstreamError);
            // An upstream that reset the stream is passed on as that reset; anything else
            // (refused, broken connection) is a 502, which gRPC callers read as UNAVAILABLE.
            if let Some(reason) = e.as_ref().and_then(reset_reason) {
                return Err(h2::Error::from(reason));
            }
            let mut bad = Response::new(ProxyBody::empty());
            *bad.status_mut() = StatusCode::BAD_GATEWAY;
            return Ok(bad);
        }
    };
    rec.set_upstream(res.status().as_u16(), sent.elapsed().as_secs_f64() * 1000.0);
    let (parts, body) = res.into_parts();
    if body.is_end_stream() {
        // Trailers-only (or empty) answer: the head is the whole answer.
        rec.set_grpc_status(grpc::status_of(&parts.headers));
        rec.finish(Outcome::Forwarded);
        return Ok(Response::from_parts(parts, ProxyBody::empty()));
    }
    Ok(Response::from_parts(parts, ProxyBody::relay(body, rec)))
}

fn reset_reason(e: &hyper::Error) -> Option<h2::Reason> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(h) = c.downcast_ref::<h2::Error>() {
            return h.reason();
        }
        cause = c.source();
    }
    None
}
