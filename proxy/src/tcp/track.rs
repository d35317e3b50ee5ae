//! What one connection's two directions tell each other for its log entry: who closed first
//! and when, whether a toxic holds bytes, and when the client gave up. Written at close events
//! and when a delay line fills or empties, never per chunk on the clear path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use tokio::time::Instant;

use super::conn_log::ClosedBy;

pub(crate) struct ConnTrack {
    pub opened: Instant,
    first: OnceLock<(ClosedBy, Option<&'static str>, Instant)>,
    /// Per direction (0 upstream, 1 downstream): since when chunks wait in its delay line, in
    /// µs after `opened` plus one (0: nothing waits).
    held_since: [AtomicU64; 2],
    /// Since when a timeout toxic swallows data (the answer will not come), same encoding.
    swallowed_since: AtomicU64,
    /// When the client gave up, and since when the bytes it waited for were held.
    gave_up: OnceLock<(Instant, Instant)>,
}

impl ConnTrack {
    pub fn new() -> ConnTrack {
        ConnTrack {
            opened: Instant::now(),
            first: OnceLock::new(),
            held_since: [AtomicU64::new(0), AtomicU64::new(0)],
            swallowed_since: AtomicU64::new(0),
            gave_up: OnceLock::new(),
        }
    }

    /// `by` ended its side (or the whole connection); the first call wins. A client closing
    /// while a toxic holds bytes gave up.
    pub fn closed(&self, by: ClosedBy, toxic: Option<&'static str>) {
        let now = Instant::now();
        let _ = self.first.set((by, toxic, now));
        if by == ClosedBy::Client {
            if let Some(since) = self.holding_since() {
                let _ = self.gave_up.set((now, since));
            }
        }
    }

    pub fn set_held(&self, dir: usize, held: bool) {
        let v = if held { self.stamp() } else { 0 };
        self.held_since[dir].store(v, Ordering::Relaxed);
    }

    /// A timeout toxic swallowed data; the first time counts.
    pub fn swallowed(&self) {
        if self.swallowed_since.load(Ordering::Relaxed) == 0 {
            self.swallowed_since.store(self.stamp(), Ordering::Relaxed);
        }
    }

    fn stamp(&self) -> u64 {
        self.opened.elapsed().as_micros() as u64 + 1
    }

    /// Since when the oldest bytes still held by a toxic wait, if any are.
    fn holding_since(&self) -> Option<Instant> {
        let all = [
            &self.held_since[0],
            &self.held_since[1],
            &self.swallowed_since,
        ];
        let oldest = all
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .filter(|v| *v > 0)
            .min()?;
        Some(self.opened + std::time::Duration::from_micros(oldest - 1))
    }

    pub fn first(&self) -> Option<(ClosedBy, Option<&'static str>, Instant)> {
        self.first.get().copied()
    }

    /// When the client gave up, and since when the bytes it waited for were held.
    pub fn gave_up(&self) -> Option<(Instant, Instant)> {
        self.gave_up.get().copied()
    }
}
