//! The answer's body on its way from the upstream to the caller: relayed in its own framing
//! (or de-chunked for an HTTP/1.0 caller), cut short by a `truncate` fault, or paced by a
//! `throttle` fault. A small answer read in one piece goes out with its head in one write.

use super::caller::Caller;
use super::framing::{BodyCursor, Framing};
use super::head::CallerFraming;
use super::upstream::UpstreamConn;
use bytes::Buf;
use std::time::{Duration, Instant};

/// How the upstream body is reshaped on its way to the caller.
pub(crate) enum Shape {
    Pass,
    /// Cut the body after this many bytes and end the connection.
    Truncate(u64),
    /// At most this many body bytes per second.
    Throttle(u64),
}

/// How a relay ended.
#[derive(Debug)]
pub(crate) enum RelayEnd {
    /// The whole body reached the caller.
    Complete,
    /// Cut by a truncate fault; the caller's connection must end.
    Truncated,
    /// The caller went away (a write failed or it closed while we waited).
    CallerGone,
    /// The upstream broke the body off or framed it wrongly; what was sent stays sent.
    UpstreamFailed,
}

/// Throttle pacing: slice `n` is released at `start + bytes through n / rate`.
struct Pacer {
    bytes_per_sec: u64,
    start: Option<Instant>,
    sent: u64,
}

impl Pacer {
    /// Writes `data` in slices of about 1/20 s each, keeping the rate smooth without tiny writes.
    async fn send(&mut self, caller: &mut Caller, data: &[u8]) -> Result<(), ()> {
        let slice = (self.bytes_per_sec / 20).clamp(1, 64 * 1024) as usize;
        for piece in data.chunks(slice) {
            let start = *self.start.get_or_insert_with(Instant::now);
            let due = start
                + Duration::from_secs_f64(
                    (self.sent + piece.len() as u64) as f64 / self.bytes_per_sec as f64,
                );
            // Watched, so a caller leaving during a pause is logged when it leaves.
            let pause = tokio::time::sleep_until(due.into());
            caller.watch(pause).await.map_err(|_| ())?;
            caller.write_all(piece).await.map_err(|_| ())?;
            self.sent += piece.len() as u64;
        }
        Ok(())
    }
}

/// Sends `out` (the caller's head, already encoded) followed by the body from `up`.
pub(crate) async fn relay(
    caller: &mut Caller,
    up: &mut UpstreamConn,
    framing: Framing,
    how: CallerFraming,
    shape: Shape,
    out: &mut Vec<u8>,
) -> RelayEnd {
    let mut cursor = BodyCursor::new(framing);
    let mut left = match shape {
        Shape::Truncate(n) => n,
        _ => u64::MAX,
    };
    let mut pacer = match shape {
        Shape::Throttle(rate) => Some(Pacer {
            bytes_per_sec: rate.max(1),
            start: None,
            sent: 0,
        }),
        _ => None,
    };
    // Bytes of `out` that are head (sent at once even when throttled).
    let mut head_len = out.len();
    loop {
        let mut cut = false;
        if !up.buf.is_empty() && !cursor.done() {
            let data = &up.buf[..];
            let mut raw_end = None;
            let walked = cursor.advance(data, &mut |r| {
                if cut {
                    return;
                }
                let len = (r.end - r.start) as u64;
                let keep = if len > left {
                    cut = true;
                    raw_end = Some(r.start + left as usize);
                    left as usize
                } else {
                    left -= len;
                    r.end - r.start
                };
                if how.dechunk {
                    out.extend_from_slice(&data[r.start..r.start + keep]);
                }
            });
            let walked = match walked {
                Ok(n) => n,
                Err(_) => return RelayEnd::UpstreamFailed,
            };
            if !how.dechunk {
                out.extend_from_slice(&data[..raw_end.unwrap_or(walked)]);
            }
            up.buf.advance(walked);
        }
        if !out.is_empty() {
            let sent = match &mut pacer {
                None => caller.write_all(out).await.map_err(|_| ()),
                Some(p) => {
                    let head = caller.write_all(&out[..head_len]).await.map_err(|_| ());
                    match head {
                        Ok(()) => p.send(caller, &out[head_len..]).await,
                        Err(()) => Err(()),
                    }
                }
            };
            out.clear();
            head_len = 0;
            if sent.is_err() {
                return RelayEnd::CallerGone;
            }
        }
        if cut {
            return RelayEnd::Truncated;
        }
        if cursor.done() {
            return RelayEnd::Complete;
        }
        let read = caller.watch(up.fill()).await;
        match read {
            Err(_) => return RelayEnd::CallerGone,
            Ok(Ok(0)) if cursor.until_close() => return RelayEnd::Complete,
            // Closed in the middle of the body.
            Ok(Ok(0)) => return RelayEnd::UpstreamFailed,
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return RelayEnd::UpstreamFailed,
        }
    }
}
