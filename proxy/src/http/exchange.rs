//! One request on a caller connection: pick a fault, apply it, forward to the upstream when the
//! fault allows, relay the answer, and keep the request's log record up to date. Everything
//! runs in the connection's own task: no hand-off between tasks or channels per request.

use super::answer::{closing, plain, Manner};
use super::caller::{Caller, Gone};
use super::conn::ConnCtl;
use super::framing::{BodyCursor, FramingError};
use super::head::{RequestHead, ResponseHead};
use super::record::Record;
use super::relay::{relay, RelayEnd, Shape};
use super::stats::Counters;
use super::upstream::{UpstreamConn, UpstreamError};
use super::Shared;
use crate::fault::{Abort, Action};
use crate::log::Outcome;
use bytes::Buf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// What the connection does after an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    KeepAlive,
    /// Close (FIN); the caller may have gone already.
    Close,
    /// Close after draining what the caller still sends (its body was not read).
    Linger,
    /// Close with a TCP RST.
    Reset,
}

/// Why a forwarded request got no answer head.
enum Fail {
    CallerGone,
    Upstream(UpstreamError),
    Body(FramingError),
    /// The caller sent no body bytes for this long.
    BodyStalled(Duration),
}

impl From<Gone> for Fail {
    fn from(_: Gone) -> Fail {
        Fail::CallerGone
    }
}

/// Runs one exchange; `out` is the connection's reusable write buffer.
pub(crate) async fn run(
    shared: &Arc<Shared>,
    ctl: &Arc<ConnCtl>,
    caller: &mut Caller,
    head: RequestHead,
    out: &mut Vec<u8>,
) -> Next {
    let arrival = Instant::now();
    Counters::inc(&shared.counters.requests);
    let mut rec = Record::new(shared.clone(), ctl.clone(), arrival, &head);
    let Some(decision) = shared.decide(&head) else {
        let (shape, done) = (Shape::Pass, Outcome::Forwarded);
        return forward(shared, caller, &head, rec, shape, done, out).await;
    };
    rec.set_fault(&decision.name, decision.kind);
    Counters::inc(&shared.counters.faults[decision.kind]);
    // Faults that answer or end the connection return here; the others say how to forward.
    let (shape, done) = match decision.action {
        Action::Truncate(n) => (Shape::Truncate(n), Outcome::Forwarded),
        Action::Throttle(rate) => (Shape::Throttle(rate), Outcome::Forwarded),
        Action::Delay(delay) => {
            // Watching the caller while waiting notices a caller that gives up (the record
            // is then dropped unfinished, which logs the give-up time).
            if caller.watch(tokio::time::sleep(delay)).await.is_err() {
                return Next::Close;
            }
            (Shape::Pass, Outcome::Forwarded)
        }
        Action::Abort(abort) => return aborted(caller, &head, &abort, rec, out).await,
        Action::Hang(hang) => {
            let Some(after) = hang.after else {
                caller.wait_gone().await;
                return Next::Close;
            };
            if caller.watch(tokio::time::sleep(after.0)).await.is_err() {
                return Next::Close;
            }
            let Some(status) = hang.status else {
                return forward(shared, caller, &head, rec, Shape::Pass, Outcome::Hung, out).await;
            };
            return answer_here(caller, &head, status, "", &[], rec, Outcome::Hung, out).await;
        }
        Action::Reset | Action::Down => {
            let outcome = match decision.action {
                Action::Reset => Outcome::Reset,
                _ => Outcome::Refused,
            };
            rec.finish(outcome);
            return Next::Reset;
        }
    };
    forward(shared, caller, &head, rec, shape, done, out).await
}

async fn aborted(
    caller: &mut Caller,
    head: &RequestHead,
    abort: &Abort,
    rec: Record,
    out: &mut Vec<u8>,
) -> Next {
    let body = abort.body.as_deref().unwrap_or("");
    let extra: Vec<(&str, &str)> = abort
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let status = if (100..=599).contains(&abort.status) {
        abort.status
    } else {
        500
    };
    answer_here(
        caller,
        head,
        status,
        body,
        &extra,
        rec,
        Outcome::Aborted,
        out,
    )
    .await
}

/// Answers without forwarding. The request body is skipped if it is already here; otherwise
/// the connection closes after the answer (HTTP/1.1 cannot find the next request without it).
#[allow(clippy::too_many_arguments)]
async fn answer_here(
    caller: &mut Caller,
    head: &RequestHead,
    status: u16,
    body: &str,
    extra: &[(&str, &str)],
    mut rec: Record,
    outcome: Outcome,
    out: &mut Vec<u8>,
) -> Next {
    let mut cursor = BodyCursor::new(head.framing);
    let skipped = cursor.advance(&caller.buf, &mut |_| {});
    let whole = match skipped {
        Ok(n) => {
            caller.buf.advance(n);
            cursor.done()
        }
        Err(_) => false,
    };
    let close = !head.keep_alive || !whole;
    rec.set_status(status);
    rec.finish(outcome);
    out.clear();
    let how = Manner {
        close,
        head_request: head.is_head(),
    };
    plain(status, body, extra, how, out);
    let sent = caller.write_all(out).await;
    out.clear();
    match (sent, close, whole) {
        (Err(_), _, _) => Next::Close,
        (Ok(()), false, _) => Next::KeepAlive,
        (Ok(()), true, true) => Next::Close,
        (Ok(()), true, false) => Next::Linger,
    }
}

/// Sends the request upstream and relays the answer to the caller through `shape`; the record
/// ends with `done` once the last byte went out.
async fn forward(
    shared: &Arc<Shared>,
    caller: &mut Caller,
    head: &RequestHead,
    mut rec: Record,
    shape: Shape,
    done: Outcome,
    out: &mut Vec<u8>,
) -> Next {
    out.clear();
    let host = if head.has_host() {
        None
    } else {
        Some(shared.pool.target())
    };
    head.encode_upstream(host.as_deref().unwrap_or(""), out);
    let mut body = BodyCursor::new(head.framing);
    match body.advance(&caller.buf, &mut |_| {}) {
        Ok(n) => {
            out.extend_from_slice(&caller.buf[..n]);
            caller.buf.advance(n);
        }
        Err(e) => return bad_request(caller, rec, 400, &e.to_string(), out).await,
    }
    let go_on = b"HTTP/1.1 100 Continue\r\n\r\n";
    if head.expect_continue && !body.done() && caller.write_all(go_on).await.is_err() {
        return Next::Close;
    }
    let started = Instant::now();
    let exchanged = upstream_head(shared, caller, head, out, &mut body).await;
    let upstream_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (mut up, resp) = match exchanged {
        Ok(pair) => pair,
        Err(Fail::CallerGone) => return Next::Close,
        Err(Fail::Body(e)) => return bad_request(caller, rec, 400, &e.to_string(), out).await,
        Err(Fail::BodyStalled(limit)) => {
            let why = format!("no bytes for {} s", limit.as_secs_f64());
            return bad_request(caller, rec, 408, &why, out).await;
        }
        Err(Fail::Upstream(e)) => {
            rec.set_upstream(None, upstream_ms);
            return bad_gateway(shared, caller, rec, &e, out).await;
        }
    };
    rec.set_upstream(Some(resp.status), upstream_ms);
    rec.set_status(resp.status);
    if resp.status == 101 {
        return tunnel(shared, caller, head, up, resp, rec, out).await;
    }
    // An answer that came before the whole body: the rest of the body is never read, so
    // neither connection can carry another request.
    let early = !body.done();
    let mut how = resp.caller_framing(head);
    how.close |= early;
    out.clear();
    resp.encode_caller(&up.buf, head, how, out);
    up.buf.advance(resp.len);
    let end = relay(caller, &mut up, resp.framing, how, shape, out).await;
    out.clear();
    match end {
        RelayEnd::Complete => {
            rec.finish(done);
            if resp.reusable && !early {
                shared.pool.put(up);
            }
            match (early, how.close) {
                (true, _) => Next::Linger,
                (false, true) => Next::Close,
                (false, false) => Next::KeepAlive,
            }
        }
        RelayEnd::Truncated => {
            rec.finish(Outcome::Truncated);
            Next::Close
        }
        // The record is dropped unfinished: logged as the caller giving up.
        RelayEnd::CallerGone => Next::Close,
        RelayEnd::UpstreamFailed => {
            Counters::inc(&shared.counters.upstream_errors);
            rec.finish(Outcome::UpstreamError);
            Next::Close
        }
    }
}

/// Writes `out` (the request head and the body bytes already read) upstream, streams the rest
/// of the body, and reads the answer's head, relaying interim (1xx) answers. A request that an
/// idle connection could not take (the upstream had closed it) is sent again once on a new
/// connection when the whole request is in `out` and either the first write failed (nothing
/// was delivered) or the method is idempotent (RFC 9110 section 9.2.2).
async fn upstream_head(
    shared: &Arc<Shared>,
    caller: &mut Caller,
    head: &RequestHead,
    out: &[u8],
    body: &mut BodyCursor,
) -> Result<(UpstreamConn, ResponseHead), Fail> {
    let whole = body.done();
    let idempotent = matches!(
        head.method(),
        "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
    );
    let mut fresh = false;
    loop {
        let mut up = if fresh {
            caller.watch(shared.pool.connect()).await?
        } else {
            caller.watch(shared.pool.get()).await?
        }
        .map_err(Fail::Upstream)?;
        let limit = shared.header_read_timeout;
        match exchange_once(caller, head, &mut up, out, body, limit).await {
            Ok(resp) => return Ok((up, resp)),
            Err(Fail::Upstream(e)) if up.reused && whole && !fresh && up.buf.is_empty() => {
                let undelivered = matches!(e, UpstreamError::Send(_));
                let closed = matches!(e, UpstreamError::Closed | UpstreamError::Read(_));
                if !(undelivered || (closed && idempotent)) {
                    return Err(Fail::Upstream(e));
                }
                fresh = true;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn exchange_once(
    caller: &mut Caller,
    head: &RequestHead,
    up: &mut UpstreamConn,
    out: &[u8],
    body: &mut BodyCursor,
    body_limit: Duration,
) -> Result<ResponseHead, Fail> {
    up.stream
        .write_all(out)
        .await
        .map_err(|e| Fail::Upstream(UpstreamError::Send(e)))?;
    // The rest of the body as the caller sends it. An upstream that answers before the body is
    // complete (413, 401 ...) is heard: its answer goes to the caller.
    while !body.done() {
        let filled = tokio::select! {
            biased;
            ready = up.stream.readable() => {
                ready.map_err(|e| Fail::Upstream(UpstreamError::Read(e)))?;
                if answered_early(up)? {
                    break;
                }
                continue;
            }
            filled = tokio::time::timeout(body_limit, caller.fill()) => filled,
        };
        match filled {
            Err(_) => return Err(Fail::BodyStalled(body_limit)),
            Ok(Ok(0)) | Ok(Err(_)) => return Err(Fail::CallerGone),
            Ok(Ok(_)) => {}
        }
        let n = body.advance(&caller.buf, &mut |_| {}).map_err(Fail::Body)?;
        if let Err(e) = up.stream.write_all(&caller.buf[..n]).await {
            // An upstream that answered and closed without reading on: use its answer.
            if read_what_is_there(up).await {
                break;
            }
            return Err(Fail::Upstream(UpstreamError::Send(e)));
        }
        caller.buf.advance(n);
    }
    loop {
        if !up.buf.is_empty() {
            let parsed = ResponseHead::parse(&up.buf, head.is_head())
                .map_err(|e| Fail::Upstream(UpstreamError::Malformed(e.describe())))?;
            if let Some(resp) = parsed {
                if !resp.interim() {
                    return Ok(resp);
                }
                // 100 Continue is the proxy's own business; other 1xx go to HTTP/1.1 callers.
                if resp.status != 100 && !head.http10 {
                    caller
                        .write_all(&up.buf[..resp.len])
                        .await
                        .map_err(|_| Fail::CallerGone)?;
                }
                up.buf.advance(resp.len);
                continue;
            }
        }
        match caller.watch(up.fill()).await? {
            Ok(0) => return Err(Fail::Upstream(UpstreamError::Closed)),
            Ok(_) => {}
            Err(e) => return Err(Fail::Upstream(UpstreamError::Read(e))),
        }
    }
}

/// Reads what the upstream sent while the body was still going out; false when the readiness
/// was stale (nothing there). An end of stream before any answer is an error.
fn answered_early(up: &mut UpstreamConn) -> Result<bool, Fail> {
    match up.try_fill() {
        Ok(0) => Err(Fail::Upstream(UpstreamError::Closed)),
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(Fail::Upstream(UpstreamError::Read(e))),
    }
}

/// After a failed write: whatever answer the upstream had sent before it closed, waiting
/// briefly for the readiness to be seen. True when some bytes were read.
async fn read_what_is_there(up: &mut UpstreamConn) -> bool {
    let look = async {
        loop {
            if up.stream.readable().await.is_err() {
                return false;
            }
            match answered_early(up) {
                Ok(true) => return true,
                Ok(false) => continue,
                Err(_) => return false,
            }
        }
    };
    tokio::time::timeout(Duration::from_millis(200), look)
        .await
        .unwrap_or(false)
}

/// 101 Switching Protocols: the head goes to the caller and the two connections are joined
/// byte for byte until either side closes.
async fn tunnel(
    shared: &Arc<Shared>,
    caller: &mut Caller,
    head: &RequestHead,
    mut up: UpstreamConn,
    resp: ResponseHead,
    rec: Record,
    out: &mut Vec<u8>,
) -> Next {
    if !head.upgrade {
        let why =
            UpstreamError::Malformed("101 Switching Protocols to a request without Upgrade".into());
        return bad_gateway(shared, caller, rec, &why, out).await;
    }
    out.clear();
    resp.encode_caller(&up.buf, head, resp.caller_framing(head), out);
    up.buf.advance(resp.len);
    out.extend_from_slice(&up.buf);
    up.buf.clear();
    rec.finish(Outcome::Forwarded);
    if caller.write_all(out).await.is_err() {
        return Next::Close;
    }
    out.clear();
    if up.stream.write_all(&caller.buf).await.is_err() {
        return Next::Close;
    }
    caller.buf.clear();
    // Counted once the tunnel ends.
    let copied = tokio::io::copy_bidirectional(&mut caller.stream, &mut up.stream).await;
    if let Ok((to_up, to_caller)) = copied {
        let c = &shared.counters;
        c.bytes_in
            .fetch_add(to_up, std::sync::atomic::Ordering::Relaxed);
        c.bytes_out
            .fetch_add(to_caller, std::sync::atomic::Ordering::Relaxed);
    }
    Next::Close
}

/// The caller's body broke its framing (400) or stopped arriving (408); the connection ends.
async fn bad_request(
    caller: &mut Caller,
    rec: Record,
    status: u16,
    why: &str,
    out: &mut Vec<u8>,
) -> Next {
    let msg = format!("redline-proxy: request body: {why}\n");
    refuse(caller, rec, status, Outcome::BadRequest, &msg, out).await
}

/// Writes the 502 naming the upstream and why; the connection ends after it (the request body
/// may not have been read whole).
async fn bad_gateway(
    shared: &Arc<Shared>,
    caller: &mut Caller,
    rec: Record,
    why: &UpstreamError,
    out: &mut Vec<u8>,
) -> Next {
    Counters::inc(&shared.counters.upstream_errors);
    let msg = format!(
        "redline-proxy {}: upstream {} failed: {}\n",
        shared.name,
        shared.pool.target(),
        error_chain(why)
    );
    refuse(caller, rec, 502, Outcome::UpstreamError, &msg, out).await
}

/// Ends the record with `outcome`, answers `status` with `msg` and closes the connection after
/// draining what the caller still sends (its request may not have been read whole).
async fn refuse(
    caller: &mut Caller,
    mut rec: Record,
    status: u16,
    outcome: Outcome,
    msg: &str,
    out: &mut Vec<u8>,
) -> Next {
    rec.set_status(status);
    rec.finish(outcome);
    out.clear();
    plain(status, msg, &[], closing(true), out);
    if caller.write_all(out).await.is_err() {
        return Next::Close;
    }
    Next::Linger
}

/// "connect: Connection refused (os error 111)", with every source appended once.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.ends_with(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}
