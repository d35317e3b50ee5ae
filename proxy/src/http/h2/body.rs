//! `ProxyBody`: the answer body sent to an HTTP/2 caller. Either the proxy's own (a fault's
//! answer, possibly empty for a trailers-only gRPC answer) or the upstream's relayed frame by
//! frame, with the stream's record finished when the last frame passes (trailers give the
//! `grpc-status`) or dropped, and so logged as a cancel, when the caller resets the stream.

use super::grpc;
use super::record::StreamRecord;
use crate::log::Outcome;
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

// The relay variant carries the in-flight log entry; a body is built once per stream and moved
// into hyper's stream task, so boxing it would only add an allocation per stream.
#[allow(clippy::large_enum_variant)]
pub(crate) enum ProxyBody {
    /// The proxy's own bytes (`None` once sent, or for an empty body).
    Own(Option<Bytes>),
    Relay {
        inner: Incoming,
        record: Option<StreamRecord>,
    },
}

impl ProxyBody {
    pub fn empty() -> ProxyBody {
        ProxyBody::Own(None)
    }

    pub fn text(text: impl Into<Bytes>) -> ProxyBody {
        let b = text.into();
        ProxyBody::Own((!b.is_empty()).then_some(b))
    }

    pub fn relay(inner: Incoming, record: StreamRecord) -> ProxyBody {
        ProxyBody::Relay {
            inner,
            record: Some(record),
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            ProxyBody::Own(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            ProxyBody::Relay { inner, record } => {
                let polled = Pin::new(&mut *inner).poll_frame(cx);
                match &polled {
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Some(trailers) = frame.trailers_ref() {
                            if let Some(mut r) = record.take() {
                                r.set_grpc_status(grpc::status_of(trailers));
                                r.finish(Outcome::Forwarded);
                            }
                        } else if inner.is_end_stream() {
                            if let Some(r) = record.take() {
                                r.finish(Outcome::Forwarded);
                            }
                        }
                    }
                    Poll::Ready(None) => {
                        if let Some(r) = record.take() {
                            r.finish(Outcome::Forwarded);
                        }
                    }
                    Poll::Ready(Some(Err(_))) => {
                        if let Some(r) = record.take() {
                            r.finish(Outcome::UpstreamError);
                        }
                    }
                    Poll::Pending => {}
                }
                polled
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Own(data) => data.is_none(),
            ProxyBody::Relay { inner, .. } => inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Own(data) => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            ProxyBody::Relay { inner, .. } => inner.size_hint(),
        }
    }
}

impl Drop for ProxyBody {
    fn drop(&mut self) {
        // hyper stops polling once the upstream's body says it ended; that is a full answer,
        // not a cancel.
        if let ProxyBody::Relay { inner, record } = self {
            if inner.is_end_stream() {
                if let Some(r) = record.take() {
                    r.finish(Outcome::Forwarded);
                }
            }
        }
    }
}
