//! Bounded body sampling: per request × phase × status, the first `FIRST` answers' bodies and a
//! uniform reservoir of `RESERVOIR` more (seeded), each cut at `capture::BODY_CAP`, at most
//! `MAX_KEYS` keys per worker. A worker offers every answer; an answer that is not kept costs a
//! key lookup, a count and one comparison (Li's Algorithm L draws the position of the next
//! answer to keep, so no random number is drawn per answer). Merged at the end of
//! the run (`merge`); `shape` turns the merge into `result.body_samples`, redacted.

pub mod capture;
pub mod redact;
pub mod shape;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Bodies kept per key from the first answers.
pub const FIRST: usize = 3;
/// Bodies kept per key in the reservoir (a uniform sample of the answers after the first).
pub const RESERVOIR: usize = 4;
/// Keys (request × phase × status) one worker keeps; answers of further keys are counted only.
pub const MAX_KEYS: usize = 64;

/// Request × phase × status. `phase` is the first phase window holding the intended send
/// time (`NO_PHASE` outside every window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub op: u32,
    pub phase: u16,
    pub status: u16,
}

pub const NO_PHASE: u16 = u16::MAX;

/// One kept body.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    /// Arrival index (renders the request's id and trace context again).
    pub index: u64,
    /// Intended send time, µs since t = 0.
    pub t_us: u64,
    pub retry_after: bool,
    /// The body's whole length; `bytes` holds at most `BODY_CAP` of it.
    pub total: u64,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// Whether it came from the reservoir (else from the first answers).
    pub reservoir: bool,
}

/// One key's samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub key: Key,
    /// Answers offered for this key.
    pub seen: u64,
    pub first: Vec<Kept>,
    pub reservoir: Vec<Kept>,
    /// Algorithm L: the position (among answers after the first) of the next one kept, and its
    /// running weight.
    next: u64,
    w: f64,
}

/// What an answer offers: everything but the body bytes, which are in the capture.
pub struct Offer<'a> {
    pub key: Key,
    pub index: u64,
    pub t_us: u64,
    pub retry_after: bool,
    pub capture: &'a capture::Capture,
}

/// One worker's samples.
#[derive(Debug)]
pub struct BodySampler {
    slots: Vec<Slot>,
    last: usize,
    rng: SmallRng,
    /// Answers not sampled because `MAX_KEYS` keys were already held.
    pub unsampled: u64,
}

impl BodySampler {
    pub fn new(seed: u64) -> Self {
        BodySampler {
            slots: Vec::new(),
            last: 0,
            rng: SmallRng::seed_from_u64(seed ^ 0x00B0_D1E5),
            unsampled: 0,
        }
    }

    /// Counts an answer and keeps its body when it is among the first or drawn for the
    /// reservoir (Algorithm R over the answers after the first `FIRST`).
    #[inline]
    pub fn offer(&mut self, o: Offer<'_>) {
        let i = match self.slots.get(self.last) {
            Some(s) if s.key == o.key => self.last,
            _ => match self.slots.iter().position(|s| s.key == o.key) {
                Some(i) => i,
                None if self.slots.len() < MAX_KEYS => {
                    self.slots.push(Slot {
                        key: o.key,
                        seen: 0,
                        first: Vec::new(),
                        reservoir: Vec::new(),
                        next: 0,
                        w: 1.0,
                    });
                    self.slots.len() - 1
                }
                None => {
                    self.unsampled += 1;
                    return;
                }
            },
        };
        self.last = i;
        let s = &mut self.slots[i];
        s.seen += 1;
        if s.first.len() < FIRST {
            s.first.push(kept(&o, false));
            return;
        }
        let position = s.seen - FIRST as u64;
        if s.reservoir.len() < RESERVOIR {
            s.reservoir.push(kept(&o, true));
            if s.reservoir.len() == RESERVOIR {
                s.w = 1.0;
                skip(s, position, &mut self.rng);
            }
            return;
        }
        if position == s.next {
            let j = self.rng.gen_range(0..RESERVOIR);
            s.reservoir[j] = kept(&o, true);
            skip(s, position, &mut self.rng);
        }
    }

    pub fn into_slots(self) -> Vec<Slot> {
        self.slots
    }
}

/// Algorithm L (Li 1994): shrinks the weight and draws how many answers pass before the next
/// one replaces a reservoir entry; each answer after the first ends up kept with probability
/// RESERVOIR / answers.
#[cold]
fn skip(s: &mut Slot, position: u64, rng: &mut SmallRng) {
    let u = |rng: &mut SmallRng| rng.gen::<f64>().max(f64::MIN_POSITIVE);
    s.w *= (u(rng).ln() / RESERVOIR as f64).exp();
    let gap = (u(rng).ln() / (1.0 - s.w).ln()).floor();
    s.next = position
        + 1
        + if gap.is_finite() {
            gap.min(1e15) as u64
        } else {
            u64::MAX / 2
        };
}

#[cold]
fn kept(o: &Offer<'_>, reservoir: bool) -> Kept {
    Kept {
        index: o.index,
        t_us: o.t_us,
        retry_after: o.retry_after,
        total: o.capture.total,
        content_type: String::from_utf8_lossy(&o.capture.content_type).into_owned(),
        bytes: o.capture.bytes.clone(),
        reservoir,
    }
}

/// The workers' samples merged per key: the `FIRST` earliest of all first answers, and a
/// reservoir of `RESERVOIR` drawn from the rest, each worker's reservoir weighted by how many
/// answers it stands for (so the merge stays a uniform sample). Keys in order.
pub fn merge(workers: Vec<Vec<Slot>>, seed: u64) -> Vec<Slot> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x005A_3F1E);
    let mut by_key: std::collections::BTreeMap<Key, Vec<Slot>> = Default::default();
    for slot in workers.into_iter().flatten() {
        by_key.entry(slot.key).or_default().push(slot);
    }
    by_key
        .into_iter()
        .map(|(key, parts)| merge_key(key, parts, &mut rng))
        .collect()
}

fn merge_key(key: Key, parts: Vec<Slot>, rng: &mut SmallRng) -> Slot {
    let seen = parts.iter().map(|p| p.seen).sum();
    let mut firsts: Vec<Kept> = Vec::new();
    // Candidates for the reservoir, each with the number of answers it stands for.
    let mut pool: Vec<(f64, Kept)> = Vec::new();
    for p in parts {
        let rest = p.seen.saturating_sub(p.first.len() as u64);
        let weight = if p.reservoir.is_empty() {
            0.0
        } else {
            rest as f64 / p.reservoir.len() as f64
        };
        firsts.extend(p.first);
        pool.extend(p.reservoir.into_iter().map(|k| (weight, k)));
    }
    firsts.sort_by_key(|k| (k.t_us, k.index));
    for late in firsts.split_off(firsts.len().min(FIRST)) {
        pool.push((
            1.0,
            Kept {
                reservoir: true,
                ..late
            },
        ));
    }
    let mut reservoir = Vec::new();
    while reservoir.len() < RESERVOIR && !pool.is_empty() {
        let total: f64 = pool.iter().map(|(w, _)| *w).sum();
        let mut x = rng.gen::<f64>() * total;
        let mut pick = pool.len() - 1;
        for (i, (w, _)) in pool.iter().enumerate() {
            if x < *w {
                pick = i;
                break;
            }
            x -= w;
        }
        reservoir.push(pool.swap_remove(pick).1);
    }
    reservoir.sort_by_key(|k| (k.t_us, k.index));
    Slot {
        key,
        seen,
        first: firsts,
        reservoir,
        next: 0,
        w: 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::capture::Capture;
    use super::*;

    fn offer(s: &mut BodySampler, status: u16, index: u64, body: &str) {
        let mut c = Capture::new(true);
        c.body(body.as_bytes());
        s.offer(Offer {
            key: Key {
                op: 0,
                phase: NO_PHASE,
                status,
            },
            index,
            t_us: index * 10,
            retry_after: false,
            capture: &c,
        });
    }

    #[test]
    fn keeps_first_three_and_a_reservoir_of_four_per_status() {
        let mut s = BodySampler::new(7);
        for i in 0..1000 {
            offer(&mut s, 200, i, &format!("ok {i}"));
        }
        offer(&mut s, 503, 1000, "down");
        let slots = s.into_slots();
        assert_eq!(slots.len(), 2);
        let ok = &slots[0];
        assert_eq!(ok.seen, 1000);
        let firsts: Vec<u64> = ok.first.iter().map(|k| k.index).collect();
        assert_eq!(firsts, [0, 1, 2]);
        assert_eq!(ok.reservoir.len(), RESERVOIR);
        // A uniform sample of 997: not simply the next four.
        assert!(ok.reservoir.iter().any(|k| k.index > 6));
        assert_eq!(slots[1].first[0].bytes, b"down");
    }

    #[test]
    fn reservoir_is_uniform() {
        // Over many seeds each of 20 later answers is kept about 4/20 of the time.
        let mut hits = [0u32; 23];
        for seed in 0..2000 {
            let mut s = BodySampler::new(seed);
            for i in 0..23 {
                offer(&mut s, 200, i, "x");
            }
            for k in &s.into_slots()[0].reservoir {
                hits[k.index as usize] += 1;
            }
        }
        for h in &hits[3..] {
            assert!((300..500).contains(h), "{hits:?}");
        }
    }

    #[test]
    fn reservoir_stays_uniform_over_a_long_stream() {
        // 1000 answers after the first: each tenth of the stream holds about 4/10 of the keeps.
        let mut tenths = [0u32; 10];
        for seed in 0..2000 {
            let mut s = BodySampler::new(seed);
            for i in 0..1003 {
                offer(&mut s, 200, i, "x");
            }
            for k in &s.into_slots()[0].reservoir {
                tenths[((k.index - 3) / 100) as usize] += 1;
            }
        }
        for t in tenths {
            assert!((680..920).contains(&t), "{tenths:?}");
        }
    }

    #[test]
    fn keys_are_capped_per_worker() {
        let mut s = BodySampler::new(1);
        for status in 100..(100 + MAX_KEYS as u16 + 5) {
            offer(&mut s, status, 0, "x");
        }
        assert_eq!(s.unsampled, 5);
        assert_eq!(s.into_slots().len(), MAX_KEYS);
    }

    #[test]
    fn merge_takes_the_earliest_firsts_and_weights_reservoirs() {
        let mut a = BodySampler::new(1);
        let mut b = BodySampler::new(2);
        for i in 0..100 {
            offer(if i % 2 == 0 { &mut a } else { &mut b }, 200, i, "x");
        }
        let merged = merge(vec![a.into_slots(), b.into_slots()], 3);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].seen, 100);
        let firsts: Vec<u64> = merged[0].first.iter().map(|k| k.index).collect();
        assert_eq!(firsts, [0, 1, 2]);
        assert_eq!(merged[0].reservoir.len(), RESERVOIR);
        assert!(merged[0].reservoir.iter().all(|k| k.reservoir));
    }
}
