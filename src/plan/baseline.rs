//! The baseline: its rate (below every rate limit per client key and at most any throughput
//! claim) and the length each latency and error objective needs at that rate (the verdicts'
//! 10/(1-q) and rule-of-three sample rules, through `capacity::criteria`).

use crate::capacity::criteria::{criteria, seconds_needed, Flags};
use crate::scenario::Plan;
use crate::spec::Claims;
use crate::verdict::rules::{MIN_SUSTAIN_S, RATE_LIMIT_BELOW};

/// Highest rate the plan asks for when no claim bounds it: what one load generator sharing two
/// cores with the service keeps on schedule.
pub const CEILING_RPS: f64 = 500.0;
/// The rate without any objective that needs samples: ten calls before the first fault in the shortest baseline, for the
/// breaker verdicts' median gap, with five such gaps well under a second.
const FLOOR_RPS: f64 = 10.0;
/// Margin of a key's count per window under a rate limit, in standard deviations: requests are
/// drawn at random from the mix, so a key's count in one window varies like a Poisson count.
const KEY_SIGMAS: f64 = 4.0;

/// One claim's need of baseline time.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    /// "P99 of GET item".
    pub what: String,
    pub samples: u64,
    /// Seconds of baseline at the baseline rate.
    pub length_s: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub rate: f64,
    /// The highest rate the claims allow (rate limits, throughput, the ceiling): the dependency
    /// phases' bound, even when the baseline itself runs slower.
    pub cap: f64,
    /// What bounds the rate, for the plan's comment.
    pub rate_why: String,
    /// Longest first.
    pub needs: Vec<Need>,
}

/// The client key of each request (the judge's own reading of the headers), weight-shared.
fn key_shares(plan: &Plan, claims: &Claims) -> Vec<(String, f64)> {
    let ctx = crate::chaos::judge::context(plan, claims, "spec", "scenario");
    let total: f64 = plan
        .requests
        .iter()
        .map(|r| f64::from(r.weight.get()))
        .sum();
    let mut shares: Vec<(String, f64)> = Vec::new();
    for r in &plan.requests {
        let key = ctx
            .requests
            .get(&r.name)
            .and_then(|i| i.rate_key.clone())
            .unwrap_or_else(|| "shared".to_string());
        let w = f64::from(r.weight.get()) / total.max(1.0);
        match shares.iter_mut().find(|(k, _)| *k == key) {
            Some((_, s)) => *s += w,
            None => shares.push((key, w)),
        }
    }
    shares
}

/// Most requests per window a key may be sent on average so that its busiest window stays below
/// the rate-limit verdict's "below the limit" share: m + 4·√m ≤ BELOW × limit.
pub fn safe_count(limit: u64) -> f64 {
    let l = RATE_LIMIT_BELOW * limit as f64;
    let root = (-KEY_SIGMAS + (KEY_SIGMAS * KEY_SIGMAS + 4.0 * l).sqrt()) / 2.0;
    (root * root).max(0.0)
}

/// The baseline rate and what each objective needs of it.
pub fn baseline(plan: &Plan, claims: &Claims, spec_file: &str, base_file: &str) -> Baseline {
    let mut rate = CEILING_RPS;
    let mut why = format!(
        "{CEILING_RPS:.0}/s, the planner's ceiling (no rate limit or throughput claim bounds it)"
    );
    let shares = key_shares(plan, claims);
    for l in &claims.rate_limits {
        let per_key = safe_count(l.requests) / l.per_s;
        for (key, share) in &shares {
            let cap = per_key / share;
            if cap < rate {
                rate = cap;
                why = format!(
                    "{per_key:.0}/s for key '{key}' ({:.0}% of the mix): below rate limit '{}' ({} per {} s, line {}) \
                     with 4 standard deviations to spare",
                    share * 100.0,
                    l.name,
                    l.requests,
                    l.per_s,
                    l.line
                );
            }
        }
    }
    for t in &claims.throughput {
        if let Some(rps) = t.rps.filter(|r| *r < rate) {
            rate = rps;
            why = format!("the throughput claim of line {} ({rps:.0} req/s): not above what the service says it handles", t.line);
        }
    }
    let all: Vec<crate::capacity::criteria::Need> = criteria(
        plan,
        Some((claims, spec_file)),
        &Flags::default(),
        base_file,
    )
    .map_or(Vec::new(), |c| c.needs);
    let cap = super::timeline::rate(rate);
    if all.is_empty() && claims.throughput.is_empty() && FLOOR_RPS < rate {
        rate = FLOOR_RPS;
        why = format!(
            "{FLOOR_RPS}/s: no objective needs samples, so the least that shows the calls' rhythm"
        );
    }
    let rate = super::timeline::rate(rate);
    let mut needs = Vec::new();
    if let Ok(c) = criteria(
        plan,
        Some((claims, spec_file)),
        &Flags::default(),
        base_file,
    ) {
        for n in &c.needs {
            let length_s = seconds_needed(plan, std::slice::from_ref(n), rate);
            if length_s.is_finite() {
                needs.push(Need {
                    what: n.what.clone(),
                    samples: n.samples,
                    length_s: super::timeline::tenth_up(length_s),
                });
            }
        }
    }
    for t in claims.throughput.iter().filter(|t| t.rps.is_some()) {
        needs.push(Need {
            what: format!("throughput of line {}", t.line),
            samples: 0,
            length_s: MIN_SUSTAIN_S as f64 + 1.0,
        });
    }
    needs.sort_by(|a, b| b.length_s.total_cmp(&a.length_s));
    Baseline {
        rate,
        cap,
        rate_why: why,
        needs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_stays_below_the_limit_by_four_deviations() {
        let m = safe_count(100);
        assert!((m + 4.0 * m.sqrt() - 90.0).abs() < 1e-6);
        assert!(m > 55.0 && m < 65.0, "{m}");
    }
}
