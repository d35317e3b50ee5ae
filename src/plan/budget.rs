//! Fitting the plan into the time budget: what is dropped first when it does not fit, and why.
//! Order: baseline lengths beyond the longest dependency block (the highest percentiles), then
//! retry and timeout blocks (retries first, the last one first), then the remaining baseline needs
//! (longest first, down to the shortest), then breaker blocks. Too short for the shortest baseline
//! need is an error.

use super::baseline::{Baseline, Need};
use super::timeline::{Block, BREAKER};

/// The shortest baseline a run gets even when no objective needs samples: enough calls before
/// the first fault for the breaker verdicts' median gap between calls.
pub const MIN_BASELINE_S: f64 = 3.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub baseline_s: f64,
    pub kept: Vec<Need>,
    pub blocks: Vec<Block>,
    /// "P99 of GET item: needs 1000 samples, 25.3 s of baseline at 200/s" lines.
    pub dropped: Vec<String>,
}

impl Fit {
    pub fn total_s(&self, warmup: f64, recovery: &dyn Fn(&[Block]) -> f64) -> f64 {
        warmup
            + self.baseline_s
            + self.blocks.iter().map(Block::length_s).sum::<f64>()
            + recovery(&self.blocks)
    }
}

fn baseline_len(needs: &[Need]) -> f64 {
    needs
        .iter()
        .map(|n| n.length_s)
        .fold(MIN_BASELINE_S, f64::max)
}

fn drop_need(fit: &mut Fit, base: &Baseline, why: &str) {
    let n = fit.kept.remove(0);
    fit.dropped.push(format!(
        "{}: needs {} of baseline at {}/s{}{why}",
        n.what,
        secs(n.length_s),
        base.rate,
        if n.samples > 0 {
            format!(" ({} samples)", n.samples)
        } else {
            String::new()
        },
    ));
    fit.baseline_s = baseline_len(&fit.kept);
}

/// Drops blocks of priority below `below`, lowest first (the last of equals first), while over.
fn drop_blocks(fit: &mut Fit, over: &dyn Fn(&Fit) -> bool, below: u8) {
    while over(fit) {
        let Some(lowest) = fit
            .blocks
            .iter()
            .map(|b| b.priority)
            .filter(|p| *p < below)
            .min()
        else {
            return;
        };
        let i = fit
            .blocks
            .iter()
            .rposition(|b| b.priority == lowest)
            .unwrap_or(0);
        let b = fit.blocks.remove(i);
        fit.dropped.push(format!(
            "{} ({}): needs {} of the run",
            b.label,
            b.claims.join("; "),
            secs(b.length_s())
        ));
    }
}

pub fn secs(s: f64) -> String {
    format!("{} s", super::breaker_phases::fmt2(s))
}

/// Fits `blocks` and the baseline's needs into `budget_s`; Err says what even the shortest plan needs.
pub fn fit(
    warmup: f64,
    base: &Baseline,
    blocks: Vec<Block>,
    recovery: &dyn Fn(&[Block]) -> f64,
    budget_s: f64,
) -> Result<Fit, String> {
    let mut fit = Fit {
        baseline_s: baseline_len(&base.needs),
        kept: base.needs.clone(),
        blocks,
        dropped: Vec::new(),
    };
    let over = |f: &Fit| f.total_s(warmup, recovery) > budget_s + 1e-9;
    let longest_block = fit.blocks.iter().map(Block::length_s).fold(0.0, f64::max);
    while over(&fit) && fit.kept.len() > 1 && fit.kept[0].length_s > longest_block {
        drop_need(&mut fit, base, "");
    }
    drop_blocks(&mut fit, &over, BREAKER);
    while over(&fit) && fit.kept.len() > 1 {
        drop_need(&mut fit, base, "");
    }
    drop_blocks(&mut fit, &over, u8::MAX);
    if over(&fit) {
        let shortest = fit
            .kept
            .first()
            .map_or(String::new(), |n| format!(" for {}", n.what));
        return Err(format!(
            "budget {} is too short for even the baseline: {} of warmup and {} of baseline{shortest} at {}/s are needed",
            secs(budget_s),
            secs(warmup),
            secs(fit.baseline_s),
            base.rate
        ));
    }
    Ok(fit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::timeline::{Segment, RETRY};

    fn need(what: &str, s: f64) -> Need {
        Need {
            what: what.into(),
            samples: 1,
            length_s: s,
        }
    }

    fn block(label: &str, s: f64, priority: u8) -> Block {
        Block {
            label: label.into(),
            claims: vec![label.into()],
            segments: vec![Segment {
                name: label.into(),
                length_s: s,
                rate: 1.0,
                why: String::new(),
            }],
            faults: vec![],
            priority,
        }
    }

    #[test]
    fn percentiles_go_first_then_retries_then_shorter_needs() {
        let base = Baseline {
            rate: 200.0,
            cap: 200.0,
            rate_why: String::new(),
            needs: vec![
                need("P99 of a", 25.0),
                need("availability", 15.0),
                need("throughput", 11.0),
                need("P50", 1.0),
            ],
        };
        let blocks = || {
            vec![
                block("breaker", 16.0, BREAKER),
                block("retries", 7.0, RETRY),
            ]
        };
        let rec = |b: &[Block]| if b.is_empty() { 0.0 } else { 7.5 };
        let all = fit(2.0, &base, blocks(), &rec, 60.0).unwrap();
        assert!(all.dropped.is_empty(), "{:?}", all.dropped);
        let half = fit(2.0, &base, blocks(), &rec, 35.0).unwrap();
        assert_eq!(half.blocks.len(), 1);
        assert_eq!(half.baseline_s, 3.0);
        assert!(
            half.dropped[0].starts_with("P99 of a: needs 25 s"),
            "{:?}",
            half.dropped
        );
        assert!(half.dropped[1].starts_with("retries"), "{:?}", half.dropped);
        assert!(half.total_s(2.0, &rec) <= 35.0);
        let e = fit(2.0, &base, blocks(), &rec, 2.5).unwrap_err();
        assert!(e.contains("too short for even the baseline"), "{e}");
    }
}
