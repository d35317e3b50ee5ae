//! The latency toxic's delay line: chunks wait here until their due time while the source keeps
//! being read, so latency delays a stream without capping its throughput (as Toxiproxy's
//! buffered latency toxic does). Bounded; FIFO even with jitter (TCP must not reorder).

use std::collections::VecDeque;

use tokio::time::Instant;

/// Most bytes held per direction; past this the source is not read until chunks leave.
pub(crate) const CAPACITY: usize = 8 << 20;

/// Stage id of a chunk that has passed every toxic and only waits for older chunks.
pub(crate) const PASSED: u64 = u64::MAX;

/// A chunk waiting in the line.
pub(crate) struct Delayed {
    pub due: Instant,
    /// Id of the latency toxic that queued it; the chunk continues after that stage.
    pub stage: u64,
    pub data: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct DelayLine {
    items: VecDeque<Delayed>,
    bytes: usize,
    /// False while a dequeued chunk passes the later stages, so a second latency stage
    /// sleeps instead of queueing again.
    pub suspended: bool,
}

impl DelayLine {
    /// Queues `data` due at `due`, or later if an earlier chunk is due later (no reordering).
    pub fn push(&mut self, due: Instant, stage: u64, data: &[u8]) {
        let due = self.items.back().map_or(due, |last| due.max(last.due));
        self.bytes += data.len();
        self.items.push_back(Delayed {
            due,
            stage,
            data: data.to_vec(),
        });
    }

    pub fn pop(&mut self) -> Option<Delayed> {
        let item = self.items.pop_front()?;
        self.bytes -= item.data.len();
        Some(item)
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.items.front().map(|d| d.due)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.bytes >= CAPACITY
    }

    /// Makes chunks of removed latency toxics due now (Toxiproxy flushes them on removal).
    pub fn release_missing(&mut self, present: impl Fn(u64) -> bool) {
        let now = Instant::now();
        for item in self.items.iter_mut().filter(|i| !present(i.stage)) {
            item.due = item.due.min(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keeps_order_and_counts_bytes() {
        let mut line = DelayLine::default();
        let t0 = Instant::now();
        line.push(t0 + Duration::from_millis(50), 1, b"abc");
        line.push(t0 + Duration::from_millis(10), 1, b"de");
        assert_eq!(line.next_due(), Some(t0 + Duration::from_millis(50)));
        let first = line.pop().unwrap();
        assert_eq!(first.data, b"abc");
        let second = line.pop().unwrap();
        assert_eq!(
            second.due,
            t0 + Duration::from_millis(50),
            "a later chunk never overtakes"
        );
        assert!(line.is_empty() && !line.is_full());
    }

    #[test]
    fn removed_stage_releases_its_chunks() {
        let mut line = DelayLine::default();
        line.push(Instant::now() + Duration::from_secs(60), 7, b"x");
        line.release_missing(|id| id != 7);
        assert!(line.next_due().unwrap() <= Instant::now());
    }
}
