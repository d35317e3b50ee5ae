//! The first few failure texts of each request × failure kind, kept per worker and merged at
//! the end. A worker formats a failure only while that kind's sample is open (fewer than
//! `DISTINCT` texts and fewer than `LOOKS` failures examined), so a run where every request
//! fails formats a bounded number of texts, and a successful request never reaches this code.

use crate::engine::stats::{FailKind, KINDS};

/// Distinct texts kept per request × kind.
pub const DISTINCT: usize = 3;
/// Failures a worker examines per request × kind before it stops looking for new texts.
pub const LOOKS: u32 = 64;

/// One failure text and the first time it was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstError {
    pub kind: FailKind,
    pub text: String,
    /// When the request failed (settled), microseconds since t = 0.
    pub at_us: u64,
}

#[derive(Debug, Clone, Default)]
struct Sample {
    looked: u32,
    first: Vec<FirstError>,
}

/// Per operation × kind, the first distinct texts.
#[derive(Debug, Clone, Default)]
pub struct ErrorSamples {
    slots: Vec<Sample>,
}

impl ErrorSamples {
    pub fn new(ops: usize) -> Self {
        ErrorSamples {
            slots: vec![Sample::default(); ops * KINDS],
        }
    }

    /// Whether a failure of `kind` on `op` should be put into words and offered.
    #[inline]
    pub fn open(&self, op: usize, kind: FailKind) -> bool {
        self.slots
            .get(op * KINDS + kind as usize)
            .is_some_and(|s| s.first.len() < DISTINCT && s.looked < LOOKS)
    }

    /// Records `text` if this kind has not seen it yet.
    pub fn offer(&mut self, op: usize, kind: FailKind, text: String, at_us: u64) {
        let Some(s) = self.slots.get_mut(op * KINDS + kind as usize) else {
            return;
        };
        s.looked += 1;
        if s.first.len() < DISTINCT && !s.first.iter().any(|f| f.text == text) {
            s.first.push(FirstError { kind, text, at_us });
        }
    }

    /// Adds another worker's samples: per slot the earliest distinct texts win.
    pub fn merge(&mut self, other: &ErrorSamples) {
        if self.slots.len() < other.slots.len() {
            self.slots.resize(other.slots.len(), Sample::default());
        }
        for (a, b) in self.slots.iter_mut().zip(&other.slots) {
            a.looked += b.looked;
            a.first.extend(b.first.iter().cloned());
            a.first.sort_by_key(|f| f.at_us);
            let mut seen: Vec<String> = Vec::new();
            a.first.retain(|f| {
                let new = !seen.contains(&f.text);
                if new {
                    seen.push(f.text.clone());
                }
                new
            });
            a.first.truncate(DISTINCT);
        }
    }

    /// The samples of `op`, kinds in `FailKind::ALL` order, each kind's in time order.
    pub fn of(&self, op: usize) -> Vec<FirstError> {
        FailKind::ALL
            .iter()
            .filter_map(|k| self.slots.get(op * KINDS + *k as usize))
            .flat_map(|s| s.first.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_distinct_texts_and_stops_looking() {
        let mut s = ErrorSamples::new(2);
        for i in 0..10u64 {
            if s.open(1, FailKind::Reset) {
                s.offer(1, FailKind::Reset, format!("reset {}", i % 2), i);
            }
        }
        let texts: Vec<String> = s.of(1).into_iter().map(|f| f.text).collect();
        assert_eq!(texts, ["reset 0", "reset 1"]);
        assert!(s.of(0).is_empty());
        for i in 0..u64::from(LOOKS) {
            if s.open(1, FailKind::Reset) {
                s.offer(1, FailKind::Reset, "reset 0".into(), 100 + i);
            }
        }
        assert!(
            !s.open(1, FailKind::Reset),
            "bounded even for one repeated text"
        );
        assert!(
            s.open(1, FailKind::Timeout),
            "other kinds keep their own sample"
        );
    }

    #[test]
    fn merging_keeps_the_earliest_of_each_text() {
        let mut a = ErrorSamples::new(1);
        a.offer(0, FailKind::Tls, "x".into(), 50);
        a.offer(0, FailKind::Tls, "y".into(), 60);
        let mut b = ErrorSamples::new(1);
        b.offer(0, FailKind::Tls, "x".into(), 10);
        b.offer(0, FailKind::Tls, "z".into(), 70);
        b.offer(0, FailKind::Tls, "w".into(), 80);
        a.merge(&b);
        let got: Vec<(String, u64)> = a.of(0).into_iter().map(|f| (f.text, f.at_us)).collect();
        assert_eq!(got, [("x".into(), 10), ("y".into(), 60), ("z".into(), 70)]);
    }
}
