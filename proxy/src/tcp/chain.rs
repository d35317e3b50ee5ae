//! One direction's toxics on one connection: which toxics act on it (toxicity is rolled when a
//! toxic starts on the connection), their per-connection state, and how a chunk or the end of
//! the stream passes through them in order.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::Rng;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::WriteHalf;
use tokio::sync::watch;
use tokio::time::{sleep, sleep_until, Instant};

use super::delay_line::{DelayLine, Delayed, PASSED};
use super::stats::Counters;
use super::toxic_set::{Entry, ToxicSet};
use super::track::ConnTrack;
use crate::toxic::{Stream, ToxicKind};

/// Why a direction stopped before its source reached a clean end of stream.
#[derive(Debug)]
pub(crate) enum End {
    /// Close the whole connection (timeout expired or removed, limit reached).
    Close,
    /// Reset both sides (reset_peer).
    Reset,
    /// The proxy was disabled, stopped, re-pointed or dropped.
    Dropped,
    /// A socket failed.
    Io,
}

/// A toxic's per-connection state.
#[derive(Debug)]
enum State {
    Plain,
    Bandwidth { free_at: Instant },
    Limit { sent: u64 },
    Timeout { deadline: Option<Instant> },
    Reset { at: Option<Instant> },
}

#[derive(Debug)]
struct Stage {
    entry: Arc<Entry>,
    /// Whether the toxicity roll made this toxic act on this connection.
    active: bool,
    state: State,
}

/// Where chunks go once through the toxics, and what the toxics need on the way.
pub(crate) struct Out<'a> {
    pub dst: WriteHalf<'a>,
    pub rng: SmallRng,
    pub bytes: &'a AtomicU64,
    pub toxics: watch::Receiver<Arc<ToxicSet>>,
    pub line: DelayLine,
    /// Bytes this direction delivered (for the connection log; a plain add, no atomic).
    pub sent: u64,
    pub track: &'a ConnTrack,
}

/// The toxics of one direction of one connection.
pub(crate) struct Chain {
    stream: Stream,
    generation: u64,
    stages: Vec<Stage>,
    counters: Arc<Counters>,
    /// Types of the toxics that acted on this direction, in start order (for the log).
    pub seen: Vec<&'static str>,
}

type Emit<'a> = Pin<Box<dyn Future<Output = Result<bool, End>> + Send + 'a>>;

impl Chain {
    pub fn new(stream: Stream, counters: Arc<Counters>) -> Chain {
        Chain {
            stream,
            generation: u64::MAX,
            stages: Vec::new(),
            counters,
            seen: Vec::new(),
        }
    }

    /// Brings the stages in line with `set`: new toxics start (rolling toxicity), updated ones
    /// restart keeping only limit_data's count, removed ones go. Removing a timeout that was
    /// holding this connection closes it, as Toxiproxy does.
    pub fn reconcile(&mut self, set: &ToxicSet, rng: &mut SmallRng) -> Result<(), End> {
        if set.generation == self.generation {
            return Ok(());
        }
        self.generation = set.generation;
        let mut old = std::mem::take(&mut self.stages);
        for entry in set.entries.iter().filter(|e| e.toxic.stream == self.stream) {
            let prev = old
                .iter()
                .position(|s| s.entry.id == entry.id)
                .map(|i| old.remove(i));
            let stage = match prev {
                Some(s) if s.entry.version == entry.version => s,
                prev => self.start(entry.clone(), prev, rng),
            };
            let kind = stage.entry.toxic.kind.type_name();
            if stage.active && !self.seen.contains(&kind) {
                self.seen.push(kind);
            }
            self.stages.push(stage);
        }
        let held = old
            .iter()
            .any(|s| s.active && matches!(s.entry.toxic.kind, ToxicKind::Timeout(_)));
        if held {
            return Err(End::Close);
        }
        Ok(())
    }

    fn start(&self, entry: Arc<Entry>, prev: Option<Stage>, rng: &mut SmallRng) -> Stage {
        let active = rng.gen::<f64>() < entry.toxic.toxicity;
        if active {
            self.counters.applied(entry.toxic.kind.type_name());
        }
        let now = Instant::now();
        let state = match &entry.toxic.kind {
            ToxicKind::Bandwidth(_) => State::Bandwidth { free_at: now },
            ToxicKind::LimitData(_) => match prev.map(|p| p.state) {
                Some(State::Limit { sent }) => State::Limit { sent },
                _ => State::Limit { sent: 0 },
            },
            ToxicKind::Timeout(t) => State::Timeout {
                deadline: t.close_after().map(|d| now + d),
            },
            ToxicKind::ResetPeer(_) => State::Reset { at: None },
            _ => State::Plain,
        };
        Stage {
            entry,
            active,
            state,
        }
    }

    /// True when no toxic acts on this direction: chunks go straight to the destination.
    pub fn is_clear(&self) -> bool {
        !self.stages.iter().any(|s| s.active)
    }

    /// The next moment a toxic ends the connection by itself, and how.
    pub fn deadline(&self) -> Option<(Instant, bool)> {
        let mut next: Option<(Instant, bool)> = None;
        for s in self.stages.iter().filter(|s| s.active) {
            let due = match s.state {
                State::Timeout { deadline: Some(at) } => (at, false),
                State::Reset { at: Some(at) } => (at, true),
                _ => continue,
            };
            match next {
                Some((at, _)) if at <= due.0 => {}
                _ => next = Some(due),
            }
        }
        next
    }

    /// Whether the source should not be read for now (a reset is pending, or a zero
    /// bandwidth stalls the stream): unread data then waits in the kernel, as it would behind
    /// a stalled link.
    pub fn paused(&self) -> bool {
        self.stages
            .iter()
            .filter(|s| s.active)
            .any(|s| match (&s.state, &s.entry.toxic.kind) {
                (State::Reset { at }, _) => at.is_some(),
                (_, ToxicKind::Bandwidth(b)) => b.piece_len().is_none(),
                _ => false,
            })
    }

    /// Passes one chunk read at `read_at` through the toxics to the destination.
    /// `Ok(false)` asks to close the connection (limit reached).
    pub async fn forward(
        &mut self,
        out: &mut Out<'_>,
        data: &[u8],
        read_at: Instant,
    ) -> Result<bool, End> {
        emit(&mut self.stages, out, data, read_at).await
    }

    /// Passes a chunk that waited in the delay line through the stages after its latency
    /// toxic (straight to the destination if that toxic has been removed meanwhile).
    pub async fn resume(&mut self, out: &mut Out<'_>, item: Delayed) -> Result<bool, End> {
        let Some(at) = self.stages.iter().position(|s| s.entry.id == item.stage) else {
            write_plain(out, &item.data).await?;
            return Ok(true);
        };
        out.line.suspended = true;
        let flow = emit(&mut self.stages[at + 1..], out, &item.data, item.due).await;
        out.line.suspended = false;
        flow
    }

    /// Whether the toxic with this id still acts on this direction.
    pub fn has_stage(&self, id: u64) -> bool {
        self.stages.iter().any(|s| s.entry.id == id)
    }

    /// The source reached its end: lets the toxics delay or turn the close, then half-closes
    /// the destination so the other direction keeps flowing.
    pub async fn finish(&mut self, out: &mut Out<'_>) -> Result<(), End> {
        for s in self.stages.iter_mut().filter(|s| s.active) {
            match (&s.entry.toxic.kind, &mut s.state) {
                (ToxicKind::SlowClose(t), _) => sleep(t.close_delay()).await,
                (ToxicKind::ResetPeer(t), State::Reset { at }) => {
                    sleep_until(at.unwrap_or_else(|| Instant::now() + t.reset_after())).await;
                    return Err(End::Reset);
                }
                _ => {}
            }
        }
        out.dst.shutdown().await.map_err(|_| End::Io)
    }
}

/// Applies `stages` in order to `data`, then writes what is left. Boxed because slicer and
/// bandwidth recurse once per piece.
fn emit<'a>(
    stages: &'a mut [Stage],
    out: &'a mut Out<'_>,
    data: &'a [u8],
    read_at: Instant,
) -> Emit<'a> {
    Box::pin(async move {
        let Some((stage, rest)) = stages.split_first_mut() else {
            if !out.line.suspended && !out.line.is_empty() {
                // Older chunks still wait in the delay line: queue behind them, never overtake.
                out.line.push(Instant::now(), PASSED, data);
                return Ok(true);
            }
            out.dst.write_all(data).await.map_err(|_| End::Io)?;
            out.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
            out.sent += data.len() as u64;
            return Ok(true);
        };
        if !stage.active {
            return emit(rest, out, data, read_at).await;
        }
        let entry = stage.entry.clone();
        match (&entry.toxic.kind, &mut stage.state) {
            (ToxicKind::Latency(t), _) => {
                let due = read_at + t.delay(&mut out.rng);
                if !out.line.suspended {
                    out.line.push(due, entry.id, data);
                    return Ok(true);
                }
                sleep_until(due).await;
                emit(rest, out, data, due).await
            }
            (ToxicKind::Bandwidth(t), State::Bandwidth { free_at }) => {
                let Some(piece) = t.piece_len() else {
                    // Stalled by a zero rate added while this chunk was in flight: hold it until
                    // the toxics change, then let it go.
                    let _ = out.toxics.changed().await;
                    return emit(rest, out, data, Instant::now()).await;
                };
                for part in data.chunks(piece) {
                    *free_at = (*free_at).max(Instant::now()) + t.transmit_time(part.len());
                    sleep_until(*free_at).await;
                    if !emit(rest, out, part, *free_at).await? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (ToxicKind::Slicer(t), _) => {
                let mut ends = Vec::new();
                t.cut(data.len(), &mut out.rng, &mut ends);
                let mut start = 0;
                for (i, &end) in ends.iter().enumerate() {
                    if i > 0 {
                        sleep(t.gap()).await;
                    }
                    if !emit(rest, out, &data[start..end], Instant::now()).await? {
                        return Ok(false);
                    }
                    start = end;
                }
                Ok(true)
            }
            (ToxicKind::LimitData(t), State::Limit { sent }) => {
                let allow = t.allow(*sent, data.len());
                *sent += allow.pass as u64;
                if allow.pass > 0 && !emit(rest, out, &data[..allow.pass], read_at).await? {
                    return Ok(false);
                }
                Ok(!allow.close)
            }
            (ToxicKind::ResetPeer(t), State::Reset { at }) => {
                // The first data arms the reset; it and anything after is dropped.
                at.get_or_insert_with(|| Instant::now() + t.reset_after());
                Ok(true)
            }
            // An active timeout drops everything; its deadline is watched by the pipe.
            (ToxicKind::Timeout(_), _) => {
                out.track.swallowed();
                Ok(true)
            }
            _ => emit(rest, out, data, read_at).await,
        }
    })
}

/// The fast path: no toxic acts on this direction.
pub(crate) async fn write_plain(out: &mut Out<'_>, data: &[u8]) -> Result<(), End> {
    out.dst.write_all(data).await.map_err(|_| End::Io)?;
    out.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
    out.sent += data.len() as u64;
    Ok(())
}
