//! Segments' body samples merged per request × phase × status as the engine merges its workers'
//! (`engine::bodies::merge`): the 3 earliest first answers, and a reservoir of 4 drawn from the
//! rest, each segment's reservoir weighted by the answers it stands for (seeded).

use std::collections::BTreeMap;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::engine::bodies::{FIRST, RESERVOIR};
use crate::result::{BodySample, BodySampleSet};

pub fn merge(parts: &[&[BodySampleSet]], seed: u64) -> Vec<BodySampleSet> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x0005_E6B0);
    let mut by_key: BTreeMap<(String, Option<String>, u16), Vec<&BodySampleSet>> = BTreeMap::new();
    for set in parts.iter().flat_map(|p| p.iter()) {
        by_key
            .entry((set.request.clone(), set.phase.clone(), set.status))
            .or_default()
            .push(set);
    }
    by_key
        .into_iter()
        .map(|((request, phase, status), sets)| {
            let seen = sets.iter().map(|s| s.seen).sum();
            let mut firsts: Vec<BodySample> = Vec::new();
            let mut pool: Vec<(f64, BodySample)> = Vec::new();
            for s in sets {
                let (f, r): (Vec<&BodySample>, Vec<&BodySample>) =
                    s.samples.iter().partition(|b| b.is_first());
                let rest = s.seen.saturating_sub(f.len() as u64) as f64;
                let weight = if r.is_empty() {
                    0.0
                } else {
                    rest / r.len() as f64
                };
                firsts.extend(f.into_iter().cloned());
                pool.extend(r.into_iter().map(|b| (weight, b.clone())));
            }
            firsts.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
            for mut late in firsts.split_off(firsts.len().min(FIRST)) {
                late.kind = "reservoir".into();
                pool.push((1.0, late));
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
            reservoir.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
            firsts.extend(reservoir);
            BodySampleSet {
                request,
                phase,
                status,
                seen,
                samples: firsts,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(kind: &str, t_ms: f64) -> BodySample {
        BodySample {
            kind: kind.into(),
            t_ms,
            request_id: None,
            trace_id: None,
            retry_after: false,
            content_type: None,
            bytes: 1,
            truncated: false,
            json: None,
            text: Some("x".into()),
        }
    }

    fn set(seen: u64, t0: f64) -> BodySampleSet {
        let mut samples: Vec<BodySample> = (0..3).map(|i| sample("first", t0 + i as f64)).collect();
        samples.extend((0..4).map(|i| sample("reservoir", t0 + 100.0 + i as f64)));
        BodySampleSet {
            request: "get".into(),
            phase: None,
            status: 200,
            seen,
            samples,
        }
    }

    #[test]
    fn segments_merge_into_one_bounded_set_per_key() {
        let (a, b) = (vec![set(50, 0.5)], vec![set(70, 0.0)]);
        let merged = merge(&[&a, &b], 1);
        assert_eq!(merged.len(), 1);
        let m = &merged[0];
        assert_eq!(m.seen, 120);
        assert_eq!(m.samples.len(), 7);
        let firsts: Vec<f64> = m
            .samples
            .iter()
            .filter(|s| s.is_first())
            .map(|s| s.t_ms)
            .collect();
        assert_eq!(firsts, [0.0, 0.5, 1.0]);
    }
}
