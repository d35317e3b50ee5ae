//! `ProxyBody`: the response body sent to the caller. It streams the upstream's body, applies
//! truncate/throttle faults on the way, and ends the request's log record when the last byte
//! went out (or logs the caller giving up if hyper drops it early).

use super::conn::BusyGuard;
use super::record::Record;
use super::stats::Counters;
use super::upstream::Lease;
use super::Shared;
use crate::log::Outcome;
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tokio::time::Sleep;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How the upstream body is reshaped on its way to the caller.
pub(crate) enum Shape {
    Pass,
    /// `cut` counts polls since the cut: 1 yields once so hyper flushes the bytes let
    /// through, 2 aborts the connection.
    Truncate {
        left: u64,
        cut: u8,
    },
    Throttle(Throttled),
}

pub(crate) struct Throttled {
    bytes_per_sec: u64,
    start: Option<Instant>,
    sent: u64,
    pending: Bytes,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Shape {
    pub fn truncate(bytes: u64) -> Shape {
        Shape::Truncate {
            left: bytes,
            cut: 0,
        }
    }

    pub fn throttle(bytes_per_sec: u64) -> Shape {
        Shape::Throttle(Throttled {
            bytes_per_sec: bytes_per_sec.max(1),
            start: None,
            sent: 0,
            pending: Bytes::new(),
            sleep: None,
        })
    }
}

pub(crate) struct ProxyBody {
    src: Source,
    shape: Shape,
    rec: Option<Record>,
    /// Outcome logged when the body completes normally.
    done: Outcome,
    shared: Option<Arc<Shared>>,
    /// The upstream connection, back to the pool once its body was read to the end.
    lease: Option<Lease>,
    /// Keeps the caller's connection "busy" (exempt from the header timeout) until hyper has
    /// sent this body and dropped it.
    busy: Option<BusyGuard>,
}

enum Source {
    Full(Option<Bytes>),
    Upstream(Incoming),
}

#[derive(Debug)]
struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response body truncated by a fault")
    }
}

impl std::error::Error for Truncated {}

impl ProxyBody {
    /// A complete body made by the proxy (its log record is already finished).
    pub fn full(bytes: impl Into<Bytes>) -> ProxyBody {
        ProxyBody {
            src: Source::Full(Some(bytes.into())),
            shape: Shape::Pass,
            rec: None,
            done: Outcome::Forwarded,
            shared: None,
            lease: None,
            busy: None,
        }
    }

    /// The upstream's body; `rec` is finished with `done` when it completes.
    pub fn upstream(
        body: Incoming,
        lease: Lease,
        shape: Shape,
        rec: Record,
        done: Outcome,
        shared: Arc<Shared>,
    ) -> ProxyBody {
        ProxyBody {
            src: Source::Upstream(body),
            shape,
            rec: Some(rec),
            done,
            shared: Some(shared),
            lease: Some(lease),
            busy: None,
        }
    }

    pub fn hold(&mut self, busy: BusyGuard) {
        self.busy = Some(busy);
    }

    /// The upstream body was delivered whole: log it and pool the connection.
    fn complete(&mut self) {
        self.finish(self.done);
        if let Some(lease) = self.lease.take() {
            lease.release();
        }
    }

    fn finish(&mut self, outcome: Outcome) {
        if let Some(rec) = self.rec.take() {
            rec.finish(outcome);
        }
    }

    fn upstream_failed(&mut self, e: hyper::Error) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(shared) = &self.shared {
            Counters::inc(&shared.counters.upstream_errors);
        }
        self.finish(Outcome::UpstreamError);
        Poll::Ready(Some(Err(e.into())))
    }

    /// Pass-through and truncation.
    fn poll_plain(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let Source::Upstream(inner) = &mut self.src else {
            return Poll::Ready(None);
        };
        if let Shape::Truncate { cut, .. } = &mut self.shape {
            if *cut == 1 {
                // hyper flushes what it buffered when the body is pending; abort after that.
                *cut = 2;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if *cut == 2 {
                self.finish(Outcome::Truncated);
                return Poll::Ready(Some(Err(Box::new(Truncated))));
            }
        }
        match ready!(Pin::new(&mut *inner).poll_frame(cx)) {
            None => {
                self.complete();
                Poll::Ready(None)
            }
            Some(Err(e)) => self.upstream_failed(e),
            Some(Ok(frame)) => {
                let frame = match (&mut self.shape, frame.into_data()) {
                    (Shape::Truncate { left, cut }, Ok(mut data)) => {
                        // Cut when the body goes past the limit; the next poll aborts.
                        if data.len() as u64 > *left {
                            data.truncate(*left as usize);
                            *cut = 1;
                        }
                        *left -= data.len() as u64;
                        Frame::data(data)
                    }
                    (_, Ok(data)) => Frame::data(data),
                    (_, Err(other)) => other,
                };
                let cut = matches!(self.shape, Shape::Truncate { cut: 1.., .. });
                if inner.is_end_stream() && !cut {
                    self.complete();
                }
                Poll::Ready(Some(Ok(frame)))
            }
        }
    }

    /// Releases each slice only once the byte budget `bytes_per_sec * elapsed` covers it.
    fn poll_throttled(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            let (Source::Upstream(inner), Shape::Throttle(t)) = (&mut self.src, &mut self.shape)
            else {
                return Poll::Ready(None);
            };
            if let Some(sleep) = &mut t.sleep {
                ready!(sleep.as_mut().poll(cx));
                t.sleep = None;
            }
            if t.pending.is_empty() {
                match ready!(Pin::new(&mut *inner).poll_frame(cx)) {
                    None => {
                        self.complete();
                        return Poll::Ready(None);
                    }
                    Some(Err(e)) => return self.upstream_failed(e),
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => t.pending = data,
                        Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                    },
                }
                continue;
            }
            // Slices of about 1/20 s keep the delivered rate smooth without tiny writes.
            let slice = (t.bytes_per_sec / 20).clamp(1, 64 * 1024) as usize;
            let len = slice.min(t.pending.len());
            let start = *t.start.get_or_insert_with(Instant::now);
            let due = start
                + Duration::from_secs_f64((t.sent + len as u64) as f64 / t.bytes_per_sec as f64);
            if due > Instant::now() {
                t.sleep = Some(Box::pin(tokio::time::sleep_until(due.into())));
                continue;
            }
            t.sent += len as u64;
            let data = t.pending.split_to(len);
            if t.pending.is_empty() && inner.is_end_stream() {
                self.complete();
            }
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Source::Full(bytes) = &mut this.src {
            return Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b))));
        }
        match this.shape {
            Shape::Throttle(_) => this.poll_throttled(cx),
            _ => this.poll_plain(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.src {
            Source::Full(b) => b.as_ref().map_or(true, |b| b.is_empty()),
            // Never claim the end early: the record is finished from poll_frame.
            Source::Upstream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.src {
            Source::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Source::Upstream(inner) => inner.size_hint(),
        }
    }
}
