//! One process's share of a distributed run: segment `index` of `count`. Arrival k belongs to
//! segment k mod count, and inside a segment worker w of n takes the arrivals of stripe
//! `index + count * w` of `count * n`, so the segments' union is exactly the one-process schedule
//! whatever the number of workers on each. Closed-model users are split by the same rule.

/// Segment `index` (0-based, as Kubernetes' `JOB_COMPLETION_INDEX`) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub index: u32,
    pub count: u32,
}

impl Segment {
    /// The whole run in one process.
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    /// The stripe (residue, modulus) that worker `w` of `n` in this segment runs.
    pub fn stripe(self, w: usize, n: usize) -> (u64, u64) {
        let count = u64::from(self.count.max(1));
        (u64::from(self.index) + count * w as u64, count * n as u64)
    }

    /// How many of `total` items (users, connections) fall to this segment when item i goes to
    /// segment i mod count.
    pub fn share_of(self, total: u64) -> u64 {
        let count = u64::from(self.count.max(1));
        total / count + u64::from(u64::from(self.index) < total % count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_of_every_worker_cover_the_segment_once() {
        let s = Segment { index: 2, count: 4 };
        let mut mine: Vec<u64> = Vec::new();
        for w in 0..3 {
            let (r, m) = s.stripe(w, 3);
            mine.extend((0..120u64).filter(|k| k % m == r));
        }
        mine.sort_unstable();
        let want: Vec<u64> = (0..120u64).filter(|k| k % 4 == 2).collect();
        assert_eq!(mine, want);
        assert_eq!(Segment::WHOLE.stripe(1, 2), (1, 2));
    }

    #[test]
    fn shares_add_up() {
        for total in [0u64, 1, 3, 10, 11] {
            let sum: u64 = (0..4)
                .map(|i| Segment { index: i, count: 4 }.share_of(total))
                .sum();
            assert_eq!(sum, total);
        }
        assert_eq!(Segment { index: 3, count: 4 }.share_of(3), 0);
    }
}
