//! What one connection's two directions tell each other for its log entry: who closed first
//! and when, whether a toxic holds bytes, and when the client gave up. Written at close events
//! and when a delay line fills or empties, never per chunk on the clear path.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use tokio::time::Instant;

use super::conn_log::ClosedBy;

pub(crate) struct ConnTrack {
    pub opened: Instant,
    first: OnceLock<(ClosedBy, Option<&'static str>, Instant)>,
    /// Per direction (0 upstream, 1 downstream): chunks wait in its delay line.
    held: [AtomicBool; 2],
    /// A timeout toxic swallowed data: the answer will not come.
    swallowed: AtomicBool,
    gave_up: OnceLock<Instant>,
}

impl ConnTrack {
    pub fn new() -> ConnTrack {
        ConnTrack {
            opened: Instant::now(),
            first: OnceLock::new(),
            held: [AtomicBool::new(false), AtomicBool::new(false)],
            swallowed: AtomicBool::new(false),
            gave_up: OnceLock::new(),
        }
    }

    /// `by` ended its side (or the whole connection); the first call wins. A client closing
    /// while a toxic holds bytes gave up.
    pub fn closed(&self, by: ClosedBy, toxic: Option<&'static str>) {
        let now = Instant::now();
        let _ = self.first.set((by, toxic, now));
        if by == ClosedBy::Client && self.holding() {
            let _ = self.gave_up.set(now);
        }
    }

    pub fn set_held(&self, dir: usize, held: bool) {
        self.held[dir].store(held, Ordering::Relaxed);
    }

    pub fn swallowed(&self) {
        self.swallowed.store(true, Ordering::Relaxed);
    }

    fn holding(&self) -> bool {
        self.swallowed.load(Ordering::Relaxed)
            || self.held.iter().any(|h| h.load(Ordering::Relaxed))
    }

    pub fn first(&self) -> Option<(ClosedBy, Option<&'static str>, Instant)> {
        self.first.get().copied()
    }

    pub fn gave_up(&self) -> Option<Instant> {
        self.gave_up.get().copied()
    }
}
