//! One direction of one relayed connection: reads the source into one fixed buffer, passes each
//! chunk through that direction's toxics, and half-closes the destination at end of stream.

use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::tcp::ReadHalf;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use super::chain::{Chain, End, Out};
use super::conn_log::ClosedBy;
use super::track::ConnTrack;

/// One direction's source, destination, buffer and toxics.
pub(crate) struct Pipe<'a> {
    pub src: ReadHalf<'a>,
    pub out: Out<'a>,
    pub buf: Box<[u8]>,
    pub chain: Chain,
    /// The side `src` reads from (client for the upstream direction) and its peer.
    pub from: ClosedBy,
    pub to: ClosedBy,
    /// 0 for the upstream direction, 1 for the downstream one.
    pub dir: usize,
    pub track: &'a ConnTrack,
}

impl Pipe<'_> {
    /// Relays until the source ends (`Ok`, destination half-closed) or something ends the
    /// whole connection (`Err`).
    pub async fn run(&mut self) -> Result<(), End> {
        let ended = self.relay().await;
        if let Err(End::Io) = ended {
            // Read errors are marked where they happen; what is left is a failed write.
            self.track.closed(self.to, None);
        }
        ended
    }

    async fn relay(&mut self) -> Result<(), End> {
        let mut eof = false;
        let mut held = false;
        loop {
            let set = Arc::clone(&self.out.toxics.borrow_and_update());
            let reconciled = self.chain.reconcile(&set, &mut self.out.rng);
            drop(set);
            if reconciled.is_err() {
                self.track.closed(ClosedBy::Toxic, Some("timeout"));
                reconciled?;
            }
            // Published only when it changes: one comparison per chunk on the clear path.
            let waiting = !self.out.line.is_empty();
            if held != waiting {
                held = waiting;
                self.track.set_held(self.dir, held);
            }
            let chain = &self.chain;
            self.out.line.release_missing(|id| chain.has_stage(id));
            if eof && self.out.line.is_empty() {
                let finished = self.chain.finish(&mut self.out).await;
                if let Err(End::Reset) = finished {
                    self.track.closed(ClosedBy::Toxic, Some("reset_peer"));
                }
                return finished;
            }
            let deadline = self.chain.deadline();
            let due = self.out.line.next_due();
            let reading = !eof && !self.chain.paused() && !self.out.line.is_full();
            // Biased: due chunks leave before new ones are read, keeping latency exact.
            tokio::select! {
                biased;
                changed = self.out.toxics.changed() => {
                    if changed.is_err() {
                        return Err(End::Dropped);
                    }
                }
                _ = sleep_until(deadline.map_or_else(Instant::now, |d| d.0)), if deadline.is_some() => {
                    let reset = deadline.is_some_and(|d| d.1);
                    let kind = if reset { "reset_peer" } else { "timeout" };
                    self.track.closed(ClosedBy::Toxic, Some(kind));
                    return Err(if reset { End::Reset } else { End::Close });
                }
                _ = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    if let Some(item) = self.out.line.pop() {
                        if !self.chain.resume(&mut self.out, item).await? {
                            self.track.closed(ClosedBy::Toxic, Some("limit_data"));
                            return Err(End::Close);
                        }
                    }
                }
                read = self.src.read(&mut self.buf), if reading => match read {
                    Ok(0) => {
                        eof = true;
                        self.track.closed(self.from, None);
                    }
                    Ok(n) => {
                        let read_at = Instant::now();
                        if self.chain.is_clear() && self.out.line.is_empty() {
                            super::chain::write_plain(&mut self.out, &self.buf[..n]).await?;
                        } else if !self.chain.forward(&mut self.out, &self.buf[..n], read_at).await? {
                            self.track.closed(ClosedBy::Toxic, Some("limit_data"));
                            return Err(End::Close);
                        }
                    }
                    Err(_) => {
                        self.track.closed(self.from, None);
                        return Err(End::Io);
                    }
                },
            }
        }
    }
}

/// Waits until the proxy's epoch moves past `epoch` (disable, stop, upstream change) or the
/// proxy is gone.
pub(crate) async fn dropped(mut epochs: watch::Receiver<u64>, epoch: u64) -> End {
    let _ = epochs.wait_for(|e| *e != epoch).await;
    End::Dropped
}
