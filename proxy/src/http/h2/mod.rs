//! The HTTP/2 side of the HTTP fault proxy (`HttpProxyConfig::http2`): cleartext with prior
//! knowledge (h2c) or TLS with a configured certificate (`HttpProxyConfig::tls`, ALPN h2) on
//! each end, hyper's HTTP/2 server towards callers and one multiplexed
//! hyper HTTP/2 client connection towards the upstream. Faults are decided per stream (by
//! `:path`, i.e. the gRPC method, and metadata) and applied to that stream alone while the
//! others on the same connection flow; `down` is connection-level. One log entry per stream,
//! with the correlation id from metadata, the caller's `grpc-timeout`, the `grpc-status` sent,
//! and when and how the caller cancelled (RST_STREAM or connection close).
//!
//! Not supported here: `truncate` and `throttle` (refused at install), HTTP/1.1 callers.

mod body;
pub(crate) mod conn;
pub mod grpc;
mod record;
mod stream;
mod tls;
pub(crate) mod upstream;

pub use tls::H2Tls;
