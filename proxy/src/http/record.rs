//! `Record`: the log entry of one request while it is in flight. Whoever ends the exchange calls
//! `finish`; if the record is dropped unfinished, the caller went away first (its connection
//! closed while we waited or streamed), which is logged as `CallerGaveUp` with the time.

use super::conn::ConnCtl;
use super::head::RequestHead;
use super::Shared;
use crate::log::{LogEntry, Outcome};
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct Record {
    shared: Arc<Shared>,
    conn: Arc<ConnCtl>,
    arrival: Instant,
    entry: Option<LogEntry>,
    kind: Option<usize>,
}

impl Record {
    pub fn new(
        shared: Arc<Shared>,
        conn: Arc<ConnCtl>,
        arrival: Instant,
        req: &RequestHead,
    ) -> Record {
        let correlation_id = correlation_id(&shared.correlation_headers, |name| req.field(name));
        let path = req.path_and_query();
        let path = if path.is_empty() { "/" } else { path }.to_string();
        let mut entry = LogEntry::arrived(
            shared.clock_origin,
            arrival,
            req.method().to_string(),
            path,
            correlation_id,
        );
        entry.trace_id = req.field("traceparent").and_then(trace_id);
        Record {
            arrival,
            entry: Some(entry),
            shared,
            conn,
            kind: None,
        }
    }

    pub fn set_fault(&mut self, name: &str, kind: usize) {
        self.kind = Some(kind);
        if let Some(e) = &mut self.entry {
            e.fault = Some(name.to_string());
        }
    }

    pub fn set_upstream(&mut self, status: Option<u16>, ms: f64) {
        if let Some(e) = &mut self.entry {
            e.upstream_status = status;
            e.upstream_ms = Some(ms);
        }
    }

    /// The status about to be sent to the caller.
    pub fn set_status(&mut self, status: u16) {
        if let Some(e) = &mut self.entry {
            e.status = Some(status);
        }
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.arrival.elapsed().as_secs_f64() * 1000.0
    }

    /// Ends the exchange with `outcome` and writes the entry.
    pub fn finish(mut self, outcome: Outcome) {
        self.write(outcome);
    }

    fn write(&mut self, outcome: Outcome) {
        let Some(mut e) = self.entry.take() else {
            return;
        };
        let total = self.elapsed_ms();
        e.outcome = outcome;
        e.total_ms = total;
        if outcome == Outcome::CallerGaveUp {
            e.gave_up_ms = Some(total);
            super::stats::Counters::inc(&self.shared.counters.caller_gave_up);
        }
        let kind = self.kind.map(|k| crate::fault::KIND_NAMES[k]);
        self.shared.log.push(e, kind);
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if self.entry.is_some() {
            // We dropped the connection ourselves (down, stop): the caller did not give up.
            let outcome = if self.conn.killed() {
                Outcome::Refused
            } else {
                Outcome::CallerGaveUp
            };
            self.write(outcome);
        }
    }
}

/// The first configured header present (`field` looks one up by lower-case name); for
/// `traceparent`, its trace-id field.
pub(crate) fn correlation_id<'a>(
    names: &[String],
    field: impl Fn(&str) -> Option<&'a [u8]>,
) -> Option<String> {
    for name in names {
        let Some(value) = field(name).and_then(|v| std::str::from_utf8(v).ok()) else {
            continue;
        };
        if name == "traceparent" {
            // version-traceid-parentid-flags
            if let Some(trace_id) = value.split('-').nth(1).filter(|t| t.len() == 32) {
                return Some(trace_id.to_string());
            }
            continue;
        }
        return Some(value.to_string());
    }
    None
}

/// The trace id of a `traceparent` value: 32 lowercase-able hex digits, not all zero.
pub(crate) fn trace_id(value: &[u8]) -> Option<String> {
    let trace = std::str::from_utf8(value).ok()?.trim().split('-').nth(1)?;
    let hex = trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && trace.bytes().any(|b| b != b'0')).then(|| trace.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(fields: &'a [(&str, &'a str)]) -> impl Fn(&str) -> Option<&'a [u8]> + 'a {
        move |name| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_bytes())
        }
    }

    #[test]
    fn correlation_prefers_order_and_reads_trace_id() {
        let names = vec!["x-request-id".to_string(), "traceparent".to_string()];
        let trace = (
            "Traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        assert_eq!(
            correlation_id(&names, lookup(&[trace])).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        let both = [trace, ("X-Request-Id", "abc")];
        assert_eq!(
            correlation_id(&names, lookup(&both)).as_deref(),
            Some("abc")
        );
        assert_eq!(correlation_id(&names, lookup(&[])), None);
        let bad_trace = [("traceparent", "00-short-01")];
        assert_eq!(correlation_id(&names, lookup(&bad_trace)), None);
    }
}
