//! `StreamRecord`: the log entry of one HTTP/2 stream while it is in flight. Whoever ends the
//! stream calls `finish`; a record dropped unfinished means the caller cancelled (hyper drops a
//! stream's future and body on RST_STREAM and when the connection goes), logged as
//! `CallerGaveUp` with the time it happened and whether the stream or the whole connection went.

use super::conn::H2Conn;
use crate::http::record::correlation_id;
use crate::http::stats::Counters;
use crate::http::Shared;
use crate::log::{Cancel, H2Stream, LogEntry, Outcome};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a cancelled stream waits to learn whether its connection closed too: hyper wakes
/// the stream and the connection on the same read, so a connection close is seen well within it.
const CONNECTION_CLOSE_GRACE: Duration = Duration::from_millis(50);

pub(crate) struct StreamRecord {
    shared: Arc<Shared>,
    conn: Arc<H2Conn>,
    arrival: Instant,
    entry: Option<LogEntry>,
    kind: Option<usize>,
}

impl StreamRecord {
    pub fn new<B>(
        shared: &Arc<Shared>,
        conn: &Arc<H2Conn>,
        arrival: Instant,
        req: &hyper::Request<B>,
    ) -> StreamRecord {
        let headers = req.headers();
        let correlation_id = correlation_id(&shared.correlation_headers, |name| {
            headers.get(name).map(|v| v.as_bytes())
        });
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let grpc_timeout_ms = headers
            .get("grpc-timeout")
            .and_then(|v| super::grpc::timeout_ms(v.as_bytes()));
        let entry = LogEntry {
            trace_id: headers
                .get("traceparent")
                .and_then(|v| crate::http::record::trace_id(v.as_bytes())),
            h2: Some(H2Stream {
                grpc_timeout_ms,
                ..H2Stream::default()
            }),
            ..LogEntry::arrived(
                shared.clock_origin,
                arrival,
                req.method().as_str().to_string(),
                path,
                correlation_id,
            )
        };
        StreamRecord {
            entry: Some(entry),
            shared: shared.clone(),
            conn: conn.clone(),
            arrival,
            kind: None,
        }
    }

    pub fn set_fault(&mut self, name: &str, kind: usize) {
        self.kind = Some(kind);
        Counters::inc(&self.shared.counters.faults[kind]);
        if let Some(e) = &mut self.entry {
            e.fault = Some(name.to_string());
        }
    }

    pub fn set_upstream(&mut self, status: u16, ms: f64) {
        if let Some(e) = &mut self.entry {
            e.upstream_status = Some(status);
            e.upstream_ms = Some(ms);
            e.status = Some(status);
        }
    }

    /// The HTTP status (and gRPC status, if any) about to be sent to the caller.
    pub fn set_status(&mut self, status: u16, grpc_status: Option<u32>) {
        if let Some(e) = &mut self.entry {
            e.status = Some(status);
            self.set_grpc_status(grpc_status);
        }
    }

    pub fn set_grpc_status(&mut self, grpc_status: Option<u32>) {
        if let (Some(s), Some(e)) = (grpc_status, &mut self.entry) {
            if let Some(h2) = &mut e.h2 {
                h2.grpc_status = Some(s);
            }
        }
    }

    /// Ends the stream with `outcome` and writes the entry.
    pub fn finish(mut self, outcome: Outcome) {
        if let Some(e) = self.take(outcome) {
            self.shared.log.push(e, self.kind_name());
        }
    }

    fn kind_name(&self) -> Option<&'static str> {
        self.kind.map(|k| crate::fault::KIND_NAMES[k])
    }

    fn take(&mut self, outcome: Outcome) -> Option<LogEntry> {
        let mut e = self.entry.take()?;
        e.outcome = outcome;
        e.total_ms = self.arrival.elapsed().as_secs_f64() * 1000.0;
        Some(e)
    }
}

impl Drop for StreamRecord {
    fn drop(&mut self) {
        if self.entry.is_none() {
            return;
        }
        if self.conn.killed() {
            // We dropped the connection ourselves (down, stop): the caller did not give up.
            if let Some(e) = self.take(Outcome::Refused) {
                self.shared.log.push(e, self.kind_name());
            }
            return;
        }
        let Some(mut e) = self.take(Outcome::CallerGaveUp) else {
            return;
        };
        e.gave_up_ms = Some(e.total_ms);
        Counters::inc(&self.shared.counters.caller_gave_up);
        let shared = self.shared.clone();
        let conn = self.conn.clone();
        let kind = self.kind_name();
        let write = move |mut e: LogEntry, cancel: Cancel| {
            if let Some(h2) = &mut e.h2 {
                h2.cancelled = Some(cancel);
            }
            shared.log.push(e, kind);
        };
        if conn.closed() {
            return write(e, Cancel::Connection);
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    let closed = conn.wait_closed(CONNECTION_CLOSE_GRACE).await;
                    let cancel = if closed {
                        Cancel::Connection
                    } else {
                        Cancel::Stream
                    };
                    write(e, cancel);
                });
            }
            Err(_) => write(e, Cancel::Stream),
        }
    }
}
